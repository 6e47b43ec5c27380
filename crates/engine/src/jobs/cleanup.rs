//! The task ended: give its worktree back (to the pool or the file system), drop its branch
//! when asked, and the scratch merges of a batch it led that did not land.

use super::{JobContext, JobResult, blocking, worktree_name};
use crate::error::{EngineError, Result};
use gaffer_core::payload::WorktreeCleaned;
use gaffer_core::{NewEvent, Payload, Status};
use std::sync::Arc;

/// Whether `task` ended, so that its cleanup goes ahead: a person may have retried it after the
/// cleanup was asked for, and its worktree (and refs) are in use again. Shared with the remote
/// sync, which drops the task's refs on the remote only for a cleanup that goes ahead.
pub(crate) fn ended(task: &gaffer_core::Task) -> bool {
    task.status().is_terminal() || task.status() == Status::Delegated
}

pub(crate) async fn run(ctx: &JobContext, delete_branch: bool) -> Result<JobResult> {
    let task_id = ctx
        .job
        .task
        .ok_or_else(|| EngineError::Invalid("a cleanup job without a task".into()))?;
    let task = ctx.board.store.task(task_id)?;
    if !ended(&task) {
        return Ok(JobResult::Done {
            events: vec![
                NewEvent::of(Payload::WorktreeCleaned(WorktreeCleaned::Skipped {
                    skipped: "the task is active again".into(),
                    status: task.status(),
                }))
                .task(task.id)
                .project(task.project),
            ],
        });
    }
    let board = Arc::clone(&ctx.board);
    let name = worktree_name(&task);
    let branch = task.branch.clone();
    let path = board.worktrees.path_of(&name);
    let released = Arc::clone(&board);
    let ended = task.clone();
    blocking(move || {
        super::merge::drop_batch_ref(&released, &ended);
        released
            .phases
            .time(crate::phases::Phase::Cleanup, || {
                released.worktrees.release(&name, &branch, delete_branch)
            })
            .map_err(Into::into)
    })
    .await?;
    // The slot was cleaned (`git clean -ffdx`): whoever uses it next runs setup again.
    super::forget_setup(&board, &path);
    // A task that merged or was cancelled is never resumed: its agents' per-task data (the
    // CLIs' sessions, conversations) goes. A failed task keeps it, for a person's retry.
    if matches!(task.status(), Status::Merged | Status::Cancelled) {
        board.paths.forget_task_data(task.id);
    }
    Ok(JobResult::Done {
        events: vec![
            NewEvent::of(Payload::WorktreeCleaned(WorktreeCleaned::Cleaned {
                branch: task.branch.clone(),
                branch_deleted: delete_branch,
            }))
            .task(task.id)
            .project(task.project),
        ],
    })
}
