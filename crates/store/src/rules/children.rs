//! The child tasks of a commit (an approved plan's subtasks), which may depend on each other.
//!
//! In a child's `blocked_by`, `TaskId(-n)` stands for the n-th child of the same commit
//! (1-based), in any order, as long as the children do not depend on each other in a cycle. A
//! store inserts every child first ([`own`]: ids in list order), then fills in the sibling
//! dependencies ([`resolve`]), then writes one `task.created` event per child, showing its final
//! dependencies.

use crate::{Result, StoreError};
use gaffer_core::{NewTask, TaskId, TaskState};

/// Checks the children of a commit that updates task `parent`: each names no other parent,
/// every placeholder names another child of the list, and they do not depend on each other in a
/// cycle.
pub fn check(parent: TaskId, children: &[(NewTask, TaskState)]) -> Result<()> {
    let deps = children
        .iter()
        .enumerate()
        .map(|(index, (child, _))| sibling_deps(child, index, parent, children.len()))
        .collect::<Result<Vec<Vec<usize>>>>()?;
    check_acyclic(children, &deps)
}

/// The child as first inserted: parented to `parent`, its sibling placeholders left out.
pub fn own(child: &NewTask, parent: TaskId) -> NewTask {
    let mut own = child.clone();
    own.parent = Some(parent);
    own.blocked_by.retain(|d| d.0 >= 0);
    own
}

/// The child's dependencies with each placeholder replaced by the id `created` gave that
/// sibling (ids in list order), or `None` when it has no sibling dependency to fill in.
pub fn resolve(child: &NewTask, created: &[TaskId]) -> Option<Vec<TaskId>> {
    if !child.blocked_by.iter().any(|&d| sibling(d).is_some()) {
        return None;
    }
    Some(
        child
            .blocked_by
            .iter()
            .map(|&dep| {
                sibling(dep)
                    .and_then(|k| created.get(k).copied())
                    .unwrap_or(dep)
            })
            .collect(),
    )
}

/// The 0-based sibling index a placeholder id stands for (`TaskId(-1)` is 0).
fn sibling(dep: TaskId) -> Option<usize> {
    if dep.0 < 0 {
        usize::try_from(dep.0.unsigned_abs() - 1).ok()
    } else {
        None
    }
}

fn sibling_deps(child: &NewTask, index: usize, parent: TaskId, count: usize) -> Result<Vec<usize>> {
    let invalid = |msg: String| -> Result<Vec<usize>> { Err(StoreError::Invalid(msg)) };
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
fn check_acyclic(children: &[(NewTask, TaskState)], deps: &[Vec<usize>]) -> Result<()> {
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
        )))
    }
}
