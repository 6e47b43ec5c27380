//! The `codex` parser over recorded Codex 0.169.0 output (`tests/fixtures/codex/`): real
//! recordings against a scripted server (`write_file`, `shell_unknown_model`, `resume`,
//! `turn_failed_http_400`, `turn_failed_http_500`, `patch_refused` with its standard error)
//! and hand-written transcripts with every
//! line and item type, unknown types and malformed lines (`every_line_type`), two turns in one
//! stream (`two_turns`) and a crash mid-turn (`no_turn_completed`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use gaffer_agents::AgentEvent;
use gaffer_agents::codex::{CliEnd, CliExit, CodexParser, ThreadUsage};
use gaffer_core::Usage;

fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/codex/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn feed_all(parser: &mut CodexParser, name: &str) -> Vec<AgentEvent> {
    fixture(name).lines().flat_map(|l| parser.feed(l)).collect()
}

fn parse(name: &str) -> (Vec<AgentEvent>, CodexParser) {
    let mut parser = CodexParser::new("/work/tree", "gpt-5.5");
    let events = feed_all(&mut parser, name);
    (events, parser)
}

fn usage(input: u64, cached: u64, output: u64) -> Usage {
    Usage {
        input_tokens: input - cached,
        output_tokens: output,
        cached_tokens: cached,
        cost_usd: 0.0,
    }
}

#[test]
fn a_recorded_patch_becomes_events_and_a_successful_outcome() {
    let (events, mut parser) = parse("write_file.jsonl");
    let thread = "01a1fc5f-d9c8-7a31-9613-1f0fd8bd18b7".to_string();
    assert_eq!(
        events,
        vec![
            AgentEvent::Started {
                model: "gpt-5.5".into(),
                session_id: Some(thread.clone()),
            },
            AgentEvent::Text {
                text: "I'll create hello.txt.".into()
            },
            AgentEvent::Status {
                text: "patching".into()
            },
            AgentEvent::ToolCall {
                name: "apply_patch".into(),
                summary: "add hello.txt".into(),
            },
            AgentEvent::ToolResult {
                summary: "applied: add hello.txt".into(),
                is_error: false,
            },
            AgentEvent::Text {
                text: "Done: wrote hello.txt".into()
            },
            AgentEvent::Usage {
                usage: usage(400, 100, 60)
            },
        ]
    );
    let outcome = parser.finish(&CliExit::code(0));
    assert!(outcome.success, "{outcome:?}");
    assert_eq!(outcome.turns, 1);
    assert_eq!(outcome.usage, usage(400, 100, 60));
    assert_eq!(outcome.session_id, Some(thread));
    assert_eq!(outcome.final_text, "Done: wrote hello.txt");
    assert_eq!(
        parser.thread_totals().map(|(_, t)| t),
        Some(ThreadUsage {
            input_tokens: 400,
            cached_input_tokens: 100,
            output_tokens: 60
        })
    );
}

#[test]
fn a_recorded_shell_command_reports_its_exit_code_and_warnings_do_not_fail() {
    let (events, mut parser) = parse("shell_unknown_model.jsonl");
    let calls: Vec<&AgentEvent> = events
        .iter()
        .filter(|e| {
            matches!(
                e,
                AgentEvent::ToolCall { .. } | AgentEvent::ToolResult { .. }
            )
        })
        .collect();
    assert_eq!(
        calls,
        vec![
            &AgentEvent::ToolCall {
                name: "shell".into(),
                summary: "shell: echo hi > hi.txt && ls".into(),
            },
            &AgentEvent::ToolResult {
                summary: "exit 0: pyenv: cannot rehash: /root/.pyenv/shims isn't writable …".into(),
                is_error: false,
            },
        ]
    );
    // The "model metadata not found" error item is a warning: the run succeeds.
    assert!(parser.finish(&CliExit::code(0)).success);
}

