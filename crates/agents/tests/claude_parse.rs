//! The `claude` parser over recorded Claude Code 2.1.329 output (`tests/fixtures/claude/`):
//! real recordings against a scripted server (`write_file`, `api_error`,
//! `api_retry_then_error`, `max_turns`, `permission_denied`, `resumed`, `steered`; paths rewritten to
//! `/work/tree` and `/data/claude-config`) and a hand-written transcript with every line type,
//! unknown types and malformed lines (`every_line_type`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use gaffer_agents::AgentEvent;
use gaffer_agents::claude::{ClaudeParser, CliEnd, CliExit};
use gaffer_core::Usage;
use std::time::Duration;

fn fixture(name: &str) -> String {
    let path = format!(
        "{}/tests/fixtures/claude/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Feeds every line of a fixture; returns the events and the parser.
fn parse(name: &str) -> (Vec<AgentEvent>, ClaudeParser) {
    let mut parser = ClaudeParser::new("/work/tree", "requested-model");
    let events = fixture(name).lines().flat_map(|l| parser.feed(l)).collect();
    (events, parser)
}

fn tool_calls(events: &[AgentEvent]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match e {
            AgentEvent::ToolCall { summary, .. } => Some(summary.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn a_recorded_file_write_becomes_events_and_a_successful_outcome() {
    let (events, mut parser) = parse("write_file.jsonl");
    let session = "6926f668-abe3-4bad-98c9-bab060c001f1".to_string();
    let usage = Usage {
        input_tokens: 240,
        output_tokens: 52,
        cached_tokens: 70,
        cost_usd: 0.0015555,
    };
    assert_eq!(
        events,
        vec![
            AgentEvent::Started {
                model: "claude-sonnet-4-5".into(),
                session_id: Some(session.clone()),
            },
            AgentEvent::Text {
                text: "I'll write the file.".into()
            },
            AgentEvent::Status {
                text: "writing hello.txt".into()
            },
            AgentEvent::ToolCall {
                name: "Write".into(),
                summary: "Write hello.txt".into(),
            },
            AgentEvent::ToolResult {
                summary: "Write: File created successfully at: /work/tree/hello.txt (file state is current in your context — no need to Read it back)".into(),
                is_error: false,
            },
            AgentEvent::Text {
                text: "Done: wrote hello.txt".into()
            },
            AgentEvent::Usage { usage },
        ]
    );
    let outcome = parser.finish(&CliExit::code(0));
    assert!(outcome.success, "{outcome:?}");
    assert_eq!(outcome.turns, 2);
    assert_eq!(outcome.usage, usage);
    assert_eq!(outcome.session_id, Some(session));
    assert_eq!(outcome.final_text, "Done: wrote hello.txt");
    assert_eq!(outcome.error, None);
}

#[test]
fn every_line_type_is_read_and_the_rest_ignored() {
    let (events, mut parser) = parse("every_line_type.jsonl");
    assert_eq!(
        events.first(),
        Some(&AgentEvent::Started {
            model: "claude-sonnet-4-5".into(),
            session_id: Some("5f0c1a2e-7b1d-4c3e-9a57-0d7c2f1e8b44".into()),
        })
    );
    assert_eq!(
        events
            .iter()
            .filter(|e| matches!(e, AgentEvent::Started { .. }))
            .count(),
        1
    );
    assert_eq!(
        tool_calls(&events),
        vec![
            "Read src/parse.rs",
            "Grep unwrap\\(\\) in src",
            "Edit src/parse.rs",
            "Task: Check callers",
            "Glob src/**/*.rs",
            "Bash: cargo test --quiet 2>&1 | tail -5",
            r#"mcp__tracker__create_issue {"title":"parse() panics on spaces"}"#,
            "Write tests/parse.rs",
        ]
    );
    let results: Vec<(String, bool)> = events
        .iter()
        .filter_map(|e| match e {
            AgentEvent::ToolResult { summary, is_error } => Some((summary.clone(), *is_error)),
            _ => None,
        })
        .collect();
    assert_eq!(results.len(), 9, "{results:#?}");
    assert_eq!(
        results[0],
        ("Read: 1\tpub fn parse(s: &str) -> u32 { …".into(), false)
    );
    assert_eq!(results[1], ("Grep: Found 1 file …".into(), false));
    assert_eq!(
        results[5],
        ("Bash: error[E0308]: mismatched types …".into(), true)
    );
    assert_eq!(
        results[6],
        (
            "mcp__tracker__create_issue: created issue #12".into(),
            false
        )
    );
    // A result for a call the parser never saw still counts, with its raw content.
    assert_eq!(results[8], (r#"{"weird":true}"#.into(), false));

    // Text: the main agent's only; the sub-agent's STATUS line is not the agent's.
    let statuses: Vec<&AgentEvent> = events
        .iter()
        .filter(|e| matches!(e, AgentEvent::Status { .. }))
        .collect();
    assert_eq!(
        statuses,
        vec![&AgentEvent::Status {
            text: "reading src/parse.rs".into()
        }]
    );
    assert!(events.contains(&AgentEvent::Question {
        text: "should parse() return a Result instead of 0 on bad input?".into()
    }));

    let usage = Usage {
        input_tokens: 1234,
        output_tokens: 2345,
        cached_tokens: 45678 + 5678,
        cost_usd: 0.2843115,
    };
    assert_eq!(events.last(), Some(&AgentEvent::Usage { usage }));
    let outcome = parser.finish(&CliExit::code(0));
    assert!(outcome.success);
    assert_eq!(outcome.turns, 9);
    assert_eq!(outcome.usage, usage);
    assert!(outcome.final_text.starts_with("Fixed parse()"));
}

#[test]
fn an_api_error_fails_the_run_with_the_providers_message() {
    let (events, mut parser) = parse("api_error.jsonl");
    // The error message is not presented as the agent's text.
    assert!(!events.iter().any(|e| matches!(e, AgentEvent::Text { .. })));
    assert!(matches!(events.last(), Some(AgentEvent::Usage { .. })));
    let outcome = parser.finish(&CliExit::code(1));
    assert!(!outcome.success);
    let error = outcome.error.unwrap();
    assert!(
        error.starts_with("API Error: 529 Overloaded (scripted)."),
        "{error}"
    );
    assert_eq!(outcome.usage.cost_usd, 0.0);
    assert_eq!(
        outcome.session_id.as_deref(),
        Some("86df7a5c-2a90-43da-b2e7-a6d582a9e143")
    );
}

#[test]
fn retries_are_read_and_the_final_error_wins() {
    let (_, mut parser) = parse("api_retry_then_error.jsonl");
    let outcome = parser.finish(&CliExit::code(1));
    assert!(!outcome.success);
    assert!(outcome.error.unwrap().starts_with("API Error: 529"));
}

#[test]
fn max_turns_fails_with_the_clis_reason() {
    let (events, mut parser) = parse("max_turns.jsonl");
    assert_eq!(tool_calls(&events), vec!["Write hello.txt"]);
    let outcome = parser.finish(&CliExit::code(1));
    assert!(!outcome.success);
    assert_eq!(
        outcome.error.as_deref(),
        Some("Reached maximum number of turns (1)")
    );
    assert_eq!(outcome.turns, 2);
    assert!(outcome.usage.cost_usd > 0.0);
}

#[test]
fn a_run_that_ends_without_a_result_fails_with_stderr() {
    let (events, mut parser) = parse("no_result.jsonl");
    assert!(matches!(events.first(), Some(AgentEvent::Started { .. })));
    let exit = CliExit {
        end: CliEnd::Signaled(9),
        stderr: "fatal: out of memory\n".into(),
    };
    let outcome = parser.finish(&exit);
    assert!(!outcome.success);
    assert_eq!(
        outcome.error.as_deref(),
        Some("claude was killed by signal 9: fatal: out of memory")
    );
    assert_eq!(
        outcome.session_id.as_deref(),
        Some("5f0c1a2e-7b1d-4c3e-9a57-0d7c2f1e8b44")
    );
}

#[test]
fn a_cli_that_prints_nothing_fails_with_its_stderr() {
    // What Claude Code does as root with --dangerously-skip-permissions and no IS_SANDBOX.
    let mut parser = ClaudeParser::new("/w", "m");
    let exit = CliExit {
        end: CliEnd::Exited(1),
        stderr: "--dangerously-skip-permissions cannot be used with root/sudo privileges for security reasons\n".into(),
    };
    let outcome = parser.finish(&exit);
    assert!(!outcome.success);
    assert_eq!(
        outcome.error.as_deref(),
        Some(
            "claude exited with code 1: --dangerously-skip-permissions cannot be used with root/sudo privileges for security reasons"
        )
    );
    assert_eq!(outcome.session_id, None);
}

#[test]
fn a_stopped_run_fails_even_after_a_successful_result() {
    let (_, mut parser) = parse("write_file.jsonl");
    let exit = CliExit {
        end: CliEnd::TimedOut(Duration::from_secs(3600)),
        stderr: String::new(),
    };
    let outcome = parser.finish(&exit);
    assert!(!outcome.success);
    assert_eq!(
        outcome.error.as_deref(),
        Some("claude ran past its time limit and was stopped after 3600s")
    );
    // What was reported stays recorded.
    assert_eq!(outcome.usage.output_tokens, 52);
}

#[test]
fn started_comes_first_even_without_an_init_line() {
    let mut parser = ClaudeParser::new("/w", "requested-model");
    let events = parser.feed(
        r#"{"type":"assistant","message":{"model":"claude-haiku-4-5","content":[{"type":"text","text":"hi"}]},"session_id":"s1"}"#,
    );
    assert_eq!(
        events,
        vec![
            AgentEvent::Started {
                model: "claude-haiku-4-5".into(),
                session_id: Some("s1".into())
            },
            AgentEvent::Text { text: "hi".into() }
        ]
    );
}

#[test]
fn garbage_never_panics() {
    let mut parser = ClaudeParser::new("/w", "m");
    for line in [
        "",
        "{",
        "}",
        "null",
        "{\"type\":null}",
        "{\"type\":\"result\",\"usage\":\"lots\"}",
        "{\"type\":\"assistant\",\"message\":{\"content\":[{\"type\":\"tool_use\"}]}}",
        "{\"type\":\"user\",\"message\":{\"content\":[{\"type\":\"tool_result\"}]}}",
        "\u{0}\u{1}binary",
    ] {
        parser.feed(line);
    }
    let outcome = parser.finish(&CliExit::code(0));
    assert!(!outcome.success);
}

#[test]
fn a_refused_write_is_reported_once_before_its_result() {
    // Recorded: Claude Code in its default permission mode, the model asking to Write.
    let (events, mut parser) = parse("permission_denied.jsonl");
    let reason = "Claude requested permissions to write to /work/tree/hello.txt, but you \
                  haven't granted it yet.";
    let refused: Vec<&AgentEvent> = events
        .iter()
        .filter(|e| matches!(e, AgentEvent::Refused { .. }))
        .collect();
    assert_eq!(
        refused,
        [&AgentEvent::Refused {
            tool: "Write".into(),
            reason: reason.into()
        }],
        "{events:#?}"
    );
    // It comes between the call and the call's (error) result.
    let at = |wanted: fn(&AgentEvent) -> bool| events.iter().position(wanted).unwrap();
    let call = at(|e| matches!(e, AgentEvent::ToolCall { .. }));
    let refusal = at(|e| matches!(e, AgentEvent::Refused { .. }));
    let result = at(|e| matches!(e, AgentEvent::ToolResult { is_error: true, .. }));
    assert!(call < refusal && refusal < result, "{events:#?}");
    // The run itself went on and succeeded.
    let outcome = parser.finish(&CliExit::code(0));
    assert!(outcome.success, "{outcome:?}");
    assert_eq!(outcome.final_text, "Could not write.");
}

#[test]
fn a_refusal_only_in_permission_denials_is_reported_at_the_end() {
    // The same recording without the `permission_denied` line, as a CLI that does not print
    // it would give: the result's `permission_denials` entry is reported, with the call's
    // error result as the reason, before the usage.
    let mut parser = ClaudeParser::new("/work/tree", "m");
    let events: Vec<AgentEvent> = fixture("permission_denied.jsonl")
        .lines()
        .filter(|l| !l.contains("\"subtype\":\"permission_denied\""))
        .flat_map(|l| parser.feed(l))
        .collect();
    let n = events.len();
    assert_eq!(
        events[n - 2],
        AgentEvent::Refused {
            tool: "Write".into(),
            reason: "Claude requested permissions to write to /work/tree/hello.txt, but you \
                     haven't granted it yet."
                .into()
        },
        "{events:#?}"
    );
    assert!(matches!(events[n - 1], AgentEvent::Usage { .. }));
    let refusals = events
        .iter()
        .filter(|e| matches!(e, AgentEvent::Refused { .. }))
        .count();
    assert_eq!(refusals, 1);
}

const RESUMED_SESSION: &str = "55adf0cc-a3e6-44f7-8559-5f451b264482";

fn approx(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-12
}

#[test]
fn a_resumed_run_is_charged_its_own_tokens_and_cost() {
    // Recorded: the second resume of a session. Its `total_cost_usd` (0.00837) and
    // `modelUsage` are the session's; `usage` and `model_usage_since_last_result` are the run's.
    for recorded in [None, Some(0.00507), Some(0.5)] {
        let mut parser = ClaudeParser::new("/work/tree", "m").resuming(RESUMED_SESSION, recorded);
        let events: Vec<AgentEvent> = fixture("resumed.jsonl")
            .lines()
            .flat_map(|l| parser.feed(l))
            .collect();
        let outcome = parser.finish(&CliExit::code(0));
        assert!(outcome.success, "{outcome:?}");
        let usage = outcome.usage;
        assert_eq!(
            (usage.input_tokens, usage.output_tokens, usage.cached_tokens),
            (500, 70, 2500)
        );
        assert!(approx(usage.cost_usd, 0.0033), "{usage:?}");
        assert!(events.contains(&AgentEvent::Usage { usage }));
        let (session, total) = parser.session_cost().unwrap();
        assert_eq!(session, RESUMED_SESSION);
        assert!(approx(total, 0.00837));
    }
}

/// The resumed recording as a CLI without `model_usage_since_last_result` would print it.
fn resumed_without_own_figures() -> Vec<String> {
    fixture("resumed.jsonl")
        .lines()
        .map(|line| {
            let mut value: serde_json::Value = serde_json::from_str(line).unwrap();
            if let Some(map) = value.as_object_mut() {
                map.remove("model_usage_since_last_result");
            }
            value.to_string()
        })
        .collect()
}

#[test]
fn without_its_own_figures_a_resumed_run_subtracts_the_recorded_session_cost() {
    let cost = |parser: ClaudeParser| {
        let mut parser = parser;
        for line in resumed_without_own_figures() {
            parser.feed(&line);
        }
        let usage = parser.finish(&CliExit::code(0)).usage;
        // `usage` is the run's own: tokens need no subtraction.
        assert_eq!(
            (usage.input_tokens, usage.output_tokens, usage.cached_tokens),
            (500, 70, 2500)
        );
        usage.cost_usd
    };
    let parser = || ClaudeParser::new("/work/tree", "m");
    // The session stood at 0.00507 after its previous run: this run cost 0.0033.
    assert!(approx(
        cost(parser().resuming(RESUMED_SESSION, Some(0.00507))),
        0.0033
    ));
    // Nothing recorded, a new session, or a record of another session: the whole total.
    assert!(approx(
        cost(parser().resuming(RESUMED_SESSION, None)),
        0.00837
    ));
    assert!(approx(cost(parser()), 0.00837));
    assert!(approx(
        cost(parser().resuming("another-session", Some(0.00507))),
        0.00837
    ));
}

/// Recorded: a run given its prompt and two messages on standard input
/// (`--input-format stream-json --replay-user-messages`), the first while a `Bash` call ran
/// (taken in with its result), the second during the last answer (one more turn after the
/// first `result`, with a second `init` and `result`).
fn steered() -> (Vec<AgentEvent>, ClaudeParser) {
    let mut parser = ClaudeParser::new("/work/tree", "m").with_prompt("do it MOCK:steer");
    let mut events = Vec::new();
    let mut took_input_after_first_result = None;
    for line in fixture("steered.jsonl").lines() {
        events.extend(parser.feed(line));
        if took_input_after_first_result.is_none() && line.contains("\"type\":\"result\"") {
            took_input_after_first_result = Some(parser.takes_input());
        }
    }
    assert_eq!(
        took_input_after_first_result,
        Some(false),
        "the run takes no more input once its first result came"
    );
    (events, parser)
}

#[test]
fn messages_replayed_from_standard_input_are_heard_and_the_prompt_is_not() {
    let (events, _) = steered();
    let heard: Vec<&str> = events
        .iter()
        .filter_map(|e| match e {
            AgentEvent::Heard { text } => Some(text.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(
        heard,
        ["Message one: use French", "Message two: and sign it"]
    );
    // Heard in the order of the conversation: the first after the tool's result.
    let result = events
        .iter()
        .position(|e| matches!(e, AgentEvent::ToolResult { .. }))
        .unwrap();
    let first = events
        .iter()
        .position(|e| matches!(e, AgentEvent::Heard { .. }))
        .unwrap();
    assert!(first > result, "{events:?}");
    assert_eq!(
        events
            .iter()
            .filter(|e| matches!(e, AgentEvent::Started { .. }))
            .count(),
        1,
        "a second init does not start the run again"
    );
}

#[test]
fn a_run_with_two_results_is_charged_both_and_ends_with_the_last() {
    let (_, mut parser) = steered();
    let outcome = parser.finish(&CliExit::code(0));
    assert!(outcome.success, "{outcome:?}");
    assert_eq!(outcome.final_text, "turn three");
    assert_eq!(outcome.earlier_answers, ["turn two"]);
    assert_eq!(outcome.turns, 3);
    let usage = outcome.usage;
    assert_eq!((usage.input_tokens, usage.output_tokens), (300, 30));
    assert!(approx(usage.cost_usd, 0.00135), "{usage:?}");
    // Without each result's own figures, the second owes the session's total minus the first.
    let mut parser = ClaudeParser::new("/work/tree", "m").with_prompt("do it MOCK:steer");
    for line in fixture("steered.jsonl").lines() {
        let mut value: serde_json::Value = serde_json::from_str(line).unwrap();
        if let Some(map) = value.as_object_mut() {
            map.remove("model_usage_since_last_result");
        }
        parser.feed(&value.to_string());
    }
    let usage = parser.finish(&CliExit::code(0)).usage;
    assert_eq!((usage.input_tokens, usage.output_tokens), (300, 30));
    assert!(approx(usage.cost_usd, 0.00135), "{usage:?}");
}

#[test]
fn without_the_prompt_its_replay_is_heard_like_any_message() {
    let mut parser = ClaudeParser::new("/work/tree", "m");
    let events: Vec<AgentEvent> = fixture("steered.jsonl")
        .lines()
        .flat_map(|l| parser.feed(l))
        .collect();
    assert_eq!(
        events
            .iter()
            .filter(|e| matches!(e, AgentEvent::Heard { .. }))
            .count(),
        3
    );
}

#[test]
fn a_result_line_that_cannot_be_read_still_ends_the_input() {
    let mut parser = ClaudeParser::new("/work/tree", "m");
    parser.feed(r#"{"type":"system","subtype":"init","session_id":"s"}"#);
    assert!(parser.takes_input());
    // A field of another type than this parser knows: the line is not read, but it is a result.
    parser.feed(r#"{"type":"result","num_turns":"many","result":"done"}"#);
    assert!(!parser.takes_input());
    // Cut at the longest line kept: not JSON any more, still a result.
    let mut parser = ClaudeParser::new("/work/tree", "m");
    parser.feed(r#"{"type":"result","subtype":"success","result":"a very long ans"#);
    assert!(!parser.takes_input());
}
