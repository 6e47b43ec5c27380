//! End to end with the real Claude Code CLI (2.1.329, from npm) against the scripted model
//! server: runs that never mix and never lie. A session resumed twice books each run exactly
//! the tokens the server served for that run's requests, and its own cost, although Claude
//! Code reports the session's total cost; each run keeps its files in its own directory; and a
//! write refused for want of permission shows as `Refused`. See `cli_e2e_common.rs` for where
//! the CLI is found and when a missing CLI may be skipped.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "cli_e2e_common.rs"]
mod common;

use common::{CLAUDE_PACKAGE, collect, entries, find_cli, left_behind, marker, refusals, worktree};
use gaffer_agents::claude::{ClaudeBackend, ClaudeOptions};
use gaffer_agents::{AgentBackend, AgentEvent, Outcome, RunRequest};
use gaffer_core::{Role, Usage};
use gaffer_mock_llm::{Api, MockServer, RequestRecord, Script};
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

const MODEL: &str = "claude-sonnet-4-5";

const SCRIPT: &str = r#"
[[conversations]]
name = "resume"
marker = "MOCK:claude-resume"

  # Run 1: two requests (the write, then the answer after its result).
  [[conversations.turns]]
  text = "Writing notes.txt."
  usage = { input_tokens = 1000, output_tokens = 30, cached_tokens = 400 }
    [[conversations.turns.tool_calls]]
    name = "Write"
    arguments = { file_path = "{{cwd}}/notes.txt", content = "one\n" }

  [[conversations.turns]]
  text = "Run one done."
  usage = { input_tokens = 1200, output_tokens = 10, cached_tokens = 1000 }

  # Run 2, resumed.
  [[conversations.turns]]
  text = "Run two done."
  usage = { input_tokens = 1500, output_tokens = 20, cached_tokens = 1100 }

  # Run 3, resumed again.
  [[conversations.turns]]
  text = "Run three done."
  usage = { input_tokens = 1800, output_tokens = 40, cached_tokens = 1500 }

[[conversations]]
name = "refuse"
marker = "MOCK:claude-refuse"

  [[conversations.turns]]
  text = "Writing secret.txt."
    [[conversations.turns.tool_calls]]
    name = "Write"
    arguments = { file_path = "{{cwd}}/secret.txt", content = "should not exist\n" }

  [[conversations.turns]]
  text = "I was not allowed to write secret.txt."
"#;

fn options(program: PathBuf, server: &MockServer) -> ClaudeOptions {
    ClaudeOptions {
        program: program.display().to_string(),
        model: Some(MODEL.into()),
        // gaffer (and so the CLI) runs as root here; the backend adds IS_SANDBOX=1.
        skip_permissions: true,
        base_url: Some(server.base_url()),
        api_key: Some("sk-ant-test".into()),
        max_turns: Some(6),
        max_retries: Some(0),
        ..ClaudeOptions::default()
    }
}

fn request(root: &Path, worktree: &Path, prompt: &str, marker: &str, run: u32) -> RunRequest {
    RunRequest {
        role: Role::Coder,
        prompt: prompt.into(),
        system_prompt: "You are a coding agent working for gaffer.".into(),
        worktree: worktree.to_path_buf(),
        model: String::new(),
        resume_session: None,
        env: vec![
            ("GAFFER_RUN".into(), run.to_string()),
            ("GAFFER_TEST_MARKER".into(), marker.into()),
        ],
        max_wall: Duration::from_secs(180),
        script_key: String::new(),
        attempt: 0,
        data_dir: root.join("data/agents/claude"),
        run_dir: root.join(format!("data/runs/{run}/agent")),
        confine: Default::default(),
    }
}

