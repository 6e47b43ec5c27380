//! Redirecting waiting work: a person edits a task's dependencies before it starts (a new one
//! that has not merged sends a ready task back to the backlog; a removed one lets it start;
//! cycles, unknown and cancelled tasks are refused), and reorders the merge queue's waiting line
//! (the landing order follows it; the train's own order is fixed).

use gaffer_api::{Place, TaskChanges};
use gaffer_core::{Input, NewTask, Risk, Status, TaskId, event_kind};
use gaffer_engine::{Action, EngineError};
use gaffer_test_support::{Agent, EngineHarness};

/// The blocker asks a question first, so it waits (unmerged) until a person answers.
const CODER: &str = r#"
[[task]]
match = "blocker"
[[task.attempt]]
actions = [{ question = "Which schema?" }]
[[task.attempt]]
summary = "Wrote the schema."
actions = [{ write = "schema.txt", content = "v1\n" }]
[[task]]
match = "follower"
[[task.attempt]]
summary = "Used the schema."
actions = [{ write = "follower.txt", content = "uses the schema\n" }]
[[task]]
match = "alpha"
[[task.attempt]]
actions = [{ write = "alpha.txt", content = "alpha\n" }]
[[task]]
match = "bravo"
[[task.attempt]]
actions = [{ write = "bravo.txt", content = "bravo\n" }]
[[task]]
match = "charlie"
[[task.attempt]]
actions = [{ write = "charlie.txt", content = "charlie\n" }]
"#;

fn harness(extra: &[(&str, &str)]) -> EngineHarness {
    let mut builder = EngineHarness::builder()
        .agent("writer", Agent::scripted(CODER))
        .set("roles.coder", "writer");
    for (key, value) in extra {
        builder = builder.set(key, value);
    }
    builder.build()
}

