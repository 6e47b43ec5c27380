//! [`gaffer_store::Store::commit`]: one engine step, written all or nothing.

use crate::error::TxResult;
use crate::tx::Tx;
use crate::{children, events, jobs, runs, tasks};
use gaffer_core::{Event, ProjectId, TaskId};
use gaffer_store::{Commit, rules};

/// Writes `c` inside the caller's transaction; any error leaves the transaction to be rolled
/// back, so nothing of a refused commit remains.
///
/// Order (the same as SQLite's): task version check and state write, job lease check and
/// completion, cancellations, new jobs, then events in log order: `run.finished`, the caller's
/// events, one `task.created` per child. Rows are locked in that order, and the event counter
/// last of all, which keeps lock waits between commits from turning into deadlocks.
pub(crate) fn apply(tx: &mut Tx<'_>, c: &Commit, now: i64) -> TxResult<Vec<Event>> {
    rules::input::commit(c)?;
    let updated: Option<(TaskId, ProjectId)> = match &c.task {
        Some(u) => Some((u.task, tasks::update(tx, u, now)?)),
        None => None,
    };
    if let Some(done) = &c.complete_job {
        jobs::complete(tx, done, now)?;
    }
    if let Some(task) = c.cancel_jobs_of {
        jobs::cancel_of(tx, task, c.complete_job.as_ref().map(|j| j.job), now)?;
    }
    jobs::enqueue(tx, &c.enqueue, now)?;

    let mut written = Vec::new();
    if let Some(f) = &c.finish_run {
        written.push(runs::finish(tx, f, now)?);
    }
    let mut own = c.events.clone();
    if let Some((task, project)) = updated {
        rules::events::commit_defaults(&mut own, task, project);
    }
    written.extend(events::insert(tx, &own, now)?);

    if let Some((parent, project)) = updated {
        written.extend(children::create(tx, parent, project, &c.children, now)?);
    }
    Ok(written)
}
