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
use crate::host::{HostLoad, thresholds};
use crate::jobs::merge::{Built, build};
use crate::jobs::{object_id, oid};
use crate::landing::Landing;
use gaffer_core::queue::{self, Action, Entry, View};
use gaffer_core::{
    Candidate, Input, JobId, JobSpec, JobStatus, NewEvent, NewJob, ObjectId, Seq, Status, Task,
    TaskId,
};
use gaffer_core::{
    Payload,
    payload::{
        QueueCandidate, QueueEjected, QueueInvalidated, QueueJoined, QueueLanding, QueueParked,
        QueueRecheck,
    },
};
use gaffer_store::{Commit, EventFilter, JobFilter};
use serde::Serialize;
use std::collections::HashMap;
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
}

/// One round of the queue. Blocking (git, store): run it off the async workers.
pub(crate) fn round(board: &Board) -> Result<Round> {
    let mut round = Round::default();
    // Nothing queued: nothing to plan (and no git to run every tick).
    if board.tasks(&[Status::Queued, Status::Merging])?.is_empty() {
        return Ok(round);
    }
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
                Action::Build { task, onto } => {
                    if let Some(task) = tasks.get(&task) {
                        build_candidate(board, &view, task, &onto)?;
                        acted = true;
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
    let view = View {
        tip: object_id(&tip),
        entries,
        max_train: board.settings.queue.max_candidates.max(1),
    };
    Ok((view, tasks.into_iter().map(|t| (t.id, t)).collect()))
}

/// The tasks whose candidates lie under `onto` (a candidate's base): the chain of candidates
/// down to the tip, in train order. A task stepped over (parked, or suspected while its failure
/// is checked again) is not in it.
fn under(view: &View, onto: &ObjectId) -> Vec<TaskId> {
    let by_commit: HashMap<&ObjectId, (&TaskId, &ObjectId)> = view
        .entries
        .iter()
        .filter_map(|e| {
            e.candidate
                .as_ref()
                .map(|c| (&c.commit, (&e.task, &c.onto)))
        })
        .collect();
    let mut chain = Vec::new();
    let mut at = onto;
    while let Some((task, below)) = by_commit.get(at) {
        chain.push(**task);
        at = below;
        if chain.len() > view.entries.len() {
            break;
        }
    }
    chain.reverse();
    chain
}

fn act(
    board: &Board,
    action: &Action,
    tasks: &HashMap<TaskId, Task>,
    round: &mut Round,
) -> Result<()> {
    let Some((id, input)) = action.input() else {
        return Ok(());
    };
    let Some(task) = tasks.get(&id) else {
        return Ok(());
    };
    let candidate = task.state.candidate.as_ref();
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
            Payload::QueueEjected(QueueEjected::VerifyFailed {
                commit: candidate.map(|c| c.commit.clone()),
                tree: candidate.map(|c| c.tree.clone()),
                detail: "verify failed twice on its candidate while every candidate ahead \
                         passed; back to its coder"
                    .into(),
                summary,
            })
        }
        Action::Build { .. } | Action::Land(_) => return Ok(()),
    };
    record(board, id, &input, NewEvent::of(payload), round)
}

