//! The merge queue, the engine's side of [`gaffer_core::queue`]: each round reads the queue from
//! the board, asks the planner what to do, and does it: per-task actions become machine inputs
//! through [`apply`] (with their `queue.*` events, in the same transaction), candidates are built
//! with git in the object store, and a passing prefix becomes one `land` job. Then it asks again,
//! until only a landing (or nothing) is left.
//!
//! A round holds no state of its own: everything it decides from is on the board (task states,
//! the `land` job, the landing ref), so a crash at any point leaves nothing to repair. While a
//! `land` job is queued or running the queue does not move: the job finds the train exactly as
//! it was planned, even after a restart.

use crate::apply::{Extra, apply};
use crate::board::Board;
use crate::error::{EngineError, Result};
use crate::jobs::merge::{Built, build, build_batch};
use crate::jobs::{object_id, oid};
use gaffer_config::RecentOutcomes;
use gaffer_core::queue::{self, Action, Entry, View};
use gaffer_core::{Input, JobSpec, JobStatus, NewEvent, NewJob, ObjectId, Status, Task, TaskId};
use gaffer_core::{
    Payload,
    payload::{
        QueueAcquitted, QueueBatchFailed, QueueBatchFormed, QueueBisecting, QueueCandidate,
        QueueEjected, QueueFlaky, QueueGuilty, QueueInvalidated, QueueJoined, QueueLanding,
        QueueParked, QueueRecheck,
    },
};
use gaffer_core::{Seq, event_kind};
use gaffer_store::{Commit, EventFilter, JobFilter};
use std::collections::{BTreeSet, HashMap, VecDeque};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How long the queue waits before trying again after a landing failed (a diverged remote, say).
const LAND_RETRY_AFTER: Duration = Duration::from_secs(30);

/// What a round did that the engine follows up.
#[derive(Debug, Default)]
pub(crate) struct Round {
    /// Tasks whose running work the machine cancelled (stale candidates being verified).
    pub stopped: Vec<TaskId>,
    /// A landing was started.
    pub landing: bool,
    /// The round stopped after building a candidate, so that its verify can be claimed at
    /// once: the engine runs another round right away.
    pub more: bool,
}

/// One round of the queue. Blocking (git, store): run it off the async workers.
pub(crate) fn round(board: &Board) -> Result<Round> {
    let mut round = Round::default();
    // Nothing queued: nothing to plan (and no git to run every tick).
    if board.tasks(&[Status::Queued, Status::Merging])?.is_empty() {
        return Ok(round);
    }
    // A shared board: the branches, candidates and target as the remote has them now.
    crate::remote_sync::fetch(board)?;
    let limit = 4 * board.settings.queue.max_candidates + 16;
    for _ in 0..limit {
        if landing_in_flight(board)? {
            return Ok(round);
        }
        let (view, tasks) = view(board)?;
        let actions = queue::plan(&view);
        let mut acted = false;
        let mut landing = None;
        for action in actions {
            match action {
                Action::Land(l) => landing = Some(l),
                Action::Build { tasks: unit, onto } => {
                    if build_unit(board, &view, &tasks, &unit, &onto)? {
                        // The candidate's verify may start while the ones behind it are built
                        // (a bisection's parts, a rebuilt train): hand it over now.
                        round.more = true;
                        return Ok(round);
                    }
                }
                other => {
                    act(board, &other, &tasks, &mut round)?;
                    acted = true;
                }
            }
        }
        if !acted {
            if let Some(landing) = landing
                && !landing_failed_lately(board)?
            {
                start_landing(board, &landing)?;
                round.landing = true;
            }
            return Ok(round);
        }
    }
    tracing::warn!("the merge queue did not settle within one round");
    Ok(round)
}

