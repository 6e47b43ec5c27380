//! The child tasks of a commit (an approved plan's subtasks), which may depend on each other.
//!
//! In a child's `blocked_by`, `TaskId(-n)` stands for the n-th child of the same commit
//! (1-based), in any order, as long as the children do not depend on each other in a cycle.
//! All children are inserted first (ids in list order), then sibling dependencies are filled in,
//! then one `task.created` event per child is written, showing its final dependencies.

use super::retry::TxResult;
use super::tasks;
use crate::StoreError;
use gaffer_core::{Event, NewTask, ProjectId, TaskId, TaskState};
use rusqlite::Connection;

pub(super) fn create(
    conn: &Connection,
    parent: TaskId,
    project: ProjectId,
    children: &[(NewTask, TaskState)],
    now: i64,
) -> TxResult<Vec<Event>> {
    let deps = children
        .iter()
        .enumerate()
        .map(|(index, (child, _))| sibling_deps(child, index, parent, children.len()))
        .collect::<TxResult<Vec<Vec<usize>>>>()?;
    check_acyclic(children, &deps)?;

    let mut created = Vec::with_capacity(children.len());
    for (child, initial) in children {
        let mut own = child.clone();
        own.parent = Some(parent);
        own.blocked_by.retain(|d| d.0 >= 0);
        created.push(tasks::insert(conn, project, &own, initial, now)?);
    }
    for (index, ((child, _), d)) in children.iter().zip(&deps).enumerate() {
        if d.is_empty() {
            continue;
        }
        let resolved: Vec<TaskId> = child
            .blocked_by
            .iter()
            .map(|&dep| sibling(dep).map_or(dep, |k| created[k].id))
            .collect();
        tasks::set_blocked_by(conn, &mut created[index], resolved)?;
    }
    created
        .iter()
        .map(|task| tasks::created_event(conn, task, now))
        .collect()
}

/// The 0-based sibling index a placeholder id stands for (`TaskId(-1)` is 0).
fn sibling(dep: TaskId) -> Option<usize> {
    if dep.0 < 0 {
        usize::try_from(dep.0.unsigned_abs() - 1).ok()
    } else {
        None
    }
}

fn sibling_deps(
    child: &NewTask,
    index: usize,
    parent: TaskId,
    count: usize,
) -> TxResult<Vec<usize>> {
    let invalid = |msg: String| -> TxResult<Vec<usize>> { Err(StoreError::Invalid(msg).into()) };
    if child.parent.is_some_and(|p| p != parent) {
        return invalid(format!(
            "child `{}` names parent {:?}, but the commit updates task {parent}",
            child.title,
            child.parent.map(|p| p.0)
        ));
    }
    let mut sibling_deps = Vec::new();
    for &dep in &child.blocked_by {
        let Some(k) = sibling(dep) else { continue };
        if k == index {
            return invalid(format!("child `{}` cannot depend on itself", child.title));
        }
        if k >= count {
            return invalid(format!(
                "child `{}` depends on child #{}, but the commit has {count} children",
                child.title,
                k + 1
            ));
        }
        sibling_deps.push(k);
    }
    Ok(sibling_deps)
}

/// Refuses children that depend on each other in a cycle (none of them could ever start).
fn check_acyclic(children: &[(NewTask, TaskState)], deps: &[Vec<usize>]) -> TxResult<()> {
    // Kahn: repeatedly retire children whose sibling dependencies are all retired.
    let mut waiting: Vec<usize> = deps.iter().map(Vec::len).collect();
    let mut ready: Vec<usize> = (0..deps.len()).filter(|&i| waiting[i] == 0).collect();
    let mut retired = vec![false; deps.len()];
    while let Some(done) = ready.pop() {
        retired[done] = true;
        for (i, d) in deps.iter().enumerate() {
            for _ in d.iter().filter(|&&k| k == done) {
                waiting[i] -= 1;
                if waiting[i] == 0 {
                    ready.push(i);
                }
            }
        }
    }
    let stuck: Vec<String> = (0..deps.len())
        .filter(|&i| !retired[i])
        .map(|i| format!("#{} `{}`", i + 1, children[i].0.title))
        .collect();
    if stuck.is_empty() {
        Ok(())
    } else {
        Err(StoreError::Invalid(format!(
            "children depend on each other in a cycle: {}",
            stuck.join(", ")
        ))
        .into())
    }
}
