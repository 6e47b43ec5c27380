//! The train as units: the tasks tested together as one candidate (a task alone, or a batch),
//! how the next one is made up, and how many units the train holds (its cap is in units: at
//! most `max_train` candidates, batches or single tasks, are in flight).

use super::Entry;
use crate::ids::TaskId;
use std::collections::BTreeSet;

/// The tasks of the train grouped as they are tested, in landing order: each group holds one
/// candidate (a task, or a batch of several); tasks without a candidate are groups of their own.
pub fn units<'a>(train: &[&'a Entry]) -> Vec<Vec<&'a Entry>> {
    let mut units = Vec::new();
    let mut at = 0;
    while at < train.len() {
        let unit = if train[at].candidate.is_some() {
            unit_at(train, at)
        } else {
            vec![train[at]]
        };
        at += unit.len().max(1);
        units.push(unit);
    }
    units
}

/// The tasks of the train tested as one candidate: the entries from `from` on that hold the
/// same candidate commit as the entry at `from`.
pub(super) fn unit_at<'a>(train: &[&'a Entry], from: usize) -> Vec<&'a Entry> {
    let commit = train[from].candidate.as_ref().map(|c| &c.commit);
    train[from..]
        .iter()
        .take_while(|e| e.candidate.as_ref().map(|c| &c.commit) == commit)
        .copied()
        .collect()
}

/// The unit holds together: one task with a candidate of its own, or exactly the tasks its
/// batch names, in that order, each holding the same candidate.
pub(super) fn whole(unit: &[&Entry]) -> bool {
    let Some(first) = unit.first().and_then(|e| e.candidate.as_ref()) else {
        return false;
    };
    if first.batch.is_empty() {
        return unit.len() == 1;
    }
    first.batch.len() == unit.len()
        && unit.iter().zip(&first.batch).all(|(e, t)| {
            e.task == *t
                && e.candidate.as_ref().is_some_and(|c| {
                    c.commit == first.commit
                        && c.tree == first.tree
                        && c.onto == first.onto
                        && c.batch == first.batch
                })
        })
}

/// The tasks of the next candidate to build, from `train[from]` (which has none) on: a suspect
/// and the first half of its group's remaining suspects (bisection); or the task and those after
/// it without a candidate, not parked, not suspects, and not waiting on a task stepped over, up
/// to `batch`.
pub(super) fn next_unit(
    train: &[&Entry],
    from: usize,
    skipped: &BTreeSet<TaskId>,
    batch: usize,
) -> Vec<TaskId> {
    let first = train[from];
    let mut tasks = vec![first.task];
    let fits = |e: &Entry| {
        e.candidate.is_none()
            && e.parked_on().is_none()
            && !e.waiting_on.iter().any(|d| skipped.contains(d))
    };
    let limit = match first.suspect() {
        Some(group) => {
            // The group failed as a whole: test its first half (speculatively, the candidates
            // behind test the halves of the rest, on top of it).
            let remaining = train[from..]
                .iter()
                .take_while(|e| e.suspect() == Some(group))
                .count();
            remaining.div_ceil(2)
        }
        None => batch,
    };
    for e in &train[from + 1..] {
        if tasks.len() >= limit || !fits(e) || e.suspect() != first.suspect() {
            break;
        }
        tasks.push(e.task);
    }
    tasks
}

/// How many candidates `n` suspects of one group are tested in, each part half of what is left
/// (`4 + 2 + 1 + 1` for eight).
fn halves(mut n: usize) -> usize {
    let mut parts = 0;
    while n > 0 {
        n -= n.div_ceil(2);
        parts += 1;
    }
    parts
}

/// How full the train is, in units: the candidates it holds, and the ones its tasks without a
/// candidate will be built into (waiting tasks by `batch`, suspects in halves, a parked task
/// alone); and how many more tasks fit in its last unit, when that is a batch still to be built
/// that a task joining now would go into.
pub(super) fn occupancy(train: &[&Entry], batch: usize) -> (usize, usize) {
    let batch = batch.max(1);
    let (mut units, mut room) = (0, 0);
    let mut at = 0;
    while at < train.len() {
        let entry = train[at];
        let run = if entry.candidate.is_some() {
            units += 1;
            room = 0;
            unit_at(train, at).len()
        } else if entry.parked_on().is_some() {
            units += 1;
            room = 0;
            1
        } else if let Some(group) = entry.suspect() {
            let run = train[at..]
                .iter()
                .take_while(|e| e.candidate.is_none() && e.suspect() == Some(group))
                .count();
            units += halves(run);
            room = 0;
            run
        } else {
            let run = train[at..]
                .iter()
                .take_while(|e| {
                    e.candidate.is_none() && e.parked_on().is_none() && e.suspect().is_none()
                })
                .count();
            units += run.div_ceil(batch);
            room = (batch - run % batch) % batch;
            run
        };
        at += run.max(1);
    }
    (units, room)
}
