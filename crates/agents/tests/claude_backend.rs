//! The `claude` backend around a stand-in CLI (a shell script that prints a recorded
//! transcript): the process, the event stream, the raw transcript, cancel and timeout.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use gaffer_agents::claude::{ClaudeBackend, ClaudeOptions};
use gaffer_agents::{AgentBackend, AgentError, AgentEvent, Outcome, RunRequest};
use gaffer_core::Role;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/claude")
        .join(name)
}

/// Writes an executable shell script.
fn script(dir: &Path, body: &str) -> PathBuf {
    let path = dir.join("fake-claude");
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

fn request(root: &Path, marker: &str) -> RunRequest {
    let worktree = root.join("tree");
    std::fs::create_dir_all(&worktree).unwrap();
    RunRequest {
        role: Role::Coder,
        prompt: "write hello.txt".into(),
        system_prompt: String::new(),
        worktree,
        model: String::new(),
        resume_session: None,
        env: vec![
            ("GAFFER_RUN".into(), "17".into()),
            ("GAFFER_TEST_MARKER".into(), marker.into()),
        ],
        max_wall: Duration::from_secs(60),
        script_key: String::new(),
        attempt: 0,
        data_dir: root.join("data"),
        run_dir: root.join("run"),
        confine: Default::default(),
    }
}

async fn collect(mut handle: gaffer_agents::RunHandle) -> (Vec<AgentEvent>, Outcome) {
    let mut events = Vec::new();
    while let Some(event) = tokio::time::timeout(Duration::from_secs(30), handle.events.recv())
        .await
        .expect("events stalled")
    {
        events.push(event);
    }
    let Some(AgentEvent::Finished { outcome }) = events.last().cloned() else {
        panic!("the stream did not end with Finished: {events:?}");
    };
    assert_eq!(
        events
            .iter()
            .filter(|e| matches!(e, AgentEvent::Finished { .. }))
            .count(),
        1
    );
    (events, outcome)
}

/// Processes whose environment carries `GAFFER_TEST_MARKER=<marker>`.
fn processes_with(marker: &str) -> Vec<i32> {
    let needle = format!("GAFFER_TEST_MARKER={marker}");
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            let zombie = stat
                .rsplit(')')
                .next()
                .is_some_and(|s| s.trim_start().starts_with('Z'));
            let environ = std::fs::read(format!("/proc/{pid}/environ")).unwrap_or_default();
            !zombie
                && environ
                    .split(|b| *b == 0)
                    .any(|var| var == needle.as_bytes())
        })
        .collect()
}

