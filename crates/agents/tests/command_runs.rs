#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Concurrent runs of one `command` agent never mix: each of 8 runs started at once, 20 rounds in
//! a row, must receive exactly its own prompt through `{prompt}` and through `{prompt_file}`.
//! (Before prompt files were per run, runs read each other's prompt, or a half-written one.)

use gaffer_agents::{AgentBackend, AgentEvent, CommandBackend, RunRequest};
use gaffer_core::Role;
use std::path::Path;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

const RUNS: usize = 8;
const ROUNDS: usize = 20;

/// The template copies what each placeholder delivered into the worktree. The agent takes a
/// little while between reading the two, as a real CLI would.
const TEMPLATE: &str =
    "printf '%s' {prompt} > from_arg.txt; sleep 0.05; cat {prompt_file} > from_file.txt";

fn request(worktree: &Path, data_dir: &Path, run_dir: &Path, n: usize) -> RunRequest {
    RunRequest {
        role: Role::Coder,
        // Long enough that a half-written file would show, and unique per run.
        prompt: format!("task {n}: {}", format!("line {n}\n").repeat(2000)),
        system_prompt: format!("You are coder number {n}."),
        worktree: worktree.to_path_buf(),
        model: "m".into(),
        resume_session: None,
        env: vec![],
        max_wall: Duration::from_secs(60),
        script_key: String::new(),
        attempt: 0,
        // Shared by every run of the agent, as the engine does.
        data_dir: data_dir.to_path_buf(),
        run_dir: run_dir.to_path_buf(),
        confine: Default::default(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn eight_concurrent_runs_each_receive_exactly_their_own_prompt_twenty_times() {
    let root = tempfile::tempdir().unwrap();
    let backend = CommandBackend::new(TEMPLATE, vec![]);
    let data_dir = root.path().join("agents/cmd");
    for round in 0..ROUNDS {
        let mut handles = Vec::new();
        for n in 0..RUNS {
            let worktree = root.path().join(format!("r{round}/w{n}"));
            std::fs::create_dir_all(&worktree).unwrap();
            let run_dir = root.path().join(format!("runs/{}/agent", round * RUNS + n));
            let req = request(&worktree, &data_dir, &run_dir, n);
            let expected = format!("{}\n\n{}", req.system_prompt, req.prompt);
            let mut handle = backend.start(req, CancellationToken::new()).unwrap();
            handles.push(tokio::spawn(async move {
                let mut success = false;
                while let Some(event) = handle.events.recv().await {
                    if let AgentEvent::Finished { outcome } = event {
                        success = outcome.success;
                    }
                }
                (worktree, expected, success)
            }));
        }
        for h in handles {
            let (worktree, expected, success) = h.await.unwrap();
            assert!(success, "round {round}: a run failed");
            let arg = std::fs::read_to_string(worktree.join("from_arg.txt")).unwrap();
            let file = std::fs::read_to_string(worktree.join("from_file.txt")).unwrap();
            assert!(
                arg == expected,
                "round {round}: {{prompt}} delivered another run's prompt"
            );
            assert!(
                file == expected,
                "round {round}: {{prompt_file}} delivered another run's prompt"
            );
        }
    }
}
