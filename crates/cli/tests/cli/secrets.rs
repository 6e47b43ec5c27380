//! Secrets never leave: an agent that knows a secret (its `env` table) echoes it in its text, its
//! status lines, its final answer, a commit message and a file, and prints a well-known key
//! shape. Nothing gaffer stores or shows holds either value, and the change that writes the
//! secret into a file is refused with the path and line, then fixed by the coder and landed.

use crate::common::Project;
use crate::crew::{events, landed};
use gaffer_mock_llm::{MockServer, Script};
use std::path::Path;

const TOKEN: &str = "tok-3f9a8b7c6d5e4f3a2b1c";
const SHAPE: &str = "ghp_abcdefghijklmnopqrstuvwxyz0123456789";

const AGENT: &str = r#"if grep -q "adds a secret" "$1"; then
  echo "token = from the environment" > config.txt
  echo "STATUS: took the token out"
  echo "Removed the token from config.txt."
  exit 0
fi
echo "STATUS: configuring with $SERVICE_TOKEN"
echo "and a github token ghp_abcdefghijklmnopqrstuvwxyz0123456789 for good measure"
printf 'token = %s\n' "$SERVICE_TOKEN" > config.txt
git add config.txt 2>/dev/null && git commit -qm "config with $SERVICE_TOKEN" 2>/dev/null || true
echo "Done; the token is $SERVICE_TOKEN"
"#;

/// gaffer's own agent loop, told the secret by its (scripted) model: it passes it in tool
/// arguments (a command line and a file's content), is refused, then writes the file without it.
const LOOP_SCRIPT: &str = r#"
[[conversations]]
name = "loop"
marker = "MOCK:loop-secret"
  [[conversations.turns]]
  text = "Checking the token tok-3f9a8b7c6d5e4f3a2b1c works."
    [[conversations.turns.tool_calls]]
    name = "run_command"
    arguments = { command = "echo using tok-3f9a8b7c6d5e4f3a2b1c" }
  [[conversations.turns]]
  text = "Writing it down."
    [[conversations.turns.tool_calls]]
    name = "write_file"
    arguments = { path = "loop.txt", content = "token tok-3f9a8b7c6d5e4f3a2b1c\n" }
  [[conversations.turns]]
  text = "Wrote loop.txt."
  [[conversations.turns]]
  text = "Taking the token out."
    [[conversations.turns.tool_calls]]
    name = "write_file"
    arguments = { path = "loop.txt", content = "token from the environment\n" }
  [[conversations.turns]]
  text = "Done."
"#;

/// An agent that commits the secret and takes it out again in a second commit: the net change
/// is clean, but both commits would land (and be pushed) as the merge's second parent.
const SNEAKY: &str = r#"if grep -q "adds a secret" "$1"; then
  echo "Nothing more to do."
  exit 0
fi
printf 'key = %s\n' "$SERVICE_TOKEN" > sneaky.txt
git add sneaky.txt && git commit -qm "add the key"
printf 'key = from the environment\n' > sneaky.txt
git add sneaky.txt && git commit -qm "take the key out"
echo "Committed twice."
"#;

