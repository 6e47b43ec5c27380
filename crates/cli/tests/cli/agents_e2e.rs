//! The real `claude` and `codex` CLIs (pinned versions from npm, see `.ci/run`), with their default
//! permission and sandbox settings inside gaffer's own sandbox, driven by the
//! engine in a real daemon, against the scripted model server: each writes a file in its task's
//! worktree, the task verifies and merges, and the run's events, tokens and cost are recorded.
//! A missing CLI fails the test (in CI always; elsewhere unless `GAFFER_SKIP_CLI_E2E=1`).

use crate::common::Project;
use gaffer_mock_llm::{MockServer, Script};
use std::path::PathBuf;

const SCRIPT: &str = r#"
[[conversations]]
name = "claude"
marker = "MOCK:claude-note"
  [[conversations.turns]]
  text = "STATUS: writing claude.txt"
  usage = { input_tokens = 1000, output_tokens = 30, cached_tokens = 400 }
    [[conversations.turns.tool_calls]]
    name = "Write"
    arguments = { file_path = "{{cwd}}/claude.txt", content = "written by claude\n" }
  [[conversations.turns]]
  text = "Wrote claude.txt."
  usage = { input_tokens = 1200, output_tokens = 10, cached_tokens = 1000 }

[[conversations]]
name = "codex"
marker = "MOCK:codex-note"
  [[conversations.turns]]
  text = "STATUS: patching"
  usage = { input_tokens = 1000, output_tokens = 30, cached_tokens = 400 }
    [[conversations.turns.tool_calls]]
    name = "apply_patch"
    input = "*** Begin Patch\n*** Add File: codex.txt\n+written by codex\n*** End Patch\n"
  [[conversations.turns]]
  text = "Added codex.txt."
  usage = { input_tokens = 1200, output_tokens = 10, cached_tokens = 1000 }
"#;