/// Applies `input` to task `id` with `event`; a refusal (the task changed meanwhile, say, a
/// person cancelled it) is not an error: the next plan sees the change.
fn record(
    board: &Board,
    id: TaskId,
    input: &Input,
    event: NewEvent,
    round: &mut Round,
) -> Result<()> {
    let extra = Extra {
        events: vec![event],
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

fn build_candidate(board: &Board, view: &View, task: &Task, onto: &ObjectId) -> Result<()> {
    let strategy = board.settings.queue.strategy;
    let ahead = under(view, onto);
    let built = oid(onto).and_then(|base| build(board, task, &base, &oid(&view.tip)?, strategy));
    let mut round = Round::default();
    let (input, event) = match built {
        Ok(Built::Ready { commit, tree }) => {
            let verified_already = task
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
    record(board, task.id, &input, event, &mut round)
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

fn now_ms() -> i64 {
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

// ---- the report: `gaffer queue`, `GET /api/queue` ------------------------------------------

/// The merge queue at a glance.
#[derive(Debug, Clone, Serialize)]
pub struct QueueReport {
    /// Where work lands.
    pub landing: Landing,
    /// The commit candidates build on (the landing tip).
    pub tip: String,
    pub strategy: String,
    pub max_candidates: usize,
    /// The remote the target is pushed to, if any.
    pub remote: Option<String>,
    /// The merge train, in landing order.
    pub train: Vec<QueueEntryReport>,
    /// Tasks waiting to join, in the order they would.
    pub waiting: Vec<QueueEntryReport>,
    /// A landing in progress: the commit the target moves to and the tasks it lands.
    pub landing_now: Option<serde_json::Value>,
    /// Why tasks left the queue lately, newest first.
    pub left: Vec<QueueExit>,
    pub metrics: QueueMetrics,
    pub host: HostReport,
}

/// One task of the queue.
#[derive(Debug, Clone, Serialize)]
pub struct QueueEntryReport {
    pub task: TaskId,
    pub title: String,
    pub priority: i32,
    /// Its place in the train (`None`: waiting).
    pub position: Option<u64>,
    /// `waiting`, `building`, `parked`, `verifying`, `rechecking`, `passed`, `failed`,
    /// `failed_twice`.
    pub state: String,
    /// The candidate under test: the branch on top of the tip and the tasks `ahead`.
    pub candidate: Option<Candidate>,
    /// The tasks whose changes the candidate includes besides its own (the prefix it tests).
    pub ahead: Vec<TaskId>,
    /// The verify job testing the candidate, while one is queued or running.
    pub verify_job: Option<JobId>,
    pub verify_job_status: Option<JobStatus>,
    /// Tasks it depends on that have not merged.
    pub waiting_on: Vec<TaskId>,
    /// How long it has been in the queue.
    pub in_queue_ms: i64,
    pub note: Option<String>,
}

/// A task that left the queue, and why (from the `queue.ejected` events).
#[derive(Debug, Clone, Serialize)]
pub struct QueueExit {
    pub task: Option<TaskId>,
    pub title: String,
    pub at_ms: i64,
    /// `verify_failed`, `conflict`, `dependency` or `error`.
    pub reason: String,
    pub detail: String,
    /// Evidence: the end of verify's output, or the conflicting files.
    pub evidence: String,
}

/// Figures of the queue.
#[derive(Debug, Clone, Serialize)]
pub struct QueueMetrics {
    /// Tasks in the queue (train and waiting).
    pub length: usize,
    pub in_train: usize,
    pub waiting: usize,
    /// Tasks landed in the last hour: the current landings per hour.
    pub landed_last_hour: usize,
    /// Landings per hour over the last 24 hours' landing activity (from the first to the last
    /// landing), or the last hour's count when there were fewer than two.
    pub landings_per_hour: f64,
    /// Mean time from entering the queue to landing, over the last 24 hours.
    pub mean_time_in_queue_ms: Option<i64>,
    pub landed_total: usize,
    pub ejected_total: usize,
    pub flaky_total: usize,
}

/// The heavy-work budget of this host, as configured and as it stands.
#[derive(Debug, Clone, Serialize)]
pub struct HostReport {
    pub heavy_slots: usize,
    /// Verify jobs running and waiting for a slot.
    pub verify_running: usize,
    pub verify_waiting: usize,
    pub max_load: Option<f64>,
    pub min_free_memory: Option<u64>,
    pub now: HostLoad,
    /// Why heavy work would be held back now, if it would.
    pub held_back: Option<String>,
}

/// Builds the report from the board (the store and the repository only: it works without a
/// running daemon).
pub(crate) fn report(board: &Board) -> Result<QueueReport> {
    let landing = board.landing()?;
    let (view, tasks) = view(board)?;
    let active: Vec<gaffer_core::Job> = board.store.jobs(&JobFilter {
        task: None,
        statuses: vec![JobStatus::Queued, JobStatus::Leased],
    })?;
    let now = now_ms();
    let verify_of = |task: TaskId, commit: &ObjectId| {
        active.iter().find(|j| {
            j.task == Some(task)
                && matches!(&j.spec, JobSpec::Verify { commit: c, .. } if c == commit)
        })
    };
    let entry = |e: &Entry| -> QueueEntryReport {
        let task = tasks.get(&e.task);
        let job = e
            .candidate
            .as_ref()
            .and_then(|c| verify_of(e.task, &c.commit));
        let parked = e.slot.as_ref().is_some_and(|s| s.parked_on.is_some());
        let state = match (&e.slot, &e.candidate) {
            (None, _) => "waiting".to_string(),
            (Some(_), None) if parked => "parked".to_string(),
            (Some(_), None) => "building".to_string(),
            (Some(_), Some(c)) => match c.status {
                gaffer_core::CandidateStatus::Pending => "verifying".to_string(),
                ref other => other.as_str().to_string(),
            },
        };
        QueueEntryReport {
            task: e.task,
            title: task.map(|t| t.title.clone()).unwrap_or_default(),
            priority: e.priority,
            position: e.slot.as_ref().map(|s| s.position),
            state,
            candidate: e.candidate.clone(),
            ahead: e
                .candidate
                .as_ref()
                .map(|c| under(&view, &c.onto))
                .unwrap_or_default(),
            verify_job: job.map(|j| j.id),
            verify_job_status: job.map(|j| j.status),
            waiting_on: e.waiting_on.clone(),
            in_queue_ms: (now - e.arrival).max(0),
            note: task.and_then(|t| t.state.note.clone()),
        }
    };
    let train: Vec<QueueEntryReport> = queue::train(&view).into_iter().map(entry).collect();
    let waiting: Vec<QueueEntryReport> = queue::waiting(&view).into_iter().map(entry).collect();
    let landing_now = active
        .iter()
        .find(|j| j.project == board.project.id && matches!(j.spec, JobSpec::Land { .. }))
        .and_then(|j| serde_json::to_value(&j.spec).ok());

    let events = board.store.events_after(
        Seq(0),
        1_000_000,
        &EventFilter {
            project: Some(board.project.id),
            kind_prefix: Some("queue.".into()),
            ..EventFilter::default()
        },
    )?;
    let mut left = Vec::new();
    let (mut landed_total, mut ejected_total, mut flaky_total) = (0, 0, 0);
    let mut recent: Vec<(i64, i64)> = Vec::new();
    for e in &events {
        match e.payload() {
            Ok(Payload::QueueLanded(landed)) => {
                landed_total += 1;
                if e.at_ms >= now - 24 * 3_600_000 {
                    recent.push((e.at_ms, landed.time_in_queue_ms));
                }
            }
            Ok(Payload::QueueFlaky(_)) => flaky_total += 1,
            Ok(Payload::QueueEjected(ejected)) => {
                ejected_total += 1;
                let evidence = match &ejected {
                    QueueEjected::VerifyFailed { summary, .. } => tail(summary, 12),
                    QueueEjected::Conflict { files, .. } => files.join(", "),
                    _ => String::new(),
                };
                left.push(QueueExit {
                    task: e.task,
                    title: e
                        .task
                        .and_then(|t| board.store.task(t).ok())
                        .map(|t| t.title)
                        .unwrap_or_default(),
                    at_ms: e.at_ms,
                    reason: ejected.reason().to_string(),
                    detail: ejected.detail().to_string(),
                    evidence,
                });
            }
            _ => {}
        }
    }
    left.reverse();
    left.truncate(20);
    let landed_last_hour = recent
        .iter()
        .filter(|(at, _)| *at >= now - 3_600_000)
        .count();
    let landings_per_hour = match (recent.first(), recent.last()) {
        (Some(first), Some(last)) if recent.len() >= 2 && last.0 > first.0 => {
            (recent.len() - 1) as f64 * 3_600_000.0 / (last.0 - first.0) as f64
        }
        _ => landed_last_hour as f64,
    };
    let mean_time_in_queue_ms = (!recent.is_empty())
        .then(|| recent.iter().map(|(_, t)| *t).sum::<i64>() / recent.len() as i64);

    let host_settings = &board.settings.host;
    let load = HostLoad::read();
    let verify_running = active
        .iter()
        .filter(|j| j.project == board.project.id)
        .filter(|j| j.status == JobStatus::Leased && matches!(j.spec, JobSpec::Verify { .. }))
        .count();
    let verify_waiting = active
        .iter()
        .filter(|j| j.project == board.project.id)
        .filter(|j| j.status == JobStatus::Queued && matches!(j.spec, JobSpec::Verify { .. }))
        .count();
    let held_back = if verify_running >= host_settings.heavy_slots && verify_waiting > 0 {
        Some(format!(
            "all {} heavy slots are in use",
            host_settings.heavy_slots
        ))
    } else {
        thresholds(host_settings.max_load, host_settings.min_free_memory, load)
            .map(|h| h.to_string())
    };

    Ok(QueueReport {
        tip: view.tip.to_string(),
        strategy: board.settings.queue.strategy.to_string(),
        max_candidates: board.settings.queue.max_candidates,
        remote: board.settings.project.remote.clone(),
        metrics: QueueMetrics {
            length: train.len() + waiting.len(),
            in_train: train.len(),
            waiting: waiting.len(),
            landed_last_hour,
            landings_per_hour,
            mean_time_in_queue_ms,
            landed_total,
            ejected_total,
            flaky_total,
        },
        landing,
        train,
        waiting,
        landing_now,
        left,
        host: HostReport {
            heavy_slots: host_settings.heavy_slots,
            verify_running,
            verify_waiting,
            max_load: host_settings.max_load,
            min_free_memory: host_settings.min_free_memory,
            now: load,
            held_back,
        },
    })
}

/// The last `lines` lines of `text`.
fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}
