//! `Board::clean` while the engine works: the worktrees and branches of a task at work and of
//! its best-of attempts stay; leftovers of no task go.

use gaffer_core::Status;
use gaffer_test_support::{Agent, EngineHarness};

/// An attempt that takes its time, so that it is at work when the board is cleaned.
fn slow() -> Agent {
    Agent::scripted(
        "[[task]]\nmatch = \"Greeting\"\n[[task.attempt]]\ndelay_ms = 600000\n\
         summary = \"Took its time.\"\nactions = [{ write = \"greeting.txt\", content = \"hi\\n\" }]\n",
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cleaning_while_attempts_work_keeps_them() {
    let mut h = EngineHarness::builder()
        .agent("c1", slow())
        .agent("c2", slow())
        .agent("critic", Agent::scripted(""))
        .set("roles.coder", "c1,c2")
        .set("roles.reviewer", "critic")
        .verify("true")
        .build();
    let id = h.add_task(gaffer_core::NewTask {
        title: "Greeting".into(),
        best_of: 2,
        ..gaffer_core::NewTask::default()
    });
    h.start();
    let task = h.wait_for_status(id, Status::Coding).await;
    let slug = task.branch.trim_start_matches("gaffer/").to_string();
    let root = h.board().worktrees().root().to_path_buf();
    let attempts: Vec<_> = (1..=2).map(|k| root.join(format!("{slug}-c{k}"))).collect();
    h.wait_until("both attempts' worktrees", |_| {
        attempts.iter().all(|p| p.exists()).then_some(())
    })
    .await;
    // What a crash would leave: a branch and a worktree of no task.
    let orphan = root.join("t-99-nobody");
    h.repo().git(&[
        "worktree",
        "add",
        "-q",
        "-b",
        "gaffer/t-99-nobody",
        orphan.to_str().unwrap(),
    ]);

    let board = h.board().clone();
    let report = tokio::task::spawn_blocking(move || board.clean(true))
        .await
        .unwrap()
        .unwrap();

    assert_eq!(report.worktrees_removed, vec![orphan.display().to_string()]);
    assert_eq!(
        report.branches_deleted,
        vec!["gaffer/t-99-nobody".to_string()]
    );
    assert!(attempts.iter().all(|p| p.exists()), "{report:?}");
    let branches = h.repo().git(&["branch", "--list", "gaffer/*"]);
    for k in 1..=2 {
        assert!(branches.contains(&format!("{slug}-c{k}")), "{branches}");
    }
    assert_eq!(h.task(id).status(), Status::Coding);
    h.stop().await;
}
