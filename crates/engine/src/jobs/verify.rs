//! The verify gate: the project's own command, in the task's worktree, on exactly one commit
//! (the branch head after coding, or a merge candidate of the queue). The exit code decides; the
//! tail of the output is kept as evidence, and a failure's output is read once
//! (`gaffer_core::failures`) for the failing tests, kept with `verify.finished` and leading the
//! summary the machine keeps. A best-of attempt's verify (`attempt.rs`) runs through
//! [`run_command`] too. The command sees `GAFFER_VERIFY_PURPOSE` (`branch` or
//! `candidate`), so a project may run a quick check at the gate and its full suite in the queue.
//!
//! A branch that passes is also checked against the landing tip with `git merge-tree`: a
//! conflict found now goes to a resolver before the branch queues.

use super::{JobContext, JobResult, blocking, ensure_worktree, object_id, oid};
use crate::apply::Extra;
use crate::error::{EngineError, Result};
use crate::phases::Phase;
use gaffer_core::failures::{self, FailureSummary};
use gaffer_core::payload::{
    QueueConflict, QueueFlaky, QueueVerified, VerifyFinished, VerifyOf, VerifyStarted,
};
use gaffer_core::{CandidateStatus, Input, NewEvent, ObjectId, Payload, Status, VerifyPurpose};
use gaffer_git::MergeTree;
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
    // A candidate the queue dropped since (its base changed) is not worth a verify run.
    let recheck = match (purpose, task.status(), &task.state.candidate) {
        (VerifyPurpose::Candidate, Status::Merging, Some(c)) if &c.commit == commit => {
            matches!(c.status, CandidateStatus::Rechecking { .. })
        }
        (VerifyPurpose::Candidate, _, _) => return Ok(JobResult::Done { events: vec![] }),
        (VerifyPurpose::Branch, _, _) => false,
    };
    let command = board.settings.verify_command()?.to_string();
    let worktree = ensure_worktree(board, &task).await?;
    let git_commit = oid(commit)?;

    let tree = board
        .phases
        .time_async(
            Phase::VerifyCheckout,
            put_on(board, &worktree, &git_commit, &task.branch, purpose),
        )
        .await?;

    board
        .store
        .append_events(&[NewEvent::of(Payload::VerifyStarted(VerifyStarted {
            commit: commit.clone(),
            purpose: purpose.into(),
            command,
            recheck: Some(recheck),
            slot: None,
        }))
        .task(task.id)
        .project(task.project)])?;

    let purpose_name = match purpose {
        VerifyPurpose::Branch => "branch",
        VerifyPurpose::Candidate => "candidate",
    };
    let Some(checked) = run_command(ctx, &task, &worktree, commit, purpose_name).await? else {
        // After a candidate the worktree stays detached on it: whatever runs next there (a
        // coder sent back, the branch's own verify) puts it back on the branch first.
        return Ok(JobResult::Interrupted { finish_run: None });
    };
    let passed = checked.passed;
    let duration_ms = checked.outcome.duration.as_millis() as u64;
    let finished = checked.finished(commit, &tree, purpose.into(), None);
    let mut events = vec![NewEvent::of(Payload::VerifyFinished(finished))];

    let mut conflicts = Vec::new();
    match purpose {
        VerifyPurpose::Candidate => {
            events.push(NewEvent::of(Payload::QueueVerified(QueueVerified {
                commit: commit.clone(),
                tree: object_id(&tree),
                passed,
                recheck,
                duration_ms,
                position: task.state.queue.as_ref().map(|q| q.position),
            })));
            if recheck && passed {
                events.push(NewEvent::of(Payload::QueueFlaky(QueueFlaky {
                    commit: commit.clone(),
                    tree: object_id(&tree),
                    detail: "verify failed, then passed on the same tree: flaky; the branch is \
                             not blamed"
                        .into(),
                })));
            }
        }
        VerifyPurpose::Branch if passed => {
            let predicted = board
                .phases
                .time_async(Phase::ConflictCheck, predicted_conflict(board, &git_commit))
                .await?;
            if let Some((base, files)) = predicted {
                events.push(NewEvent::of(Payload::QueueConflict(QueueConflict {
                    predicted: true,
                    files: files.clone(),
                    onto: object_id(&base),
                    detail: "the branch passed verify but would conflict with the landing tip; \
                             a resolver merges the target into it first"
                        .into(),
                })));
                conflicts = files;
            }
        }
        VerifyPurpose::Branch => {}
    }
    Ok(JobResult::Input {
        input: Input::VerifyFinished {
            commit: commit.clone(),
            tree: object_id(&tree),
            passed,
            summary: checked.summary,
            conflicts,
        },
        extra: Extra {
            events,
            ..Extra::default()
        },
    })
}

