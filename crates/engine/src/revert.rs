//! `gaffer revert N`: a merged task is undone by a new task, not by a push to the target. Gaffer
//! makes the revert itself (`git revert -m 1` of N's landing, on the landing tip, in a throwaway
//! worktree: no agent), stores a task whose branch holds it and whose flow is `prepared`, so its
//! first start verifies it; from there it goes through the merge queue like any change (a
//! failing verify goes to a coder with the output). The new task carries the label
//! `reverts:<N>`, by which a second revert of N is refused while the first is alive.
//!
//! A revert that conflicts with what landed since is refused, with the files and a hint: an
//! automatic resolution of someone else's later change is a decision for a person (or a coder
//! given a task that says what to keep), not for gaffer.

use crate::board::Board;
use crate::error::{EngineError, Result};
use crate::jobs::{object_id, oid};
use gaffer_core::payload::TaskRevert;
use gaffer_core::{
    Flow, NewEvent, NewTask, Payload, Status, Task, TaskId, TaskKind, TaskState, needs_of,
};
use gaffer_git::{CasOutcome, Reverted};

/// The label of a task that reverts task N: `reverts:N`.
pub const REVERTS_PREFIX: &str = "reverts:";

/// The label a revert of `task` carries.
pub fn reverts_label(task: TaskId) -> String {
    format!("{REVERTS_PREFIX}{task}")
}

impl Board {
    /// Has merged task `id` reverted by a new task, which it answers (in the backlog, its
    /// branch holding the revert); `who` asked. Refused, with a hint, when `id` is not merged,
    /// landed nothing of its own, is being or was reverted already, is no longer on the target,
    /// or when the revert conflicts with what landed since or changes nothing.
    pub fn revert(&self, id: TaskId, who: &str) -> Result<Task> {
        // One revert at a time in this process: two of one task would both pass the check.
        let _one = self
            .revert_lock
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let task = self.task(id)?;
        let landed = revertible(&task)?;
        if let Some(other) = self.revert_of(id)? {
            return Err(already(&task, &other));
        }
        // On a shared board, the target as the remote has it.
        crate::remote_sync::fetch(self)?;
        let (tip, _) = self.landing()?.base(self)?;
        let landed_commit = oid(&landed)?;
        let target = &self.settings.project.target;
        if !self.git.is_ancestor(&landed_commit, &tip)? {
            return Err(EngineError::Refused {
                message: format!(
                    "task {id}'s landing {} is not on {target} any more",
                    landed.short()
                ),
                hint: "someone rewrote the target's history; undo the change by hand".into(),
            });
        }
        let scratch = self.paths.command_scratch(&format!("revert-{id}"));
        let message = message(&task, &landed, target, who);
        let undone = own_change(self, &task, &landed_commit)?;
        let commit = match self.git.revert_onto(&undone, &tip, &scratch, &message)? {
            Reverted::Commit(commit) => commit,
            Reverted::Conflicted { files } => {
                return Err(EngineError::Refused {
                    message: format!(
                        "reverting task {id} conflicts with what landed on {target} since, in {}",
                        files.join(", ")
                    ),
                    hint: format!(
                        "later changes touched the same lines: undo it by hand, or add a task \
                         that says what to keep, e.g. gaffer task add \"Undo task {id}\" --body \
                         \"…\""
                    ),
                });
            }
            Reverted::Empty => {
                return Err(EngineError::Refused {
                    message: format!(
                        "reverting task {id} changes nothing: what it did is undone on {target} \
                         already"
                    ),
                    hint: "nothing to do".into(),
                });
            }
        };
        // On a shared board the commit is on the remote before the board names it, so that
        // whichever daemon takes the revert's first job finds it (`remote_sync`).
        crate::remote_sync::publish_revert(self, &commit)?;
        // Stored and given its branch while no worktree is made here, so that the engine, which
        // may start the task at once, checks out that branch rather than racing to make it.
        let revert = self.worktrees.exclusive(|| -> Result<Task> {
            let revert = self.add_revert(&task, &commit)?;
            let refname = format!("refs/heads/{}", revert.branch);
            match self.git.update_ref_cas(&refname, &commit, None) {
                Ok(CasOutcome::Updated) => {}
                Ok(CasOutcome::Moved { actual }) => {
                    tracing::warn!(task = %revert.id, ?actual, "the revert's branch existed already");
                }
                // The worktree is made from the task's head anyway.
                Err(e) => tracing::warn!(task = %revert.id, "cannot make the revert's branch: {e}"),
            }
            Ok(revert)
        })?;
        if let Err(e) = crate::remote_sync::publish_branch(self, &revert.branch, &commit) {
            // Its first job pushes it, as after any job that moved a branch.
            tracing::warn!(task = %revert.id, "cannot publish the revert's branch yet: {e}");
        }
        crate::remote_sync::unpublish_revert(self, &commit);
        let event = |on: TaskId| {
            NewEvent::of(Payload::TaskRevert(TaskRevert {
                reverts: id,
                revert_task: revert.id,
                landed: landed.clone(),
                commit: object_id(&commit),
                onto: object_id(&tip),
                by: who.to_string(),
            }))
            .task(on)
            .project(self.project.id)
        };
        self.store.append_events(&[event(id), event(revert.id)])?;
        Ok(revert)
    }