/// The queue as the planner sees it, and its tasks by id.
pub(crate) fn view(board: &Board) -> Result<(View, HashMap<TaskId, Task>)> {
    let tasks = board.tasks(&[Status::Queued, Status::Merging])?;
    let (tip, _) = board.landing()?.base(board)?;
    let mut merged: HashMap<TaskId, bool> = HashMap::new();
    let mut entries = Vec::with_capacity(tasks.len());
    for task in &tasks {
        let mut waiting_on = Vec::new();
        for dep in &task.blocked_by {
            let is_merged = match merged.get(dep) {
                Some(m) => *m,
                None => {
                    // A dependency that no longer exists holds nothing back.
                    let m = board
                        .store
                        .task(*dep)
                        .map_or(true, |t| t.status() == Status::Merged);
                    merged.insert(*dep, m);
                    m
                }
            };
            if !is_merged {
                waiting_on.push(*dep);
            }
        }
        entries.extend(Entry::of(task, waiting_on));
    }
    // The tasks of the batches being bisected that left the queue by landing.
    let mut landed = BTreeSet::new();
    for entry in &entries {
        for member in entry.group() {
            if landed.contains(member) || entries.iter().any(|e| e.task == *member) {
                continue;
            }
            if board
                .store
                .task(*member)
                .is_ok_and(|t| t.status() == Status::Merged)
            {
                landed.insert(*member);
            }
        }
    }
    let batch = board.settings.queue.batch.size(
        entries.len(),
        board.settings.host.heavy_slots,
        recent_outcomes(board)?,
    );
    let view = View {
        tip: object_id(&tip),
        entries,
        max_train: board.settings.queue.max_candidates.max(1),
        batch,
        landed,
    };
    Ok((view, tasks.into_iter().map(|t| (t.id, t)).collect()))
}

/// The tasks whose candidates lie under `onto` (a candidate's base): the chain of candidates
/// down to the tip, in train order. A task stepped over (parked, or suspected while its failure
/// is checked again) is not in it.
pub(crate) fn under(view: &View, onto: &ObjectId) -> Vec<TaskId> {
    // A batch's tasks share one candidate commit: the batch, in its order.
    let by_commit: HashMap<&ObjectId, (Vec<TaskId>, &ObjectId)> = view
        .entries
        .iter()
        .filter_map(|e| {
            e.candidate.as_ref().map(|c| {
                let tasks = if c.batch.is_empty() {
                    vec![e.task]
                } else {
                    c.batch.clone()
                };
                (&c.commit, (tasks, &c.onto))
            })
        })
        .collect();
    let mut chain = Vec::new();
    let mut at = onto;
    while let Some((tasks, below)) = by_commit.get(at) {
        chain.extend(tasks.iter().rev());
        at = below;
        if chain.len() > view.entries.len() {
            break;
        }
    }
    chain.reverse();
    chain
}

/// How the merge queue's recent branches ended, newest last: `true` for a branch ejected
/// because its verify failed, `false` for one that landed. Read from the event log as it grows
/// (a daemon that starts reads it from the beginning once).
#[derive(Debug)]
pub(crate) struct Outcomes {
    after: Seq,
    recent: VecDeque<bool>,
}

impl Default for Outcomes {
    fn default() -> Self {
        Outcomes {
            after: Seq(0),
            recent: VecDeque::new(),
        }
    }
}

/// How many recent outcomes the failure rate is taken over.
const RECENT_OUTCOMES: usize = 24;

/// How the queue's recent branches ended (the last [`RECENT_OUTCOMES`]), from which
/// `queue.batch = "auto"` estimates its failure rate; only read then.
fn recent_outcomes(board: &Board) -> Result<RecentOutcomes> {
    if board.settings.queue.batch != gaffer_config::QueueBatch::Auto {
        return Ok(RecentOutcomes::default());
    }
    let Ok(mut outcomes) = board.queue_outcomes.lock() else {
        // No history to read: the prior alone.
        return Ok(RecentOutcomes::default());
    };
    let filter = EventFilter {
        project: Some(board.project.id),
        kind_prefix: Some("queue.".into()),
        ..EventFilter::default()
    };
    loop {
        let events = board.store.events_after(outcomes.after, 10_000, &filter)?;
        let Some(last) = events.last() else {
            break;
        };
        outcomes.after = last.seq;
        let full = events.len() >= 10_000;
        for event in &events {
            let failed = match event.kind.as_str() {
                event_kind::QUEUE_LANDED => false,
                event_kind::QUEUE_EJECTED => match event.payload() {
                    Ok(Payload::QueueEjected(QueueEjected::VerifyFailed { .. })) => true,
                    _ => continue,
                },
                _ => continue,
            };
            outcomes.recent.push_back(failed);
            if outcomes.recent.len() > RECENT_OUTCOMES {
                outcomes.recent.pop_front();
            }
        }
        if !full {
            break;
        }
    }
    Ok(RecentOutcomes {
        ended: outcomes.recent.len(),
        failed: outcomes.recent.iter().filter(|f| **f).count(),
    })
}

