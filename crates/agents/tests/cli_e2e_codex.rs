//! End to end with the real Codex CLI (0.169.0, from npm) against the scripted model server
//! (its Responses API): the model sends a patch adding a file, and the `codex` backend must
//! deliver the file, the events, the usage of each run (Codex reports thread totals), a
//! resumable thread, and leave no process behind, also when cancelled in the middle of a
//! command; a patch the sandbox refuses must show as `Refused`. See `cli_e2e_common.rs` for
//! where the CLI is found and when a missing CLI may be skipped.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "cli_e2e_common.rs"]
mod common;

use common::{
    CODEX_PACKAGE, collect, entries, find_cli, left_behind, marker, refusals, tool_calls, worktree,
};
use gaffer_agents::codex::{CodexBackend, CodexOptions};
use gaffer_agents::{AgentBackend, AgentEvent, RunRequest};
use gaffer_core::{Role, Usage};
use gaffer_mock_llm::{MockServer, Script};
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// A model of Codex's catalog (`codex debug models`): only those are offered `apply_patch`.
const MODEL: &str = "gpt-5.5";

const SCRIPT: &str = r#"
[[conversations]]
name = "write"
marker = "MOCK:codex-write"

  [[conversations.turns]]
  text = "I will add the file.\nSTATUS: patching"
  usage = { input_tokens = 1000, output_tokens = 30, cached_tokens = 400 }
    [[conversations.turns.tool_calls]]
    name = "apply_patch"
    input = "*** Begin Patch\n*** Add File: hello.txt\n+hello from codex\n*** End Patch\n"

  [[conversations.turns]]
  text = "Done: added hello.txt."
  usage = { input_tokens = 1200, output_tokens = 10, cached_tokens = 1000 }

  [[conversations.turns]]
  text = "Resumed: hello.txt is still there."
  usage = { input_tokens = 1300, output_tokens = 12, cached_tokens = 1200 }

[[conversations]]
name = "wait"
marker = "MOCK:codex-wait"

  [[conversations.turns]]
  text = "Running a long command."
    [[conversations.turns.tool_calls]]
    name = "exec_command"
    arguments = { cmd = "timeout 300 tail -f /dev/null", yield_time_ms = 60000 }

[[conversations]]
name = "refused"
marker = "MOCK:codex-refused"

  [[conversations.turns]]
  text = "Adding secret.txt."
    [[conversations.turns.tool_calls]]
    name = "apply_patch"
    input = "*** Begin Patch\n*** Add File: secret.txt\n+should not exist\n*** End Patch\n"

  [[conversations.turns]]
  text = "The patch was not applied."
"#;

fn options(program: PathBuf, server: &MockServer) -> CodexOptions {
    CodexOptions {
        program: program.display().to_string(),
        model: Some(MODEL.into()),
        base_url: Some(server.openai_base_url()),
        api_key: Some("sk-test".into()),
        api_key_env: Some("GAFFER_E2E_OPENAI_KEY".into()),
        // Fail fast instead of retrying against the scripted server.
        extra_config: vec![
            (
                "model_providers.gaffer.request_max_retries".into(),
                "0".into(),
            ),
            (
                "model_providers.gaffer.stream_max_retries".into(),
                "0".into(),
            ),
        ],
        ..CodexOptions::default()
    }
}

/// Run `run` of the test: its own directory under `data/runs/`, the agent's data directory
/// shared.
fn request(root: &Path, worktree: &Path, prompt: &str, marker: &str, run: u32) -> RunRequest {
    RunRequest {
        role: Role::Coder,
        prompt: prompt.into(),
        system_prompt: "You are a coding agent working for gaffer.".into(),
        worktree: worktree.to_path_buf(),
        model: String::new(),
        resume_session: None,
        env: vec![
            ("GAFFER_RUN".into(), "1".into()),
            ("GAFFER_TEST_MARKER".into(), marker.into()),
        ],
        max_wall: Duration::from_secs(180),
        script_key: String::new(),
        attempt: 0,
        // Under the temporary directory on purpose: the backend must keep CODEX_HOME out of
        // Codex's TMPDIR by itself.
        data_dir: root.join("data/agents/codex"),
        run_dir: root.join(format!("data/runs/{run}/agent")),
        confine: Default::default(),
    }
}