/// Puts the worktree on exactly the commit under test: detached on a candidate, on the branch
/// (which must be at the commit) for the branch's own verify. Returns the commit's tree.
async fn put_on(
    board: &Arc<crate::Board>,
    worktree: &std::path::Path,
    commit: &gaffer_git::Oid,
    branch: &str,
    purpose: VerifyPurpose,
) -> Result<gaffer_git::Oid> {
    let (b, wt, c, branch) = (
        Arc::clone(board),
        worktree.to_path_buf(),
        commit.clone(),
        branch.to_string(),
    );
    blocking(move || {
        let env = b.git.env().to_vec();
        match purpose {
            VerifyPurpose::Candidate => b.worktrees.checkout_detached(&wt, &c)?,
            VerifyPurpose::Branch => {
                if b.git.head_of(&wt)? != c {
                    gaffer_git::checkout_branch(&wt, &branch, &env)?;
                }
                if b.git.head_of(&wt)? != c {
                    return Err(EngineError::Invalid(format!(
                        "the branch {branch} is not at {c} any more; refusing to verify another tree"
                    )));
                }
            }
        }
        Ok(b.git.tree_of(&c)?)
    })
    .await
}

/// A conflict of the branch with the landing tip, predicted before the branch queues: the tip
/// and the conflicting files.
async fn predicted_conflict(
    board: &Arc<crate::Board>,
    head: &gaffer_git::Oid,
) -> Result<Option<(gaffer_git::Oid, Vec<String>)>> {
    let (b, head) = (Arc::clone(board), head.clone());
    blocking(move || {
        let (base, _) = b.landing()?.base(&b)?;
        if b.git.is_ancestor(&base, &head)? {
            return Ok(None);
        }
        Ok(match b.git.merge_tree(&base, &head)? {
            MergeTree::Clean { .. } => None,
            MergeTree::Conflicted { files } => Some((base, files)),
        })
    })
    .await
}

/// What one run of the project's verify command established.
pub(crate) struct Checked {
    pub passed: bool,
    /// The evidence a coder gets back (and a failed task's note): when it failed, the
    /// headline, the command and how it ended, the failing tests with their first lines, then
    /// the tail of the output; when it passed, the command, how it ended and the tail.
    pub summary: String,
    /// A failure: what its output says, read once here and kept with `verify.finished`.
    pub failure: Option<FailureSummary>,
    pub outcome: gaffer_proc::ProcessOutcome,
}

impl Checked {
    /// The `verify.finished` event of this run on `commit` (`slot`: which attempt).
    pub(crate) fn finished(
        &self,
        commit: &ObjectId,
        tree: &gaffer_git::Oid,
        purpose: VerifyOf,
        slot: Option<u32>,
    ) -> VerifyFinished {
        VerifyFinished {
            commit: commit.clone(),
            tree: object_id(tree),
            purpose,
            passed: self.passed,
            exit_code: self.outcome.exit_code(),
            timed_out: matches!(self.outcome.termination, Termination::TimedOut),
            duration_ms: self.outcome.duration.as_millis() as u64,
            tail: self.outcome.tail.clone(),
            slot,
            failure: self.failure.clone(),
        }
    }
}

/// Runs the project's verify command once on `commit` (already checked out in `worktree`),
/// telling it the task, the commit and the purpose; `None` when the job was cancelled.
pub(crate) async fn run_command(
    ctx: &JobContext,
    task: &gaffer_core::Task,
    worktree: &std::path::Path,
    commit: &ObjectId,
    purpose: &str,
) -> Result<Option<Checked>> {
    let board = &ctx.board;
    let command = board.settings.verify_command()?.to_string();
    let spec = CommandSpec::shell(&command, worktree)
        .timeout(board.settings.verify.timeout)
        .tail_bytes(TAIL_BYTES)
        .env("GAFFER_TASK", task.id.to_string())
        .env("GAFFER_COMMIT", commit.as_str())
        .env("GAFFER_VERIFY_PURPOSE", purpose);
    let scratch = board
        .paths
        .command_scratch(&format!("verify-{}", ctx.job.id));
    let outcome = board
        .phases
        .time_async(
            Phase::VerifyCommand,
            crate::confine::run_command(
                board,
                crate::confine::Kind::Verify,
                spec,
                worktree,
                &scratch,
                &ctx.cancel,
                |id| ctx.record_process(id),
            ),
        )
        .await?;
    let verdict = match outcome.termination {
        Termination::Exited(code) => format!("exit code {code}"),
        Termination::Signaled(sig) => format!("killed by signal {sig}"),
        Termination::TimedOut => format!(
            "timed out after {}s",
            board.settings.verify.timeout.as_secs()
        ),
        Termination::Cancelled => return Ok(None),
    };
    let passed = outcome.success();
    // Only its first line: the evidence's lead is one line each (headline, command).
    let shown = match command.trim().split_once('\n') {
        Some((first, _)) => format!("{first} …"),
        None => command.trim().to_string(),
    };
    let said = format!("`{shown}` {verdict}");
    if passed {
        return Ok(Some(Checked {
            passed,
            summary: format!("{said}\n{}", outcome.tail),
            failure: None,
            outcome,
        }));
    }
    let mut failure = failures::summarize(&outcome.tail);
    // Stopped from outside with no test seen failing: that is the news, not its last line.
    if failure.tests.is_empty() && !matches!(outcome.termination, Termination::Exited(_)) {
        failure.headline = format!("verify {verdict}");
    }
    Ok(Some(Checked {
        passed,
        summary: failure.evidence(&said, &outcome.tail),
        failure: Some(failure),
        outcome,
    }))
}