#[test]
fn a_resumed_thread_is_charged_only_its_own_tokens() {
    // The first run of the thread ended at 400/100/60; the resumed turn reports the thread's
    // totals, 600/150/90.
    let before = ThreadUsage {
        input_tokens: 400,
        cached_input_tokens: 100,
        output_tokens: 60,
    };
    let mut parser = CodexParser::new("/work/tree", "gpt-5.5").resuming(before);
    let events = feed_all(&mut parser, "resume.jsonl");
    assert!(events.contains(&AgentEvent::Usage {
        usage: usage(200, 50, 30)
    }));
    let outcome = parser.finish(&CliExit::code(0));
    assert!(outcome.success);
    assert_eq!(outcome.usage, usage(200, 50, 30));
    assert_eq!(
        outcome.session_id.as_deref(),
        Some("01a1fc5f-d9c8-7a31-9613-1f0fd8bd18b7")
    );
    assert_eq!(
        parser.thread_totals().map(|(_, t)| t.input_tokens),
        Some(600)
    );

    // Without the earlier totals, the run is charged the whole thread.
    let (_, mut parser) = parse("resume.jsonl");
    assert_eq!(parser.finish(&CliExit::code(0)).usage, usage(600, 150, 90));
}

#[test]
fn each_turn_reports_the_difference_of_the_thread_totals() {
    let (events, mut parser) = parse("two_turns.jsonl");
    let usages: Vec<Usage> = events
        .iter()
        .filter_map(|e| match e {
            AgentEvent::Usage { usage } => Some(*usage),
            _ => None,
        })
        .collect();
    assert_eq!(usages, vec![usage(1000, 200, 50), usage(1500, 700, 30)]);
    let outcome = parser.finish(&CliExit::code(0));
    assert_eq!(outcome.turns, 2);
    assert_eq!(outcome.usage, usage(2500, 900, 80));
    assert_eq!(outcome.final_text, "second");
}

#[test]
fn http_errors_fail_the_turn_with_the_providers_message() {
    let (_, mut parser) = parse("turn_failed_http_400.jsonl");
    let outcome = parser.finish(&CliExit::code(1));
    assert!(!outcome.success);
    assert_eq!(
        outcome.error.as_deref(),
        Some("Rate limit reached (scripted)")
    );
    assert_eq!(outcome.turns, 0);

    let (_, mut parser) = parse("turn_failed_http_500.jsonl");
    let outcome = parser.finish(&CliExit::code(1));
    assert_eq!(
        outcome.error.as_deref(),
        Some("We’re currently experiencing high demand, which may cause temporary errors.")
    );
}

#[test]
fn every_line_and_item_type_is_read_and_the_rest_ignored() {
    let (events, mut parser) = parse("every_line_type.jsonl");
    let expected = vec![
        AgentEvent::Started {
            model: "gpt-5.5".into(),
            session_id: Some("01a1fc70-1c2d-7e3f-8a9b-0c1d2e3f4a5b".into()),
        },
        AgentEvent::Status {
            text: "0/3 done; next: Read the parser".into(),
        },
        AgentEvent::Text {
            text: "Reading the parser.".into(),
        },
        AgentEvent::Status {
            text: "reading src/parse.rs".into(),
        },
        // The repeated update with the same progress is not sent twice.
        AgentEvent::Status {
            text: "1/3 done; next: Fix trimming".into(),
        },
        AgentEvent::ToolCall {
            name: "shell".into(),
            summary: "shell: cargo test --quiet".into(),
        },
        AgentEvent::ToolResult {
            summary: "exit 101: running 3 tests …".into(),
            is_error: true,
        },
        AgentEvent::ToolCall {
            name: "shell".into(),
            summary: "shell: rm -rf /".into(),
        },
        AgentEvent::ToolResult {
            summary: "declined".into(),
            is_error: true,
        },
        AgentEvent::ToolCall {
            name: "apply_patch".into(),
            summary: "update src/parse.rs, add tests/parse.rs".into(),
        },
        AgentEvent::ToolResult {
            summary: "applied: update src/parse.rs, add tests/parse.rs".into(),
            is_error: false,
        },
        AgentEvent::ToolCall {
            name: "apply_patch".into(),
            summary: "delete src/gone.rs".into(),
        },
        AgentEvent::ToolResult {
            summary: "failed: delete src/gone.rs".into(),
            is_error: true,
        },
        AgentEvent::ToolCall {
            name: "tracker.create_issue".into(),
            summary: r#"tracker.create_issue {"title":"parse() panics"}"#.into(),
        },
        AgentEvent::ToolResult {
            summary: "created issue #12".into(),
            is_error: false,
        },
        AgentEvent::ToolCall {
            name: "tracker.close_issue".into(),
            summary: r#"tracker.close_issue {"id":12}"#.into(),
        },
        AgentEvent::ToolResult {
            summary: "permission denied".into(),
            is_error: true,
        },
        AgentEvent::ToolCall {
            name: "web_search".into(),
            summary: "web_search: rust str trim parse".into(),
        },
        AgentEvent::Status {
            text: "3/3 done".into(),
        },
        AgentEvent::Text {
            text: "Fixed parse() and added a test.".into(),
        },
        AgentEvent::Question {
            text: "should parse() return a Result?".into(),
        },
        AgentEvent::Usage {
            usage: usage(24000, 18000, 1500),
        },
    ];
    assert_eq!(events, expected);
    // A reconnect notice before a completed turn is not a failure.
    let outcome = parser.finish(&CliExit::code(0));
    assert!(outcome.success, "{outcome:?}");
}

