//! The merge queue's planner: from the queue as it stands to what happens next. Pure, like the
//! machine; the engine builds the [`View`] from the board, carries out the [`Action`]s (each
//! per-task action is a machine [`Input`]) and asks again.
//!
//! The queue holds tasks waiting to join (`queued`) and the merge train (`merging`), ordered by
//! the position each got when it joined. Every task of the train has a candidate built on the
//! candidate of the task ahead (the first on the landing tip), so the candidates stack:
//!
//! ```text
//! tip ◀── c1 = tip + #4 ◀── c2 = c1 + #7 ◀── c3 = c2 + #2        (verified in parallel)
//! ```
//!
//! - **Ordering.** Waiting tasks join in the order a person gave them (their places, `gaffer
//!   queue move`), then by priority, then arrival; a task joins only when every task it depends
//!   on has merged or is in the train (ahead of it, since it joins at the end). A task of the
//!   train whose dependency left it goes back to waiting. The train's own order is fixed.
//! - **Candidates.** The first task without a candidate gets one built on what is ahead of it;
//!   a candidate built on something that is no longer ahead is dropped and built again.
//! - **Landing.** The longest prefix of passed candidates lands at once: the target moves to the
//!   last candidate of the prefix in one compare-and-swap, passing through every candidate of it.
//! - **Failures.** A failed candidate is only looked at once every candidate ahead passed: then
//!   the failure can only come from its own branch. It runs again on the same tree (a pass means
//!   verify is flaky, and it lands); failing twice, the branch is ejected. While it runs again,
//!   the candidates behind it are rebuilt without it and tested, so that they can land as soon as
//!   it is ejected (and are rebuilt on it if it was flaky after all). Candidates behind a failure
//!   whose predecessors have not all passed wait: their results would not say who is to blame.
//! - **Conflicts.** A branch that does not apply on what is ahead of it but applies on the tip
//!   parks until what is ahead changes (the engine decides, with git); one that does not apply on
//!   the tip goes to a resolver ([`Input::Conflict`]).
//! - **Batches.** With [`View::batch`] above 1, several consecutive tasks are tested as one
//!   candidate: one commit holding all their branches (every task of the batch holds the same
//!   [`Candidate`], naming the batch; the last, the lead, runs verify and the others take its
//!   result with [`Action::Share`]). The train is a chain of such units; everything above holds
//!   for units, and a passing batch lands as one commit on the target. A batch that fails with
//!   everything ahead passing is bisected ([`Action::Bisect`]): its tasks become suspects of
//!   the failed batch, and the suspects are tested in halves that stack (the first half on what
//!   is ahead, the first half of the rest on it, ...), never all together again (they are known
//!   to fail together). A half that passes lands; one that fails is bisected in turn; a suspect
//!   alone fails, is rechecked and is ejected exactly like a task of a plain train; the other
//!   suspects of its group are acquitted ([`Action::Acquit`]) as soon as it fails alone, and
//!   batched as usual again. A bisection that can no longer conclude (a task of the failed
//!   batch left without landing) is ended, one a crash interrupted is taken up again, and one
//!   every part of which passed ends as flaky verify (`bisect`).
//! - **Cap.** The train holds at most [`View::max_train`] units (candidates, a task or a batch,
//!   and the ones its tasks without a candidate will be built into), `units`.
//!
//! ```text
//! tip ◀── b1 = tip + #4 #7 #2 #9 (batch, failed)
//!  bisect: tip ◀── h1 = tip + #4 #7 ◀── h2 = h1 + #2 ◀── h3 = h2 + #9
//! ```

use crate::event::payload::Acquittal;
use crate::ids::{ObjectId, TaskId};
use crate::machine::{Candidate, Input, QueueSlot};
use crate::task::{Priority, Status, Task};
use serde::Serialize;
use std::collections::BTreeSet;

mod bisect;
mod units;
mod walk;

pub use units::units;
use walk::walk;

/// One task of the queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry {
    pub task: TaskId,
    pub priority: Priority,
    /// When it entered the queue (ms since the epoch); earlier joins first at equal priority.
    pub arrival: i64,
    /// Tasks it depends on that have not merged yet.
    pub waiting_on: Vec<TaskId>,
    /// Its place in the train; `None` while it waits to join.
    pub slot: Option<QueueSlot>,
    /// Where a person put it in the waiting line (lower first); placed tasks wait ahead of the
    /// others.
    pub place: Option<u32>,
    pub candidate: Option<Candidate>,
}