/// Waits up to ten seconds for `condition`.
async fn wait_for(condition: impl Fn() -> bool, what: &str) {
    for _ in 0..200 {
        if condition() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting for {what}");
}

fn unique(name: &str) -> String {
    format!(
        "{name}-{}-{:?}",
        std::process::id(),
        std::time::Instant::now()
    )
}

#[tokio::test]
async fn a_run_streams_events_keeps_the_raw_transcript_and_ends_once() {
    let root = tempfile::tempdir().unwrap();
    let body = format!(
        "printf '%s\\n' \"$@\" > args.txt\n\
         env > env.txt\n\
         head -n 1 > stdin.txt\n\
         echo 'some warning' >&2\n\
         cat '{}'",
        fixture("write_file.jsonl").display()
    );
    let options = ClaudeOptions {
        program: script(root.path(), &body).display().to_string(),
        model: Some("claude-sonnet-4-5".into()),
        skip_permissions: true,
        max_retries: Some(0),
        ..ClaudeOptions::default()
    };
    let marker = unique("claude-ok");
    let request = request(root.path(), &marker);
    let worktree = request.worktree.clone();
    let data_dir = request.data_dir.clone();
    let run_dir = request.run_dir.clone();
    let handle = ClaudeBackend::new(options)
        .start(request, CancellationToken::new())
        .unwrap();
    let identity = handle.process.clone().expect("a process identity");
    assert_eq!(
        identity.pid, identity.pgid,
        "the CLI leads its own process group"
    );
    let (events, outcome) = collect(handle).await;

    assert!(outcome.success, "{outcome:?}");
    assert!(matches!(
        events.first(),
        Some(AgentEvent::Started {
            session_id: Some(_),
            ..
        })
    ));
    assert!(events.iter().any(|e| matches!(e, AgentEvent::ToolCall { summary, .. } if summary == "Write /work/tree/hello.txt")));
    assert!(events.iter().any(|e| matches!(e, AgentEvent::Usage { .. })));
    assert!(!gaffer_proc::is_alive(&identity));

    // The command line and environment it ran with.
    let args = std::fs::read_to_string(worktree.join("args.txt")).unwrap();
    let args: Vec<&str> = args.lines().collect();
    assert_eq!(
        &args[..7],
        [
            "-p",
            "--input-format",
            "stream-json",
            "--output-format",
            "stream-json",
            "--verbose",
            "--replay-user-messages"
        ]
    );
    assert!(!args.contains(&"write hello.txt"), "{args:?}");
    // The prompt is the first line of standard input.
    let stdin = std::fs::read_to_string(worktree.join("stdin.txt")).unwrap();
    assert_eq!(
        stdin.trim_end(),
        gaffer_agents::claude::user_message("write hello.txt")
    );
    let env = std::fs::read_to_string(worktree.join("env.txt")).unwrap();
    let config = data_dir.join("claude-config");
    assert!(env.contains(&format!("CLAUDE_CONFIG_DIR={}", config.display())));
    assert!(config.is_dir());
    assert!(env.contains("CLAUDE_CODE_MAX_RETRIES=0"));
    if nix::unistd::geteuid().is_root() {
        assert!(env.contains("IS_SANDBOX=1"));
    }

    // The raw transcript is exactly what the CLI printed, in the run's own directory, with
    // stderr beside it.
    assert_eq!(
        std::fs::read_to_string(run_dir.join("raw.jsonl")).unwrap(),
        std::fs::read_to_string(fixture("write_file.jsonl")).unwrap()
    );
    assert_eq!(
        std::fs::read_to_string(run_dir.join("raw.stderr.txt")).unwrap(),
        "some warning\n"
    );
    // The shared data directory holds the CLI's configuration and the session's cost, for
    // the next resume, and nothing of this run alone.
    let mut shared: Vec<String> = std::fs::read_dir(&data_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    shared.sort();
    assert_eq!(shared, ["claude-config", "claude-sessions"]);
    assert!(processes_with(&marker).is_empty());
}

#[tokio::test]
async fn an_api_error_and_a_non_zero_exit_fail_the_run() {
    let root = tempfile::tempdir().unwrap();
    let body = format!("cat '{}'; exit 1", fixture("api_error.jsonl").display());
    let options = ClaudeOptions {
        program: script(root.path(), &body).display().to_string(),
        ..ClaudeOptions::default()
    };
    let handle = ClaudeBackend::new(options)
        .start(
            request(root.path(), &unique("claude-err")),
            CancellationToken::new(),
        )
        .unwrap();
    let (_, outcome) = collect(handle).await;
    assert!(!outcome.success);
    assert!(outcome.error.unwrap().starts_with("API Error: 529"));
}

#[tokio::test]
async fn a_missing_cli_is_reported_as_unavailable() {
    let root = tempfile::tempdir().unwrap();
    let options = ClaudeOptions {
        program: "gaffer-no-such-claude".into(),
        ..ClaudeOptions::default()
    };
    let error = ClaudeBackend::new(options)
        .start(request(root.path(), "unused"), CancellationToken::new())
        .err()
        .expect("an error");
    match error {
        AgentError::Unavailable { backend, hint } => {
            assert_eq!(backend, "claude");
            assert!(hint.contains("gaffer-no-such-claude"), "{hint}");
            assert!(
                hint.contains("npm install -g @anthropic-ai/claude-code"),
                "{hint}"
            );
        }
        other => panic!("unexpected: {other:?}"),
    }
}

#[tokio::test]
async fn cancel_kills_the_whole_group_and_leaves_nothing_running() {
    let root = tempfile::tempdir().unwrap();
    let init = r#"{"type":"system","subtype":"init","session_id":"s-cancel","model":"m"}"#;
    // A child in the background and one in the foreground, like a tool running a command.
    let body = format!("echo '{init}'\nsleep 300 &\nsleep 300");
    let options = ClaudeOptions {
        program: script(root.path(), &body).display().to_string(),
        ..ClaudeOptions::default()
    };
    let marker = unique("claude-cancel");
    let cancel = CancellationToken::new();
    let mut handle = ClaudeBackend::new(options)
        .start(request(root.path(), &marker), cancel.clone())
        .unwrap();
    let first = handle.events.recv().await.unwrap();
    assert_eq!(
        first,
        AgentEvent::Started {
            model: "m".into(),
            session_id: Some("s-cancel".into())
        }
    );
    // Counted by command line: gaffer-proc may put a guard of its own above the script.
    wait_for(
        || {
            processes_with(&marker)
                .iter()
                .filter(|pid| {
                    std::fs::read(format!("/proc/{pid}/cmdline"))
                        .is_ok_and(|c| c.starts_with(b"sleep\x00300"))
                })
                .count()
                == 2
        },
        "the script's two sleeps",
    )
    .await;
    cancel.cancel();
    let (_, outcome) = collect(handle).await;
    assert!(!outcome.success);
    assert_eq!(outcome.error.as_deref(), Some("the run was cancelled"));
    assert_eq!(outcome.session_id.as_deref(), Some("s-cancel"));
    assert!(processes_with(&marker).is_empty());
}

#[tokio::test]
async fn tools_started_in_a_new_session_are_killed_too() {
    // Claude Code runs its Bash commands under setsid, outside its process group; this CLI
    // does the same and, like a hung CLI, does not clean up on SIGTERM.
    let root = tempfile::tempdir().unwrap();
    let init = r#"{"type":"system","subtype":"init","session_id":"s-setsid","model":"m"}"#;
    let body =
        format!("trap '' TERM\nsetsid sleep 301 &\necho '{init}'\nwhile :; do sleep 1; done");
    let options = ClaudeOptions {
        program: script(root.path(), &body).display().to_string(),
        ..ClaudeOptions::default()
    };
    let marker = unique("claude-setsid");
    let cancel = CancellationToken::new();
    let mut handle = ClaudeBackend::new(options)
        .start(request(root.path(), &marker), cancel.clone())
        .unwrap();
    assert!(matches!(
        handle.events.recv().await,
        Some(AgentEvent::Started { .. })
    ));
    wait_for(
        || {
            processes_with(&marker).iter().any(|pid| {
                std::fs::read(format!("/proc/{pid}/cmdline"))
                    .is_ok_and(|c| c.starts_with(b"sleep\x00301"))
            })
        },
        "the setsid sleep",
    )
    .await;
    cancel.cancel();
    let (_, outcome) = collect(handle).await;
    assert_eq!(outcome.error.as_deref(), Some("the run was cancelled"));
    assert!(
        processes_with(&marker).is_empty(),
        "{:?}",
        processes_with(&marker)
    );
}

#[tokio::test]
async fn the_wall_time_limit_stops_the_run() {
    let root = tempfile::tempdir().unwrap();
    let options = ClaudeOptions {
        program: script(root.path(), "sleep 300").display().to_string(),
        ..ClaudeOptions::default()
    };
    let marker = unique("claude-timeout");
    let mut request = request(root.path(), &marker);
    request.max_wall = Duration::from_millis(300);
    let handle = ClaudeBackend::new(options)
        .start(request, CancellationToken::new())
        .unwrap();
    let (events, outcome) = collect(handle).await;
    assert_eq!(events.len(), 1, "only Finished: {events:?}");
    assert!(
        outcome
            .error
            .as_deref()
            .unwrap()
            .starts_with("claude ran past its time limit"),
        "{outcome:?}"
    );
    assert!(processes_with(&marker).is_empty());
}

/// A session asked for is resumed when Claude Code kept its transcript; a run stopped as it
/// began may have left none, and Claude Code would refuse it: the run starts a new conversation
/// and says why.
#[tokio::test]
async fn a_session_without_a_transcript_starts_a_new_conversation_and_says_so() {
    let root = tempfile::tempdir().unwrap();
    let body = format!(
        "printf '%s\\n' \"$@\" > args.txt\ncat '{}'",
        fixture("write_file.jsonl").display()
    );
    let options = ClaudeOptions {
        program: script(root.path(), &body).display().to_string(),
        skip_permissions: true,
        ..ClaudeOptions::default()
    };
    let backend = ClaudeBackend::new(options);
    let args = |request: &RunRequest| {
        std::fs::read_to_string(request.worktree.join("args.txt")).unwrap_or_default()
    };

    let mut request = request(root.path(), &unique("claude-no-transcript"));
    request.resume_session = Some("gone-session".into());
    let handle = backend
        .start(request.clone(), CancellationToken::new())
        .unwrap();
    let (events, outcome) = collect(handle).await;
    assert!(outcome.success, "{outcome:?}");
    assert!(!args(&request).contains("--resume"), "{}", args(&request));
    assert!(
        matches!(&events[1], AgentEvent::Status { text } if text.starts_with("cannot resume session gone-session")),
        "{events:?}"
    );

    let kept = request
        .data_dir
        .join("claude-config/projects/-work-tree/kept-session.jsonl");
    std::fs::create_dir_all(kept.parent().unwrap()).unwrap();
    std::fs::write(&kept, "{}\n").unwrap();
    request.resume_session = Some("kept-session".into());
    let (events, _) = collect(
        backend
            .start(request.clone(), CancellationToken::new())
            .unwrap(),
    )
    .await;
    assert!(
        args(&request).contains("--resume\nkept-session"),
        "{}",
        args(&request)
    );
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, AgentEvent::Status { text } if text.starts_with("cannot resume")))
    );
}