fn act(
    board: &Board,
    action: &Action,
    tasks: &HashMap<TaskId, Task>,
    round: &mut Round,
) -> Result<()> {
    match action {
        Action::Bisect {
            tasks: batch,
            group,
            acquitted,
        } => {
            // The lead (the last task, which ran verify) tells what failed.
            let lead = batch.last().and_then(|id| tasks.get(id));
            let candidate = lead.and_then(|t| t.state.candidate.as_ref());
            let summary = match candidate.map(|c| &c.status) {
                Some(
                    gaffer_core::CandidateStatus::Failed { summary }
                    | gaffer_core::CandidateStatus::FailedTwice { summary }
                    | gaffer_core::CandidateStatus::Rechecking { summary },
                ) => summary.clone(),
                _ => String::new(),
            };
            let failed = NewEvent::of(Payload::QueueBatchFailed(QueueBatchFailed {
                commit: group.clone(),
                tree: candidate.map_or_else(|| group.clone(), |c| c.tree.clone()),
                tasks: batch.clone(),
                acquitted: acquitted.clone(),
                summary,
            }));
            // The others first, the lead last, with the event: a crash in between leaves
            // suspects beside tasks still holding the failed batch, and the planner bisects it
            // again. The suspects of the group it was a part of are cleared afterwards.
            let inputs = action.inputs();
            let last = batch.last().copied();
            for (id, input) in inputs {
                let events = match &input {
                    Input::Bisect { .. } if Some(id) == last => vec![failed.clone()],
                    Input::Acquit { .. } => tasks
                        .get(&id)
                        .and_then(|t| t.state.queue.as_ref())
                        .and_then(|q| q.suspect.clone())
                        .map(|was| {
                            acquitted_event(was, gaffer_core::payload::Acquittal::Within, batch)
                        })
                        .into_iter()
                        .collect(),
                    _ => vec![],
                };
                record(board, id, &input, events, round)?;
            }
            return Ok(());
        }
        Action::Acquit {
            tasks: cleared,
            group,
            why,
            by,
        } => {
            for (id, input) in action.inputs() {
                let mut events = vec![acquitted_event(group.clone(), *why, by)];
                // A failure that did not reproduce is flaky verify, said once, by the last.
                if *why == gaffer_core::payload::Acquittal::NotReproduced
                    && cleared.last() == Some(&id)
                {
                    events.extend(not_reproduced_event(group, tasks.get(&id)));
                }
                record(board, id, &input, events, round)?;
            }
            return Ok(());
        }
        _ => {}
    }
    let Some((id, input)) = action.input() else {
        return Ok(());
    };
    let Some(task) = tasks.get(&id) else {
        return Ok(());
    };
    let candidate = task.state.candidate.as_ref();
    let mut events = Vec::new();
    let payload = match action {
        Action::Join {
            position, since_ms, ..
        } => Payload::QueueJoined(QueueJoined {
            position: *position,
            priority: task.priority,
            since_ms: *since_ms,
        }),
        Action::Requeue { .. } => Payload::QueueEjected(QueueEjected::Dependency {
            detail: "a task it depends on left the train ahead of it; it waits again".into(),
        }),
        Action::Invalidate { .. } => Payload::QueueInvalidated(QueueInvalidated {
            commit: candidate.map(|c| c.commit.clone()),
            onto: candidate.map(|c| c.onto.clone()),
            reason: "what it was built on is no longer ahead of it".into(),
        }),
        Action::Recheck { .. } => Payload::QueueRecheck(QueueRecheck {
            commit: candidate.map(|c| c.commit.clone()),
        }),
        Action::Eject { .. } => {
            let summary = match candidate.map(|c| &c.status) {
                Some(gaffer_core::CandidateStatus::FailedTwice { summary }) => summary.clone(),
                _ => String::new(),
            };
            events.extend(guilty_event(board, task, tasks));
            Payload::QueueEjected(QueueEjected::VerifyFailed {
                commit: candidate.map(|c| c.commit.clone()),
                tree: candidate.map(|c| c.tree.clone()),
                detail: "verify failed twice on its candidate while every candidate ahead \
                         passed; back to its coder"
                    .into(),
                summary,
            })
        }
        // A batch's other tasks take its lead's result: the lead's events say it.
        Action::Share { .. } => return record(board, id, &input, vec![], round),
        Action::Build { .. } | Action::Land(_) | Action::Bisect { .. } | Action::Acquit { .. } => {
            return Ok(());
        }
    };
    events.insert(0, NewEvent::of(payload));
    record(board, id, &input, events, round)
}

