//! [`crate::Store::edit_task`]: which version may be edited, what an edit changes, and what its
//! `task.edited` event says.

use super::input;
use crate::{Result, StoreError, TaskEdit};
use gaffer_core::Task;
use serde_json::{Map, Value, json};

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
/// the data of its `task.edited` event: each field that changed with its new value, and
/// `changed`, their names. `None` when nothing changed: nothing is to be written then. The
/// version and times are the store's to bump.
pub fn apply(task: &mut Task, e: &TaskEdit) -> Result<Option<Value>> {
    let mut changed = Map::new();
    if let Some(title) = &e.title {
        let title = title.trim();
        input::title(title)?;
        if title != task.title {
            task.title = title.to_string();
            changed.insert("title".into(), json!(task.title));
        }
    }
    if let Some(body) = &e.body
        && *body != task.body
    {
        task.body = body.clone();
        changed.insert("body".into(), json!(task.body));
    }
    if let Some(labels) = &e.labels
        && *labels != task.labels
    {
        task.labels = labels.clone();
        changed.insert("labels".into(), json!(task.labels));
    }
    if let Some(priority) = e.priority
        && priority != task.priority
    {
        task.priority = priority;
        changed.insert("priority".into(), json!(task.priority));
    }
    if let Some(risk) = e.risk
        && risk != task.state.risk
    {
        task.state.risk = risk;
        changed.insert("risk".into(), json!(task.state.risk));
    }
    if let Some(kind) = e.kind
        && kind != task.kind
    {
        task.kind = kind;
        changed.insert("kind".into(), json!(task.kind));
    }
    if let Some(budget) = e.budget_usd {
        input::budget(budget)?;
        if budget != task.budget_usd {
            task.budget_usd = budget;
            changed.insert("budget_usd".into(), json!(task.budget_usd));
        }
    }
    if changed.is_empty() {
        return Ok(None);
    }
    let fields: Vec<String> = changed.keys().cloned().collect();
    changed.insert("changed".into(), json!(fields));
    Ok(Some(Value::Object(changed)))
}
