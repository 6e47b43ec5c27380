//! Following the chain of candidates from the landing tip through the train: what lands, what
//! is built next, what is stale, and what a failure means.

use super::units::{next_unit, unit_at, whole};
use super::{Action, Entry};
use crate::event::payload::Acquittal;
use crate::ids::{ObjectId, TaskId};
use crate::machine::CandidateStatus;
use std::collections::BTreeSet;

pub(super) struct Walked<'a> {
    pub actions: Vec<Action>,
    pub landable: Vec<&'a Entry>,
    /// Suspects whose candidate passed with every candidate ahead passing.
    pub passed: BTreeSet<TaskId>,
}

/// Follows the chain of candidates from `tip` through `train`, building the next unit of at
/// most `batch` tasks while fewer than `max_train` units have a candidate.
pub(super) fn walk<'a>(
    tip: &ObjectId,
    train: &[&'a Entry],
    batch: usize,
    max_train: usize,
) -> Walked<'a> {
    let mut actions = Vec::new();
    // Units with a candidate so far: in flight (being verified, passed and about to land, or
    // failed and being settled).
    let mut in_flight = 0;
    let mut landable = Vec::new();
    let mut passed = BTreeSet::new();
    let mut base = tip.clone();
    // Every candidate so far passed: a failure here is this unit's own.
    let mut clear = true;
    // Every task so far can land: the prefix goes on.
    let mut landing = true;
    let mut landing_tasks: BTreeSet<TaskId> = BTreeSet::new();
    // Tasks of the train the candidates behind them are built without: parked ones, and
    // suspects (a failure with everything ahead passing, being checked again).
    let mut skipped: BTreeSet<TaskId> = BTreeSet::new();
    let mut at = 0;
    while at < train.len() {
        let entry = train[at];
        let Some(candidate) = &entry.candidate else {
            // Parked on what is still ahead of it: it waits. Once that landed (its base is the
            // tip now) or changed, it is built again, and conflicts for real or applies.
            if entry.parked_on() == Some(&base) && &base != tip {
                skipped.insert(entry.task);
                at += 1;
                continue;
            }
            // Never built without what it depends on.
            if entry.waiting_on.iter().any(|d| skipped.contains(d)) {
                break;
            }
            // Every candidate behind it was built without it: stale. Dropped first, so that
            // their verify never starts.
            actions.extend(
                train[at + 1..]
                    .iter()
                    .filter(|e| e.candidate.is_some() && !skipped.contains(&e.task))
                    .map(|e| Action::Invalidate { task: e.task }),
            );
            // The train holds `max_train` candidates at most: the next waits for room.
            if in_flight < max_train.max(1) {
                actions.push(Action::Build {
                    tasks: next_unit(train, at, &skipped, batch),
                    onto: base,
                });
            }
            break;
        };
        let unit = unit_at(train, at);
        if candidate.onto != base || !whole(&unit) {
            // Built on something no longer ahead of it, or a batch that lost a task (or was
            // not recorded whole): dropped, and built again. Every candidate behind it is built
            // on it: they go too, so that their tasks can be batched afresh.
            actions.extend(
                train[at..]
                    .iter()
                    .filter(|e| e.candidate.is_some())
                    .map(|e| Action::Invalidate { task: e.task }),
            );
            break;
        }
        in_flight += 1;
        let lead = unit[unit.len() - 1];
        let status = lead
            .candidate
            .as_ref()
            .map_or(&CandidateStatus::Pending, |c| &c.status);
        match status {
            CandidateStatus::Passed => {
                if clear {
                    passed.extend(
                        unit.iter()
                            .filter(|e| e.suspect().is_some())
                            .map(|e| e.task),
                    );
                }
                // The batch's tree passed: every task of it takes the result.
                let mut shared = false;
                for e in &unit[..unit.len() - 1] {
                    if e.candidate.as_ref().is_some_and(|c| !c.passed()) {
                        actions.push(Action::Share {
                            task: e.task,
                            commit: candidate.commit.clone(),
                            tree: candidate.tree.clone(),
                        });
                        shared = true;
                    }
                }
                // Not before what it depends on (a parked dependency is stepped over); a task
                // of the batch may depend on one ahead of it in the batch.
                let mut deps_land = true;
                let mut with: BTreeSet<TaskId> = landing_tasks.clone();
                for e in &unit {
                    deps_land &= e.waiting_on.iter().all(|d| with.contains(d));
                    with.insert(e.task);
                }
                if landing && deps_land && !shared {
                    landable.extend(unit.iter().copied());
                    landing_tasks = with;
                } else {
                    landing = false;
                }
            }
            CandidateStatus::Pending => {
                clear = false;
                landing = false;
            }
            CandidateStatus::Failed { .. } | CandidateStatus::Rechecking { .. }
                if clear && unit.len() == 1 =>
            {
                // Everything ahead passed, so its own branch is the likely cause: it runs again,
                // and the tasks behind it are tested without it meanwhile (they do not land
                // before it is settled). Flaky after all, they are rebuilt on it.
                if matches!(status, CandidateStatus::Failed { .. }) {
                    actions.push(Action::Recheck { task: entry.task });
                }
                // A suspect that fails alone is most likely its group's guilty branch: the
                // others go back to being batched (should it pass after all, they are tested
                // again in whatever batch they are in, and bisected if it fails). Also while it
                // runs again: a crash may have come between the recheck and the clearing.
                // The walk stops there: the view still has them suspects, and would build them
                // as a half of the group. The next round takes them as the tasks they are now.
                if let Some(cleared) = clear_others(train, entry) {
                    actions.push(cleared);
                    break;
                }
                skipped.insert(entry.task);
                landing = false;
                at += 1;
                continue;
            }
            CandidateStatus::FailedTwice { .. } if clear && unit.len() == 1 => {
                actions.push(Action::Eject { task: entry.task });
                // The guilty branch of its group is found: the other suspects are innocent.
                actions.extend(clear_others(train, entry));
                break;
            }
            CandidateStatus::Failed { .. }
            | CandidateStatus::Rechecking { .. }
            | CandidateStatus::FailedTwice { .. }
                if clear =>
            {
                // A batch failed with everything ahead passing: one of its branches (or more)
                // is guilty. Bisect: its tasks are tested again in halves.
                let tasks: Vec<TaskId> = unit.iter().map(|e| e.task).collect();
                // A part of a group being bisected (all of it: a batch never mixes groups) is
                // what the rest of that group is cleared for.
                let part_of = entry
                    .suspect()
                    .filter(|g| unit.iter().all(|e| e.suspect() == Some(*g)));
                let acquitted = match part_of {
                    Some(group) => train
                        .iter()
                        .filter(|e| e.suspect() == Some(group) && !tasks.contains(&e.task))
                        .map(|e| e.task)
                        .collect(),
                    None => Vec::new(),
                };
                // The candidates behind it were built on it: stale.
                actions.extend(
                    train[at + unit.len()..]
                        .iter()
                        .filter(|e| e.candidate.is_some())
                        .map(|e| Action::Invalidate { task: e.task }),
                );
                actions.push(Action::Bisect {
                    tasks,
                    group: candidate.commit.clone(),
                    acquitted,
                });
                break;
            }
            CandidateStatus::Failed { .. }
            | CandidateStatus::Rechecking { .. }
            | CandidateStatus::FailedTwice { .. } => {
                clear = false;
                landing = false;
            }
        }
        base = candidate.commit.clone();
        at += unit.len();
    }
    Walked {
        actions,
        landable,
        passed,
    }
}

/// The other suspects of `entry`'s group, cleared: it failed alone, so the failure is its own.
fn clear_others(train: &[&Entry], entry: &Entry) -> Option<Action> {
    let group = entry.suspect()?;
    let others: Vec<TaskId> = train
        .iter()
        .filter(|e| e.task != entry.task && e.suspect() == Some(group))
        .map(|e| e.task)
        .collect();
    (!others.is_empty()).then(|| Action::Acquit {
        tasks: others,
        group: group.clone(),
        why: Acquittal::FailedAlone,
        by: vec![entry.task],
    })
}
