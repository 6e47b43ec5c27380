//! [`crate::Store::commit`]: one engine step, written all or nothing.

use super::retry::TxResult;
use super::{children, events, jobs, runs, tasks};
use crate::{Commit, rules};
use gaffer_core::{Event, ProjectId, TaskId};
use rusqlite::Connection;

/// Writes `c` inside the caller's transaction; any error leaves the transaction to be rolled
/// back, so nothing of a refused commit remains.
///
/// Order: task version check and state write, job lease check and completion, cancellations,
/// new jobs, then events in log order: `run.finished`, the caller's events, one `task.created`
/// per child.
pub(super) fn apply(conn: &Connection, c: &Commit, now: i64) -> TxResult<Vec<Event>> {
    rules::input::commit(c)?;
    let updated: Option<(TaskId, ProjectId)> = match &c.task {
        Some(u) => Some((u.task, tasks::update(conn, u, now)?)),
        None => None,
    };
    if let Some(done) = &c.complete_job {
        jobs::complete(conn, done, now)?;
    }
    if let Some(task) = c.cancel_jobs_of {
        jobs::cancel_of(conn, task, c.complete_job.as_ref().map(|j| j.job), now)?;
    }
    jobs::enqueue(conn, &c.enqueue, now)?;

    let mut written = Vec::new();
    if let Some(f) = &c.finish_run {
        written.push(runs::finish(conn, f, now)?);
    }
    let mut own = c.events.clone();
    if let Some((task, project)) = updated {
        rules::events::commit_defaults(&mut own, task, project);
    }
    written.extend(events::insert(conn, &own, now)?);

    if let Some((parent, project)) = updated {
        written.extend(children::create(conn, parent, project, &c.children, now)?);
    }
    Ok(written)
}
