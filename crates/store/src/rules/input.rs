//! Input checks: what a store refuses with [`StoreError::Invalid`] before writing anything.

use crate::{Commit, NewProject, Result, RunFinish, StoreError};
use gaffer_core::{NewEvent, NewJob, NewTask, ProjectId, Run, RunStatus, TaskId};

fn invalid<T>(msg: String) -> Result<T> {
    Err(StoreError::Invalid(msg))
}

/// A project names itself, its root and its target.
pub fn project(p: &NewProject) -> Result<()> {
    for (what, value) in [("name", &p.name), ("root", &p.root), ("target", &p.target)] {
        if value.trim().is_empty() {
            return invalid(format!("project {what} is empty"));
        }
    }
    Ok(())
}

/// A task has a title.
pub fn title(title: &str) -> Result<()> {
    if title.trim().is_empty() {
        return invalid("a task needs a title (it is empty)".into());
    }
    Ok(())
}

/// A task may not depend on its parent: the parent waits for its children.
pub fn not_on_parent(t: &NewTask) -> Result<()> {
    match t.parent {
        Some(parent) if t.blocked_by.contains(&parent) => invalid(format!(
            "a task cannot depend on its parent {parent}: the parent waits for its children"
        )),
        _ => Ok(()),
    }
}

/// A task may not depend on itself (checked once its id is known).
pub fn not_on_itself(task: TaskId, dep: TaskId) -> Result<()> {
    if dep == task {
        return invalid(format!("task {task} cannot depend on itself"));
    }
    Ok(())
}

/// `other` (a parent or dependency, named by `what`) exists and is in `project`; `found` is the
/// project the store found it in.
pub fn same_project(
    project: ProjectId,
    other: TaskId,
    what: &str,
    found: Option<ProjectId>,
) -> Result<()> {
    match found {
        Some(p) if p == project => Ok(()),
        Some(p) => invalid(format!(
            "{what} {other} belongs to project {p}, not to project {project}"
        )),
        None => invalid(format!("{what} {other} does not exist")),
    }
}

/// A budget is an amount of US dollars, zero or more (`None`: no budget of its own).
pub fn budget(budget: Option<f64>) -> Result<()> {
    if budget.is_some_and(|b| !(b.is_finite() && b >= 0.0)) {
        return invalid("a budget is an amount of US dollars, zero or more".into());
    }
    Ok(())
}

/// Child tasks need the task they are children of.
pub fn commit(c: &Commit) -> Result<()> {
    if !c.children.is_empty() && c.task.is_none() {
        return invalid(
            "child tasks need a parent: the commit has children but no task update".into(),
        );
    }
    if let Some(branch) = c.task.as_ref().and_then(|u| u.branch.as_deref()) {
        task_branch(branch)?;
    }
    Ok(())
}

/// A task's new branch is a plain `gaffer/...` branch name: no spaces, never an option.
pub fn task_branch(branch: &str) -> Result<()> {
    let rest = branch.strip_prefix("gaffer/").unwrap_or_default();
    if rest.is_empty()
        || rest.starts_with('-')
        || branch.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return invalid(format!(
            "`{branch}` is not a task branch (gaffer/<id>-<slug>, no spaces)"
        ));
    }
    Ok(())
}

/// A job may run at least once.
pub fn new_job(j: &NewJob) -> Result<()> {
    if j.max_attempts == 0 {
        return invalid(format!(
            "a {} job needs max_attempts >= 1 (it would never run)",
            j.spec.kind()
        ));
    }
    Ok(())
}

/// A job of a task is in that task's project (`task_project`).
pub fn job_in_task_project(j: &NewJob, task: TaskId, task_project: ProjectId) -> Result<()> {
    if task_project != j.project {
        return invalid(format!(
            "job for task {task} names project {}, but the task belongs to project {task_project}",
            j.project
        ));
    }
    Ok(())
}

/// A lease has an owner.
pub fn owner(owner: &str) -> Result<()> {
    if owner.trim().is_empty() {
        return invalid("a lease owner name is empty".into());
    }
    Ok(())
}

/// Machine labels (a job's needs, a claimer's labels, a host's): each non-empty, without
/// whitespace or commas, at most 64 bytes; returned sorted without repeats, as stored.
pub fn needs(labels: &[String]) -> Result<Vec<String>> {
    let mut out = Vec::with_capacity(labels.len());
    for label in labels {
        let bad = label.is_empty()
            || label.len() > 64
            || label.chars().any(|c| c.is_whitespace() || c == ',');
        if bad {
            return invalid(format!(
                "`{label}` is not a machine label (1 to 64 characters, no spaces or commas)"
            ));
        }
        out.push(label.clone());
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// A named lease has a name.
pub fn lease_name(name: &str) -> Result<()> {
    if name.trim().is_empty() {
        return invalid("a lease name is empty".into());
    }
    Ok(())
}

/// A lease lasts.
pub fn lease(lease_ms: i64) -> Result<()> {
    if lease_ms <= 0 {
        return invalid(format!("a lease must last > 0 ms (got {lease_ms})"));
    }
    Ok(())
}

/// An event has a kind.
pub fn event(e: &NewEvent) -> Result<()> {
    if e.kind.trim().is_empty() {
        return invalid("event kind is empty".into());
    }
    Ok(())
}

/// A run ends with an end status.
pub fn run_end(f: &RunFinish) -> Result<()> {
    if f.status == RunStatus::Running {
        return invalid(format!("run {} cannot finish with status `running`", f.run));
    }
    // Spend is summed into budgets: a negative or non-finite cost would hide real spend.
    if !(f.usage.cost_usd.is_finite() && f.usage.cost_usd >= 0.0) {
        return invalid(format!(
            "run {} cannot finish with a cost of {} USD",
            f.run, f.usage.cost_usd
        ));
    }
    Ok(())
}

/// A run ends once; `current` is the run as stored.
pub fn run_still_running(current: &Run) -> Result<()> {
    if current.status != RunStatus::Running {
        return invalid(format!(
            "run {} already ended ({})",
            current.id,
            current.status.as_str()
        ));
    }
    Ok(())
}
