//! Cancelling a task whose worktree is still being checked out: the cleanup must not run
//! before the checkout ends, or the checkout leaves a worktree and a branch no task owns.

use gaffer_core::{JobStatus, Status};
use gaffer_engine::Action;
use gaffer_store::JobFilter;
use gaffer_test_support::{Agent, EngineHarness};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_cancelled_during_its_checkout_leaves_no_worktree_or_branch() {
    let mut h = EngineHarness::builder()
        .agent(
            "writer",
            Agent::scripted(
                "[[task]]\nmatch = \"Slow\"\n[[task.attempt]]\n\
                 actions = [{ write = \"slow-out.txt\", content = \"x\\n\" }]\n",
            ),
        )
        .set("roles.coder", "writer")
        .file(".gitattributes", "slow.txt filter=slow\n")
        .file("slow.txt", "checked out slowly\n")
        .verify("true")
        .build();
    // A smudge filter (the repository's own configuration, as git-lfs would be) makes every
    // checkout take two seconds and says when one began.
    let marker = h.repo().path().join(".git").join("smudging");
    let smudge = format!("touch '{}'; sleep 2; cat", marker.display());
    h.repo().git(&["config", "filter.slow.smudge", &smudge]);

    let id = h.add("Slow checkout");
    h.start();
    h.wait_until("the task's checkout to begin", |_| {
        marker.exists().then_some(())
    })
    .await;
    h.perform(id, Action::Cancel { reason: None }).unwrap();
    h.wait_for_status(id, Status::Cancelled).await;
    h.wait_until("the task's jobs to end", |h| {
        let jobs = h
            .board()
            .store()
            .jobs(&JobFilter {
                task: Some(id),
                statuses: vec![JobStatus::Queued, JobStatus::Leased],
            })
            .unwrap();
        jobs.is_empty().then_some(())
    })
    .await;
    // Stopping waits for every job still at work (the cancelled checkout included).
    h.stop().await;

    let task = h.task(id);
    let name = task.branch.trim_start_matches("gaffer/");
    let path = h.board().worktrees().path_of(name);
    assert!(
        !path.exists(),
        "the cancelled task's worktree {} is left:\n{}",
        path.display(),
        h.describe()
    );
    let branches = h.repo().git(&["branch", "--list", &task.branch]);
    assert!(
        branches.trim().is_empty(),
        "the cancelled task's branch is left: {branches}"
    );
}
