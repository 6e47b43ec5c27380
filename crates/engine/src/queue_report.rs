//! The merge queue at a glance, for `gaffer queue` and `GET /api/queue`: the train and the
//! tasks waiting to join, why tasks left it lately, its figures, and the host's heavy-work
//! budget. Read from the board alone (the store and the repository): it works without a
//! running daemon.

use crate::board::Board;
use crate::error::Result;
use crate::host::{HostLoad, thresholds};
use crate::landing::Landing;
use crate::queue::{now_ms, under, view};
use gaffer_core::payload::QueueEjected;
use gaffer_core::queue::{self, Entry, View};
use gaffer_core::{Candidate, Job, JobId, JobSpec, JobStatus, Payload, Seq, Task, TaskId};
use gaffer_store::{EventFilter, JobFilter};
use serde::Serialize;
use std::collections::HashMap;

/// The merge queue at a glance.
#[derive(Debug, Clone, Serialize)]
pub struct QueueReport {
    /// Where work lands.
    pub landing: Landing,
    /// The commit candidates build on (the landing tip).
    pub tip: String,
    pub strategy: String,
    pub max_candidates: usize,
    /// `queue.batch` as configured: a number, or `auto`.
    pub batch: String,
    /// The most branches the queue would test together as one candidate now.
    pub batch_now: usize,
    /// Failed batches being bisected to find their guilty branch.
    pub bisecting: Vec<Bisection>,
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

/// A failed batch being bisected: its suspects left and the part of them under test.
#[derive(Debug, Clone, Serialize)]
pub struct Bisection {
    /// The failed batch's candidate commit.
    pub group: String,
    /// Its tasks still suspected, in train order.
    pub suspects: Vec<TaskId>,
    /// The first part of them tested now (the first half, or the last one alone), whose
    /// candidate is built (the others are tested behind it, in smaller parts).
    pub testing: Vec<TaskId>,
}

/// One task of the queue.
#[derive(Debug, Clone, Serialize)]
pub struct QueueEntryReport {
    pub task: TaskId,
    pub title: String,
    pub priority: i32,
    /// Its place in the train (`None`: waiting).
    pub position: Option<u64>,
    /// Where a person put it in the waiting line (`gaffer queue move`), if one did.
    pub place: Option<u32>,
    /// `waiting`, `building`, `parked`, `verifying`, `rechecking`, `passed`, `failed`,
    /// `failed_twice`.
    pub state: String,
    /// The candidate under test: the branch on top of the tip and the tasks `ahead`.
    pub candidate: Option<Candidate>,
    /// The tasks whose changes the candidate includes besides its own (the prefix it tests).
    pub ahead: Vec<TaskId>,
    /// The batch it is tested in (every task of it, in order, itself included); empty when its
    /// candidate is its own.
    pub batch: Vec<TaskId>,
    /// It runs the batch's verify (the last task of it); the others take the result.
    pub lead: bool,
    /// The failed batch it is a suspect of, while bisected.
    pub suspect: Option<String>,
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
    /// landing) when that activity spans an hour or more; else the last hour's count (a rate
    /// projected from a few landings minutes apart says nothing).
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

/// Builds the report from the board.
pub(crate) fn report(board: &Board) -> Result<QueueReport> {
    let landing = board.landing()?;
    let (view, tasks) = view(board)?;
    let active: Vec<Job> = board.store.jobs(&JobFilter {
        task: None,
        statuses: vec![JobStatus::Queued, JobStatus::Leased],
    })?;
    let now = now_ms();
    let entry = |e: &Entry| entry_report(e, &tasks, &view, &active, now);
    let train: Vec<QueueEntryReport> = queue::train(&view).into_iter().map(entry).collect();
    let waiting: Vec<QueueEntryReport> = queue::waiting(&view).into_iter().map(entry).collect();
    let landing_now = active
        .iter()
        .find(|j| j.project == board.project.id && matches!(j.spec, JobSpec::Land { .. }))
        .and_then(|j| serde_json::to_value(&j.spec).ok());
    let (left, metrics) = history(board, now, train.len(), waiting.len())?;
    Ok(QueueReport {
        tip: view.tip.to_string(),
        strategy: board.settings.queue.strategy.to_string(),
        max_candidates: board.settings.queue.max_candidates,
        batch: board.settings.queue.batch.to_string(),
        batch_now: view.batch,
        bisecting: bisections(&view),
        remote: board.settings.project.remote.clone(),
        metrics,
        landing,
        train,
        waiting,
        landing_now,
        left,
        host: host_report(board, &active),
    })
}

/// One task of the queue, with its candidate's state and the verify job testing it.
fn entry_report(
    e: &Entry,
    tasks: &HashMap<TaskId, Task>,
    view: &View,
    active: &[Job],
    now: i64,
) -> QueueEntryReport {
    let task = tasks.get(&e.task);
    // A batch's verify job is its lead's.
    let job = e.candidate.as_ref().and_then(|c| {
        active.iter().find(|j| {
            (j.task == Some(e.task) || c.batch.iter().any(|t| j.task == Some(*t)))
                && matches!(&j.spec, JobSpec::Verify { commit, .. } if commit == &c.commit)
        })
    });
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
        place: e.place,
        state,
        candidate: e.candidate.clone(),
        ahead: e
            .candidate
            .as_ref()
            .map(|c| under(view, &c.onto))
            .unwrap_or_default(),
        batch: e
            .candidate
            .as_ref()
            .map(|c| c.batch.clone())
            .unwrap_or_default(),
        lead: e
            .candidate
            .as_ref()
            .is_some_and(|c| c.batch.last() == Some(&e.task)),
        suspect: e.suspect().map(|g| g.to_string()),
        verify_job: job.map(|j| j.id),
        verify_job_status: job.map(|j| j.status),
        waiting_on: e.waiting_on.clone(),
        in_queue_ms: (now - e.arrival).max(0),
        note: task.and_then(|t| t.state.note.clone()),
    }
}

/// The failed batches being bisected, from the suspects of the train.
fn bisections(view: &View) -> Vec<Bisection> {
    let mut out: Vec<Bisection> = Vec::new();
    for e in queue::train(view) {
        let Some(group) = e.suspect() else {
            continue;
        };
        let at = match out.iter().position(|b| b.group == group.as_str()) {
            Some(at) => at,
            None => {
                out.push(Bisection {
                    group: group.to_string(),
                    suspects: Vec::new(),
                    testing: Vec::new(),
                });
                out.len() - 1
            }
        };
        let b = &mut out[at];
        b.suspects.push(e.task);
        // The first part of the suspects with a candidate: a batch of them, or one alone.
        if b.testing.is_empty()
            && let Some(c) = &e.candidate
        {
            b.testing = if c.batch.is_empty() {
                vec![e.task]
            } else {
                c.batch.clone()
            };
        }
    }
    out
}

/// From the `queue.*` events: why tasks left lately (newest first) and the queue's figures.
fn history(
    board: &Board,
    now: i64,
    in_train: usize,
    waiting: usize,
) -> Result<(Vec<QueueExit>, QueueMetrics)> {
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
    let landings_per_hour = rate_per_hour(&recent, landed_last_hour);
    let mean_time_in_queue_ms = (!recent.is_empty())
        .then(|| recent.iter().map(|(_, t)| *t).sum::<i64>() / recent.len() as i64);
    let metrics = QueueMetrics {
        length: in_train + waiting,
        in_train,
        waiting,
        landed_last_hour,
        landings_per_hour,
        mean_time_in_queue_ms,
        landed_total,
        ejected_total,
        flaky_total,
    };
    Ok((left, metrics))
}

/// Landings per hour from `recent` (`(at_ms, _)`, oldest first): over their span when it is an
/// hour or more, else `last_hour`, the count of the last hour itself.
fn rate_per_hour(recent: &[(i64, i64)], last_hour: usize) -> f64 {
    match (recent.first(), recent.last()) {
        (Some(first), Some(last)) if last.0 - first.0 >= 3_600_000 => {
            (recent.len() - 1) as f64 * 3_600_000.0 / (last.0 - first.0) as f64
        }
        _ => last_hour as f64,
    }
}

/// The host's heavy-work budget as configured and as it stands, with why heavy work would wait.
fn host_report(board: &Board, active: &[Job]) -> HostReport {
    let host_settings = &board.settings.host;
    let load = HostLoad::read();
    let verify = |status: JobStatus| {
        active
            .iter()
            .filter(|j| j.project == board.project.id)
            .filter(|j| j.status == status && matches!(j.spec, JobSpec::Verify { .. }))
            .count()
    };
    let (verify_running, verify_waiting) = (verify(JobStatus::Leased), verify(JobStatus::Queued));
    let held_back = if verify_running >= host_settings.heavy_slots && verify_waiting > 0 {
        Some(format!(
            "all {} heavy slots are in use",
            host_settings.heavy_slots
        ))
    } else {
        thresholds(host_settings.max_load, host_settings.min_free_memory, load)
            .map(|h| h.to_string())
    };
    HostReport {
        heavy_slots: host_settings.heavy_slots,
        verify_running,
        verify_waiting,
        max_load: host_settings.max_load,
        min_free_memory: host_settings.min_free_memory,
        now: load,
        held_back,
    }
}

/// The last `lines` lines of `text`.
fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rate_is_projected_only_over_an_hour_or_more() {
        // Three landings in 16 seconds: three in the last hour, not 675 an hour.
        let burst = [(0, 0), (8_000, 0), (16_000, 0)];
        assert_eq!(rate_per_hour(&burst, 3), 3.0);
        // Five landings over two hours: four intervals in two hours.
        let steady: Vec<(i64, i64)> = (0..5).map(|i| (i * 1_800_000, 0)).collect();
        assert_eq!(rate_per_hour(&steady, 2), 2.0);
        assert_eq!(rate_per_hour(&[], 0), 0.0);
    }
}
