//! What the end-to-end tests of the real `claude` and `codex` CLIs share: finding the CLIs,
//! a temporary worktree, collecting a run's events, and finding processes a run left behind.
//!
//! Included by `cli_e2e_claude.rs` and `cli_e2e_codex.rs` with `#[path]`; built on its own it
//! is an empty test target.
//!
//! The CLIs are looked up in `GAFFER_TEST_NPM_BIN` (default
//! `<workspace>/.ci/npm/node_modules/.bin`, where
//! `npm install --prefix .ci/npm @anthropic-ai/claude-code@2.1.329 @openai/codex@0.169.0`
//! puts them). A missing CLI fails the test, unless `GAFFER_SKIP_CLI_E2E=1` is set outside CI,
//! in which case the test says loudly that it skipped.

#![allow(dead_code)]

use gaffer_agents::{AgentEvent, Outcome, RunHandle};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The versions the tests were written against (and `.ci` installs).
pub const CLAUDE_PACKAGE: &str = "@anthropic-ai/claude-code@2.1.329";
pub const CODEX_PACKAGE: &str = "@openai/codex@0.169.0";

/// Where the npm-installed CLIs are.
pub fn npm_bin() -> PathBuf {
    match std::env::var_os("GAFFER_TEST_NPM_BIN") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.ci/npm/node_modules/.bin"),
    }
}

/// The path of CLI `name`, or `None` when it is missing and skipping was asked for.
/// Panics when it is missing otherwise.
pub fn find_cli(name: &str, package: &str) -> Option<PathBuf> {
    let path = npm_bin().join(name);
    if path.is_file() {
        return Some(path);
    }
    let install = format!("npm install --prefix .ci/npm {CLAUDE_PACKAGE} {CODEX_PACKAGE}");
    let in_ci = std::env::var_os("CI").is_some_and(|v| !v.is_empty());
    let skip = std::env::var("GAFFER_SKIP_CLI_E2E").is_ok_and(|v| v == "1");
    if skip && !in_ci {
        eprintln!(
            "\n!!!!!!!! SKIPPED: the `{name}` CLI ({package}) is not at {} and \
             GAFFER_SKIP_CLI_E2E=1 is set. This end-to-end test did NOT run. Install it with `{install}`. !!!!!!!!\n",
            path.display()
        );
        return None;
    }
    panic!(
        "the `{name}` CLI ({package}) is not at {}: install it with `{install}` from the \
         workspace root, or point GAFFER_TEST_NPM_BIN at a directory holding it{}",
        path.display(),
        if in_ci {
            " (CI is set: end-to-end tests may not be skipped)"
        } else {
            "; set GAFFER_SKIP_CLI_E2E=1 to skip these tests"
        }
    );
}

/// A fresh git work tree under `root`.
pub fn worktree(root: &Path) -> PathBuf {
    let dir = root.join("tree");
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    let status = std::process::Command::new("git")
        .args(["init", "-q"])
        .current_dir(&dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .status();
    assert!(status.is_ok_and(|s| s.success()), "git init failed");
    dir
}

/// A value unique to this test run, put in the agent's environment to find its processes.
pub fn marker(name: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!("{name}-{}-{nanos}", std::process::id())
}

/// Every event of a run, the last one being its only `Finished`, and the outcome.
pub async fn collect(handle: &mut RunHandle, limit: Duration) -> (Vec<AgentEvent>, Outcome) {
    let mut events = Vec::new();
    let deadline = tokio::time::Instant::now() + limit;
    while let Some(event) = tokio::time::timeout_at(deadline, handle.events.recv())
        .await
        .unwrap_or_else(|_| panic!("the run did not finish in {limit:?}; so far: {events:#?}"))
    {
        events.push(event);
    }
    let finished = events
        .iter()
        .filter(|e| matches!(e, AgentEvent::Finished { .. }))
        .count();
    assert_eq!(finished, 1, "{events:#?}");
    let Some(AgentEvent::Finished { outcome }) = events.last().cloned() else {
        panic!("the stream did not end with Finished: {events:#?}");
    };
    (events, outcome)
}

/// Running (not zombie) processes whose environment has `GAFFER_TEST_MARKER=<marker>`, with
/// their command lines.
pub fn processes_with(marker: &str) -> Vec<(i32, String)> {
    let needle = format!("GAFFER_TEST_MARKER={marker}");
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            let zombie = stat
                .rsplit_once(')')
                .is_some_and(|(_, rest)| rest.trim_start().starts_with(['Z', 'X']));
            let environ = std::fs::read(format!("/proc/{pid}/environ")).unwrap_or_default();
            !zombie && environ.split(|b| *b == 0).any(|v| v == needle.as_bytes())
        })
        .map(|pid| {
            let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
            (pid, cmdline)
        })
        .collect()
}