fn deps(add: &[TaskId], remove: &[TaskId]) -> TaskChanges {
    TaskChanges {
        add_deps: add.to_vec(),
        remove_deps: remove.to_vec(),
        ..TaskChanges::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dependency_added_to_a_ready_task_sends_it_back_until_it_merges() {
    let mut h = harness(&[]);
    let blocker = h.add("blocker");
    h.settle().await;
    assert_eq!(h.task(blocker).status(), Status::NeedsInput);
    // Ready, not started yet (no engine round in between).
    let follower = h.add("follower");
    h.act(follower, Input::Promote);
    assert_eq!(h.task(follower).status(), Status::Ready);

    let edited = h
        .board()
        .edit_task(follower, deps(&[blocker], &[]))
        .expect("add the dependency");
    assert_eq!(edited.status(), Status::Backlog);
    assert_eq!(edited.blocked_by, vec![blocker]);
    let said = h.events_of(follower, event_kind::TASK_EDITED);
    assert_eq!(
        said.last().unwrap().data["blocked_by"],
        serde_json::json!([blocker.0])
    );
    h.settle().await;
    assert_eq!(h.task(follower).status(), Status::Backlog, "it waits");

    h.answer(blocker, "v1");
    h.settle().await;
    assert_eq!(h.task(blocker).status(), Status::Merged, "{}", h.describe());
    assert_eq!(h.task(follower).status(), Status::Merged);
    use Status::*;
    assert_eq!(
        h.statuses(follower),
        [
            Ready, Backlog, Ready, Coding, Verifying, Queued, Merging, Merged
        ]
    );
    let demoted = h.events_of(follower, event_kind::TASK_STATUS);
    assert_eq!(demoted[1].data["input"], "demote");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_removed_dependency_lets_the_task_start() {
    let mut h = harness(&[]);
    let blocker = h.add("blocker");
    let follower = h.add_task(NewTask {
        title: "follower".into(),
        blocked_by: vec![blocker],
        ..NewTask::default()
    });
    h.settle().await;
    assert_eq!(h.task(blocker).status(), Status::NeedsInput);
    assert_eq!(h.task(follower).status(), Status::Backlog);

    let edited = h
        .board()
        .edit_task(follower, deps(&[], &[blocker]))
        .expect("remove the dependency");
    assert!(edited.blocked_by.is_empty());
    h.settle().await;
    assert_eq!(
        h.task(follower).status(),
        Status::Merged,
        "{}",
        h.describe()
    );
    assert_eq!(h.task(blocker).status(), Status::NeedsInput, "still waits");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cycles_unknown_and_cancelled_dependencies_are_refused() {
    let h = harness(&[]);
    let one = h.add("alpha");
    let two = h.add_task(NewTask {
        title: "bravo".into(),
        blocked_by: vec![one],
        ..NewTask::default()
    });
    let gone = h.add("charlie");
    h.act(
        gone,
        Input::Cancel {
            reason: "not needed".into(),
        },
    );
    let refused =
        |id: TaskId, changes: TaskChanges, needle: &str| match h.board().edit_task(id, changes) {
            Err(EngineError::InvalidInput { message, hint }) => {
                assert!(message.contains(needle), "{message}");
                assert!(!hint.is_empty());
            }
            other => panic!("expected a refusal mentioning {needle:?}, got {other:?}"),
        };
    refused(one, deps(&[two], &[]), "wait for itself");
    refused(one, deps(&[one], &[]), "itself");
    refused(one, deps(&[TaskId(999)], &[]), "does not exist");
    refused(one, deps(&[gone], &[]), "cancelled");
    refused(two, deps(&[gone], &[gone]), "both added to and removed");
    assert!(h.task(one).blocked_by.is_empty(), "nothing changed");
    // Scopes and priority change with the same edit.
    let edited = h
        .board()
        .edit_task(
            two,
            TaskChanges {
                write_scope: Some(vec!["src/**".into()]),
                read_scope: Some(vec!["docs/**".into()]),
                priority: Some(7),
                ..deps(&[], &[one])
            },
        )
        .unwrap();
    assert_eq!(
        (edited.write_scope, edited.read_scope, edited.priority),
        (vec!["src/**".to_string()], vec!["docs/**".to_string()], 7)
    );
    assert!(edited.blocked_by.is_empty());
}

/// Three high-risk tasks wait for approval; approved, they wait to join the train in the order
/// of approval; a person moves the last to the head of the line and the first behind the
/// second: they land in that order, whatever their priorities.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_waiting_line_lands_in_the_order_a_person_gave_it() {
    let mut h = harness(&[("risk.approval_at", "high"), ("queue.max_candidates", "1")]);
    let add = |title: &str, priority: i32| {
        h.add_task(NewTask {
            title: title.into(),
            risk: Risk::High,
            priority,
            ..NewTask::default()
        })
    };
    let (a, b, c) = (add("alpha", 5), add("bravo", 0), add("charlie", 0));
    h.settle().await;
    for id in [a, b, c] {
        assert_eq!(h.task(id).status(), Status::AwaitingApproval);
        h.approve(id);
    }
    let line = |h: &EngineHarness| -> Vec<TaskId> {
        h.board()
            .queue()
            .unwrap()
            .waiting
            .iter()
            .map(|e| e.task)
            .collect()
    };
    assert_eq!(line(&h), [a, b, c], "alpha has the highest priority");

    let moved = |id: TaskId, to: Place| {
        h.board()
            .perform(id, Action::Move { to }, "test")
            .map(|p| p.task)
    };
    let c_now = moved(c, Place::To(1)).expect("move charlie to the head");
    assert_eq!(c_now.state.place.as_ref().map(|p| p.rank), Some(1));
    assert_eq!(line(&h), [c, a, b]);
    moved(a, Place::After(b)).expect("move alpha behind bravo");
    assert_eq!(line(&h), [c, b, a]);
    let said = h.events_of(a, event_kind::QUEUE_MOVED);
    assert_eq!(said.len(), 1);
    assert_eq!(said[0].data["order"], serde_json::json!([c.0, b.0, a.0]));
    assert_eq!(said[0].data["place"], 3);
    // Beside itself, or a task that does not wait: refused.
    assert!(moved(a, Place::Before(a)).is_err());
    let blocker = h.add("blocker");
    assert!(matches!(
        moved(a, Place::Before(blocker)),
        Err(EngineError::Refused { .. })
    ));
    assert!(matches!(
        moved(blocker, Place::To(1)),
        Err(EngineError::Refused { .. })
    ));

    h.settle().await;
    let landed: Vec<TaskId> = h
        .all_events()
        .into_iter()
        .filter(|e| e.kind == event_kind::QUEUE_LANDED)
        .filter_map(|e| e.task)
        .collect();
    assert_eq!(landed, [c, b, a], "{}", h.describe());
    for id in [a, b, c] {
        assert_eq!(
            h.task(id).state.place,
            None,
            "no place once it left the line"
        );
    }
}

/// A task in the train keeps its place (its candidate may be under test), and a task not in
/// the queue has none to change.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_waiting_tasks_move() {
    let mut h = harness(&[("risk.approval_at", "high")]);
    let a = h.add_task(NewTask {
        title: "alpha".into(),
        risk: Risk::High,
        ..NewTask::default()
    });
    let to_head = Action::Move { to: Place::To(1) };
    let e = h.board().perform(a, to_head.clone(), "test").unwrap_err();
    assert!(
        e.to_string()
            .contains("not waiting in the merge queue (it is backlog)"),
        "{e}"
    );
    h.settle().await;
    h.approve(a);
    // Joined the train, as the queue does when it next runs.
    h.act(
        a,
        Input::BeginMerge {
            position: 1,
            since_ms: 0,
        },
    );
    let e = h.board().perform(a, to_head, "test").unwrap_err();
    assert!(
        matches!(&e, EngineError::Refused { message, hint }
            if message.contains("in the merge train already") && hint.contains("gaffer queue")),
        "{e:?}"
    );
    h.settle().await;
    assert_eq!(h.task(a).status(), Status::Merged, "{}", h.describe());
}