#[test]
fn a_crash_mid_turn_fails_with_stderr() {
    let (_, mut parser) = parse("no_turn_completed.jsonl");
    let exit = CliExit {
        end: CliEnd::Exited(2),
        stderr: "Reading additional input from stdin...\nError: thread panicked\n".into(),
    };
    let outcome = parser.finish(&exit);
    assert!(!outcome.success);
    assert_eq!(
        outcome.error.as_deref(),
        Some(
            "codex exited with code 2: Reading additional input from stdin... | Error: thread panicked"
        )
    );
    // Exit 0 without a completed turn is no success either.
    let (_, mut parser) = parse("no_turn_completed.jsonl");
    assert_eq!(
        parser.finish(&CliExit::code(0)).error.as_deref(),
        Some("codex ended without completing a turn")
    );
}

#[test]
fn a_cancelled_run_fails_and_keeps_its_usage() {
    let (_, mut parser) = parse("write_file.jsonl");
    let exit = CliExit {
        end: CliEnd::Cancelled,
        stderr: String::new(),
    };
    let outcome = parser.finish(&exit);
    assert!(!outcome.success);
    assert_eq!(outcome.error.as_deref(), Some("the run was cancelled"));
    assert_eq!(outcome.usage, usage(400, 100, 60));
}

#[test]
fn garbage_never_panics() {
    let mut parser = CodexParser::new("/w", "m");
    for line in [
        "",
        "{",
        "[]",
        "{\"type\":7}",
        "{\"type\":\"turn.completed\",\"usage\":\"lots\"}",
        "{\"type\":\"turn.completed\"}",
        "{\"type\":\"item.completed\",\"item\":{\"type\":\"file_change\",\"changes\":7}}",
        "{\"type\":\"item.completed\",\"item\":{\"type\":\"command_execution\"}}",
        "{\"type\":\"turn.failed\"}",
        "\u{0}",
    ] {
        parser.feed(line);
    }
    let outcome = parser.finish(&CliExit::code(0));
    assert!(!outcome.success);
}

#[test]
fn a_refused_patch_is_told_only_by_stderr_and_reported_at_the_end() {
    // Recorded: `--sandbox read-only`, the model sending a patch. The JSON stream shows no
    // trace of the patch; standard error logs the refusal.
    let (events, mut parser) = parse("patch_refused.jsonl");
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, AgentEvent::ToolCall { .. } | AgentEvent::Refused { .. })),
        "{events:#?}"
    );
    let exit = CliExit {
        end: CliEnd::Exited(0),
        stderr: fixture("patch_refused.stderr.txt"),
    };
    assert_eq!(
        parser.end_events(&exit),
        vec![AgentEvent::Refused {
            tool: "apply_patch".into(),
            reason: "writing is blocked by read-only sandbox; rejected by user approval settings"
                .into(),
        }]
    );
    // The run itself succeeded: the model carried on.
    let outcome = parser.finish(&exit);
    assert!(outcome.success, "{outcome:?}");
    assert_eq!(outcome.final_text, "Patched?");
    // A clean standard error tells of nothing.
    assert!(parser.end_events(&CliExit::code(0)).is_empty());
}
