//! `gaffer revert N`: a merged task is undone by a new task whose branch holds gaffer's own
//! revert of its landing; no agent runs, the revert is verified and lands through the merge
//! queue, and the target stays green at every first-parent commit. Refused for a task that has
//! not merged, a second time, and when later work conflicts with it.

use gaffer_core::{Status, TaskId, event_kind};
use gaffer_engine::{Action, EngineError};
use gaffer_test_support::{Agent, EngineHarness};

/// Every feature file names itself; a file that says `broken` fails.
const TESTS: &str = r#"#!/bin/sh
for f in features/*.txt; do
  [ -e "$f" ] || continue
  grep -q broken "$f" && { echo "FAILED: $f is broken"; exit 1; }
done
exit 0
"#;

const CODER: &str = r#"
[[task]]
match = "feature alpha"
[[task.attempt]]
summary = "Wrote alpha."
actions = [{ write = "features/alpha.txt", content = "alpha\n" }]
[[task]]
match = "feature bravo"
[[task.attempt]]
summary = "Wrote bravo."
actions = [{ write = "features/bravo.txt", content = "bravo\n" }]
[[task]]
match = "Start the notes"
[[task.attempt]]
summary = "Wrote the shared file."
actions = [{ write = "shared.txt", content = "one\n" }]
[[task]]
match = "Rewrite the notes"
[[task.attempt]]
summary = "Changed the shared file."
actions = [{ write = "shared.txt", content = "two\n" }]
"#;

fn harness() -> EngineHarness {
    EngineHarness::builder()
        .agent("writer", Agent::scripted(CODER))
        .set("roles.coder", "writer")
        .file("tests/run.sh", TESTS)
        .verify("sh tests/run.sh")
        .build()
}

fn revert(h: &EngineHarness, id: TaskId) -> Result<gaffer_core::Task, EngineError> {
    h.board()
        .perform(id, Action::Revert, "test")
        .map(|p| p.task)
}

/// Runs the tests at `commit`, in a throwaway worktree; their output when they fail.
fn green_at(h: &EngineHarness, commit: &str) -> Result<(), String> {
    let dir = h.repo().scratch(&format!("check-{commit}"));
    let path = dir.display().to_string();
    h.repo()
        .git(&["worktree", "add", "-q", "--detach", &path, commit]);
    let out = std::process::Command::new("sh")
        .arg("tests/run.sh")
        .current_dir(&dir)
        .output()
        .expect("run the tests");
    h.repo().git(&["worktree", "remove", "--force", &path]);
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revert_lands_through_verify_and_the_queue_and_the_target_stays_green() {
    let mut h = harness();
    let base = h.repo().head();
    let alpha = h.add("feature alpha");
    let bravo = h.add("feature bravo");
    h.settle().await;
    assert_eq!(h.task(alpha).status(), Status::Merged, "{}", h.describe());
    assert_eq!(h.task(bravo).status(), Status::Merged);
    assert!(h.file_on_target("features/alpha.txt").is_some());
    let landed = h.task(alpha).state.landed.expect("alpha landed").commit;

    let undo = revert(&h, alpha).expect("revert alpha");
    assert_eq!(undo.title, "Revert \"feature alpha\"");
    assert!(undo.labels.contains(&format!("reverts:{alpha}")));
    assert_eq!(undo.status(), Status::Backlog);
    assert!(undo.state.flow.prepared && !undo.state.flow.review);
    let head = undo.state.head.clone().expect("the revert commit");
    assert_eq!(h.repo().rev_parse(&undo.branch), head.as_str());
    for on in [alpha, undo.id] {
        let said = h.events_of(on, event_kind::TASK_REVERT);
        assert_eq!(said.len(), 1, "task {on}");
        assert_eq!(said[0].data["landed"], landed.as_str());
        assert_eq!(said[0].data["revert_task"], undo.id.0);
    }
    // Not twice while the first is alive.
    let again = revert(&h, alpha).unwrap_err();
    assert!(again.to_string().contains("already reverts"), "{again}");

    h.settle().await;
    let done = h.task(undo.id);
    assert_eq!(done.status(), Status::Merged, "{}", h.describe());
    use Status::*;
    assert_eq!(
        h.statuses(undo.id),
        [Ready, Verifying, Queued, Merging, Merged]
    );
    assert!(h.runs(undo.id).is_empty(), "no agent ran for the revert");
    // One verify of the prepared change at the gate (and one of its candidate in the queue).
    let gate: Vec<_> = h
        .events_of(undo.id, event_kind::VERIFY_FINISHED)
        .into_iter()
        .filter(|e| e.data["purpose"] == "branch")
        .collect();
    assert_eq!(gate.len(), 1);
    assert_eq!(h.events_of(undo.id, event_kind::QUEUE_LANDED).len(), 1);
    // Alpha's change is gone from the target, bravo's is there, and the target passed its tests
    // at every first-parent commit.
    assert_eq!(h.file_on_target("features/alpha.txt"), None);
    assert_eq!(
        h.file_on_target("features/bravo.txt").as_deref(),
        Some("bravo\n")
    );
    let landing = h.board().landing().unwrap().refname();
    let line = h
        .repo()
        .git(&["rev-list", "--first-parent", &landing, &format!("^{base}")]);
    let mut line: Vec<&str> = line.lines().collect();
    assert_eq!(line.len(), 3, "three landings on the project's commit");
    line.push(&base);
    for commit in &line {
        green_at(&h, commit).unwrap_or_else(|out| panic!("red at {commit}: {out}"));
    }
    let tip_subject = h.repo().git(&["log", "-1", "--format=%s", &landing]);
    assert!(
        tip_subject.contains(&format!("task #{}", undo.id)),
        "{tip_subject}"
    );

    // Reverted: a third try says by whom, and how to bring it back.
    let third = revert(&h, alpha).unwrap_err();
    assert!(third.to_string().contains("reverted already"), "{third}");
    // The revert itself can be reverted: the change comes back.
    let redo = revert(&h, undo.id).expect("revert the revert");
    h.settle().await;
    assert_eq!(h.task(redo.id).status(), Status::Merged, "{}", h.describe());
    assert_eq!(
        h.file_on_target("features/alpha.txt").as_deref(),
        Some("alpha\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_a_merged_task_is_reverted() {
    let h = harness();
    let waiting = h.add("feature alpha");
    let e = revert(&h, waiting).unwrap_err();
    assert!(
        matches!(&e, EngineError::Refused { message, hint }
            if message.contains("backlog, not merged") && hint.contains("cancel")),
        "{e:?}"
    );
    let missing = revert(&h, TaskId(999)).unwrap_err();
    assert!(missing.to_string().contains("999"), "{missing}");
    assert_eq!(h.board().tasks(&[]).unwrap().len(), 1, "nothing was added");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revert_that_conflicts_with_later_work_is_refused_with_the_files() {
    let mut h = harness();
    let first = h.add("Start the notes");
    h.settle().await;
    let second = h.add("Rewrite the notes");
    h.settle().await;
    assert_eq!(h.task(first).status(), Status::Merged, "{}", h.describe());
    assert_eq!(h.task(second).status(), Status::Merged);
    let tip = h.repo().rev_parse(&h.board().landing().unwrap().refname());

    let e = revert(&h, first).unwrap_err();
    let EngineError::Refused { message, hint } = &e else {
        panic!("expected a refusal, got {e:?}");
    };
    assert!(
        message.contains("conflicts") && message.contains("shared.txt"),
        "{message}"
    );
    assert!(hint.contains("gaffer task add"), "{hint}");
    // Nothing was made: no task, no branch, the target where it was, no worktree left.
    assert_eq!(h.board().tasks(&[]).unwrap().len(), 2);
    assert_eq!(
        h.repo().rev_parse(&h.board().landing().unwrap().refname()),
        tip
    );
    assert!(!h.repo().git(&["worktree", "list"]).contains("revert"));
    // The later task reverts cleanly (nothing came after it).
    let undo = revert(&h, second).expect("revert the later change");
    h.settle().await;
    assert_eq!(h.task(undo.id).status(), Status::Merged, "{}", h.describe());
    assert_eq!(h.file_on_target("shared.txt").as_deref(), Some("one\n"));
}

/// On a shared board the revert's branch goes to the remote as soon as it is made: whichever
/// daemon verifies and lands it finds it, and the remote's target loses the change.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_revert_made_by_one_daemon_lands_through_the_shared_queue() {
    let mut d = super::daemons::daemons(2, 0, &[]);
    let ids = super::daemons::add_tasks(&mut d, 2);
    d.start_all();
    super::daemons::wait_all_merged(d.daemon(0), &ids).await;
    let undo = d
        .daemon(1)
        .board()
        .perform(ids[0], Action::Revert, "test")
        .expect("revert alpha")
        .task;
    let published = d.remote_git(&["rev-parse", &format!("refs/heads/{}", undo.branch)]);
    assert_eq!(
        Some(published.as_str()),
        undo.state.head.as_ref().map(|h| h.as_str()),
        "the branch is on the remote before any job ran"
    );
    super::daemons::wait_all_merged(d.daemon(0), &[undo.id]).await;
    d.stop_all().await;
    let files = d.remote_git(&["ls-tree", "--name-only", "main"]);
    assert!(!files.contains("alpha.txt"), "{files}");
    assert!(files.contains("bravo.txt"), "{files}");
    assert!(d.daemon(0).runs(undo.id).is_empty(), "no agent ran");
    assert_eq!(
        d.remote_git(&["for-each-ref", "refs/gaffer/reverts"]),
        "",
        "the revert commit's waiting ref is gone once its branch holds it"
    );
}

/// The engine may start the revert the moment it is stored: it finds the branch made, never a
/// half-made one (a job that failed there would fail the task).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revert_made_while_the_engine_runs_lands() {
    let mut h = harness();
    let ids = [h.add("feature alpha"), h.add("feature bravo")];
    h.start();
    for id in ids {
        h.wait_for_status(id, Status::Merged).await;
    }
    for id in ids {
        let undo = revert(&h, id).expect("revert");
        let done = h.wait_for_status(undo.id, Status::Merged).await;
        assert!(done.state.note.is_none(), "{:?}", done.state.note);
    }
    h.stop().await;
    assert_eq!(h.file_on_target("features/alpha.txt"), None);
    assert_eq!(h.file_on_target("features/bravo.txt"), None);
}
