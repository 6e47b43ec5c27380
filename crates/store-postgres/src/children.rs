//! Storing the child tasks of a commit; how they refer to each other is
//! [`gaffer_store::rules::children`]'s.

use crate::error::TxResult;
use crate::tasks;
use crate::tx::Tx;
use gaffer_core::{Event, NewTask, ProjectId, TaskId, TaskState};
use gaffer_store::rules::children as rules;

pub(crate) fn create(
    tx: &mut Tx<'_>,
    parent: TaskId,
    project: ProjectId,
    children: &[(NewTask, TaskState)],
    now: i64,
) -> TxResult<Vec<Event>> {
    rules::check(parent, children)?;
    let mut created = Vec::with_capacity(children.len());
    for (child, initial) in children {
        let own = rules::own(child, parent);
        created.push(tasks::insert(tx, project, &own, initial, now)?);
    }
    let ids: Vec<TaskId> = created.iter().map(|t| t.id).collect();
    for ((child, _), task) in children.iter().zip(&mut created) {
        if let Some(resolved) = rules::resolve(child, &ids) {
            tasks::set_blocked_by(tx, task, resolved)?;
        }
    }
    created
        .iter()
        .map(|task| tasks::created_event(tx, task, now))
        .collect()
}
