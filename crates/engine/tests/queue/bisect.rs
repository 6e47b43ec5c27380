//! Bisections as a crash, or a person, may leave them: the engine that starts (again) finds
//! them on the board and goes on, with nothing but the tasks' states to go by.

use super::{queued_with, run};
use gaffer_core::{
    Candidate, CandidateStatus, ObjectId, QueueSlot, Seq, Status, TaskId, event_kind,
};
use gaffer_store::EventFilter;

/// The failed batch's commit (never looked at: the failure is on the board).
fn failed_batch() -> ObjectId {
    ObjectId::new("f".repeat(40))
}

/// Task `i` (id `i + 1`) in the train at position `i + 1`, a suspect of the failed batch of
/// `group` (ids) when `suspect`.
fn in_train(i: usize, suspect: bool, group: &[i64]) -> QueueSlot {
    QueueSlot {
        position: i as u64 + 1,
        since_ms: 0,
        parked_on: None,
        suspect: suspect.then(failed_batch),
        group: if suspect {
            group.iter().map(|t| TaskId(*t)).collect()
        } else {
            vec![]
        },
    }
}

/// Task 4 of a failed batch was cancelled while 1 to 3 were bisected (or the engine stopped
/// before it cleared them): the failure may have left with it. The engine clears them and they
/// are tested as one batch again, not in halves.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn suspects_of_a_batch_whose_task_was_cancelled_are_cleared_and_batched() {
    let group = [1, 2, 3, 4];
    let (_repo, board, _, _) = queued_with(
        4,
        &[],
        4,
        |_, settings| settings,
        |i, state| {
            if i == 3 {
                state.status = Status::Cancelled;
            } else {
                state.status = Status::Merging;
                state.queue = Some(in_train(i, true, &group));
            }
        },
    );
    run(&board).await;
    let events = board
        .events_after(Seq(0), 100_000, &EventFilter::default())
        .unwrap();
    let of = |kind: &str| events.iter().filter(|e| e.kind == kind).collect::<Vec<_>>();
    let cleared = of(event_kind::QUEUE_ACQUITTED);
    assert_eq!(cleared.len(), 3, "{cleared:?}");
    for event in cleared {
        assert_eq!(event.data["reason"], "left");
        assert_eq!(event.data["by"], serde_json::json!([4]));
    }
    assert!(of(event_kind::QUEUE_BISECTING).is_empty());
    let formed = of(event_kind::QUEUE_BATCH_FORMED);
    assert_eq!(formed.len(), 1);
    assert_eq!(formed[0].data["tasks"], serde_json::json!([1, 2, 3]));
    for id in 1..=3 {
        let task = board.store().task(TaskId(id)).unwrap();
        assert_eq!(task.status(), Status::Merged, "{:?}", task.state.note);
    }
}

/// The engine stopped while it recorded a failed batch: 1 and 2 are suspects, 3 (its last
/// task, recorded last) still holds it. The bisection is taken up again: 2, which breaks the
/// target, is found guilty; 1 and 3 land.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_batch_recorded_in_part_is_bisected_after_a_restart() {
    let group = [1, 2, 3];
    let (_repo, board, _, _) = queued_with(
        3,
        &[1],
        4,
        |_, settings| settings,
        |i, state| {
            state.status = Status::Merging;
            state.queue = Some(in_train(i, i < 2, &group));
            if i == 2 {
                state.candidate = Some(Candidate {
                    commit: failed_batch(),
                    tree: failed_batch(),
                    onto: failed_batch(),
                    status: CandidateStatus::Failed {
                        summary: "breaks-1 exists".into(),
                    },
                    flaky: false,
                    batch: group.iter().map(|t| TaskId(*t)).collect(),
                    change: None,
                });
            }
        },
    );
    run(&board).await;
    let events = board
        .events_after(Seq(0), 100_000, &EventFilter::default())
        .unwrap();
    let of = |kind: &str| events.iter().filter(|e| e.kind == kind).collect::<Vec<_>>();
    let failed = of(event_kind::QUEUE_BATCH_FAILED);
    assert!(!failed.is_empty());
    assert_eq!(failed[0].data["commit"], failed_batch().as_str());
    assert_eq!(failed[0].data["tasks"], serde_json::json!(group));
    assert_eq!(failed[0].task, Some(TaskId(3)), "said by its last task");
    let guilty = of(event_kind::QUEUE_GUILTY);
    assert_eq!(guilty.len(), 1);
    assert_eq!(guilty[0].task, Some(TaskId(2)));
    for (id, want) in [
        (1, Status::Merged),
        (2, Status::Failed),
        (3, Status::Merged),
    ] {
        let task = board.store().task(TaskId(id)).unwrap();
        assert_eq!(task.status(), want, "task {id}: {:?}", task.state.note);
    }
}