/// Where `.ci/run` installs the CLIs; a missing one fails unless skipping was asked for.
fn npm_bin() -> Option<PathBuf> {
    let dir = match std::env::var_os("GAFFER_TEST_NPM_BIN") {
        Some(d) if !d.is_empty() => PathBuf::from(d),
        _ => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.ci/npm/node_modules/.bin"),
    };
    let present = ["claude", "codex"].iter().all(|c| dir.join(c).is_file());
    if present {
        return Some(dir);
    }
    let in_ci = std::env::var_os("CI").is_some_and(|v| !v.is_empty());
    if !in_ci && std::env::var("GAFFER_SKIP_CLI_E2E").is_ok_and(|v| v == "1") {
        eprintln!(
            "\n!!!!!!!! SKIPPED: claude/codex are not in {} (GAFFER_SKIP_CLI_E2E=1) !!!!!!!!\n",
            dir.display()
        );
        return None;
    }
    panic!(
        "the claude and codex CLIs are not in {}: run `bash .ci/run` or `npm install --prefix .ci/npm \
         @anthropic-ai/claude-code@2.1.329 @openai/codex@0.169.0`",
        dir.display()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn claude_and_codex_tasks_merge_through_the_engine() {
    let Some(bin) = npm_bin() else { return };
    let server = MockServer::start(Script::from_toml_str(SCRIPT).unwrap())
        .await
        .unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let project = Project::bare();
    project.repo.write(
        "gaffer.toml",
        format!(
            r#"[verify]
command = "test -f README.md"
[engine]
worktree_pool = 0
[agents.claude]
backend = "claude"
model = "claude-sonnet-4-5"
base_url = "{anthropic}"
api_key_env = "GAFFER_E2E_KEY"
env = {{ PATH = "{path}", GAFFER_E2E_KEY = "sk-test" }}
[agents.codex]
backend = "codex"
model = "gpt-5.5"
base_url = "{openai}"
api_key_env = "GAFFER_E2E_KEY"
env = {{ PATH = "{path}", GAFFER_E2E_KEY = "sk-test" }}
[roles]
coder = ["claude", "codex"]
[review]
cross_family = false
[prices."gpt-5.5"]
input = 1.25
output = 10.0
cached_input = 0.125
"#,
            anthropic = server.base_url(),
            openai = server.openai_base_url(),
        ),
    );
    project.repo.commit_all("gaffer.toml for the real CLIs");
    let daemon = project.start_daemon();
    // Tier 0 of the coder ladder is claude, tier 1 codex.
    let claude = project.add_task("Write a note MOCK:claude-note", &["--scope", "claude.txt"]);
    let codex = project.add_task(
        "Write a note MOCK:codex-note",
        &["--scope", "codex.txt", "--tier", "1"],
    );
    for id in [claude, codex] {
        let shown = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            project.wait_for_status(id, "merged")
        }))
        .unwrap_or_else(|e| {
            for r in server.requests() {
                eprintln!(
                    "{} {} -> {:?}\n{}",
                    r.method,
                    r.path,
                    r.conversation,
                    r.body.to_string().chars().take(3000).collect::<String>()
                );
            }
            std::panic::resume_unwind(e)
        });
        let runs = shown["runs"].as_array().unwrap();
        assert_eq!(runs.len(), 1, "one coding run: {shown:#}");
        let run = &runs[0];
        assert_eq!(run["status"], "succeeded");
        let usage = &run["usage"];
        assert!(usage["input_tokens"].as_u64().unwrap() > 0, "{run:#}");
        assert!(usage["output_tokens"].as_u64().unwrap() > 0, "{run:#}");
        assert!(
            usage["cost_usd"].as_f64().unwrap() > 0.0,
            "cost recorded: {run:#}"
        );
        assert!(
            run["session_id"].as_str().is_some_and(|s| !s.is_empty()),
            "{run:#}"
        );
        let kinds: Vec<&str> = shown["events"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["run"] == run["id"])
            .filter_map(|e| e["data"]["type"].as_str())
            .collect();
        assert!(kinds.contains(&"tool_call"), "{kinds:?}");
        assert!(kinds.contains(&"status"), "{kinds:?}");
    }
    assert_eq!(project.show(claude)["runs"][0]["agent"], "claude");
    assert_eq!(project.show(codex)["runs"][0]["agent"], "codex");
    drop(daemon);
    let landed = project.repo.git(&["show", "gaffer/landed/main:claude.txt"]);
    assert_eq!(landed.trim(), "written by claude");
    let landed = project.repo.git(&["show", "gaffer/landed/main:codex.txt"]);
    assert_eq!(landed.trim(), "written by codex");
    server.shutdown().await.unwrap();
}

const HONEST_SCRIPT: &str = r#"
[[conversations]]
name = "thrice"
marker = "MOCK:claude-thrice"
  [[conversations.turns]]
  text = "Writing one.txt."
  usage = { input_tokens = 1000, output_tokens = 30, cached_tokens = 400 }
    [[conversations.turns.tool_calls]]
    name = "Write"
    arguments = { file_path = "{{cwd}}/one.txt", content = "one\n" }
  [[conversations.turns]]
  text = "Wrote one.txt."
  usage = { input_tokens = 1200, output_tokens = 10, cached_tokens = 1000 }
  [[conversations.turns]]
  text = "Writing two.txt."
  usage = { input_tokens = 1500, output_tokens = 20, cached_tokens = 1100 }
    [[conversations.turns.tool_calls]]
    name = "Write"
    arguments = { file_path = "{{cwd}}/two.txt", content = "two\n" }
  [[conversations.turns]]
  text = "Wrote two.txt."
  usage = { input_tokens = 1700, output_tokens = 10, cached_tokens = 1400 }
  [[conversations.turns]]
  text = "Writing three.txt."
  usage = { input_tokens = 1900, output_tokens = 40, cached_tokens = 1600 }
    [[conversations.turns.tool_calls]]
    name = "Write"
    arguments = { file_path = "{{cwd}}/three.txt", content = "three\n" }
  [[conversations.turns]]
  text = "Wrote three.txt."
  usage = { input_tokens = 2100, output_tokens = 10, cached_tokens = 1900 }

