//! Reverting one task of a batch: only its own change is undone (the change its branch made on
//! the branches before it in the batch, not its branch against what the batch was built on,
//! which also holds the first task's change when its branch was made on the first's), and even
//! once its branch is gone and git collected its garbage.

use super::{run, settings};
use gaffer_core::{NewTask, ObjectId, Risk, Status, TaskId, TaskState, VerifiedTree};
use gaffer_engine::{Action, Board, BoardOptions};
use gaffer_test_support::TestRepo;
use std::sync::Arc;

const NOTES: &str = "one\ntwo\nthree\nfour\n";

/// Two branches, each changing one line of `notes.txt` (lines 2 and 3, next to each other), the
/// second made on the first (it builds on it, as a task that depends on another may), queued in
/// order on a board that tests them as one batch.
fn batch_of_two(strategy: gaffer_config::QueueStrategy) -> (TestRepo, Arc<Board>, Vec<TaskId>) {
    let repo = TestRepo::new();
    repo.write("notes.txt", NOTES);
    let base = repo.commit_all("notes");
    let mut heads: Vec<String> = Vec::new();
    for (i, text) in ["one\nTWO\nthree\nfour\n", "one\nTWO\nTHREE\nfour\n"]
        .iter()
        .enumerate()
    {
        let from = heads.last().unwrap_or(&base).clone();
        repo.git(&["checkout", "-q", "-b", &format!("b/{i}"), &from]);
        repo.write("notes.txt", text);
        heads.push(repo.commit_all(&format!("change line {}", i + 2)));
    }
    repo.git(&["checkout", "-q", "--detach", &base]);
    let mut settings = settings("grep -q one notes.txt".into());
    settings.host.heavy_slots = 1;
    settings.queue.batch = gaffer_config::QueueBatch::Fixed(2);
    settings.queue.strategy = strategy;
    let board = Arc::new(
        Board::open(
            repo.path(),
            settings,
            BoardOptions {
                git_env: repo.env(),
                clock: None,
                ..BoardOptions::default()
            },
        )
        .unwrap(),
    );
    let mut ids = Vec::new();
    for (i, head) in heads.iter().enumerate() {
        let new = NewTask {
            title: format!("change line {}", i + 2),
            ..NewTask::default()
        };
        let mut state = TaskState::new(board.flow_for(&new), Risk::Low, 0);
        state.status = Status::Queued;
        state.code_runs = 1;
        state.head = Some(ObjectId::new(head.clone()));
        state.verified = Some(VerifiedTree {
            commit: ObjectId::new(head.clone()),
            tree: ObjectId::new(repo.rev_parse(&format!("{head}^{{tree}}"))),
        });
        let task = board
            .store()
            .create_task(board.project().id, &new, &state)
            .unwrap();
        repo.git(&["branch", &task.branch, head]);
        ids.push(task.id);
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    (repo, board, ids)
}

/// Lands the batch, reverts its second task, lands the revert; the target's notes afterwards.
async fn revert_the_second(repo: &TestRepo, board: &Arc<Board>, ids: &[TaskId]) -> String {
    run(board).await;
    for id in ids {
        let task = board.store().task(*id).unwrap();
        assert_eq!(task.status(), Status::Merged, "{:?}", task.state.note);
        assert_eq!(task.state.candidate.unwrap().batch, ids, "landed together");
    }
    assert_eq!(
        repo.git(&["show", "main:notes.txt"]),
        "one\nTWO\nTHREE\nfour"
    );
    let undo = board
        .perform(ids[1], Action::Revert, "test")
        .expect("the second task reverts cleanly")
        .task;
    run(board).await;
    let undo = board.store().task(undo.id).unwrap();
    assert_eq!(undo.status(), Status::Merged, "{:?}", undo.state.note);
    repo.git(&["show", "main:notes.txt"])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_landed_in_a_batch_is_reverted_alone() {
    let (repo, board, ids) = batch_of_two(gaffer_config::QueueStrategy::Merge);
    let notes = revert_the_second(&repo, &board, &ids).await;
    // The first task's change stays; only the second's is gone.
    assert_eq!(notes, "one\nTWO\nthree\nfour");
    // Its landing said what its own change was.
    let second = board.store().task(ids[1]).unwrap();
    let change = second
        .state
        .candidate
        .and_then(|c| c.change)
        .expect("its change");
    let landed = board
        .events_after(
            gaffer_core::Seq(0),
            100_000,
            &gaffer_store::EventFilter::default(),
        )
        .unwrap()
        .into_iter()
        .find(|e| e.kind == gaffer_core::event_kind::QUEUE_LANDED && e.task == Some(ids[1]))
        .expect("its landing");
    assert_eq!(landed.data["change"], change.as_str());
    // The target passed verify at every first-parent commit since the notes.
    let line = repo.git(&["rev-list", "--first-parent", "main", "--", "notes.txt"]);
    for commit in line.lines() {
        let text = repo.git(&["show", &format!("{commit}:notes.txt")]);
        assert!(text.contains("one"), "red at {commit}");
    }
}

/// With `rebase` the batch lands as one commit on the target, whose only parent is what it
/// landed on: the branches are reachable from nothing once deleted. The batch's merges are kept
/// (`refs/gaffer/batches/`), so that git's garbage collection leaves the task's change.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_landed_in_a_rebased_batch_is_reverted_after_gc() {
    let (repo, board, ids) = batch_of_two(gaffer_config::QueueStrategy::Rebase);
    run(&board).await;
    for i in 0..2 {
        repo.git(&["branch", "-D", &format!("b/{i}")]);
    }
    repo.git(&["reflog", "expire", "--expire=now", "--all"]);
    repo.git(&["gc", "-q", "--prune=now"]);
    let kept = repo.git(&[
        "for-each-ref",
        "--format=%(refname)",
        "refs/gaffer/batches/",
    ]);
    assert_eq!(kept, format!("refs/gaffer/batches/{}", ids[1].0));
    let notes = revert_the_second(&repo, &board, &ids).await;
    assert_eq!(notes, "one\nTWO\nthree\nfour");
}

/// A landed batch's merges are pinned apart (`refs/gaffer/landed/`) as soon as the target moved:
/// with its `refs/gaffer/batches/` ref dropped (as the cleanup of a lead cancelled between the
/// landing and its record drops it), a revert after gc still undoes only the task's own change.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_landed_batch_is_pinned_whatever_becomes_of_its_batch_ref() {
    let (repo, board, ids) = batch_of_two(gaffer_config::QueueStrategy::Rebase);
    run(&board).await;
    let pinned = repo.git(&["for-each-ref", "--format=%(refname)", "refs/gaffer/landed/"]);
    assert_eq!(pinned, format!("refs/gaffer/landed/{}", ids[1].0));
    for i in 0..2 {
        repo.git(&["branch", "-D", &format!("b/{i}")]);
    }
    repo.git(&[
        "update-ref",
        "-d",
        &format!("refs/gaffer/batches/{}", ids[1].0),
    ]);
    repo.git(&["reflog", "expire", "--expire=now", "--all"]);
    repo.git(&["gc", "-q", "--prune=now"]);
    let notes = revert_the_second(&repo, &board, &ids).await;
    assert_eq!(notes, "one\nTWO\nthree\nfour");
}

