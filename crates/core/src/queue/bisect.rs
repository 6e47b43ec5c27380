//! Bisections that can no longer conclude, or were interrupted.
//!
//! The suspects of a failed batch (its *group*) are known to hold a failure only while every
//! task of the batch is still a suspect or has landed (a part that passed lands at once). One
//! that left otherwise (cancelled, sent to a resolver, back to waiting, ejected, or cleared while
//! the rest were not, by a crash) may have been the guilty one: nothing is known of the others
//! any more, and they are cleared, to be batched as usual again. Unless one of them failed
//! alone: the bisection is concluding on it, and the walk clears the rest itself.
//!
//! A failed batch is recorded one task at a time, its lead last (it carries the event): a crash
//! in between leaves some tasks suspects and others still holding the failed batch as their
//! candidate. The bisection is then taken up again ([`Action::Bisect`] once more).
//!
//! Each group is read from its suspects alone ([`super::Entry::group`], what the machine
//! recorded), so that this holds after any crash: nothing else is needed.

use super::{Action, Entry, View};
use crate::event::payload::Acquittal;
use crate::ids::{ObjectId, TaskId};
use crate::machine::{Candidate, CandidateStatus};
use std::collections::BTreeSet;

/// The suspects of one failed batch in the train, in train order, and the batch's tasks.
struct Group<'a> {
    commit: &'a ObjectId,
    suspects: Vec<&'a Entry>,
    members: &'a [TaskId],
}

fn groups<'a>(train: &[&'a Entry]) -> Vec<Group<'a>> {
    let mut groups: Vec<Group<'a>> = Vec::new();
    for entry in train {
        let Some(commit) = entry.suspect() else {
            continue;
        };
        match groups.iter_mut().find(|g| g.commit == commit) {
            Some(group) => {
                group.suspects.push(entry);
                if group.members.is_empty() {
                    group.members = entry.group();
                }
            }
            None => groups.push(Group {
                commit,
                suspects: vec![entry],
                members: entry.group(),
            }),
        }
    }
    groups
}

/// The bisection concludes on a suspect of the group that failed alone (or failed alone and
/// passed when run again): the walk rechecks it, ejects it or lands it, and clears the others.
fn concluding(group: &Group<'_>) -> bool {
    group
        .suspects
        .iter()
        .any(|e| e.candidate.as_ref().is_some_and(concludes))
}

/// Whether a suspect holding `candidate` concludes its bisection: tested alone, it failed (or
/// failed and passed when run again).
pub(super) fn concludes(candidate: &Candidate) -> bool {
    candidate.batch.is_empty()
        && match candidate.status {
            CandidateStatus::Failed { .. }
            | CandidateStatus::Rechecking { .. }
            | CandidateStatus::FailedTwice { .. } => true,
            CandidateStatus::Passed => candidate.flaky,
            CandidateStatus::Pending => false,
        }
}

/// What the bisections in `train` need before anything else: each group recorded only in part
/// is bisected again, each that can no longer conclude is cleared. Empty when they are sound.
pub(super) fn settle(view: &View, train: &[&Entry]) -> Vec<Action> {
    let mut bisects = Vec::new();
    let mut acquits = Vec::new();
    let groups = groups(train);
    for group in &groups {
        let is_suspect = |t: &TaskId| group.suspects.iter().any(|e| e.task == *t);
        let in_train = |t: &TaskId| train.iter().find(|e| e.task == *t);
        // Still holding the failed batch: its failure was being recorded when the engine
        // stopped. Taken up again while every task of the batch is there to be.
        let holds_batch = |t: &TaskId| {
            in_train(t)
                .and_then(|e| e.candidate.as_ref())
                .is_some_and(|c| &c.commit == group.commit)
        };
        let interrupted = group.members.iter().any(holds_batch);
        if interrupted
            && group
                .members
                .iter()
                .all(|t| is_suspect(t) || holds_batch(t))
        {
            bisects.push(Action::Bisect {
                tasks: group.members.to_vec(),
                group: group.commit.clone(),
                acquitted: Vec::new(),
            });
            continue;
        }
        let Some(gone) = group
            .members
            .iter()
            .find(|t| !is_suspect(t) && !view.landed.contains(t))
        else {
            continue;
        };
        if concluding(group) {
            continue;
        }
        // It may be a suspect of a part of this group that failed (a crash before the rest
        // was cleared): the failure is within that part.
        let part = in_train(gone)
            .and_then(|e| e.suspect())
            .and_then(|c| groups.iter().find(|g| g.commit == c));
        let (why, by) = match part {
            Some(part) => (
                Acquittal::Within,
                part.suspects.iter().map(|e| e.task).collect(),
            ),
            None => (Acquittal::Left, vec![*gone]),
        };
        acquits.push(Action::Acquit {
            tasks: group.suspects.iter().map(|e| e.task).collect(),
            group: group.commit.clone(),
            why,
            by,
        });
    }
    // A task bisected again here becomes a suspect of that part: it is not cleared of the
    // group it was a suspect of before (read from the same view), or it would lose the part.
    let bisected: BTreeSet<TaskId> = bisects
        .iter()
        .filter_map(|a| match a {
            Action::Bisect { tasks, .. } => Some(tasks.iter().copied()),
            _ => None,
        })
        .flatten()
        .collect();
    for acquit in &mut acquits {
        if let Action::Acquit { tasks, .. } = acquit {
            tasks.retain(|t| !bisected.contains(t));
        }
    }
    acquits.retain(|a| !matches!(a, Action::Acquit { tasks, .. } if tasks.is_empty()));
    bisects.extend(acquits);
    bisects
}

/// The groups every part of which passed (each suspect left holds a candidate that passed with
/// everything ahead passing, every other task of the batch landed): the failure did not
/// reproduce. Verify is flaky, as when a candidate fails and passes when run again; nobody is
/// blamed, and the suspects are cleared as such.
pub(super) fn not_reproduced(
    view: &View,
    train: &[&Entry],
    passed: &BTreeSet<TaskId>,
) -> Vec<Action> {
    groups(train)
        .into_iter()
        .filter(|g| {
            !g.members.is_empty()
                && g.members
                    .iter()
                    .all(|t| view.landed.contains(t) || g.suspects.iter().any(|e| e.task == *t))
                && g.suspects.iter().all(|e| passed.contains(&e.task))
                // One that failed alone and passed when run again is recorded flaky already.
                && !concluding(g)
        })
        .map(|g| Action::Acquit {
            tasks: g.suspects.iter().map(|e| e.task).collect(),
            group: g.commit.clone(),
            why: Acquittal::NotReproduced,
            by: Vec::new(),
        })
        .collect()
}
