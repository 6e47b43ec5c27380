//! Secrets never leave: an agent that knows a secret (its `env` table) echoes it in its text, its
//! status lines, its final answer, a commit message and a file, and prints a well-known key
//! shape. Nothing gaffer stores or shows holds either value, and the change that writes the
//! secret into a file is refused with the path and line, then fixed by the coder and landed.

use crate::common::Project;
use crate::crew::{events, landed};
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

#[test]
fn secrets_an_agent_echoes_are_nowhere_and_a_file_holding_one_is_refused_with_its_line() {
    let project = Project::bare();
    project.repo.write(
        "gaffer.toml",
        format!(
            r#"[project]
name = "secrets"
[verify]
command = "test -f config.txt"
[engine]
worktree_pool = 0
[server]
port = 0
[agents.leaky]
backend = "command"
command = "sh leaky.sh {{prompt_file}}"
env = {{ SERVICE_TOKEN = "{TOKEN}" }}
[roles]
coder = ["leaky"]
"#
        ),
    );
    project.repo.write("leaky.sh", AGENT);
    project.repo.commit_all("a leaky agent");
    let daemon = project.start_daemon();
    let id = project.add_task("Configure the service", &[]);
    let shown = project.wait_for_status(id, "merged");

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
}