/// A task whose own change in its batch was recorded but is gone from the repository is not
/// reverted from its branch on what the batch was built on (which would undo its batch-mate's
/// change too): the revert is refused, saying why.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revert_whose_recorded_change_is_missing_is_refused() {
    let (repo, board, ids) = batch_of_two(gaffer_config::QueueStrategy::Rebase);
    run(&board).await;
    assert_eq!(board.store().task(ids[1]).unwrap().status(), Status::Merged);
    for i in 0..2 {
        repo.git(&["branch", "-D", &format!("b/{i}")]);
    }
    for kind in ["batches", "landed"] {
        repo.git(&[
            "update-ref",
            "-d",
            &format!("refs/gaffer/{kind}/{}", ids[1].0),
        ]);
    }
    repo.git(&["reflog", "expire", "--expire=now", "--all"]);
    repo.git(&["gc", "-q", "--prune=now"]);
    let Err(err) = board.perform(ids[1], Action::Revert, "test") else {
        panic!("a revert without the task's own change");
    };
    let message = err.to_string();
    assert!(
        message.contains("is missing from the repository"),
        "{message}"
    );
    assert!(
        matches!(err, gaffer_engine::EngineError::Refused { .. }),
        "{err:?}"
    );
    assert_eq!(
        repo.git(&["show", "main:notes.txt"]),
        "one\nTWO\nTHREE\nfour"
    );
}