impl Entry {
    /// The entry of a `queued` or `merging` task (`None` for any other status). A waiting task
    /// entered the queue when it was last written (nothing writes a `queued` task but the
    /// transition that queued it), or when its place says, once a person placed it.
    pub fn of(task: &Task, waiting_on: Vec<TaskId>) -> Option<Entry> {
        let place = task.state.place.as_ref();
        let (slot, arrival) = match task.status() {
            Status::Queued => (None, place.map_or(task.updated_ms, |p| p.since_ms)),
            Status::Merging => {
                let slot = task.state.queue.clone()?;
                let since = slot.since_ms;
                (Some(slot), since)
            }
            _ => return None,
        };
        Some(Entry {
            task: task.id,
            priority: task.priority,
            arrival,
            waiting_on,
            slot,
            place: place.map(|p| p.rank),
            candidate: if task.status() == Status::Merging {
                task.state.candidate.clone()
            } else {
                None
            },
        })
    }

    pub fn in_train(&self) -> bool {
        self.slot.is_some()
    }

    fn position(&self) -> u64 {
        self.slot.as_ref().map_or(u64::MAX, |s| s.position)
    }

    fn parked_on(&self) -> Option<&ObjectId> {
        self.slot.as_ref().and_then(|s| s.parked_on.as_ref())
    }

    /// The failed batch it is a suspect of, while the queue bisects it.
    pub fn suspect(&self) -> Option<&ObjectId> {
        self.slot.as_ref().and_then(|s| s.suspect.as_ref())
    }

    /// The tasks of the failed batch it is a suspect of, in train order (empty when it is none,
    /// or for a suspect recorded before gaffer kept them).
    pub fn group(&self) -> &[TaskId] {
        self.slot.as_ref().map_or(&[], |s| s.group.as_slice())
    }
}

/// The queue as the planner sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct View {
    /// What the first candidate builds on: the landing tip.
    pub tip: ObjectId,
    /// Waiting and train entries, in any order.
    pub entries: Vec<Entry>,
    /// The most candidates in the train at once, batches or single tasks (at least 1; 1 is a
    /// serial queue). Tasks join while the train holds fewer units (counting the units its tasks
    /// without a candidate will be built into), and no candidate is built beyond it.
    pub max_train: usize,
    /// The most tasks tested together as one candidate (a batch) now, at least 1 (1: one
    /// candidate per task). The engine decides it (`queue.batch`, fixed or from the host's
    /// heavy slots, the queue's length and its recent failures).
    pub batch: usize,
    /// Tasks of the failed batches being bisected ([`QueueSlot::group`]) that have landed:
    /// the one way a suspect leaves its group without ending the bisection.
    pub landed: BTreeSet<TaskId>,
}

/// A landing: the target moves from `onto` to `commit` (whose tree is `tree`) in one
/// compare-and-swap, and each task of `tasks` (in train order, with its own candidate commit and
/// tree) is recorded as landed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Landing {
    pub onto: ObjectId,
    pub commit: ObjectId,
    pub tree: ObjectId,
    pub tasks: Vec<LandedTask>,
}

/// One task of a [`Landing`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LandedTask {
    pub task: TaskId,
    pub commit: ObjectId,
    pub tree: ObjectId,
}

impl LandedTask {
    /// What the machine hears when the landing happened.
    pub fn input(&self) -> Input {
        Input::Landed {
            commit: self.commit.clone(),
            tree: self.tree.clone(),
        }
    }
}

