//! [`crate::Store::edit_task`]: which version may be edited, what an edit changes, and what its
//! `task.edited` event says.

use super::input;
use crate::{Result, StoreError, TaskEdit};
use gaffer_core::payload::TaskEdited;
use gaffer_core::{Task, TaskId};
use std::collections::{HashMap, HashSet};

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
    if let Some(deps) = &e.blocked_by {
        let deps = dependencies(task, deps)?;
        if deps != task.blocked_by {
            task.blocked_by = deps;
            edited.blocked_by = Some(task.blocked_by.clone());
        }
    }
    if let Some(scope) = &e.write_scope
        && *scope != task.write_scope
    {
        task.write_scope = scope.clone();
        edited.write_scope = Some(task.write_scope.clone());
    }
    if let Some(scope) = &e.read_scope
        && *scope != task.read_scope
    {
        task.read_scope = scope.clone();
        edited.read_scope = Some(task.read_scope.clone());
    }
    let names = [
        ("blocked_by", edited.blocked_by.is_some()),
        ("body", edited.body.is_some()),
        ("budget_usd", edited.budget_usd.is_some()),
        ("kind", edited.kind.is_some()),
        ("labels", edited.labels.is_some()),
        ("priority", edited.priority.is_some()),
        ("read_scope", edited.read_scope.is_some()),
        ("risk", edited.risk.is_some()),
        ("title", edited.title.is_some()),
        ("write_scope", edited.write_scope.is_some()),
    ];
    edited.changed = names
        .iter()
        .filter(|(_, changed)| *changed)
        .map(|(name, _)| (*name).to_string())
        .collect();
    Ok((!edited.changed.is_empty()).then_some(edited))
}

/// The dependencies an edit gives `task`, each once, in the order given: never the task itself
/// nor its parent (the parent waits for it). That they exist in its project and make no cycle
/// is for the store to check ([`acyclic`]).
pub fn dependencies(task: &Task, deps: &[TaskId]) -> Result<Vec<TaskId>> {
    let mut out: Vec<TaskId> = Vec::with_capacity(deps.len());
    for &dep in deps {
        input::not_on_itself(task.id, dep)?;
        if task.parent == Some(dep) {
            return Err(StoreError::Invalid(format!(
                "task {} cannot depend on its parent {dep}: the parent waits for its children",
                task.id
            )));
        }
        if !out.contains(&dep) {
            out.push(dep);
        }
    }
    Ok(out)
}

/// Task `task` may depend on `deps` without a cycle: none of them depends on it, directly or
/// through others. `graph` holds the dependencies of the tasks of its project.
pub fn acyclic(task: TaskId, deps: &[TaskId], graph: &HashMap<TaskId, Vec<TaskId>>) -> Result<()> {
    for &dep in deps {
        // Walk what `dep` waits for, remembering the way, until `task` turns up.
        let mut came_from: HashMap<TaskId, TaskId> = HashMap::new();
        let mut seen: HashSet<TaskId> = HashSet::from([dep]);
        let mut next = vec![dep];
        while let Some(at) = next.pop() {
            for &on in graph.get(&at).into_iter().flatten() {
                if on == task {
                    // task → dep → … → at → task
                    let mut way = vec![at];
                    while let Some(&from) = came_from.get(way.last().unwrap_or(&at)) {
                        way.push(from);
                    }
                    way.push(task);
                    way.reverse();
                    way.push(task);
                    let way: Vec<String> = way.iter().map(|t| t.to_string()).collect();
                    return Err(StoreError::Invalid(format!(
                        "task {task} cannot depend on task {dep}: it would wait for itself \
                         ({})",
                        way.join(" → ")
                    )));
                }
                if seen.insert(on) {
                    came_from.insert(on, at);
                    next.push(on);
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graph(edges: &[(i64, &[i64])]) -> HashMap<TaskId, Vec<TaskId>> {
        edges
            .iter()
            .map(|(t, deps)| (TaskId(*t), deps.iter().map(|d| TaskId(*d)).collect()))
            .collect()
    }

    #[test]
    fn a_dependency_that_waits_for_the_task_is_a_cycle() {
        // 3 waits for 2, which waits for 1: 1 may not depend on 3.
        let g = graph(&[(1, &[]), (2, &[1]), (3, &[2]), (4, &[])]);
        let e = acyclic(TaskId(1), &[TaskId(4), TaskId(3)], &g).unwrap_err();
        let text = e.to_string();
        assert!(text.contains("cannot depend on task 3"), "{text}");
        assert!(text.contains("1 → 3 → 2 → 1"), "{text}");
        assert!(acyclic(TaskId(3), &[TaskId(1), TaskId(4)], &g).is_ok());
        assert!(acyclic(TaskId(4), &[TaskId(3)], &g).is_ok());
    }
}