    /// The live task that reverts `id` (any but a cancelled one), if there is one.
    pub fn revert_of(&self, id: TaskId) -> Result<Option<Task>> {
        let label = reverts_label(id);
        Ok(self
            .tasks(&[])?
            .into_iter()
            .find(|t| t.status() != Status::Cancelled && t.labels.contains(&label)))
    }

    /// Stores the task that carries the revert `commit` of `task`: prepared (its first start
    /// verifies), no plan, no agent review (gaffer made the change; a person asked for it), the
    /// approval gate as configured, at `task`'s risk, priority, scopes and machine needs.
    fn add_revert(&self, task: &Task, commit: &gaffer_git::Oid) -> Result<Task> {
        let mut labels = vec![reverts_label(task.id)];
        labels.extend(
            needs_of(&task.labels)
                .into_iter()
                .map(|n| format!("{}{n}", gaffer_core::NEEDS_PREFIX)),
        );
        let new = NewTask {
            title: format!("Revert \"{}\"", task.title),
            body: format!(
                "Reverts task #{} (“{}”): its landing {} is undone on {} by gaffer (`git revert \
                 -m 1`), then verified and landed through the merge queue like any change.",
                task.id,
                task.title,
                task.state.landed.as_ref().map_or("?", |l| l.commit.short()),
                self.settings.project.target
            ),
            kind: TaskKind::Task,
            priority: task.priority,
            labels,
            write_scope: task.write_scope.clone(),
            read_scope: task.read_scope.clone(),
            risk: task.state.risk,
            ..NewTask::default()
        };
        let flow = Flow {
            plan: false,
            plan_review: false,
            review: false,
            best_of: 0,
            survey: false,
            prepared: true,
            ..self.flow_for(&new)
        };
        let mut state = TaskState::new(flow, task.state.risk, 0);
        state.head = Some(object_id(commit));
        Ok(self.store.create_task(self.project.id, &new, &state)?)
    }
}

