//! The verify gate: the project's own command, in the task's worktree, on exactly one commit.
//! The exit code decides; the tail of the output is kept as evidence.

use super::{JobContext, JobResult, blocking, ensure_worktree, object_id, oid};
use crate::apply::Extra;
use crate::error::{EngineError, Result};
use gaffer_core::{Input, NewEvent, ObjectId, VerifyPurpose, event_kind};
use gaffer_proc::{CommandSpec, Termination};
use std::sync::Arc;

/// How much of verify's output is kept as evidence.
const TAIL_BYTES: usize = 16 * 1024;

pub(crate) async fn run(
    ctx: &JobContext,
    commit: &ObjectId,
    purpose: VerifyPurpose,
) -> Result<JobResult> {
    let board = &ctx.board;
    let task_id = ctx
        .job
        .task
        .ok_or_else(|| EngineError::Invalid("a verify job without a task".into()))?;
    let task = board.store.task(task_id)?;
    let command = board.settings.verify_command()?.to_string();
    let worktree = ensure_worktree(board, &task).await?;
    let git_commit = oid(commit)?;

    // Put the worktree on exactly the commit under test.
    let (b, wt, c, branch) = (
        Arc::clone(board),
        worktree.clone(),
        git_commit.clone(),
        task.branch.clone(),
    );
    let tree = blocking(move || {
        let env = b.git.env().to_vec();
        match purpose {
            VerifyPurpose::Candidate => gaffer_git::checkout_detached(&wt, &c, &env)?,
            VerifyPurpose::Branch => {
                if gaffer_git::head_of(&wt, &env)? != c {
                    gaffer_git::checkout_branch(&wt, &branch, &env)?;
                }
                if gaffer_git::head_of(&wt, &env)? != c {
                    return Err(EngineError::Invalid(format!(
                        "the branch {branch} is not at {c} any more; refusing to verify another tree"
                    )));
                }
            }
        }
        Ok(b.git.tree_of(&c)?)
    })
    .await?;

    board.store.append_events(&[NewEvent::new(
        event_kind::VERIFY_STARTED,
        serde_json::json!({ "commit": commit, "purpose": purpose, "command": command }),
    )
    .task(task.id)
    .project(task.project)])?;

    let spec = CommandSpec::shell(&command, &worktree)
        .timeout(board.settings.verify.timeout)
        .tail_bytes(TAIL_BYTES)
        .env("GAFFER_TASK", task.id.to_string())
        .env("GAFFER_COMMIT", commit.as_str());
    let outcome = gaffer_proc::run(&spec, &ctx.cancel, |id| ctx.record_process(id)).await?;

    if purpose == VerifyPurpose::Candidate {
        // Back on the branch, so the coder can resume here if the candidate failed.
        let (b, wt, branch) = (Arc::clone(board), worktree.clone(), task.branch.clone());
        blocking(move || Ok(gaffer_git::checkout_branch(&wt, &branch, b.git.env())?)).await?;
    }
    if matches!(outcome.termination, Termination::Cancelled) {
        return Ok(JobResult::Interrupted { finish_run: None });
    }

    let passed = outcome.success();
    let verdict = match outcome.termination {
        Termination::Exited(code) => format!("exit code {code}"),
        Termination::Signaled(sig) => format!("killed by signal {sig}"),
        Termination::TimedOut => format!(
            "timed out after {}s",
            board.settings.verify.timeout.as_secs()
        ),
        Termination::Cancelled => "cancelled".to_string(),
    };
    let summary = format!("`{command}` {verdict}\n{}", outcome.tail);
    let event = NewEvent::new(
        event_kind::VERIFY_FINISHED,
        serde_json::json!({
            "commit": commit,
            "tree": tree.as_str(),
            "purpose": purpose,
            "passed": passed,
            "exit_code": outcome.exit_code(),
            "timed_out": matches!(outcome.termination, Termination::TimedOut),
            "duration_ms": outcome.duration.as_millis() as u64,
            "tail": outcome.tail,
        }),
    );
    Ok(JobResult::Input {
        input: Input::VerifyFinished {
            commit: commit.clone(),
            tree: object_id(&tree),
            passed,
            summary,
        },
        extra: Extra {
            events: vec![event],
            ..Extra::default()
        },
    })
}
