//! [`crate::Store::edit_task`]: which version may be edited, what an edit changes, and what its
//! `task.edited` event says.

use super::input;
use crate::{Result, StoreError, TaskEdit};
use gaffer_core::Task;
use gaffer_core::payload::TaskEdited;

/// The task as stored is the version the edit was made against.
pub fn check_version(task: &Task, expected_version: i64) -> Result<()> {
    if task.version != expected_version {
        return Err(StoreError::VersionConflict {
            task: task.id,
            expected: expected_version,
            found: task.version,
        });
    }
    Ok(())
}

/// Applies `e` to `task` (a title is trimmed; the status is out of an edit's reach) and returns
/// the payload of its `task.edited` event: each field that changed with its new value, and
/// `changed`, their names (in alphabetical order). `None` when nothing changed: nothing is to be
/// written then. The version and times are the store's to bump.
pub fn apply(task: &mut Task, e: &TaskEdit) -> Result<Option<TaskEdited>> {
    let mut edited = TaskEdited::default();
    if let Some(title) = &e.title {
        let title = title.trim();
        input::title(title)?;
        if title != task.title {
            task.title = title.to_string();
            edited.title = Some(task.title.clone());
        }
    }
    if let Some(body) = &e.body
        && *body != task.body
    {
        task.body = body.clone();
        edited.body = Some(task.body.clone());
    }
    if let Some(labels) = &e.labels
        && *labels != task.labels
    {
        task.labels = labels.clone();
        edited.labels = Some(task.labels.clone());
    }
    if let Some(priority) = e.priority
        && priority != task.priority
    {
        task.priority = priority;
        edited.priority = Some(priority);
    }
    if let Some(risk) = e.risk
        && risk != task.state.risk
    {
        task.state.risk = risk;
        edited.risk = Some(risk);
    }
    if let Some(kind) = e.kind
        && kind != task.kind
    {
        task.kind = kind;
        edited.kind = Some(kind);
    }
    if let Some(budget) = e.budget_usd {
        input::budget(budget)?;
        if budget != task.budget_usd {
            task.budget_usd = budget;
            edited.budget_usd = Some(budget);
        }
    }
    let names = [
        ("body", edited.body.is_some()),
        ("budget_usd", edited.budget_usd.is_some()),
        ("kind", edited.kind.is_some()),
        ("labels", edited.labels.is_some()),
        ("priority", edited.priority.is_some()),
        ("risk", edited.risk.is_some()),
        ("title", edited.title.is_some()),
    ];
    edited.changed = names
        .iter()
        .filter(|(_, changed)| *changed)
        .map(|(name, _)| (*name).to_string())
        .collect();
    Ok((!edited.changed.is_empty()).then_some(edited))
}