[[conversations]]
name = "refused"
marker = "MOCK:claude-refused"
  [[conversations.turns]]
  text = "Writing refused.txt."
    [[conversations.turns.tool_calls]]
    name = "Write"
    arguments = { file_path = "{{cwd}}/refused.txt", content = "never\n" }
  [[conversations.turns]]
  text = "I was not allowed to write refused.txt."
"#;

/// A project whose coder is the real `claude` CLI against `server`, with `extra` agent settings.
fn claude_project(
    bin: &std::path::Path,
    server: &MockServer,
    verify: &str,
    extra: &str,
) -> Project {
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let project = Project::bare();
    project.repo.write(
        "gaffer.toml",
        format!(
            r#"[verify]
command = "{verify}"
[engine]
worktree_pool = 0
[limits]
verify_failures_per_tier = 5
[agents.claude]
backend = "claude"
model = "claude-sonnet-4-5"
base_url = "{anthropic}"
api_key_env = "GAFFER_E2E_KEY"
env = {{ PATH = "{path}", GAFFER_E2E_KEY = "sk-test" }}
{extra}
[roles]
coder = ["claude"]
"#,
            anthropic = server.base_url(),
        ),
    );
    project
        .repo
        .commit_all("gaffer.toml for the real claude CLI");
    project
}