/// Prints the processes of `marker` with their process group and session, to show which
/// tools a CLI starts outside its group.
pub fn show_processes(marker: &str) {
    for (pid, cmdline) in processes_with(marker) {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        let fields: Vec<&str> = stat
            .rsplit_once(')')
            .map(|(_, rest)| rest.split_whitespace().collect())
            .unwrap_or_default();
        let (pgid, sid) = (fields.get(2).copied(), fields.get(3).copied());
        eprintln!(
            "pid {pid} pgid {} sid {}: {}",
            pgid.unwrap_or("?"),
            sid.unwrap_or("?"),
            common_prefix(&cmdline)
        );
    }
}

fn common_prefix(cmdline: &str) -> String {
    cmdline.chars().take(120).collect()
}

/// Waits up to `limit` for no process of `marker` to be left, then returns those left.
pub async fn left_behind(marker: &str, limit: Duration) -> Vec<(i32, String)> {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        let left = processes_with(marker);
        if left.is_empty() || tokio::time::Instant::now() >= deadline {
            return left;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Waits up to `limit` for a process of `marker` whose command line contains `needle`,
/// reading the run's events meanwhile. Panics, showing what happened (events, processes, the
/// CLI's standard error kept in `run_dir/raw.stderr.txt`), if the run ends first or time runs
/// out.
pub async fn wait_for_command(
    handle: &mut RunHandle,
    marker: &str,
    needle: &str,
    run_dir: &Path,
    limit: Duration,
) {
    let deadline = tokio::time::Instant::now() + limit;
    let mut events = Vec::new();
    loop {
        let running = processes_with(marker)
            .iter()
            .any(|(_, cmd)| cmd.contains(needle));
        if running {
            return;
        }
        let ended = match handle.events.try_recv() {
            Ok(event) => {
                let finished = matches!(event, AgentEvent::Finished { .. });
                events.push(event);
                finished
            }
            Err(tokio::sync::mpsc::error::TryRecvError::Disconnected) => true,
            Err(tokio::sync::mpsc::error::TryRecvError::Empty) => false,
        };
        if ended || tokio::time::Instant::now() >= deadline {
            show_processes(marker);
            let stderr =
                std::fs::read_to_string(run_dir.join("raw.stderr.txt")).unwrap_or_default();
            panic!(
                "`{needle}` never ran ({}); events after the tool call: {events:#?}\nstderr: {stderr}",
                if ended { "the run ended" } else { "timed out" }
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The refusals among `events`, as (tool, reason).
pub fn refusals(events: &[AgentEvent]) -> Vec<(String, String)> {
    events
        .iter()
        .filter_map(|e| match e {
            AgentEvent::Refused { tool, reason } => Some((tool.clone(), reason.clone())),
            _ => None,
        })
        .collect()
}

/// The names of the entries of `dir`, sorted.
pub fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| Some(e.ok()?.file_name().to_string_lossy().into_owned()))
        .collect();
    names.sort();
    names
}

/// The tool calls among `events`, as (name, summary).
pub fn tool_calls(events: &[AgentEvent]) -> Vec<(String, String)> {
    events
        .iter()
        .filter_map(|e| match e {
            AgentEvent::ToolCall { name, summary } => Some((name.clone(), summary.clone())),
            _ => None,
        })
        .collect()
}