/// What the queue does next.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Action {
    /// A waiting task joins the end of the train.
    Join {
        task: TaskId,
        position: u64,
        since_ms: i64,
    },
    /// A task of the train whose dependency is no longer ahead of it waits again.
    Requeue { task: TaskId },
    /// The candidate was built on something no longer ahead of it: drop it.
    Invalidate { task: TaskId },
    /// Build the candidate of `tasks` (one task, or a batch: their branches applied in order)
    /// on `onto` (the tip or the candidate ahead); the engine reports [`Input::CandidateReady`],
    /// [`Input::Park`] or [`Input::Conflict`] for one task, and for a batch
    /// [`Input::BatchReady`] to each task it could apply (it stops before the first branch that
    /// does not apply on the ones before it, which is then built alone, next).
    Build { tasks: Vec<TaskId>, onto: ObjectId },
    /// The batch's lead passed verify: the other tasks of the batch take the result (the tree
    /// is theirs too).
    Share {
        task: TaskId,
        commit: ObjectId,
        tree: ObjectId,
    },
    /// The batch `tasks` failed verify with every candidate ahead passing: the guilty branch is
    /// among them. Each drops the candidate and becomes a suspect of `group` (the batch's
    /// commit); the queue then tests the suspects in halves. `acquitted` are the other suspects
    /// of the group the batch was a half of: the failure is explained within the batch.
    Bisect {
        tasks: Vec<TaskId>,
        group: ObjectId,
        acquitted: Vec<TaskId>,
    },
    /// The suspects `tasks` of `group` are cleared, tested and batched as usual again: the
    /// failure is another's, or can no longer be found among them (`why`, about the tasks `by`).
    Acquit {
        tasks: Vec<TaskId>,
        group: ObjectId,
        why: Acquittal,
        by: Vec<TaskId>,
    },
    /// Verify the failed candidate again before blaming its branch.
    Recheck { task: TaskId },
    /// The candidate failed twice with everything ahead passing: the branch leaves the queue.
    Eject { task: TaskId },
    /// Land the longest passing prefix.
    Land(Landing),
}

impl Action {
    /// The machine inputs the action is made of, one per task, in order: empty for builds (the
    /// engine finds out with git what to say) and landings (recorded once the target moved).
    pub fn inputs(&self) -> Vec<(TaskId, Input)> {
        match self {
            Action::Bisect {
                tasks,
                group,
                acquitted,
            } => tasks
                .iter()
                .map(|t| {
                    (
                        *t,
                        Input::Bisect {
                            group: group.clone(),
                            tasks: tasks.clone(),
                        },
                    )
                })
                // Cleared of the group the bisected part belongs to: theirs.
                .chain(acquitted.iter().map(|t| {
                    (
                        *t,
                        Input::Acquit {
                            group: None,
                            flaky: false,
                        },
                    )
                }))
                .collect(),
            Action::Acquit {
                tasks, why, group, ..
            } => {
                let flaky = *why == Acquittal::NotReproduced;
                tasks
                    .iter()
                    .map(|t| {
                        (
                            *t,
                            Input::Acquit {
                                group: Some(group.clone()),
                                flaky,
                            },
                        )
                    })
                    .collect()
            }
            other => other.input().into_iter().collect(),
        }
    }

    /// The machine input of a per-task action; `None` for builds (the engine finds out with git
    /// what to say), landings (they concern several tasks) and the actions on several tasks
    /// ([`Action::inputs`]).
    pub fn input(&self) -> Option<(TaskId, Input)> {
        match self {
            Action::Join {
                task,
                position,
                since_ms,
            } => Some((
                *task,
                Input::BeginMerge {
                    position: *position,
                    since_ms: *since_ms,
                },
            )),
            Action::Requeue { task } => Some((*task, Input::Requeue)),
            Action::Invalidate { task } => Some((*task, Input::TargetMoved)),
            Action::Recheck { task } => Some((*task, Input::Recheck)),
            Action::Eject { task } => Some((*task, Input::Eject)),
            Action::Share { task, commit, tree } => Some((
                *task,
                Input::VerifyFinished {
                    commit: commit.clone(),
                    tree: tree.clone(),
                    passed: true,
                    summary: String::new(),
                    conflicts: Vec::new(),
                },
            )),
            Action::Build { .. }
            | Action::Land(_)
            | Action::Bisect { .. }
            | Action::Acquit { .. } => None,
        }
    }

    /// The task a per-task action is about.
    pub fn task(&self) -> Option<TaskId> {
        match self {
            Action::Join { task, .. }
            | Action::Requeue { task }
            | Action::Invalidate { task }
            | Action::Recheck { task }
            | Action::Share { task, .. }
            | Action::Eject { task } => Some(*task),
            Action::Build { tasks, .. } | Action::Bisect { tasks, .. } => tasks.first().copied(),
            Action::Land(_) | Action::Acquit { .. } => None,
        }
    }
}