/// A Claude session resumed twice (verify fails after the first two runs) is booked at each
/// run's own usage, although Claude Code reports the whole session's cost at the end of each
/// run; `gaffer usage` equals the sum, and the sum equals what the model server served.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_claude_session_resumed_twice_is_booked_at_the_sum_of_its_runs() {
    let Some(bin) = npm_bin() else { return };
    let server = MockServer::start(Script::from_toml_str(HONEST_SCRIPT).unwrap())
        .await
        .unwrap();
    let project = claude_project(
        &bin,
        &server,
        "test -f three.txt",
        "skip_permissions = true",
    );
    let daemon = project.start_daemon();
    let id = project.add_task("Write three files MOCK:claude-thrice", &[]);
    let shown = project.wait_for_status(id, "merged");
    // The task's sessions lived in its own data directory, which goes once it merged.
    let data = project
        .state_dir()
        .join(format!("agents/claude/tasks/{id}"));
    crate::common::wait_until(
        "the merged task's agent data to be removed",
        std::time::Duration::from_secs(30),
        || (!data.exists()).then_some(()),
    );
    drop(daemon);

    let runs = shown["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 3, "three coder runs: {shown:#}");
    let session = runs[0]["session_id"].as_str().unwrap();
    assert!(
        runs.iter().all(|r| r["session_id"] == session),
        "one session, resumed: {shown:#}"
    );
    let served: Vec<_> = server
        .requests()
        .into_iter()
        .filter(|r| r.conversation.as_deref() == Some("thrice"))
        .filter_map(|r| r.usage)
        .collect();
    assert_eq!(served.len(), 6, "two model requests per run");
    let (mut input, mut output, mut cost) = (0u64, 0u64, 0f64);
    for (n, run) in runs.iter().enumerate() {
        let own = &served[2 * n..2 * n + 2];
        let usage = &run["usage"];
        assert_eq!(
            usage["input_tokens"].as_u64().unwrap() + usage["cached_tokens"].as_u64().unwrap(),
            own.iter().map(|u| u.input_tokens).sum::<u64>(),
            "run {n} is booked the input it was served: {run:#}"
        );
        assert_eq!(
            usage["output_tokens"].as_u64().unwrap(),
            own.iter().map(|u| u.output_tokens).sum::<u64>(),
            "run {n}: {run:#}"
        );
        input += usage["input_tokens"].as_u64().unwrap();
        output += usage["output_tokens"].as_u64().unwrap();
        cost += usage["cost_usd"].as_f64().unwrap();
    }
    // Later runs cost more than the first would if charged the session so far: each is its own.
    let first = runs[0]["usage"]["cost_usd"].as_f64().unwrap();
    let last = runs[2]["usage"]["cost_usd"].as_f64().unwrap();
    assert!(
        last < 2.0 * first,
        "the third run is not charged the whole session: {runs:#?}"
    );
    let usage = project.json(&["usage", "--json"]);
    assert_eq!(usage["total"]["runs"].as_u64(), Some(3));
    assert_eq!(
        usage["total"]["usage"]["input_tokens"].as_u64(),
        Some(input)
    );
    assert_eq!(
        usage["total"]["usage"]["output_tokens"].as_u64(),
        Some(output)
    );
    let total = usage["total"]["usage"]["cost_usd"].as_f64().unwrap();
    assert!(
        (total - cost).abs() < 1e-9,
        "gaffer usage {total} = sum of runs {cost}"
    );
    server.shutdown().await.unwrap();
}

/// In Claude Code's default permission mode (set explicitly: inside gaffer's sandbox it would
/// otherwise work without asking) print mode refuses the edit: the run is not "succeeded", it
/// says the agent could not edit, the refusal is an event `gaffer log` shows, and the task's
/// note tells why nothing changed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_claude_run_whose_edits_were_all_refused_is_reported_as_such() {
    let Some(bin) = npm_bin() else { return };
    let server = MockServer::start(Script::from_toml_str(HONEST_SCRIPT).unwrap())
        .await
        .unwrap();
    let project = claude_project(
        &bin,
        &server,
        "test -f refused.txt",
        "max_turns = 4\npermission_mode = \"default\"",
    );
    let gaffer_toml = std::fs::read_to_string(project.path().join("gaffer.toml")).unwrap();
    project.repo.write(
        "gaffer.toml",
        gaffer_toml.replace(
            "verify_failures_per_tier = 5",
            "verify_failures_per_tier = 1",
        ),
    );
    project.repo.commit_all("one attempt");
    let daemon = project.start_daemon();
    let id = project.add_task("Write a file MOCK:claude-refused", &[]);
    let shown = project.wait_for_status(id, "failed");
    drop(daemon);

    let run = &shown["runs"][0];
    assert_eq!(run["status"], "failed", "{run:#}");
    let outcome = run["outcome"].as_str().unwrap_or("");
    assert!(
        outcome.contains("the agent could not edit: permission refused once (Write)"),
        "{outcome}"
    );
    let note = shown["task"]["state"]["note"].as_str().unwrap_or("");
    assert!(note.contains("could not edit"), "{note}");
    let refused: Vec<_> = shown["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["data"]["type"] == "refused")
        .collect();
    assert_eq!(refused.len(), 1, "{:#}", shown["events"]);
    assert_eq!(refused[0]["data"]["tool"], "Write");
    assert!(!project.path().join("refused.txt").exists());
    let log = project
        .gaffer()
        .args(["log", &id.to_string()])
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&log.stdout);
    assert!(
        log.contains("refused: the agent's Write call was not allowed"),
        "{log}"
    );
    server.shutdown().await.unwrap();
}

const REVIEW_SCRIPT: &str = r#"
[[conversations]]
name = "review"
marker = "MOCK:review-edit"
  [[conversations.turns]]
  text = "Let me fix it myself."
    [[conversations.turns.tool_calls]]
    name = "Write"
    arguments = { file_path = "{{cwd}}/by-reviewer.txt", content = "a reviewer wrote this\n" }
  [[conversations.turns]]
  text = '{"verdict": "approve", "summary": "fine"}'
"#;

