//! The task ended: give its worktree back (to the pool or the file system), drop its branch
//! when asked.

use super::{JobContext, JobResult, blocking, worktree_name};
use crate::error::{EngineError, Result};
use gaffer_core::{NewEvent, event_kind};
use std::sync::Arc;

pub(crate) async fn run(ctx: &JobContext, delete_branch: bool) -> Result<JobResult> {
    let task_id = ctx
        .job
        .task
        .ok_or_else(|| EngineError::Invalid("a cleanup job without a task".into()))?;
    let task = ctx.board.store.task(task_id)?;
    let board = Arc::clone(&ctx.board);
    let name = worktree_name(&task);
    let branch = task.branch.clone();
    blocking(move || Ok(board.worktrees.release(&name, &branch, delete_branch)?)).await?;
    Ok(JobResult::Done {
        events: vec![
            NewEvent::new(
                event_kind::WORKTREE_CLEANED,
                serde_json::json!({ "branch": task.branch, "branch_deleted": delete_branch }),
            )
            .task(task.id)
            .project(task.project),
        ],
    })
}
