//! The real `claude` and `codex` CLIs (pinned versions from npm, see `.ci/run`) driven by the
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
skip_permissions = true
api_key_env = "GAFFER_E2E_KEY"
env = {{ PATH = "{path}", GAFFER_E2E_KEY = "sk-test" }}
[agents.codex]
backend = "codex"
model = "gpt-5.5"
base_url = "{openai}"
sandbox = "workspace-write"
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
