//! Best-of-N jobs besides the coders' runs (those are agent runs, `agent.rs`): verifying an
//! attempt's commit in its own worktree, and settling the attempts once one is adopted or none
//! is (worktrees and branches removed, what each cost recorded).

use super::{JobContext, JobResult, blocking, ensure_named, object_id, oid, worktree_name};
use crate::apply::Extra;
use crate::best_of::{attempt_branch, attempt_name, costs};
use crate::error::{EngineError, Result};
use gaffer_core::payload::{BestOfSettled, VerifyOf, VerifyStarted};
use gaffer_core::{AttemptStatus, Input, NewEvent, ObjectId, Payload, Task};
use std::sync::Arc;

fn task_of(ctx: &JobContext) -> Result<Task> {
    let id = ctx
        .job
        .task
        .ok_or_else(|| EngineError::Invalid("a best-of job without a task".into()))?;
    Ok(ctx.board.store.task(id)?)
}

/// Runs the project's verify command on attempt `slot`'s commit, in its worktree.
pub(crate) async fn verify(ctx: &JobContext, slot: u32, commit: &ObjectId) -> Result<JobResult> {
    let board = &ctx.board;
    let task = task_of(ctx)?;
    // An attempt no longer waiting for this verify (the task moved on) is not worth a run.
    let wanted = task.state.attempts.iter().any(|a| {
        a.slot == slot && a.status == AttemptStatus::Verifying && a.head.as_ref() == Some(commit)
    });
    if !wanted {
        return Ok(JobResult::Done { events: vec![] });
    }
    let command = board.settings.verify_command()?.to_string();
    let branch = attempt_branch(&task, slot);
    let worktree = ensure_named(board, attempt_name(&task, slot), branch.clone(), None).await?;
    let git_commit = oid(commit)?;
    let (b, wt, c) = (Arc::clone(board), worktree.clone(), git_commit.clone());
    let tree = blocking(move || {
        let env = b.git.env().to_vec();
        if b.git.head_of(&wt)? != c {
            gaffer_git::checkout_branch(&wt, &branch, &env)?;
        }
        if b.git.head_of(&wt)? != c {
            return Err(EngineError::Invalid(format!(
                "the branch {branch} is not at {c} any more; refusing to verify another tree"
            )));
        }
        Ok(b.git.tree_of(&c)?)
    })
    .await?;
    board
        .store
        .append_events(&[NewEvent::of(Payload::VerifyStarted(VerifyStarted {
            commit: commit.clone(),
            purpose: VerifyOf::Attempt,
            command,
            recheck: None,
            slot: Some(slot),
        }))
        .task(task.id)
        .project(task.project)])?;
    let Some(checked) = super::verify::run_command(ctx, &task, &worktree, commit, "branch").await?
    else {
        return Ok(JobResult::Interrupted { finish_run: None });
    };
    let passed = checked.passed;
    let finished = checked.finished(commit, &tree, VerifyOf::Attempt, Some(slot));
    let event = NewEvent::of(Payload::VerifyFinished(finished));
    Ok(JobResult::Input {
        input: Input::AttemptVerified {
            slot,
            commit: commit.clone(),
            tree: object_id(&tree),
            passed,
            summary: checked.summary,
        },
        extra: Extra {
            events: vec![event],
            ..Extra::default()
        },
    })
}

/// The attempts are over: the kept one's commit is on the task's own branch (made when it
/// does not exist yet), and every attempt's worktree and branch is removed. Safe to repeat.
pub(crate) async fn settle(ctx: &JobContext, slots: u32, kept: Option<u32>) -> Result<JobResult> {
    let board = Arc::clone(&ctx.board);
    let task = task_of(ctx)?;
    let spent = {
        let (b, t) = (Arc::clone(&board), task.clone());
        blocking(move || costs(&b, &t, slots)).await?
    };
    let t = task.clone();
    let made = blocking(move || {
        let mut made = None;
        if let (Some(_), Some(head)) = (kept, &t.state.head) {
            let refname = format!("refs/heads/{}", t.branch);
            if board.git.rev_parse_commit(&refname)?.is_none() {
                let head = oid(head)?;
                // Only when it does not exist: a coder may have made it from the head already.
                board.git.update_ref_cas(&refname, &head, None)?;
                made = Some(head.as_str().to_string());
            }
        }
        for slot in 1..=slots {
            board
                .worktrees
                .release(&attempt_name(&t, slot), &attempt_branch(&t, slot), true)?;
        }
        Ok(made)
    })
    .await?;
    let (kept_cost, discarded): (Vec<_>, Vec<_>) =
        spent.into_iter().partition(|c| Some(c.slot) == kept);
    Ok(JobResult::Done {
        events: vec![
            NewEvent::of(Payload::BestOfSettled(BestOfSettled {
                kept,
                kept_attempt: kept_cost.into_iter().next(),
                branch: task.branch.clone(),
                branch_made_at: made,
                worktree: worktree_name(&task),
                discarded_cost_usd: discarded.iter().map(|c| c.cost_usd).sum(),
                discarded,
            }))
            .task(task.id)
            .project(task.project),
        ],
    })
}
