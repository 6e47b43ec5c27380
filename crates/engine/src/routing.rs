//! Which machine takes which job. A task that needs machine labels (`needs:gpu`) has its agent
//! runs and verify enqueued with those needs, and an agent that needs some
//! (`[agents.<name>] needs`) has its runs enqueued with them too (`needs.rs`, from `apply.rs`);
//! each engine claims with its machine's labels (`[host] labels`), so the store hands such a job
//! only to a machine that has them. Here:
//! every engine says it is alive, with its labels and load (`Store::announce_host`, read back by
//! `gaffer workers`), and a job that no live machine can take is said on the board
//! (`job.unroutable`, once per job) instead of waiting silently.

use crate::board::Board;
use crate::error::Result;
use gaffer_core::payload::JobUnroutable;
use gaffer_core::{JobId, JobStatus, NewEvent, Payload};
use gaffer_store::{HostInfo, JobFilter};
use std::collections::HashSet;
use std::time::Duration;

/// A machine not heard from for this long is not counted as up.
pub const LIVE_FOR: Duration = Duration::from_secs(60);

/// Whether a machine with `labels` may take a job that needs `needs`.
pub fn fits(needs: &[String], labels: &[String]) -> bool {
    needs.iter().all(|n| labels.contains(n))
}

/// The machines heard from in the last [`LIVE_FOR`] (or three leases, if longer) at `now_ms`.
pub fn live_hosts(board: &Board, now_ms: i64) -> Result<Vec<HostInfo>> {
    let window = LIVE_FOR.max(board.settings.engine.lease * 3).as_millis() as i64;
    Ok(board
        .store
        .hosts()?
        .into_iter()
        .filter(|h| h.seen_ms >= now_ms - window)
        .collect())
}

/// The remote workers heard from lately (`crate::worker`): a daemon starts tasks for them too.
pub(crate) fn live_workers(board: &Board, now_ms: i64) -> Result<Vec<HostInfo>> {
    Ok(live_hosts(board, now_ms)?
        .into_iter()
        .filter(|h| is_worker(&h.name))
        .collect())
}

/// The agent slots the live remote `workers` have free: each one's announced slots (at most
/// [`crate::worker::MAX_SLOTS`]) less the agent jobs its owners hold now, read from the board's
/// jobs rather than from what it last said (a heartbeat old, and counting its verify jobs too).
pub(crate) fn workers_free_agent_slots(board: &Board, workers: &[HostInfo]) -> Result<usize> {
    if workers.is_empty() {
        return Ok(0);
    }
    let leased = board.store.jobs(&JobFilter {
        task: None,
        statuses: vec![JobStatus::Leased],
    })?;
    Ok(workers
        .iter()
        .map(|w| {
            let slots = w.slots.unwrap_or(0).min(crate::worker::MAX_SLOTS) as usize;
            let busy = leased
                .iter()
                .filter(|j| j.spec.kind() == gaffer_core::JobKind::Run)
                .filter(|j| {
                    j.lease_owner
                        .as_deref()
                        .is_some_and(|o| o.starts_with(&w.name))
                })
                .count();
            slots.saturating_sub(busy)
        })
        .sum())
}

/// Whether the machine named `name` is a remote worker (its owners are a worker token's).
pub fn is_worker(name: &str) -> bool {
    name.starts_with("worker:")
}

/// Whether this daemon starts work that needs `needs`: on a board of its own, always; on a
/// shared board, when this machine or a live remote worker could take it (another daemon that
/// could starts it from its own room).
pub(crate) fn starts_here(board: &Board, needs: &[String], workers: &[HostInfo]) -> bool {
    !board.shared
        || fits(needs, &board.settings.host.labels)
        || workers.iter().any(|w| fits(needs, &w.labels))
}

/// A machine as `gaffer workers` and the dashboard show it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct WorkerReport {
    pub name: String,
    pub labels: Vec<String>,
    /// Jobs it held when last heard.
    pub running: u32,
    /// How many agent jobs it runs at once, when it said.
    pub slots: Option<u32>,
    pub load: Option<f64>,
    pub seen_ms: i64,
    /// Heard from within [`LIVE_FOR`] (or three leases).
    pub live: bool,
}

impl Board {
    /// Every machine that took this board's jobs, as last heard.
    pub fn workers(&self) -> Result<Vec<WorkerReport>> {
        let now_ms = crate::queue::now_ms();
        let live: Vec<String> = live_hosts(self, now_ms)?
            .into_iter()
            .map(|h| h.name)
            .collect();
        Ok(self
            .store
            .hosts()?
            .into_iter()
            .map(|h| WorkerReport {
                live: live.contains(&h.name),
                name: h.name,
                labels: h.labels,
                running: h.running,
                slots: h.slots,
                load: h.load,
                seen_ms: h.seen_ms,
            })
            .collect())
    }
}

