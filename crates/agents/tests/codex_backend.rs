//! The `codex` backend around a stand-in CLI (a shell script that prints recorded transcripts):
//! the process, the event stream, thread totals across a resume, the raw transcript, cancel.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use gaffer_agents::codex::{CodexBackend, CodexOptions};
use gaffer_agents::{AgentBackend, AgentError, AgentEvent, Outcome, RunRequest};
use gaffer_core::{Role, Usage};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/codex")
        .join(name)
}

/// A stand-in `codex`: records its arguments and environment, then prints `write_file.jsonl`,
/// or `resume.jsonl` when asked to resume.
fn fake_codex(dir: &Path) -> PathBuf {
    let path = dir.join("fake-codex");
    let body = format!(
        "#!/bin/sh\n\
         printf '%s\\n' \"$@\" > args.txt\n\
         env > env.txt\n\
         echo 'Reading additional input from stdin...' >&2\n\
         if [ \"$2\" = resume ]; then cat '{}'; else cat '{}'; fi\n",
        fixture("resume.jsonl").display(),
        fixture("write_file.jsonl").display()
    );
    std::fs::write(&path, body).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

fn request(root: &Path, marker: &str) -> RunRequest {
    let worktree = root.join("tree");
    std::fs::create_dir_all(&worktree).unwrap();
    RunRequest {
        role: Role::Coder,
        prompt: "write hello.txt".into(),
        system_prompt: "Be brief.".into(),
        worktree,
        model: "gpt-5.5".into(),
        resume_session: None,
        env: vec![
            ("GAFFER_RUN".into(), "23".into()),
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
    (events, outcome)
}

fn usage(input: u64, cached: u64, output: u64) -> Usage {
    Usage {
        input_tokens: input - cached,
        output_tokens: output,
        cached_tokens: cached,
        cost_usd: 0.0,
    }
}

#[tokio::test]
async fn a_run_then_its_resume_are_each_charged_their_own_tokens() {
    let root = tempfile::tempdir().unwrap();
    let options = CodexOptions {
        program: fake_codex(root.path()).display().to_string(),
        base_url: Some("http://127.0.0.1:9/v1".into()),
        ..CodexOptions::default()
    };
    let backend = CodexBackend::new(options);
    let first = request(root.path(), "codex-first");
    let worktree = first.worktree.clone();
    let data_dir = first.data_dir.clone();
    let handle = backend.start(first, CancellationToken::new()).unwrap();
    let identity = handle.process.clone().expect("a process identity");
    let (events, outcome) = collect(handle).await;
    assert!(outcome.success, "{outcome:?}");
    assert!(matches!(events.first(), Some(AgentEvent::Started { .. })));
    assert_eq!(outcome.usage, usage(400, 100, 60));
    let thread = outcome.session_id.clone().unwrap();
    assert!(!gaffer_proc::is_alive(&identity));

    // Its environment: an isolated home, outside the temporary directory.
    let env = std::fs::read_to_string(worktree.join("env.txt")).unwrap();
    let home = data_dir.join("codex-home");
    assert!(
        env.contains(&format!("CODEX_HOME={}", home.display())),
        "{env}"
    );
    assert!(home.is_dir());
    // Its temporary directory is the run's own.
    let tmp = root.path().join("run/tmp");
    assert!(env.contains(&format!("TMPDIR={}", tmp.display())), "{env}");
    assert!(tmp.is_dir());
    let args = std::fs::read_to_string(worktree.join("args.txt")).unwrap();
    assert!(args.contains("model_providers.gaffer.base_url=\"http://127.0.0.1:9/v1\""));

    // The resume continues the same thread and is charged only what it added.
    let mut second = request(root.path(), "codex-second");
    second.resume_session = Some(thread.clone());
    second.run_dir = root.path().join("run2");
    let (events, outcome) = collect(backend.start(second, CancellationToken::new()).unwrap()).await;
    assert!(outcome.success, "{outcome:?}");
    assert!(events.contains(&AgentEvent::Usage {
        usage: usage(200, 50, 30)
    }));
    assert_eq!(outcome.usage, usage(200, 50, 30));
    assert_eq!(outcome.session_id.as_deref(), Some(thread.as_str()));
    let args = std::fs::read_to_string(worktree.join("args.txt")).unwrap();
    let args: Vec<&str> = args.lines().collect();
    assert_eq!(&args[..2], ["exec", "resume"]);
    assert_eq!(
        &args[args.len() - 3..],
        ["--", thread.as_str(), "write hello.txt"]
    );

    let env = std::fs::read_to_string(worktree.join("env.txt")).unwrap();
    let tmp = root.path().join("run2/tmp");
    assert!(env.contains(&format!("TMPDIR={}", tmp.display())), "{env}");

    // Each run's raw transcript and standard error are in its own directory, and nothing of
    // a single run is left in the shared data directory.
    for (run, fixture_name) in [("run", "write_file.jsonl"), ("run2", "resume.jsonl")] {
        let run_dir = root.path().join(run);
        assert_eq!(
            std::fs::read_to_string(run_dir.join("raw.jsonl")).unwrap(),
            std::fs::read_to_string(fixture(fixture_name)).unwrap()
        );
        assert_eq!(
            std::fs::read_to_string(run_dir.join("raw.stderr.txt")).unwrap(),
            "Reading additional input from stdin...\n"
        );
    }
    let mut shared: Vec<String> = std::fs::read_dir(&data_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    shared.sort();
    assert_eq!(shared, ["codex-home", "codex-threads"]);
}

#[tokio::test]
async fn a_missing_cli_is_reported_as_unavailable() {
    let root = tempfile::tempdir().unwrap();
    let options = CodexOptions {
        program: "/nonexistent/codex".into(),
        ..CodexOptions::default()
    };
    let error = CodexBackend::new(options)
        .start(request(root.path(), "unused"), CancellationToken::new())
        .err()
        .expect("an error");
    assert!(
        matches!(&error, AgentError::Unavailable { backend, hint } if backend == "codex" && hint.contains("@openai/codex")),
        "{error:?}"
    );
}

#[tokio::test]
async fn cancel_stops_the_run() {
    let root = tempfile::tempdir().unwrap();
    let path = root.path().join("slow-codex");
    let body = "#!/bin/sh\necho '{\"type\":\"thread.started\",\"thread_id\":\"t-1\"}'\nsleep 300 &\nsleep 300\n";
    std::fs::write(&path, body).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    let options = CodexOptions {
        program: path.display().to_string(),
        ..CodexOptions::default()
    };
    let cancel = CancellationToken::new();
    let mut handle = CodexBackend::new(options)
        .start(request(root.path(), "codex-cancel"), cancel.clone())
        .unwrap();
    let identity = handle.process.clone().unwrap();
    assert!(matches!(
        handle.events.recv().await,
        Some(AgentEvent::Started { .. })
    ));
    cancel.cancel();
    let (_, outcome) = collect(handle).await;
    assert_eq!(outcome.error.as_deref(), Some("the run was cancelled"));
    assert_eq!(outcome.session_id.as_deref(), Some("t-1"));
    assert!(!gaffer_proc::is_alive(&identity));
    // No member of the group is left running (zombies waiting for a reaper do not count).
    let live_members = std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            let fields: Vec<&str> = stat
                .rsplit_once(')')
                .map(|(_, rest)| rest.split_whitespace().collect())
                .unwrap_or_default();
            fields.first() != Some(&"Z")
                && fields.get(2) == Some(&identity.pgid.to_string().as_str())
        })
        .count();
    assert_eq!(live_members, 0);
}
