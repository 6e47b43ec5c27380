//! Storing the child tasks of a commit; how they refer to each other is
//! [`crate::rules::children`]'s.

use super::retry::TxResult;
use super::tasks;
use crate::rules::children as rules;
use gaffer_core::{Event, NewTask, ProjectId, TaskId, TaskState};
use rusqlite::Connection;

pub(super) fn create(
    conn: &Connection,
    parent: TaskId,
    project: ProjectId,
    children: &[(NewTask, TaskState)],
    now: i64,
) -> TxResult<Vec<Event>> {
    rules::check(parent, children)?;
    let mut created = Vec::with_capacity(children.len());
    for (child, initial) in children {
        let own = rules::own(child, parent);
        created.push(tasks::insert(conn, project, &own, initial, now)?);
    }
    let ids: Vec<TaskId> = created.iter().map(|t| t.id).collect();
    for ((child, _), task) in children.iter().zip(&mut created) {
        if let Some(resolved) = rules::resolve(child, &ids) {
            tasks::set_blocked_by(conn, task, resolved)?;
        }
    }
    created
        .iter()
        .map(|task| tasks::created_event(conn, task, now))
        .collect()
}