/// What the server served in `requests`, in gaffer's terms (the scripted `input_tokens`
/// include the cached ones; Anthropic reports them apart).
fn served(requests: &[RequestRecord]) -> Usage {
    requests.iter().fold(Usage::default(), |sum, r| {
        let u = r
            .usage
            .unwrap_or_else(|| panic!("a request without usage: {r:#?}"));
        Usage {
            input_tokens: sum.input_tokens + (u.input_tokens - u.cached_tokens),
            output_tokens: sum.output_tokens + u.output_tokens,
            cached_tokens: sum.cached_tokens + u.cached_tokens,
            cost_usd: 0.0,
        }
    })
}

/// Claude Code's list price of `usage` for claude-sonnet-4-5 (per million tokens: $3 input,
/// $15 output, $0.30 cache reads; the scripted server reports no cache writes).
fn list_price(usage: &Usage) -> f64 {
    (usage.input_tokens as f64 * 3.0
        + usage.output_tokens as f64 * 15.0
        + usage.cached_tokens as f64 * 0.30)
        / 1e6
}

/// `total_cost_usd` of the `result` line of a raw transcript.
fn reported_total_cost(run_dir: &Path) -> f64 {
    let raw = std::fs::read_to_string(run_dir.join("raw.jsonl")).unwrap();
    raw.lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|v| v["type"] == "result")
        .and_then(|v| v["total_cost_usd"].as_f64())
        .unwrap_or_else(|| panic!("no result with a cost in {raw}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_resumed_twice_books_each_run_its_own_usage_and_cost() {
    let Some(program) = find_cli("claude", CLAUDE_PACKAGE) else {
        return;
    };
    let server = MockServer::start(Script::from_toml_str(SCRIPT).unwrap())
        .await
        .unwrap();
    let root = tempfile::tempdir().unwrap();
    let tree = worktree(root.path());
    let backend = ClaudeBackend::new(options(program, &server));
    let run_marker = marker("claude-e2e-resume");
    let prompts = [
        "MOCK:claude-resume Write notes.txt.",
        "MOCK:claude-resume Go on.",
        "MOCK:claude-resume Finish.",
    ];
    let finals = ["Run one done.", "Run two done.", "Run three done."];

    let mut session: Option<String> = None;
    let mut seen = 0;
    let mut booked: Vec<Outcome> = Vec::new();
    for (run, (prompt, expected_text)) in (1..).zip(prompts.iter().zip(finals)) {
        let mut req = request(root.path(), &tree, prompt, &run_marker, run);
        req.resume_session.clone_from(&session);
        let mut handle = backend.start(req, CancellationToken::new()).unwrap();
        let (events, outcome) = collect(&mut handle, Duration::from_secs(180)).await;
        let all = server.requests();
        let this_run: Vec<RequestRecord> = all[seen..].to_vec();
        seen = all.len();
        assert!(
            outcome.success,
            "run {run}: {outcome:#?}\n{events:#?}\n{this_run:#?}"
        );
        assert_eq!(outcome.final_text, expected_text);
        // One session throughout: Claude Code keeps the id on --resume.
        let id = outcome.session_id.clone().unwrap();
        assert_eq!(*session.get_or_insert_with(|| id.clone()), id);
        assert!(
            this_run.iter().all(|r| r.api == Api::Messages),
            "{this_run:#?}"
        );
        assert_eq!(this_run.len(), if run == 1 { 2 } else { 1 });

        // Tokens: exactly what the server served for this run's requests, in the outcome and
        // in the run's one usage event.
        let served = served(&this_run);
        assert_eq!(
            (
                outcome.usage.input_tokens,
                outcome.usage.output_tokens,
                outcome.usage.cached_tokens
            ),
            (
                served.input_tokens,
                served.output_tokens,
                served.cached_tokens
            ),
            "run {run}"
        );
        let usage_events: Vec<&AgentEvent> = events
            .iter()
            .filter(|e| matches!(e, AgentEvent::Usage { .. }))
            .collect();
        assert_eq!(
            usage_events,
            [&AgentEvent::Usage {
                usage: outcome.usage
            }]
        );
        // Cost: this run's tokens at list price, not the session's total.
        let cost = outcome.usage.cost_usd;
        assert!(
            (cost - list_price(&served)).abs() < 1e-9,
            "run {run}: booked {cost}, the run's tokens cost {}",
            list_price(&served)
        );

        // The run's files are in its own directory; the data directory holds only what
        // resume needs.
        let run_dir = root.path().join(format!("data/runs/{run}/agent"));
        let files = entries(&run_dir);
        assert!(
            files.contains(&"raw.jsonl".to_string()),
            "run {run}: {files:?}"
        );
        assert!(
            files
                .iter()
                .all(|f| f == "raw.jsonl" || f == "raw.stderr.txt"),
            "run {run}: {files:?}"
        );
        let data_dir = root.path().join("data/agents/claude");
        assert_eq!(entries(&data_dir), ["claude-config", "claude-sessions"]);
        booked.push(outcome);
        let left = left_behind(&run_marker, Duration::from_secs(5)).await;
        assert!(left.is_empty(), "left running: {left:?}");
    }

    // Summed over runs: what the server served, and the session's total cost as Claude Code
    // reports it at the end, which is more than the last run's own.
    let total = booked.iter().fold(Usage::default(), |sum, o| Usage {
        input_tokens: sum.input_tokens + o.usage.input_tokens,
        output_tokens: sum.output_tokens + o.usage.output_tokens,
        cached_tokens: sum.cached_tokens + o.usage.cached_tokens,
        cost_usd: sum.cost_usd + o.usage.cost_usd,
    });
    let everything = served(&server.requests());
    assert_eq!(
        (total.input_tokens, total.output_tokens, total.cached_tokens),
        (
            everything.input_tokens,
            everything.output_tokens,
            everything.cached_tokens
        )
    );
    assert_eq!(
        (total.input_tokens, total.output_tokens, total.cached_tokens),
        (
            600 + 200 + 400 + 300,
            30 + 10 + 20 + 40,
            400 + 1000 + 1100 + 1500
        )
    );
    let session_total = reported_total_cost(&root.path().join("data/runs/3/agent"));
    assert!((total.cost_usd - session_total).abs() < 1e-9, "{total:?}");
    assert!(session_total > booked[2].usage.cost_usd * 1.5);
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_refused_for_want_of_permission_is_reported_and_not_done() {
    let Some(program) = find_cli("claude", CLAUDE_PACKAGE) else {
        return;
    };
    let server = MockServer::start(Script::from_toml_str(SCRIPT).unwrap())
        .await
        .unwrap();
    let root = tempfile::tempdir().unwrap();
    let tree = worktree(root.path());
    // No permission mode at all: Claude Code's default, which refuses edits in print mode.
    let backend = ClaudeBackend::new(ClaudeOptions {
        skip_permissions: false,
        permission_mode: None,
        ..options(program, &server)
    });
    let run_marker = marker("claude-e2e-refuse");
    let req = request(
        root.path(),
        &tree,
        "MOCK:claude-refuse Write secret.txt.",
        &run_marker,
        1,
    );
    let mut handle = backend.start(req, CancellationToken::new()).unwrap();
    let (events, outcome) = collect(&mut handle, Duration::from_secs(180)).await;
    assert!(outcome.success, "{outcome:#?}\n{events:#?}");
    assert_eq!(outcome.final_text, "I was not allowed to write secret.txt.");

    // The file was not written, and the refusal is there, once, naming the tool and why.
    assert!(!tree.join("secret.txt").exists());
    let refused = refusals(&events);
    assert_eq!(refused.len(), 1, "{events:#?}");
    let (tool, reason) = &refused[0];
    assert_eq!(tool, "Write");
    assert!(
        reason.contains("secret.txt") && reason.contains("permission"),
        "{reason}"
    );
    let left = left_behind(&run_marker, Duration::from_secs(5)).await;
    assert!(left.is_empty(), "left running: {left:?}");
    server.shutdown().await.unwrap();
}