/// `queue.acquitted` for a suspect of `group` cleared because of `by`.
fn acquitted_event(
    group: ObjectId,
    reason: gaffer_core::payload::Acquittal,
    by: &[TaskId],
) -> NewEvent {
    NewEvent::of(Payload::QueueAcquitted(QueueAcquitted {
        group,
        reason,
        by: by.to_vec(),
    }))
}

/// `queue.flaky` for the bisection of failed batch `group`, every part of which passed: the
/// candidate of `last`, its last suspect, holds all of them.
fn not_reproduced_event(group: &ObjectId, last: Option<&Task>) -> Option<NewEvent> {
    let candidate = last?.state.candidate.as_ref()?;
    Some(NewEvent::of(Payload::QueueFlaky(QueueFlaky {
        commit: candidate.commit.clone(),
        tree: candidate.tree.clone(),
        detail: format!(
            "batch {} failed verify, but every part of it passed when bisected: flaky; nobody \
             is blamed",
            group.short()
        ),
    })))
}

/// `queue.guilty` for `task`, ejected while a suspect: the other tasks of its group (the failed
/// part it was found in) are the ones it clears, in train order, but for those that landed
/// already (a part that passed). A suspect recorded before gaffer kept its group names the
/// other suspects of it still in the train.
fn guilty_event(board: &Board, task: &Task, tasks: &HashMap<TaskId, Task>) -> Option<NewEvent> {
    let slot = task.state.queue.as_ref()?;
    let group = slot.suspect.clone()?;
    let acquitted = if slot.group.is_empty() {
        let mut others: Vec<(u64, TaskId)> = tasks
            .values()
            .filter_map(|t| {
                let q = t.state.queue.as_ref()?;
                (t.id != task.id && q.suspect.as_ref() == Some(&group))
                    .then_some((q.position, t.id))
            })
            .collect();
        others.sort();
        others.into_iter().map(|(_, id)| id).collect()
    } else {
        // `tasks` holds those in the queue: one that is not may have landed.
        let landed = |t: &TaskId| {
            !tasks.contains_key(t)
                && board
                    .store
                    .task(*t)
                    .is_ok_and(|t| t.status() == Status::Merged)
        };
        slot.group
            .iter()
            .filter(|t| **t != task.id && !landed(t))
            .copied()
            .collect()
    };
    Some(NewEvent::of(Payload::QueueGuilty(QueueGuilty {
        group,
        commit: task.state.candidate.as_ref().map(|c| c.commit.clone()),
        acquitted,
    })))
}

/// Applies `input` to task `id` with `event`; a refusal (the task changed meanwhile, say, a
/// person cancelled it) is not an error: the next plan sees the change.
fn record(
    board: &Board,
    id: TaskId,
    input: &Input,
    events: Vec<NewEvent>,
    round: &mut Round,
) -> Result<()> {
    let extra = Extra {
        events,
        ..Extra::default()
    };
    match apply(board, id, input, extra) {
        Ok(applied) => {
            if applied.cancels_jobs() {
                round.stopped.push(id);
            }
            Ok(())
        }
        Err(EngineError::Transition { source, .. }) => {
            tracing::debug!(task = %id, "queue input {} refused: {source}", input.name());
            Ok(())
        }
        Err(e) => Err(e),
    }
}

