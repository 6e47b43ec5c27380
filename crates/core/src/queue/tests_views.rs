//! The planner on views made by hand: the train's cap in units, and bisections that can no
//! longer conclude or were interrupted.

use super::*;
use crate::machine::CandidateStatus;
use std::collections::BTreeSet;

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
        change: None,
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

/// The entry a suspect of `group`, whose failed batch held `members`.
pub(super) fn suspect(mut entry: Entry, group: &str, members: &[i64]) -> Entry {
    if let Some(slot) = &mut entry.slot {
        slot.suspect = Some(oid(group));
        slot.group = members.iter().map(|t| TaskId(*t)).collect();
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
        landed: BTreeSet::new(),
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
        .map(|t| suspect(in_train(t, t as u64, None), "g", &[1, 2, 3, 4, 5, 6, 7, 8]))
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

fn acquit(tasks: &[i64], group: &str, why: Acquittal, by: &[i64]) -> Action {
    Action::Acquit {
        tasks: tasks.iter().map(|t| TaskId(*t)).collect(),
        group: oid(group),
        why,
        by: by.iter().map(|t| TaskId(*t)).collect(),
    }
}

/// Task 2 of failed batch `g` was cancelled while the others were bisected: it may have been
/// the guilty one, so nothing is known of 1, 3 and 4 any more. They are cleared (and batched
/// again), not tested in halves for a failure that may have left with it.
#[test]
fn suspects_are_cleared_when_a_task_of_their_group_leaves_without_landing() {
    let members = [1, 2, 3, 4];
    let entries: Vec<Entry> = [1, 3, 4]
        .iter()
        .map(|t| suspect(in_train(*t, *t as u64, None), "g", &members))
        .collect();
    let actions = plan(&view(entries.clone(), 4, 4));
    assert_eq!(
        actions,
        [acquit(&[1, 3, 4], "g", Acquittal::Left, &[2])],
        "{actions:?}"
    );
    // Had it landed (it passed in a part of its own), the failure is among the others.
    let mut landed = view(entries, 4, 4);
    landed.landed.insert(TaskId(2));
    assert_eq!(built(&plan(&landed)), [vec![1, 3]]);
}

/// A crash between the two halves of recording a failed part: 1 and 2 are suspects of the part
/// `h` that failed, 3 and 4 still of the batch `g` it was a half of. The failure is within `h`.
#[test]
fn the_rest_of_a_group_is_cleared_after_a_crash_left_it_suspect_of_a_failed_part() {
    let entries = vec![
        suspect(in_train(1, 1, None), "h", &[1, 2]),
        suspect(in_train(2, 2, None), "h", &[1, 2]),
        suspect(in_train(3, 3, None), "g", &[1, 2, 3, 4]),
        suspect(in_train(4, 4, None), "g", &[1, 2, 3, 4]),
    ];
    let actions = plan(&view(entries, 4, 4));
    assert_eq!(
        actions,
        [acquit(&[3, 4], "g", Acquittal::Within, &[1, 2])],
        "{actions:?}"
    );
}

/// A crash while a failed batch was recorded: 1 and 2 are suspects, 3 (the lead, recorded
/// last) still holds the batch. The bisection is taken up again, not lost.
#[test]
fn a_failed_batch_recorded_in_part_is_bisected_again() {
    let members = [1, 2, 3];
    let failed = || {
        Some(cand(
            "g",
            "tip",
            CandidateStatus::Failed {
                summary: "1 failed".into(),
            },
            &members,
        ))
    };
    let entries = vec![
        suspect(in_train(1, 1, None), "g", &members),
        suspect(in_train(2, 2, None), "g", &members),
        in_train(3, 3, failed()),
    ];
    let actions = plan(&view(entries, 4, 4));
    assert_eq!(
        actions,
        [Action::Bisect {
            tasks: vec![TaskId(1), TaskId(2), TaskId(3)],
            group: oid("g"),
            acquitted: vec![],
        }],
        "{actions:?}"
    );
}

/// A crash between a lone suspect's recheck and the clearing of the others: the clearing is
/// taken up again while it runs again.
#[test]
fn the_others_are_cleared_while_a_lone_suspect_is_rechecked() {
    let members = [1, 2, 3];
    let rechecking = cand(
        "c1",
        "tip",
        CandidateStatus::Rechecking {
            summary: "1 failed".into(),
        },
        &[],
    );
    let entries = vec![
        suspect(in_train(1, 1, Some(rechecking)), "g", &members),
        suspect(in_train(2, 2, None), "g", &members),
        suspect(in_train(3, 3, None), "g", &members),
    ];
    let actions = plan(&view(entries, 4, 4));
    assert!(
        actions.contains(&acquit(&[2, 3], "g", Acquittal::FailedAlone, &[1])),
        "{actions:?}"
    );
    assert!(!actions.iter().any(|a| matches!(a, Action::Recheck { .. })));
}

/// A lone suspect that failed alone concludes its bisection even though the others were
/// cleared (they left its group): it is rechecked, not cleared.
#[test]
fn a_lone_suspect_that_failed_is_rechecked_not_cleared() {
    let failed = cand(
        "c1",
        "tip",
        CandidateStatus::Failed {
            summary: "1 failed".into(),
        },
        &[],
    );
    let entries = vec![
        suspect(in_train(1, 1, Some(failed)), "g", &[1, 2]),
        in_train(2, 2, None),
    ];
    let actions = plan(&view(entries, 4, 4));
    assert_eq!(
        actions[0],
        Action::Recheck { task: TaskId(1) },
        "{actions:?}"
    );
    assert!(!actions.iter().any(|a| matches!(a, Action::Acquit { .. })));
}

/// Failed batch `g` of 1, 2 and 3: 1 passed alone and landed, 2 and 3 passed together. No part
/// failed: verify was flaky, and 2 and 3 are cleared as such (their candidate records it) before
/// they land.
#[test]
fn a_bisection_whose_parts_all_pass_ends_as_flaky() {
    let members = [1, 2, 3];
    let part = || Some(cand("h", "tip", CandidateStatus::Passed, &[2, 3]));
    let entries = vec![
        suspect(in_train(2, 2, part()), "g", &members),
        suspect(in_train(3, 3, part()), "g", &members),
    ];
    let mut passed = view(entries, 4, 4);
    passed.landed.insert(TaskId(1));
    let actions = plan(&passed);
    // (The landing comes once they are cleared: the engine acts, then asks again.)
    assert_eq!(
        actions[0],
        acquit(&[2, 3], "g", Acquittal::NotReproduced, &[]),
        "{actions:?}"
    );
    assert!(actions[0].inputs().iter().all(|(_, i)| *i
        == Input::Acquit {
            group: Some(oid("g")),
            flaky: true
        }));
    // While 1 is being tested ahead of them, nothing is known yet.
    let mut entries = vec![suspect(
        in_train(1, 1, Some(cand("c1", "tip", CandidateStatus::Pending, &[]))),
        "g",
        &members,
    )];
    entries.extend(passed.entries.iter().cloned().map(|mut e| {
        if let Some(c) = &mut e.candidate {
            c.onto = oid("c1");
        }
        e
    }));
    let actions = plan(&view(entries, 4, 4));
    assert!(
        !actions.iter().any(|a| matches!(a, Action::Acquit { .. })),
        "{actions:?}"
    );
}

/// Part h = [1, 2] of group g = [1, 2, 3, 4] failed; a crash came after task 1 was recorded a
/// suspect of h: task 2 is still a suspect of g and holds the failed h. The bisection of h is
/// taken up again, and the rest of g (3, 4) cleared, not task 2, which would lose h.
#[test]
fn a_part_bisected_again_after_a_crash_keeps_its_task_that_was_still_of_the_group() {
    let failed = cand(
        "h",
        "tip",
        CandidateStatus::Failed {
            summary: "x".into(),
        },
        &[1, 2],
    );
    let entries = vec![
        suspect(in_train(1, 1, None), "h", &[1, 2]),
        suspect(in_train(2, 2, Some(failed)), "g", &[1, 2, 3, 4]),
        suspect(in_train(3, 3, None), "g", &[1, 2, 3, 4]),
        suspect(in_train(4, 4, None), "g", &[1, 2, 3, 4]),
    ];
    let actions = plan(&view(entries, 4, 4));
    assert_eq!(
        actions,
        vec![
            Action::Bisect {
                tasks: vec![TaskId(1), TaskId(2)],
                group: oid("h"),
                acquitted: vec![],
            },
            acquit(&[3, 4], "g", Acquittal::Within, &[1]),
        ],
        "{actions:#?}"
    );
    // Each acquittal names its group: the machine refuses it for a suspect of another.
    assert!(actions[1].inputs().iter().all(|(_, i)| *i
        == Input::Acquit {
            group: Some(oid("g")),
            flaky: false
        }));
}

/// Task 1, a suspect of g, failed alone: it is rechecked and the other suspects are cleared.
/// Nothing else is planned in the round: the others are not built as a half of g (nor said to
/// be bisecting it); the next round batches them as usual.
#[test]
fn a_suspect_that_fails_alone_clears_the_others_and_no_half_of_them_is_built() {
    let failed = cand(
        "c1",
        "tip",
        CandidateStatus::Failed {
            summary: "x".into(),
        },
        &[],
    );
    let members = [1, 2, 3, 4, 5];
    let mut entries = vec![suspect(in_train(1, 1, Some(failed)), "g", &members)];
    entries.extend((2..=5).map(|t| suspect(in_train(t, t as u64, None), "g", &members)));
    let actions = plan(&view(entries.clone(), 4, 4));
    assert_eq!(
        actions,
        vec![
            Action::Recheck { task: TaskId(1) },
            acquit(&[2, 3, 4, 5], "g", Acquittal::FailedAlone, &[1]),
        ]
    );
    // Once they are cleared (and 1 is being rechecked), they are built as one batch.
    let mut next = entries;
    if let Some(c) = &mut next[0].candidate {
        c.status = CandidateStatus::Rechecking {
            summary: "x".into(),
        };
    }
    for e in &mut next[1..] {
        if let Some(slot) = &mut e.slot {
            slot.suspect = None;
            slot.group.clear();
        }
    }
    assert_eq!(built(&plan(&view(next, 4, 4))), [vec![2, 3, 4, 5]]);
}