/// A reviewer cannot edit: inside gaffer's sandbox its worktree is read-only, so the real Claude
/// Code's attempt to write a file fails, and nothing it tried lands.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_claude_reviewer_cannot_edit_the_change_it_reviews() {
    let Some(bin) = npm_bin() else { return };
    let server = MockServer::start(Script::from_toml_str(REVIEW_SCRIPT).unwrap())
        .await
        .unwrap();
    let project = claude_project(&bin, &server, "test -f coded.txt", "");
    let gaffer_toml = std::fs::read_to_string(project.path().join("gaffer.toml")).unwrap();
    project.repo.write(
        "gaffer.toml",
        gaffer_toml.replace(
            "[roles]\ncoder = [\"claude\"]",
            "[agents.coder]\nbackend = \"scripted\"\nscript = \"coder.toml\"\n\
             [roles]\ncoder = [\"coder\"]\nreviewer = [\"claude\"]\n[review]\ncross_family = false",
        ),
    );
    project.repo.write(
        "coder.toml",
        "[[task]]\nmatch = \"MOCK:review-edit\"\n[[task.attempt]]\nsummary = \"Coded.\"\n\
         actions = [{ write = \"coded.txt\", content = \"coded\\n\" }]\n",
    );
    project
        .repo
        .commit_all("a scripted coder and a claude reviewer");
    let daemon = project.start_daemon();
    let id = project.add_task("Review this MOCK:review-edit", &[]);
    let shown = project.wait_for_status(id, "merged");
    drop(daemon);

    let review = shown["runs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["role"] == "reviewer")
        .cloned()
        .unwrap_or_else(|| panic!("no review: {shown:#}"));
    let tried: Vec<_> = shown["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["run"] == review["id"])
        .filter(|e| e["data"]["type"] == "tool_result" || e["data"]["type"] == "refused")
        .collect();
    // Claude Code tried (inside the sandbox it asks no permission) and the file system said no.
    assert!(
        tried
            .iter()
            .any(|e| e["data"]["type"] == "tool_result" && e["data"]["is_error"] == true),
        "the reviewer's write failed on the read-only worktree: {tried:#?}"
    );
    let files = project
        .repo
        .git(&["ls-tree", "-r", "--name-only", "gaffer/landed/main"]);
    assert!(files.contains("coded.txt"), "{files}");
    assert!(
        !files.contains("by-reviewer.txt"),
        "the reviewer's edit landed: {files}"
    );
    server.shutdown().await.unwrap();
}

const STEER_SCRIPT: &str = r#"
[[conversations]]
name = "steered"
marker = "MOCK:claude-steer"
  [[conversations.turns]]
  text = "STATUS: thinking it over"
  usage = { input_tokens = 1000, output_tokens = 30 }
    [[conversations.turns.tool_calls]]
    name = "Bash"
    arguments = { command = "timeout 8 tail -f /dev/null || echo thought", description = "Think it over" }
  [[conversations.turns]]
  text = "Writing the notes in French, as asked."
  usage = { input_tokens = 1200, output_tokens = 20 }
    [[conversations.turns.tool_calls]]
    name = "Write"
    arguments = { file_path = "{{cwd}}/notes.txt", content = "bonjour\n" }
  [[conversations.turns]]
  text = "Wrote notes.txt in French."
  usage = { input_tokens = 1400, output_tokens = 10 }
"#;

/// `gaffer say` to the real Claude Code while a command it runs takes a while: the message
/// reaches the model at the agent's next turn (with the command's result), the run is never
/// stopped, the log says it was heard, and the task merges with what the message asked.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_to_claude_reaches_it_at_its_next_turn() {
    let Some(bin) = npm_bin() else { return };
    let server = MockServer::start(Script::from_toml_str(STEER_SCRIPT).unwrap())
        .await
        .unwrap();
    let project = claude_project(
        &bin,
        &server,
        "grep -q bonjour notes.txt",
        "skip_permissions = true",
    );
    let daemon = project.start_daemon();
    let id = project.add_task("Write the notes MOCK:claude-steer", &[]);
    crate::steer::wait_for_tool_call(&project, id);
    let out = project
        .gaffer()
        .args(["say", &id.to_string(), crate::steer::MESSAGE])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", crate::common::stderr_of(&out));
    let shown = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        project.wait_for_status(id, "merged")
    }))
    .unwrap_or_else(|e| {
        for r in server.requests() {
            eprintln!(
                "{} {} -> {:?}\n{}",
                r.method,
                r.path,
                r.conversation,
                r.body.to_string().chars().take(3000).collect::<String>()
            );
        }
        std::panic::resume_unwind(e)
    });
    let log = project
        .gaffer()
        .args(["log", &id.to_string()])
        .output()
        .unwrap();
    drop(daemon);

    // One run, never stopped.
    let runs = shown["runs"].as_array().unwrap();
    let seen: Vec<(&str, &str)> = runs
        .iter()
        .map(|r| {
            (
                r["status"].as_str().unwrap_or("?"),
                r["outcome"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [("succeeded", "Wrote notes.txt in French.")],
        "{shown:#}"
    );
    assert_eq!(shown["task"]["state"]["total_failures"], 0);
    // The log has it heard by that run.
    let heard = crate::crew::events(&shown, "run.heard");
    assert_eq!(heard.len(), 1, "{shown:#}");
    assert_eq!(heard[0]["run"], runs[0]["id"]);
    assert_eq!(heard[0]["data"]["text"], crate::steer::MESSAGE);
    let log = crate::common::stdout_of(&log);
    assert!(
        log.contains("heard a person's message at its next turn"),
        "{log}"
    );

    // The model got it in the same conversation, after the first turn, at a later turn.
    let requests: Vec<String> = server
        .requests()
        .into_iter()
        .filter(|r| r.conversation.as_deref() == Some("steered"))
        .map(|r| r.body.to_string())
        .collect();
    assert_eq!(requests.len(), 3, "{requests:#?}");
    assert!(!requests[0].contains(crate::steer::MESSAGE));
    let told = requests[1..]
        .iter()
        .find(|r| r.contains(crate::steer::MESSAGE))
        .unwrap_or_else(|| panic!("no later request carried the message: {requests:#?}"));
    assert!(told.contains("A message from a person"), "{told}");
    assert!(told.contains("thinking it over"), "the first turn: {told}");
    let landed = project.repo.git(&["show", "gaffer/landed/main:notes.txt"]);
    assert_eq!(landed.trim(), "bonjour");
    server.shutdown().await.unwrap();
}

const BY_HAND_SCRIPT: &str = r#"
[[conversations]]
name = "by-hand"
marker = "MOCK:claude-by-hand"
  [[conversations.turns]]
  text = "STATUS: thinking it over"
  usage = { input_tokens = 1000, output_tokens = 30 }
    [[conversations.turns.tool_calls]]
    name = "Bash"
    arguments = { command = "timeout 120 tail -f /dev/null", description = "Think it over" }
  [[conversations.turns]]
  text = "Picked up where the run stopped."
  [[conversations.turns]]
  text = "Picked up where the run stopped."
"#;

/// `gaffer attach` on a task the real Claude Code works on: the run stops, and the command it
/// prints, run by hand in the worktree (here with `-p`, as a person would type in it), resumes
/// that very session: the model server's next request is the run's conversation. The person's
/// file lands after `gaffer release`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attach_prints_a_command_that_resumes_claudes_session_by_hand() {
    let Some(bin) = npm_bin() else { return };
    let server = MockServer::start(Script::from_toml_str(BY_HAND_SCRIPT).unwrap())
        .await
        .unwrap();
    let project = claude_project(
        &bin,
        &server,
        "test -f by-hand.txt",
        "skip_permissions = true",
    );
    let daemon = project.start_daemon();
    let id = project.add_task("Write it by hand MOCK:claude-by-hand", &[]);
    crate::steer::wait_for_tool_call(&project, id);
    let projects = project
        .state_dir()
        .join(format!("agents/claude/tasks/{id}/claude-config/projects"));
    crate::common::wait_until(
        "Claude Code's transcript to hold the call",
        std::time::Duration::from_secs(60),
        || {
            let found = std::fs::read_dir(&projects).ok()?.flatten().any(|dir| {
                std::fs::read_dir(dir.path()).is_ok_and(|files| {
                    files.flatten().any(|f| {
                        std::fs::read_to_string(f.path())
                            .is_ok_and(|t| t.contains("tail -f /dev/null"))
                    })
                })
            });
            found.then_some(())
        },
    );
    let out = project
        .gaffer()
        .args(["attach", &id.to_string(), "--json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", crate::common::stderr_of(&out));
    let attached: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let worktree = attached["worktree"].as_str().unwrap().to_string();
    let resume = &attached["resume"];
    let session = project.show(id)["runs"][0]["session_id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(resume["session"], session.as_str(), "{attached:#}");
    let command = resume["command"].as_str().unwrap();
    assert!(
        command.contains(&format!(
            "CLAUDE_CONFIG_DIR={}",
            projects.parent().unwrap().display()
        )),
        "{command}"
    );
    assert!(
        command.contains(&format!("ANTHROPIC_BASE_URL={}", server.base_url())),
        "{command}"
    );
    assert!(
        command.contains(&format!("--resume {session}")),
        "{command}"
    );
    assert!(!command.contains("sk-test"), "no key in it: {command}");
    crate::common::wait_until(
        "the run to stop",
        std::time::Duration::from_secs(60),
        || (project.show(id)["runs"][0]["status"] == "cancelled").then_some(()),
    );

    // The person runs it (print mode here; a person would talk to it), with their own key.
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let by_hand = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!(
            "{command} --dangerously-skip-permissions -p 'Go on, by hand.' < /dev/null"
        ))
        .current_dir(&worktree)
        .env("PATH", path)
        .env("ANTHROPIC_API_KEY", "sk-test")
        .env("IS_SANDBOX", "1")
        .output()
        .unwrap();
    assert!(
        by_hand.status.success(),
        "{}{}",
        String::from_utf8_lossy(&by_hand.stdout),
        String::from_utf8_lossy(&by_hand.stderr)
    );
    let requests: Vec<String> = server
        .requests()
        .into_iter()
        .filter(|r| r.conversation.as_deref() == Some("by-hand"))
        .map(|r| r.body.to_string())
        .collect();
    let last = requests.last().unwrap();
    assert!(last.contains("Go on, by hand."), "{last}");
    assert!(
        last.contains("thinking it over"),
        "the run's conversation: {last}"
    );

    std::fs::write(
        std::path::Path::new(&worktree).join("by-hand.txt"),
        "written by a person\n",
    )
    .unwrap();
    let out = project
        .gaffer()
        .args(["release", &id.to_string()])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", crate::common::stderr_of(&out));
    project.wait_for_status(id, "merged");
    drop(daemon);
    let landed = project
        .repo
        .git(&["show", "gaffer/landed/main:by-hand.txt"]);
    assert_eq!(landed.trim(), "written by a person");
    server.shutdown().await.unwrap();
}

const INIT_SCRIPT: &str = r#"
# The reviewer's conversation comes first: its marker is in gaffer's reviewer prompt only, while
# the task's own marker is in the reviewer's prompt too.
[[conversations]]
name = "review"
marker = "You are a reviewer"
  [[conversations.turns]]
  text = '{"verdict": "approve", "summary": "The note is there, as asked."}'
  usage = { input_tokens = 900, output_tokens = 20 }

[[conversations]]
name = "code"
marker = "MOCK:init-crew"
  [[conversations.turns]]
  text = "STATUS: writing the note"
  usage = { input_tokens = 1000, output_tokens = 30 }
    [[conversations.turns.tool_calls]]
    name = "Write"
    arguments = { file_path = "{{cwd}}/note.txt", content = "written by the crew init found\n" }
  [[conversations.turns]]
  text = "Wrote note.txt."
  usage = { input_tokens = 1200, output_tokens = 10 }
"#;

/// A first run as a person makes it: `gaffer init` on a machine with the real `claude` and
/// `codex` on PATH writes a crew (Claude codes, Codex of the other family reviews), `doctor`
/// accepts it, and `gaffer up` takes a task to merged with that file exactly as init wrote it:
/// the CLIs reach the scripted model server only through the provider variables a person sets.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_crew_init_writes_from_the_real_clis_merges_a_task() {
    let Some(bin) = npm_bin() else { return };
    let server = MockServer::start(Script::from_toml_str(INIT_SCRIPT).unwrap())
        .await
        .unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let anthropic = server.base_url();
    let openai = server.openai_base_url();
    let env: [(&str, &str); 5] = [
        ("PATH", &path),
        ("ANTHROPIC_BASE_URL", &anthropic),
        ("ANTHROPIC_API_KEY", "sk-test"),
        ("OPENAI_BASE_URL", &openai),
        ("OPENAI_API_KEY", "sk-test"),
    ];
    let project = Project::bare();
    project
        .repo
        .write("Makefile", "test:\n\ttest -f README.md\n");
    project.repo.commit_all("a project with a Makefile");

    let out = project
        .gaffer()
        .arg("init")
        .envs(env.iter().copied())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(stdout.contains("agents: claude, codex"), "{stdout}");
    let written = project.repo.read("gaffer.toml");
    let doc: toml::Table = written.parse().unwrap();
    assert_eq!(
        doc["roles"]["coder"][0].as_str(),
        Some("claude"),
        "{written}"
    );
    assert_eq!(
        doc["roles"]["reviewer"][0].as_str(),
        Some("codex"),
        "{written}"
    );
    project.repo.commit_all("gaffer.toml as init wrote it");

    let out = project
        .gaffer()
        .arg("doctor")
        .envs(env.iter().copied())
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "doctor refused the crew init wrote:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );

    let daemon = project.start_daemon_with_env(&env);
    let id = project.add_task("Write a note MOCK:init-crew", &["--scope", "note.txt"]);
    let shown = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        project.wait_for_status(id, "merged")
    }))
    .unwrap_or_else(|e| {
        eprintln!("{}", project.daemon_log());
        let log = project
            .gaffer()
            .args(["log", &id.to_string(), "--full"])
            .output()
            .unwrap();
        eprintln!("{}", String::from_utf8_lossy(&log.stdout));
        for r in server.requests() {
            eprintln!("{} {} -> {:?}", r.method, r.path, r.conversation);
        }
        std::panic::resume_unwind(e)
    });
    drop(daemon);
    let runs = shown["runs"].as_array().unwrap();
    let by_role = |role: &str| -> Vec<&str> {
        runs.iter()
            .filter(|r| r["role"] == role)
            .filter_map(|r| r["agent"].as_str())
            .collect()
    };
    assert_eq!(by_role("coder"), ["claude"], "{shown:#}");
    assert_eq!(by_role("reviewer"), ["codex"], "{shown:#}");
    assert!(runs.iter().all(|r| r["status"] == "succeeded"), "{shown:#}");
    let landed = project.repo.git(&["show", "gaffer/landed/main:note.txt"]);
    assert_eq!(landed.trim(), "written by the crew init found");
    // Both CLIs reached the scripted server, each for its own part.
    let served: Vec<String> = server
        .requests()
        .iter()
        .filter_map(|r| r.conversation.clone())
        .collect();
    assert!(served.iter().any(|c| c == "code"), "{served:?}");
    assert!(served.iter().any(|c| c == "review"), "{served:?}");
    server.shutdown().await.unwrap();
}
