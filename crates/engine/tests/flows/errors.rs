//! A run cut off by an error once it started: a confused agent deletes its worktree's `.git`,
//! so gaffer cannot commit what it left. The run ends, with the error as its outcome, instead of
//! showing as running forever; the task does not hang on it.

use gaffer_core::RunStatus;
use gaffer_test_support::{Agent, EngineHarness};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_cut_off_by_an_error_ends_with_the_error() {
    let mut h = EngineHarness::builder()
        .agent(
            "wrecker",
            Agent::command("rm -f .git; echo wrecked > notes.txt; test -f {prompt_file}"),
        )
        .set("roles.coder", "wrecker")
        .verify("true")
        .build();
    let id = h.add("Write the notes");
    h.settle().await;

    let runs = h.runs(id);
    assert!(!runs.is_empty(), "{}", h.describe());
    assert!(
        runs.iter().all(|r| r.status != RunStatus::Running),
        "no run is left running: {}",
        h.describe()
    );
    let ended = &runs[0];
    assert_eq!(ended.status, RunStatus::Failed, "{}", h.describe());
    assert!(
        ended.outcome.as_deref().is_some_and(|o| !o.is_empty()),
        "the run says why it ended: {}",
        h.describe()
    );
    assert!(
        h.task(id).status().is_terminal(),
        "the task does not hang on the run: {}",
        h.describe()
    );
}