/// Builds `task`'s candidate on `onto` and records it; `false` when it could not be tried yet
/// (a shared board whose remote does not have the commits yet).
fn build_candidate(board: &Board, view: &View, task: &Task, onto: &ObjectId) -> Result<bool> {
    if !crate::remote_sync::has_commits(board, &[task.state.head.as_ref(), Some(onto)])? {
        tracing::info!(task = %task.id, "its commits are not here yet; building later");
        return Ok(false);
    }
    let strategy = board.settings.queue.strategy;
    let ahead = under(view, onto);
    let built = oid(onto).and_then(|base| build(board, task, &base, &oid(&view.tip)?, strategy));
    let mut round = Round::default();
    let (input, event) = match built {
        Ok(Built::Ready { commit, tree }) => {
            // Whoever verifies or lands it may be another daemon: it must be on the remote
            // before the board names it.
            crate::remote_sync::publish_candidate(board, task.id, &commit)?;
            let verified_already = board.limits.skip_identical_candidates
                && task
                    .state
                    .verified
                    .as_ref()
                    .is_some_and(|v| v.tree.as_str() == tree.as_str());
            (
                Input::CandidateReady {
                    commit: object_id(&commit),
                    tree: object_id(&tree),
                    onto: onto.clone(),
                },
                NewEvent::of(Payload::QueueCandidate(QueueCandidate {
                    commit: object_id(&commit),
                    tree: object_id(&tree),
                    onto: onto.clone(),
                    position: task.state.queue.as_ref().map(|q| q.position),
                    ahead,
                    strategy: strategy.as_str().to_string(),
                    verified_already,
                })),
            )
        }
        Ok(Built::Park { files }) => (
            Input::Park {
                onto: onto.clone(),
                files: files.clone(),
            },
            NewEvent::of(Payload::QueueParked(QueueParked {
                onto: onto.clone(),
                files,
                ahead,
            })),
        ),
        Ok(Built::Conflict { files }) => (
            Input::Conflict {
                files: files.clone(),
            },
            NewEvent::of(Payload::QueueEjected(QueueEjected::Conflict {
                files,
                onto: view.tip.clone(),
                detail: "the branch no longer applies on the target; a resolver merges the \
                         target into it"
                    .into(),
            })),
        ),
        Err(EngineError::Git(e)) => {
            // The branch cannot be applied at all (unrelated histories, a missing object):
            // nothing the queue can do about it.
            let reason = format!("could not apply the branch on the target: {e}");
            (
                Input::Fail {
                    reason: reason.clone(),
                },
                NewEvent::of(Payload::QueueEjected(QueueEjected::Error {
                    detail: reason,
                })),
            )
        }
        Err(e) => return Err(e),
    };
    let mut events = vec![event];
    if let Some(group) = task.state.queue.as_ref().and_then(|q| q.suspect.clone()) {
        events.push(bisecting(view, group, &[task.id], &input));
    }
    record(board, task.id, &input, events, &mut round)?;
    Ok(true)
}

/// `queue.bisecting`: the part of a failed batch now tested (`tasks`) and its suspects behind.
fn bisecting(view: &View, group: ObjectId, tasks: &[TaskId], input: &Input) -> NewEvent {
    let commit = match input {
        Input::CandidateReady { commit, .. } | Input::BatchReady { commit, .. } => commit.clone(),
        _ => group.clone(),
    };
    let rest = queue::train(view)
        .into_iter()
        .filter(|e| e.suspect() == Some(&group) && !tasks.contains(&e.task))
        .map(|e| e.task)
        .collect();
    NewEvent::of(Payload::QueueBisecting(QueueBisecting {
        group,
        commit,
        tasks: tasks.to_vec(),
        rest,
    }))
}

