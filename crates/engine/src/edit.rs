//! A person changes a task before work on it starts (`PATCH /api/tasks/{id}`, `gaffer task
//! edit`): what it asks (title, body, labels), its priority, its write and read scopes, and what
//! it waits for. A ready task given a dependency that has not merged goes back to the backlog
//! through the machine (`demote`) before the edit is written, so the scheduler cannot start it
//! meanwhile; it comes back to ready, as any task does, once its dependencies merged.

use crate::apply::{Extra, apply};
use crate::board::{Board, check_needs};
use crate::error::{EngineError, Result};
use crate::risk;
use gaffer_api::TaskChanges;
use gaffer_core::{Input, Status, Task, TaskId, TransitionError};
use gaffer_store::{StoreError, TaskEdit};
use std::collections::HashMap;

/// Attempts before a task that keeps changing under an edit is given up on.
const ATTEMPTS: usize = 5;

impl Board {
    /// Changes a task while no work on it has started (it is in the backlog or ready); labels
    /// that the risk rules rate higher raise its risk. Any other status is refused as a
    /// [`TransitionError::NotAllowed`] for input `edit`. Dependencies must be tasks of this
    /// project, not cancelled, and make no cycle (refused with a hint); a new one that has not
    /// merged sends a ready task back to the backlog.
    pub fn edit_task(&self, id: TaskId, changes: TaskChanges) -> Result<Task> {
        if let Some(labels) = &changes.labels {
            check_needs(labels)?;
        }
        for _ in 0..ATTEMPTS {
            let task = self.task(id)?;
            let status = task.status();
            if !matches!(status, Status::Backlog | Status::Ready) {
                return Err(EngineError::Transition {
                    task: id,
                    source: TransitionError::NotAllowed {
                        status,
                        input: "edit",
                    },
                });
            }
            let deps = self.dependencies_after(&task, &changes)?;
            if status == Status::Ready
                && let Some(deps) = &deps
                && self.any_unmerged(deps, &task.blocked_by)?
            {
                // Out of the scheduler's reach first; then the edit, at the new version.
                match self.demote(id) {
                    Ok(()) | Err(EngineError::Transition { .. }) => continue,
                    Err(e) => return Err(e),
                }
            }
            let risk = changes.labels.as_ref().and_then(|labels| {
                let risk = risk::for_labels(&self.settings, labels)?;
                (risk > task.state.risk).then_some(risk)
            });
            let edit = TaskEdit {
                title: changes.title.clone(),
                body: changes.body.clone(),
                labels: changes.labels.clone(),
                priority: changes.priority,
                risk,
                blocked_by: deps,
                write_scope: changes.write_scope.clone(),
                read_scope: changes.read_scope.clone(),
                ..TaskEdit::default()
            };
            match self.store.edit_task(id, task.version, &edit) {
                Err(StoreError::VersionConflict { .. }) => continue,
                other => return Ok(other?),
            }
        }
        Err(EngineError::Contention(id))
    }

    /// The task's dependencies once `changes` are made (`None` when they do not touch them),
    /// each added one checked here, with a hint, before anything is written: the store checks
    /// them again in its transaction.
    fn dependencies_after(
        &self,
        task: &Task,
        changes: &TaskChanges,
    ) -> Result<Option<Vec<TaskId>>> {
        if changes.add_deps.is_empty() && changes.remove_deps.is_empty() {
            return Ok(None);
        }
        if let Some(both) = changes
            .add_deps
            .iter()
            .find(|d| changes.remove_deps.contains(d))
        {
            return Err(EngineError::InvalidInput {
                message: format!("task {both} is both added to and removed from the dependencies"),
                hint: "name it once: --dep to add it, --no-dep to remove it".into(),
            });
        }
        let mut deps: Vec<TaskId> = task
            .blocked_by
            .iter()
            .filter(|d| !changes.remove_deps.contains(d))
            .copied()
            .collect();
        for &dep in &changes.add_deps {
            if deps.contains(&dep) {
                continue;
            }
            self.check_dependency(task, dep)?;
            deps.push(dep);
        }
        let graph: HashMap<TaskId, Vec<TaskId>> = self
            .tasks(&[])?
            .into_iter()
            .map(|t| (t.id, t.blocked_by))
            .collect();
        if let Err(StoreError::Invalid(message)) =
            gaffer_store::rules::edit::acyclic(task.id, &deps, &graph)
        {
            return Err(EngineError::InvalidInput {
                message,
                hint: "a task cannot wait for a task that waits for it; remove the other \
                       dependency first (`gaffer task edit M --no-dep N`)"
                    .into(),
            });
        }
        Ok(Some(deps))
    }

    /// `dep` may become a dependency of `task`: a task of this project, not `task` itself nor
    /// its parent, and not cancelled (a task waiting for it would never start).
    fn check_dependency(&self, task: &Task, dep: TaskId) -> Result<()> {
        let refuse = |message: String, hint: &str| EngineError::InvalidInput {
            message,
            hint: hint.into(),
        };
        if dep == task.id {
            return Err(refuse(
                format!("task {dep} cannot depend on itself"),
                "name another task",
            ));
        }
        if task.parent == Some(dep) {
            return Err(refuse(
                format!("task {} cannot depend on its parent {dep}", task.id),
                "the parent already waits for its children",
            ));
        }
        let other = match self.store.task(dep) {
            Ok(other) => other,
            Err(StoreError::TaskNotFound(_)) => {
                return Err(refuse(
                    format!("task {dep} does not exist"),
                    "`gaffer task list` shows the board's tasks",
                ));
            }
            Err(e) => return Err(e.into()),
        };
        if other.project != task.project {
            return Err(refuse(
                format!("task {dep} belongs to another project"),
                "a task can only wait for tasks of its own board",
            ));
        }
        if other.status() == Status::Cancelled {
            return Err(refuse(
                format!("task {dep} was cancelled: a task waiting for it would never start"),
                "retry or re-add that work first, or leave the dependency out",
            ));
        }
        Ok(())
    }

    /// Whether any of `deps` that `before` did not have yet has not merged.
    fn any_unmerged(&self, deps: &[TaskId], before: &[TaskId]) -> Result<bool> {
        for dep in deps.iter().filter(|d| !before.contains(d)) {
            if self.store.task(*dep)?.status() != Status::Merged {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Ready → backlog, through the machine (its `task.status` event says `demote`; the
    /// `task.edited` that follows says why).
    fn demote(&self, id: TaskId) -> Result<()> {
        apply(self, id, &Input::Demote, Extra::default())?;
        Ok(())
    }
}