/// The train, in landing order.
pub fn train(view: &View) -> Vec<&Entry> {
    let mut train: Vec<&Entry> = view.entries.iter().filter(|e| e.in_train()).collect();
    train.sort_by_key(|e| (e.position(), e.task));
    train
}

/// The waiting tasks, in the order they would join if nothing held them back: those a person
/// placed, by place; then priority (higher first), then arrival, then id.
pub fn waiting(view: &View) -> Vec<&Entry> {
    let mut waiting: Vec<&Entry> = view.entries.iter().filter(|e| !e.in_train()).collect();
    waiting.sort_by_key(|e| {
        (
            e.place.unwrap_or(u32::MAX),
            std::cmp::Reverse(e.priority),
            e.arrival,
            e.task,
        )
    });
    waiting
}

/// The longest prefix of `train` (in order) whose candidates passed and stack on `tip`: what can
/// land now. Parked tasks are stepped over; they are not part of any candidate.
pub fn passed_prefix<'a>(
    tip: &ObjectId,
    train: &[&'a Entry],
    batch: usize,
    max_train: usize,
) -> Vec<&'a Entry> {
    walk(tip, train, batch, max_train).landable
}

/// Everything that should happen now, in order. Per-task actions come first; a [`Action::Land`]
/// comes last and only for the prefix that passed. At most one candidate is asked to be built
/// (the next needs its commit): the engine carries out the actions and asks again until only a
/// landing, or nothing, is left.
pub fn plan(view: &View) -> Vec<Action> {
    let mut actions = Vec::new();

    // A task never lands before what it depends on: it stays in the train only behind it.
    let mut ahead: BTreeSet<TaskId> = BTreeSet::new();
    let mut kept: Vec<&Entry> = Vec::new();
    let mut last_position = 0;
    for entry in train(view) {
        last_position = last_position.max(entry.position());
        if entry.waiting_on.iter().all(|d| ahead.contains(d)) {
            ahead.insert(entry.task);
            kept.push(entry);
        } else {
            actions.push(Action::Requeue { task: entry.task });
        }
    }

    // A bisection that can no longer conclude is ended, one interrupted is taken up again,
    // before anything is built on what they leave.
    let settled = bisect::settle(view, &kept);
    if !settled.is_empty() {
        actions.extend(settled);
        return actions;
    }

    let batch = view.batch.max(1);
    let walked = walk(&view.tip, &kept, batch, view.max_train);
    actions.extend(walked.actions);
    actions.extend(bisect::not_reproduced(view, &kept, &walked.passed));

    // Join while the train has room, by priority then arrival, dependencies first. The room is
    // in units: a task joins the batch still to be built at the end of the train while it has
    // room, or starts a unit of its own while the train has fewer than `max_train`.
    let (mut held, mut room) = units::occupancy(&kept, batch);
    let mut waiting = waiting(view);
    loop {
        if room > 0 {
            room -= 1;
        } else if held < view.max_train.max(1) {
            held += 1;
            room = batch - 1;
        } else {
            break;
        }
        let Some(i) = waiting
            .iter()
            .position(|w| w.waiting_on.iter().all(|d| ahead.contains(d)))
        else {
            break;
        };
        let entry = waiting.remove(i);
        last_position += 1;
        actions.push(Action::Join {
            task: entry.task,
            position: last_position,
            since_ms: entry.arrival,
        });
        ahead.insert(entry.task);
    }

    if let Some(last) = walked.landable.last().and_then(|e| e.candidate.as_ref()) {
        actions.push(Action::Land(Landing {
            onto: view.tip.clone(),
            commit: last.commit.clone(),
            tree: last.tree.clone(),
            tasks: walked
                .landable
                .iter()
                .filter_map(|e| {
                    e.candidate.as_ref().map(|c| LandedTask {
                        task: e.task,
                        commit: c.commit.clone(),
                        tree: c.tree.clone(),
                    })
                })
                .collect(),
        }));
    }
    actions
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_views;
