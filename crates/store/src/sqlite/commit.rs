//! [`crate::Store::commit`]: one engine step, written all or nothing.

use super::retry::TxResult;
use super::{events, jobs, runs, tasks};
use crate::{Commit, StoreError};
use gaffer_core::{Event, NewTask, ProjectId, TaskId};
use rusqlite::Connection;

/// Writes `c` inside the caller's transaction; any error leaves the transaction to be rolled
/// back, so nothing of a refused commit remains.
///
/// Order: task version check and state write, job lease check and completion, cancellations,
/// new jobs, then events in log order: `run.finished`, the caller's events, one `task.created`
/// per child.
pub(super) fn apply(conn: &Connection, c: &Commit, now: i64) -> TxResult<Vec<Event>> {
    if !c.children.is_empty() && c.task.is_none() {
        return Err(StoreError::Invalid(
            "child tasks need a parent: the commit has children but no task update".into(),
        )
        .into());
    }
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
        for e in &mut own {
            if e.task.is_none() {
                e.task = Some(task);
            }
            if e.project.is_none() && e.task == Some(task) {
                e.project = Some(project);
            }
        }
    }
    written.extend(events::insert(conn, &own, now)?);

    if let Some((parent, project)) = updated {
        let mut created: Vec<TaskId> = Vec::with_capacity(c.children.len());
        for (index, (child, initial)) in c.children.iter().enumerate() {
            let child = resolve_child(child, parent, index, &created)?;
            let (task, event) = tasks::create(conn, project, &child, initial, now)?;
            created.push(task.id);
            written.push(event);
        }
    }
    Ok(written)
}

/// A child as it will be created: parented to `parent`, its sibling references (`TaskId(-n)`,
/// the n-th child of this commit) replaced by real ids.
fn resolve_child(
    child: &NewTask,
    parent: TaskId,
    index: usize,
    created: &[TaskId],
) -> TxResult<NewTask> {
    let invalid = |msg: String| -> TxResult<NewTask> { Err(StoreError::Invalid(msg).into()) };
    if child.parent.is_some_and(|p| p != parent) {
        return invalid(format!(
            "child `{}` names parent {:?}, but the commit updates task {parent}",
            child.title,
            child.parent.map(|p| p.0)
        ));
    }
    let mut out = child.clone();
    out.parent = Some(parent);
    for dep in &mut out.blocked_by {
        if dep.0 >= 0 {
            continue;
        }
        let n = usize::try_from(dep.0.unsigned_abs()).unwrap_or(usize::MAX);
        if n == index + 1 {
            return invalid(format!("child `{}` cannot depend on itself", child.title));
        }
        match created.get(n - 1) {
            Some(&id) => *dep = id,
            None => {
                return invalid(format!(
                    "child `{}` depends on child #{n}, which is not an earlier child of this \
                     commit (a child may only depend on the ones listed before it)",
                    child.title
                ));
            }
        }
    }
    Ok(out)
}
