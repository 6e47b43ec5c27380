//! The planner on views made by hand: the train's cap in units, and bisections that can no
//! longer conclude or were interrupted.

use super::*;
use crate::machine::CandidateStatus;

pub(super) fn oid(s: &str) -> ObjectId {
    ObjectId::new(s)
}

/// A candidate `commit` on `onto`, of a batch when `batch` names its tasks.
pub(super) fn cand(commit: &str, onto: &str, status: CandidateStatus, batch: &[i64]) -> Candidate {
    Candidate {
        commit: oid(commit),
        tree: oid(&format!("tree-{commit}")),
        onto: oid(onto),
        status,
        flaky: false,
        batch: batch.iter().map(|t| TaskId(*t)).collect(),
    }
}

/// Task `task` in the train at `position`.
pub(super) fn in_train(task: i64, position: u64, candidate: Option<Candidate>) -> Entry {
    Entry {
        task: TaskId(task),
        priority: 0,
        arrival: 0,
        waiting_on: vec![],
        place: None,
        slot: Some(QueueSlot {
            position,
            since_ms: 0,
            parked_on: None,
            suspect: None,
            group: vec![],
        }),
        candidate,
    }
}

/// Task `task` a suspect of `group` (whose failed batch held `members`).
pub(super) fn suspect(mut entry: Entry, group: &str) -> Entry {
    if let Some(slot) = &mut entry.slot {
        slot.suspect = Some(oid(group));
    }
    entry
}

/// Task `task` waiting to join.
pub(super) fn waiting(task: i64) -> Entry {
    Entry {
        task: TaskId(task),
        priority: 0,
        arrival: task,
        waiting_on: vec![],
        place: None,
        slot: None,
        candidate: None,
    }
}

pub(super) fn view(entries: Vec<Entry>, max_train: usize, batch: usize) -> View {
    View {
        tip: oid("tip"),
        entries,
        max_train,
        batch,
    }
}

fn joined(actions: &[Action]) -> Vec<i64> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Join { task, .. } => Some(task.0),
            _ => None,
        })
        .collect()
}

fn built(actions: &[Action]) -> Vec<Vec<i64>> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Build { tasks, .. } => Some(tasks.iter().map(|t| t.0).collect()),
            _ => None,
        })
        .collect()
}

/// Eight suspects of a failed batch are tested in four candidates (`4 + 2 + 1 + 1`): with
/// `max_train = 4` the train is full, whatever the batch size, and nobody joins behind them.
#[test]
fn a_bisection_fills_the_train_in_units_and_nobody_joins_behind_it() {
    let mut entries: Vec<Entry> = (1..=8)
        .map(|t| suspect(in_train(t, t as u64, None), "g"))
        .collect();
    entries.extend((10..16).map(waiting));
    let actions = plan(&view(entries, 4, 8));
    assert_eq!(joined(&actions), Vec::<i64>::new(), "{actions:?}");
    assert_eq!(built(&actions), [vec![1, 2, 3, 4]]);
}

/// Two candidates of one task each fill a train of two, even with batches of four: a task
/// joining would be a third candidate.
#[test]
fn single_candidates_count_as_units_and_a_full_train_takes_nobody() {
    let entries = vec![
        in_train(1, 1, Some(cand("c1", "tip", CandidateStatus::Pending, &[]))),
        in_train(2, 2, Some(cand("c2", "c1", CandidateStatus::Pending, &[]))),
        waiting(3),
        waiting(4),
    ];
    let actions = plan(&view(entries, 2, 4));
    assert_eq!(joined(&actions), Vec::<i64>::new(), "{actions:?}");
}

/// A batch still to be built takes tasks until it is full, then the train takes another unit
/// while it has room for one.
#[test]
fn tasks_join_the_batch_being_formed_then_new_units_up_to_the_cap() {
    let entries = vec![
        in_train(
            1,
            1,
            Some(cand("b1", "tip", CandidateStatus::Pending, &[1, 2])),
        ),
        in_train(
            2,
            2,
            Some(cand("b1", "tip", CandidateStatus::Pending, &[1, 2])),
        ),
        in_train(3, 3, None),
        waiting(4),
        waiting(5),
        waiting(6),
        waiting(7),
        waiting(8),
        waiting(9),
    ];
    // Units: the batch, and 3 with room for two more; then one unit of three.
    let actions = plan(&view(entries, 3, 3));
    assert_eq!(joined(&actions), [4, 5, 6, 7, 8], "{actions:?}");
}

/// The batch size shrank (as `batch = "auto"` does) with more tasks in the train than units it
/// may hold: no candidate is built beyond `max_train` in flight.
#[test]
fn no_candidate_is_built_beyond_the_cap() {
    let entries = vec![
        in_train(1, 1, Some(cand("c1", "tip", CandidateStatus::Pending, &[]))),
        in_train(2, 2, Some(cand("c2", "c1", CandidateStatus::Pending, &[]))),
        in_train(3, 3, None),
        in_train(4, 4, None),
    ];
    let actions = plan(&view(entries.clone(), 2, 1));
    assert_eq!(built(&actions), Vec::<Vec<i64>>::new(), "{actions:?}");
    // Room again once the first passed and landed.
    let rest = entries[1..].to_vec();
    let mut moved = view(rest, 2, 1);
    moved.tip = oid("c1");
    assert_eq!(built(&plan(&moved)), [vec![3]]);
}