fn usage(input: u64, cached: u64, output: u64) -> Usage {
    Usage {
        input_tokens: input - cached,
        output_tokens: output,
        cached_tokens: cached,
        cost_usd: 0.0,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn codex_applies_a_patch_reports_usage_per_run_and_resumes() {
    let Some(program) = find_cli("codex", CODEX_PACKAGE) else {
        return;
    };
    let server = MockServer::start(Script::from_toml_str(SCRIPT).unwrap())
        .await
        .unwrap();
    let root = tempfile::tempdir().unwrap();
    let tree = worktree(root.path());
    let backend = CodexBackend::new(options(program, &server));
    let run_marker = marker("codex-e2e");

    let req = request(
        root.path(),
        &tree,
        "MOCK:codex-write Create hello.txt.",
        &run_marker,
        1,
    );
    let data_dir = req.data_dir.clone();
    let run_dir = req.run_dir.clone();
    let mut handle = backend.start(req, CancellationToken::new()).unwrap();
    assert!(handle.process.is_some());
    let (events, outcome) = collect(&mut handle, Duration::from_secs(180)).await;
    assert!(
        outcome.success,
        "{outcome:#?}\n{events:#?}\n{:#?}",
        server.requests()
    );

    // The file landed in the worktree.
    assert_eq!(
        std::fs::read_to_string(tree.join("hello.txt")).unwrap(),
        "hello from codex\n"
    );

    // The events: started with the thread id, the status line, the patch and its result, the
    // final text, usage.
    let AgentEvent::Started {
        model,
        session_id: Some(thread),
    } = &events[0]
    else {
        panic!("not started first: {events:#?}");
    };
    assert_eq!(model, MODEL);
    assert!(events.contains(&AgentEvent::Status {
        text: "patching".into()
    }));
    assert_eq!(
        tool_calls(&events),
        vec![("apply_patch".to_string(), "add hello.txt".to_string())]
    );
    assert!(events.contains(&AgentEvent::ToolResult {
        summary: "applied: add hello.txt".into(),
        is_error: false
    }));
    // Usage: both scripted answers (OpenAI counts cached tokens inside input). Codex reports
    // no cost; the engine prices tokens.
    let expected = usage(1000 + 1200, 400 + 1000, 30 + 10);
    assert!(events.contains(&AgentEvent::Usage { usage: expected }));
    assert_eq!(outcome.usage, expected);
    assert_eq!(outcome.turns, 1);
    assert_eq!(outcome.final_text, "Done: added hello.txt.");
    assert_eq!(outcome.session_id.as_ref(), Some(thread));

    // Codex called nothing but the Responses API of the custom provider.
    let requests = server.requests();
    assert!(
        requests
            .iter()
            .all(|r| r.method == "POST" && r.path == "/v1/responses"),
        "{requests:#?}"
    );
    let first = &requests[0];
    let offered: Vec<&str> = first.body["tools"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    assert!(offered.contains(&"apply_patch"), "{offered:?}");
    assert_eq!(first.body["model"], MODEL);
    assert!(
        first
            .body
            .to_string()
            .contains("You are a coding agent working for gaffer.")
    );

    // Its home and the thread's totals stayed in the data directory; the raw transcript and
    // the temporary directory are the run's own.
    assert!(data_dir.join("codex-home/sessions").is_dir());
    assert_eq!(entries(&data_dir), ["codex-home", "codex-threads"]);
    let files = entries(&run_dir);
    assert!(
        files.contains(&"raw.jsonl".to_string()) && files.contains(&"tmp".to_string()),
        "{files:?}"
    );
    // CODEX_HOME is under the test's temporary directory, yet Codex did not complain that it
    // lies in its TMPDIR: the backend gave it the run's own.
    let stderr = std::fs::read_to_string(run_dir.join("raw.stderr.txt")).unwrap_or_default();
    assert!(
        !stderr.contains("Refusing to create helper binaries"),
        "{stderr}"
    );
    let left = left_behind(&run_marker, Duration::from_secs(5)).await;
    assert!(left.is_empty(), "left running: {left:?}");

    // Resume: the same thread continues with the next scripted turn, and is charged only the
    // tokens it added although Codex reports the thread's totals.
    let mut again = request(
        root.path(),
        &tree,
        "MOCK:codex-write Is it there?",
        &run_marker,
        2,
    );
    again.resume_session = Some(thread.clone());
    let mut handle = backend.start(again, CancellationToken::new()).unwrap();
    let (events, resumed) = collect(&mut handle, Duration::from_secs(180)).await;
    assert!(resumed.success, "{resumed:#?}\n{events:#?}");
    assert_eq!(resumed.session_id.as_ref(), Some(thread));
    assert_eq!(resumed.final_text, "Resumed: hello.txt is still there.");
    assert_eq!(resumed.usage, usage(1300, 1200, 12));
    let last = server.requests().pop().unwrap();
    assert_eq!(
        last.turn,
        Some(2),
        "the resumed request carries the earlier turns"
    );
    let left = left_behind(&run_marker, Duration::from_secs(5)).await;
    assert!(left.is_empty(), "left running: {left:?}");

    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelling_codex_in_the_middle_of_a_command_leaves_nothing_running() {
    let Some(program) = find_cli("codex", CODEX_PACKAGE) else {
        return;
    };
    let server = MockServer::start(Script::from_toml_str(SCRIPT).unwrap())
        .await
        .unwrap();
    let root = tempfile::tempdir().unwrap();
    let tree = worktree(root.path());
    let backend = CodexBackend::new(options(program, &server));
    let run_marker = marker("codex-e2e-cancel");
    let cancel = CancellationToken::new();
    let req = request(root.path(), &tree, "MOCK:codex-wait Wait.", &run_marker, 1);
    let run_dir = req.run_dir.clone();
    let mut handle = backend.start(req, cancel.clone()).unwrap();

    loop {
        let event = tokio::time::timeout(Duration::from_secs(120), handle.events.recv())
            .await
            .expect("no tool call came")
            .expect("the run ended before its tool call");
        if let AgentEvent::ToolCall { summary, .. } = &event {
            assert_eq!(summary, "shell: timeout 300 tail -f /dev/null");
            break;
        }
        assert!(!matches!(event, AgentEvent::Finished { .. }), "{event:?}");
    }
    common::wait_for_command(
        &mut handle,
        &run_marker,
        "tail -f /dev/null",
        &run_dir,
        Duration::from_secs(60),
    )
    .await;
    common::show_processes(&run_marker);

    cancel.cancel();
    let (_, outcome) = collect(&mut handle, Duration::from_secs(60)).await;
    assert!(!outcome.success);
    assert_eq!(outcome.error.as_deref(), Some("the run was cancelled"));
    assert!(outcome.session_id.is_some());
    let left = left_behind(&run_marker, Duration::from_secs(5)).await;
    assert!(left.is_empty(), "left running after cancel: {left:?}");
    server.shutdown().await.unwrap();
}

/// Issue 3's failure cases: a 429 then success, a 500 every time, a malformed stream line.
const FAILURES: &str = r#"
[[conversations]]
name = "flaky"
marker = "MOCK:codex-flaky"

  [[conversations.turns]]
  text = "Patching after a rate limit."
  errors = [{ status = 429, times = 1, retry_after = 1, message = "slow down, codex" }]
    [[conversations.turns.tool_calls]]
    name = "apply_patch"
    input = "*** Begin Patch\n*** Add File: flaky.txt\n+written after a 429\n*** End Patch\n"

  [[conversations.turns]]
  text = "Done: added flaky.txt."

[[conversations]]
name = "broken"
marker = "MOCK:codex-broken"

  [[conversations.turns]]
  text = "never seen"
  errors = [{ status = 500, message = "upstream exploded for codex" }]

[[conversations]]
name = "garbled"
marker = "MOCK:codex-garbled"

  [[conversations.turns]]
  text = "The stream of this answer carries a broken line."
  malformed_line = "data: {\"oops"
  malformed_after = 2
"#;

/// Runs `prompt` against the failure script with the provider's request and stream retries
/// set to 2, and returns the events and outcome, the server's requests, the worktree (and the
/// directory holding it), after checking that nothing was left running.
async fn run_failure_case(
    program: PathBuf,
    prompt: &str,
    name: &str,
) -> (
    Vec<AgentEvent>,
    gaffer_agents::Outcome,
    Vec<gaffer_mock_llm::RequestRecord>,
    PathBuf,
    tempfile::TempDir,
) {
    let server = MockServer::start(Script::from_toml_str(FAILURES).unwrap())
        .await
        .unwrap();
    let root = tempfile::tempdir().unwrap();
    let tree = worktree(root.path());
    let mut opts = options(program, &server);
    for (_, value) in &mut opts.extra_config {
        *value = "2".into();
    }
    let backend = CodexBackend::new(opts);
    let run_marker = marker(name);
    let req = request(root.path(), &tree, prompt, &run_marker, 1);
    let mut handle = backend.start(req, CancellationToken::new()).unwrap();
    let (events, outcome) = collect(&mut handle, Duration::from_secs(180)).await;
    let left = left_behind(&run_marker, Duration::from_secs(5)).await;
    assert!(left.is_empty(), "left running: {left:?}");
    let requests = server.requests();
    server.shutdown().await.unwrap();
    (events, outcome, requests, tree, root)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn codex_retries_a_429_and_then_succeeds() {
    let Some(program) = find_cli("codex", CODEX_PACKAGE) else {
        return;
    };
    let (events, outcome, requests, tree, _root) = run_failure_case(
        program,
        "MOCK:codex-flaky Create flaky.txt.",
        "codex-e2e-429",
    )
    .await;
    assert!(outcome.success, "{outcome:#?}\n{events:#?}\n{requests:#?}");
    assert_eq!(
        std::fs::read_to_string(tree.join("flaky.txt")).unwrap(),
        "written after a 429\n"
    );
    assert_eq!(outcome.final_text, "Done: added flaky.txt.");
    // The first turn was asked twice: the 429, then the answer.
    let first_turn: Vec<_> = requests.iter().filter(|r| r.turn == Some(0)).collect();
    assert_eq!(first_turn.len(), 2, "{requests:#?}");
    assert_eq!(
        first_turn[0].outcome,
        gaffer_mock_llm::Outcome::Error { status: 429 }
    );
    assert_eq!(first_turn[1].outcome, gaffer_mock_llm::Outcome::Answered);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn codex_fails_cleanly_on_a_500_every_time() {
    let Some(program) = find_cli("codex", CODEX_PACKAGE) else {
        return;
    };
    let (events, outcome, requests, _tree, _root) =
        run_failure_case(program, "MOCK:codex-broken Do something.", "codex-e2e-500").await;
    // Codex 0.169.0 retries a 500 (request retries inside each of the stream retries: 3 x 3
    // requests with both set to 2), then fails the turn with its own message for a server
    // error: the provider's message ("upstream exploded for codex") is not passed on.
    assert!(!outcome.success, "{outcome:#?}\n{events:#?}");
    let error = outcome.error.clone().unwrap_or_default();
    assert!(
        error.contains("experiencing high demand"),
        "{outcome:#?}\n{events:#?}"
    );
    assert_eq!(requests.len(), 9);
    assert!(
        requests
            .iter()
            .all(|r| r.outcome == gaffer_mock_llm::Outcome::Error { status: 500 })
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn codex_survives_a_malformed_stream_line() {
    let Some(program) = find_cli("codex", CODEX_PACKAGE) else {
        return;
    };
    let (events, outcome, requests, _tree, _root) = run_failure_case(
        program,
        "MOCK:codex-garbled Say something.",
        "codex-e2e-malformed",
    )
    .await;
    // Codex 0.169.0 skips an SSE event whose data is not JSON and carries on: the run ends
    // cleanly with the whole answer, after one request (no retry), and nothing to report.
    assert!(outcome.success, "{outcome:#?}\n{events:#?}");
    assert_eq!(
        outcome.final_text,
        "The stream of this answer carries a broken line."
    );
    assert_eq!(requests.len(), 1, "{requests:#?}");
    assert_eq!(requests[0].outcome, gaffer_mock_llm::Outcome::Malformed);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_patch_the_sandbox_refuses_is_reported_and_not_applied() {
    let Some(program) = find_cli("codex", CODEX_PACKAGE) else {
        return;
    };
    let server = MockServer::start(Script::from_toml_str(SCRIPT).unwrap())
        .await
        .unwrap();
    let root = tempfile::tempdir().unwrap();
    let tree = worktree(root.path());
    let backend = CodexBackend::new(CodexOptions {
        sandbox: "read-only".into(),
        ..options(program, &server)
    });
    let run_marker = marker("codex-e2e-refused");
    let req = request(
        root.path(),
        &tree,
        "MOCK:codex-refused Add secret.txt.",
        &run_marker,
        1,
    );
    let mut handle = backend.start(req, CancellationToken::new()).unwrap();
    let (events, outcome) = collect(&mut handle, Duration::from_secs(180)).await;
    // The model carried on after the refusal; the run succeeded.
    assert!(outcome.success, "{outcome:#?}\n{events:#?}");
    assert_eq!(outcome.final_text, "The patch was not applied.");
    assert!(!tree.join("secret.txt").exists());
    // Codex's JSON says nothing of the patch; its standard error does, and that is reported,
    // once, just before the run's end.
    assert_eq!(
        refusals(&events),
        [(
            "apply_patch".to_string(),
            "writing is blocked by read-only sandbox; rejected by user approval settings"
                .to_string()
        )],
        "{events:#?}"
    );
    let n = events.len();
    assert!(matches!(events[n - 2], AgentEvent::Refused { .. }));
    let left = left_behind(&run_marker, Duration::from_secs(5)).await;
    assert!(left.is_empty(), "left running: {left:?}");
    server.shutdown().await.unwrap();
}