/// Every file under `dir` (recursively) whose bytes contain `needle`.
fn files_holding(dir: &Path, needle: &str) -> Vec<String> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return found;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() && !path.is_symlink() {
            found.extend(files_holding(&path, needle));
        } else if let Ok(bytes) = std::fs::read(&path)
            && bytes.windows(needle.len()).any(|w| w == needle.as_bytes())
        {
            found.push(path.display().to_string());
        }
    }
    found
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_an_agent_echoes_are_nowhere_and_a_file_holding_one_is_refused_with_its_line() {
    let server = MockServer::start(Script::from_toml_str(LOOP_SCRIPT).unwrap())
        .await
        .unwrap();
    let project = Project::bare();
    project.repo.write(
        "gaffer.toml",
        format!(
            r#"[project]
name = "secrets"
[verify]
command = "test -f config.txt || test -f loop.txt || test -f sneaky.txt"
[engine]
worktree_pool = 0
[server]
port = 0
[agents.leaky]
backend = "command"
command = "sh leaky.sh {{prompt_file}}"
env = {{ SERVICE_TOKEN = "{TOKEN}" }}
[agents.sneaky]
backend = "command"
command = "sh sneaky.sh {{prompt_file}}"
env = {{ SERVICE_TOKEN = "{TOKEN}" }}
[agents.looper]
backend = "openai"
model = "mock-model"
base_url = "{openai}"
env = {{ SERVICE_TOKEN = "{TOKEN}" }}
[roles]
coder = ["leaky", "looper", "sneaky"]
"#,
            openai = server.openai_base_url()
        ),
    );
    project.repo.write("leaky.sh", AGENT);
    project.repo.write("sneaky.sh", SNEAKY);
    project.repo.commit_all("a leaky agent");
    let daemon = project.start_daemon();
    let id = project.add_task("Configure the service", &[]);
    let looped = project.add_task(
        "Configure it from the loop MOCK:loop-secret",
        &["--tier", "1"],
    );
    let shown = project.wait_for_status(id, "merged");
    let loop_shown = project.wait_for_status(looped, "merged");
    let sneaky = project.add_task("Sneak it in", &["--tier", "2"]);
    let sneaky_shown = project.wait_for_status(sneaky, "merged");
    // Its net change was clean, its first commit was not: refused, and no commit of the
    // landed history holds the key.
    let refused = events(&sneaky_shown, "secret.refused");
    assert_eq!(refused.len(), 1, "{:#}", sneaky_shown["events"]);
    assert!(
        refused[0]["data"]["found"]
            .to_string()
            .contains("sneaky.txt:1")
    );
    assert_eq!(landed(&project, "sneaky.txt"), "key = from the environment");
    // The loop's tool arguments held the secret; its file's change was refused too.
    assert_eq!(
        events(&loop_shown, "secret.refused").len(),
        1,
        "{:#}",
        loop_shown["events"]
    );
    assert_eq!(landed(&project, "loop.txt"), "token from the environment");
    let loop_text = loop_shown.to_string();
    assert!(
        !loop_text.contains(TOKEN),
        "the loop's events hold the token"
    );
    assert!(
        loop_text.contains("[redacted: SERVICE_TOKEN]"),
        "{loop_text}"
    );

    // The file's change was refused with its path and line, then fixed.
    let refused = events(&shown, "secret.refused");
    assert_eq!(refused.len(), 1, "{:#}", shown["events"]);
    let found = refused[0]["data"]["found"].to_string();
    assert!(found.contains("config.txt:1"), "{found}");
    assert_eq!(
        landed(&project, "config.txt"),
        "token = from the environment"
    );
    let first = &shown["runs"][0];
    assert_eq!(first["status"], "failed", "{first:#}");
    assert!(
        first["outcome"]
            .as_str()
            .unwrap_or("")
            .contains("adds a secret"),
        "{first:#}"
    );

    // Nowhere gaffer stores or shows.
    let log = project
        .gaffer()
        .args(["log", &id.to_string()])
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&log.stdout).to_string();
    let show = shown.to_string();
    let history = project.repo.git(&["log", "-p", "main..gaffer/landed/main"]);
    let daemon_log = project.daemon_log();
    drop(daemon);
    for secret in [TOKEN, SHAPE] {
        assert!(!log.contains(secret), "gaffer log shows {secret}:\n{log}");
        assert!(!show.contains(secret), "task show holds {secret}");
        assert!(
            !history.contains(secret),
            "the landed history holds {secret}:\n{history}"
        );
        assert!(
            !daemon_log.contains(secret),
            "the daemon's log holds {secret}"
        );
        let files = files_holding(&project.state_dir(), secret);
        assert!(files.is_empty(), "{secret} is stored in {files:?}");
    }
    // What the agent printed is there, redacted, so a person can see what happened.
    assert!(show.contains("[redacted: SERVICE_TOKEN]"), "{show}");
    server.shutdown().await.unwrap();
}