/// Builds the candidate of `unit` (one task, or a batch) on `onto` and records it; `false`
/// when it could not be tried yet (a shared board whose remote does not have the commits yet).
fn build_unit(
    board: &Board,
    view: &View,
    tasks: &HashMap<TaskId, Task>,
    unit: &[TaskId],
    onto: &ObjectId,
) -> Result<bool> {
    let members: Vec<&Task> = unit.iter().filter_map(|id| tasks.get(id)).collect();
    let Some(first) = members.first() else {
        return Ok(false);
    };
    if members.len() < 2 {
        return build_candidate(board, view, first, onto);
    }
    let mut commits: Vec<Option<&ObjectId>> =
        members.iter().map(|t| t.state.head.as_ref()).collect();
    commits.push(Some(onto));
    if !crate::remote_sync::has_commits(board, &commits)? {
        tracing::info!(task = %first.id, "the batch's commits are not here yet; building later");
        return Ok(false);
    }
    let strategy = board.settings.queue.strategy;
    let built = match oid(onto).and_then(|base| build_batch(board, &members, &base, strategy)) {
        Ok(Some(built)) => built,
        // Fewer than two apply in a row: the first alone says why.
        Ok(None) | Err(EngineError::Git(_)) => return build_candidate(board, view, first, onto),
        Err(e) => return Err(e),
    };
    let Some(lead) = built.tasks.last().copied() else {
        return Ok(false);
    };
    crate::jobs::merge::keep_batch(board, &built)?;
    if let Some(last) = built.changes.last() {
        crate::remote_sync::publish_batch(board, lead, last)?;
    }
    crate::remote_sync::publish_candidate(board, lead, &built.commit)?;
    let (commit, tree) = (object_id(&built.commit), object_id(&built.tree));
    let suspect = first.state.queue.as_ref().and_then(|q| q.suspect.clone());
    let mut round = Round::default();
    for (id, change) in built.tasks.iter().zip(&built.changes) {
        let input = Input::BatchReady {
            commit: commit.clone(),
            tree: tree.clone(),
            onto: onto.clone(),
            batch: built.tasks.clone(),
            lead: *id == lead,
            change: Some(object_id(change)),
        };
        let mut events = Vec::new();
        if *id == lead {
            events.push(NewEvent::of(Payload::QueueBatchFormed(QueueBatchFormed {
                commit: commit.clone(),
                tree: tree.clone(),
                onto: onto.clone(),
                tasks: built.tasks.clone(),
                ahead: under(view, onto),
                strategy: strategy.as_str().to_string(),
                bisecting: suspect.clone(),
            })));
            if let Some(group) = suspect.clone() {
                events.push(bisecting(view, group, &built.tasks, &input));
            }
        }
        record(board, *id, &input, events, &mut round)?;
    }
    Ok(true)
}

fn active_lands(board: &Board, statuses: Vec<JobStatus>) -> Result<Vec<gaffer_core::Job>> {
    Ok(board
        .store
        .jobs(&JobFilter {
            task: None,
            statuses,
        })?
        .into_iter()
        .filter(|j| j.project == board.project.id && matches!(j.spec, JobSpec::Land { .. }))
        .collect())
}

/// A `land` job is queued or running.
pub(crate) fn landing_in_flight(board: &Board) -> Result<bool> {
    Ok(!active_lands(board, vec![JobStatus::Queued, JobStatus::Leased])?.is_empty())
}

pub(crate) fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// A landing failed (not merely found the target moved) in the last [`LAND_RETRY_AFTER`].
fn landing_failed_lately(board: &Board) -> Result<bool> {
    let since = now_ms() - LAND_RETRY_AFTER.as_millis() as i64;
    Ok(active_lands(board, vec![JobStatus::Failed])?
        .iter()
        .any(|j| j.updated_ms >= since))
}

fn start_landing(board: &Board, landing: &queue::Landing) -> Result<()> {
    let project = board.project.id;
    let job = NewJob {
        project,
        task: None,
        spec: JobSpec::Land {
            commit: landing.commit.clone(),
            tree: landing.tree.clone(),
            onto: landing.onto.clone(),
        },
        priority: 0,
        max_attempts: board.settings.limits.lost_run_retries.saturating_add(1),
        needs: vec![],
    };
    let event = NewEvent::of(Payload::QueueLanding(QueueLanding {
        commit: landing.commit.clone(),
        tree: landing.tree.clone(),
        onto: landing.onto.clone(),
        tasks: landing.tasks.iter().map(|t| t.task).collect(),
    }))
    .project(project);
    board.store.commit(&Commit {
        events: vec![event],
        enqueue: vec![job],
        ..Commit::default()
    })?;
    Ok(())
}