/// Says this machine is alive (`name`: its daemon's owner prefix), holding `running` jobs of
/// the `slots` agent jobs it runs at once (the engine's concurrency).
pub(crate) fn announce(board: &Board, name: &str, running: usize, slots: usize) {
    let load = crate::host::HostLoad::read().load1;
    let running = u32::try_from(running).unwrap_or(u32::MAX);
    let slots = u32::try_from(slots).unwrap_or(u32::MAX);
    if let Err(e) = board.store.announce_host(
        name,
        &board.settings.host.labels,
        running,
        Some(slots),
        load,
    ) {
        tracing::warn!("cannot record this machine on the board: {e}");
    }
}

/// What was said cannot be routed: a job (or, `None`, a ready task) of a task.
pub(crate) type Said = HashSet<(Option<JobId>, gaffer_core::TaskId)>;

/// Something that waits for labels: its job (if any), its task, what it is, and what it needs,
/// one list per way it can go (a job: its needs; a ready task: those of each job its start
/// enqueues, any of which a machine may take).
type Waiting = (
    Option<JobId>,
    Option<gaffer_core::TaskId>,
    String,
    Vec<Vec<String>>,
);

/// Says on the board, once per job, which jobs of this project wait for labels no live machine
/// has: queued ones, and leased ones whose holder's lease ran out (the only machine that could
/// take it died). On a shared board, ready tasks no machine can start are said too (no job
/// exists for them yet). `reported` remembers what was said.
pub(crate) fn report_unroutable(board: &Board, now_ms: i64, reported: &mut Said) -> Result<()> {
    let jobs = board.store.jobs(&JobFilter {
        task: None,
        statuses: vec![JobStatus::Queued, JobStatus::Leased],
    })?;
    let mut waiting: Vec<Waiting> = jobs
        .into_iter()
        .filter(|j| j.project == board.project.id && !j.needs.is_empty())
        .filter(|j| {
            j.status == JobStatus::Queued || j.lease_expires_ms.is_some_and(|at| at < now_ms)
        })
        .map(|j| {
            (
                Some(j.id),
                j.task,
                j.spec.kind().as_str().to_string(),
                vec![j.needs],
            )
        })
        .collect();
    if board.shared {
        for task in board.tasks(&[gaffer_core::Status::Ready])? {
            let needs = crate::needs::start_needs(board, &task);
            if needs.iter().all(|n| !n.is_empty()) {
                waiting.push((None, Some(task.id), "task".to_string(), needs));
            }
        }
    }
    let waiting: Vec<_> = waiting
        .into_iter()
        .filter(|(job, task, _, _)| task.is_some_and(|t| !reported.contains(&(*job, t))))
        .collect();
    if waiting.is_empty() {
        return Ok(());
    }
    let hosts = live_hosts(board, now_ms)?;
    for (job, task, kind, needs) in waiting {
        let Some(task) = task else { continue };
        if hosts
            .iter()
            .any(|h| needs.iter().any(|n| fits(n, &h.labels)))
        {
            continue;
        }
        // Once on the board, whichever daemon said it (the queue's driver may change).
        if already_said(board, task, job)? {
            reported.insert((job, task));
            continue;
        }
        let machines = hosts
            .iter()
            .map(|h| format!("{} [{}]", h.name, h.labels.join(", ")))
            .collect();
        // A ready task says what its first job needs.
        let needs = needs.into_iter().next().unwrap_or_default();
        let event = NewEvent::of(Payload::JobUnroutable(JobUnroutable {
            job,
            kind,
            needs,
            machines,
        }))
        .project(board.project.id)
        .task(task);
        board.store.append_events(&[event])?;
        reported.insert((job, task));
    }
    Ok(())
}

/// Whether `job.unroutable` was already said for `job` (or, `None`, for the ready task).
fn already_said(board: &Board, task: gaffer_core::TaskId, job: Option<JobId>) -> Result<bool> {
    let filter = gaffer_store::EventFilter {
        project: Some(board.project.id),
        task: Some(task),
        run: None,
        kind_prefix: Some(gaffer_core::event_kind::JOB_UNROUTABLE.to_string()),
    };
    let said = serde_json::json!(job.map(|j| j.0));
    Ok(board
        .store
        .events_after(gaffer_core::Seq(0), 10_000, &filter)?
        .iter()
        .any(|e| e.data["job"] == said))
}

#[cfg(test)]
mod tests {
    use super::fits;

    #[test]
    fn a_machine_fits_when_it_has_every_label() {
        let labels = vec!["gpu".to_string(), "gtk".to_string()];
        assert!(fits(&[], &[]));
        assert!(fits(&["gpu".into()], &labels));
        assert!(fits(&["gtk".into(), "gpu".into()], &labels));
        assert!(!fits(&["cuda".into()], &labels));
        assert!(!fits(&["gpu".into()], &[]));
    }
}