/// The commit whose change (against its first parent) is the task's own: what it landed,
/// unless it landed in a batch (one commit holding several tasks' branches). Then it is the
/// batch's merge of its branch on the branches before it in the batch, whose first parent is
/// the merge of those ([`gaffer_core::Candidate::change`], kept under `refs/gaffer/batches/`):
/// the revert undoes this task and nothing of its batch-mates, even where their changes touch
/// the lines next to its own.
fn own_change(board: &Board, task: &Task, landed: &gaffer_git::Oid) -> Result<gaffer_git::Oid> {
    let Some(candidate) = task.state.candidate.as_ref().filter(|c| c.batch.len() > 1) else {
        return Ok(landed.clone());
    };
    if let Some(change) = &candidate.change {
        // Its change was recorded: anything else (its branch on what the batch was built on)
        // may hold a batch-mate's change too, which a revert would silently undo.
        return board
            .git
            .rev_parse_commit(change.as_str())?
            .ok_or_else(|| EngineError::Refused {
                message: format!(
                    "task {} landed in a batch, and its own change in it ({}) is missing from the \
                     repository (its batch's merges are no longer kept, and git collected them)",
                    task.id,
                    change.short()
                ),
                hint: "fetch it from a clone that still has it (refs/gaffer/landed/ or \
                       refs/gaffer/batches/), or undo the change by hand"
                    .into(),
            });
    }
    // A batch landed before gaffer kept each task's change: its branch alone applied on what
    // the batch was built on, a scratch commit on no ref.
    let (Some(head), onto) = (task.state.head.as_ref(), oid(&candidate.onto)?) else {
        return Ok(landed.clone());
    };
    let head = oid(head)?;
    match board.git.merge_tree(&onto, &head)? {
        gaffer_git::MergeTree::Clean { tree } => Ok(board.git.commit_tree(
            &tree,
            std::slice::from_ref(&onto),
            &format!("task #{}'s own change in its batch", task.id),
        )?),
        gaffer_git::MergeTree::Conflicted { files } => Err(EngineError::Refused {
            message: format!(
                "task {} landed in a batch, and its change alone cannot be told apart from the \
                 batch's (it conflicts with what the batch was built on in {})",
                task.id,
                files.join(", ")
            ),
            hint: "undo the change by hand, or add a task saying what to remove".into(),
        }),
    }
}

/// What `task` landed, when a revert of it makes sense.
fn revertible(task: &Task) -> Result<gaffer_core::ObjectId> {
    let id = task.id;
    if task.status() != Status::Merged {
        let hint = match task.status() {
            Status::Cancelled | Status::Failed => {
                "nothing of it landed: there is nothing to undo".to_string()
            }
            _ => format!("it has not landed yet: cancel it instead (`gaffer task cancel {id}`)"),
        };
        return Err(EngineError::Refused {
            message: format!(
                "task {id} is {}, not merged: only a merged task can be reverted",
                task.status()
            ),
            hint,
        });
    }
    task.state
        .landed
        .as_ref()
        .map(|l| l.commit.clone())
        .ok_or_else(|| EngineError::Refused {
            message: format!(
                "task {id} landed nothing of its own (an epic lands through its subtasks)"
            ),
            hint: "revert the subtasks whose change you want undone".into(),
        })
}

/// The refusal of a second revert of `task`, which `other` reverts already.
fn already(task: &Task, other: &Task) -> EngineError {
    let (id, by) = (task.id, other.id);
    if other.status() == Status::Merged {
        EngineError::Refused {
            message: format!("task {id} is reverted already, by task {by}"),
            hint: format!("to bring its change back, revert task {by}: gaffer revert {by}"),
        }
    } else {
        EngineError::Refused {
            message: format!(
                "task {by} already reverts task {id} (it is {})",
                other.status()
            ),
            hint: format!(
                "follow it with `gaffer task show {by}`; cancel it to revert task {id} again"
            ),
        }
    }
}

/// The revert commit's message: what is undone, and who asked.
fn message(task: &Task, landed: &gaffer_core::ObjectId, target: &str, who: &str) -> String {
    format!(
        "Revert \"{}\"\n\nThis undoes task #{}'s landing {} on {target}.\nMade by gaffer \
         (revert asked by {who}); it lands through verify and the merge queue.\n\n\
         Gaffer-Reverts: #{}\n",
        task.title,
        task.id,
        landed.as_str(),
        task.id
    )
}
