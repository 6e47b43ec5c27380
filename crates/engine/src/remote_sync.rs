//! Code moves only through git on a shared board. The daemons share no file system: each has
//! its own clone, and the remote (`project.remote`) is the truth about every task's branch.
//!
//! - Before a job, the daemon fetches the target, every task branch (`refs/heads/gaffer/*`)
//!   and every merge candidate (`refs/gaffer/candidates/<task>`) into its remote-tracking refs,
//!   moves its landing ref forward to the remote's target, and makes the local branches the job
//!   works on what the remote has (a worktree that has one checked out is reset to it).
//! - After a job that finished (not one interrupted), each of those branches that moved
//!   locally is pushed, or deleted there when the job deleted it, with a lease on what was
//!   fetched: another daemon's push is never overwritten; a refused push puts the job back in
//!   the queue, to run again on what the remote has now.
//! - The daemon driving the merge queue fetches the same way before each round and publishes
//!   each candidate it builds before recording it, so that whichever daemon verifies or lands
//!   it finds its commit; and with a batch, its scratch merges (`refs/gaffer/batches/<task>`,
//!   each task's own change), so that whichever daemon reverts one of its tasks finds them.
//! - A commit gaffer makes itself, outside any job (a revert), is published under
//!   `refs/gaffer/reverts/<commit>` before the board names it, then on its task's branch; the
//!   fetch before every job brings it along.
//!
//! All of this happens only on a shared board; a board of its own works in its one clone.

use crate::board::Board;
use crate::error::{EngineError, Result};
use crate::jobs::{JobContext, JobResult, blocking};
use gaffer_core::{JobSpec, Task, TaskId};
use gaffer_git::{Oid, PushOutcome};
use std::sync::{Arc, MutexGuard};

/// What a job found on the remote before it ran: the branches it may move and their values
/// there, and the task's published candidate.
pub(crate) struct Fetched {
    remote: String,
    branches: Vec<(String, Option<Oid>)>,
    candidate: Option<(TaskId, Option<Oid>)>,
    /// The scratch merges of a batch the task led, published, that a cleanup drops (unless
    /// the batch landed: a revert needs them).
    batch: Option<(TaskId, Option<Oid>)>,
}

fn remote_of(board: &Board) -> Option<String> {
    board
        .shared
        .then(|| board.settings.project.remote.clone())
        .flatten()
}

/// One exchange with the remote at a time per daemon (fetches share the tracking refs).
pub(crate) fn lock(board: &Board) -> MutexGuard<'_, ()> {
    board
        .remote_lock
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn tracking(remote: &str, branch: &str) -> String {
    format!("refs/remotes/{remote}/{branch}")
}

/// Where the queue publishes task `task`'s candidate on the remote.
fn candidate_ref(task: TaskId) -> String {
    format!("refs/gaffer/candidates/{}", task.0)
}

fn candidate_tracking(remote: &str, task: TaskId) -> String {
    format!("refs/remotes/{remote}/gaffer-candidates/{}", task.0)
}

/// Fetches the target, the task branches and the candidates, and moves the landing ref
/// forward to the remote's target when it is ahead. Nothing on a board that is not shared.
pub(crate) fn fetch(board: &Board) -> Result<()> {
    let Some(remote) = remote_of(board) else {
        return Ok(());
    };
    let _one_at_a_time = lock(board);
    fetch_locked(board, &remote)
}

fn fetch_locked(board: &Board, remote: &str) -> Result<()> {
    let target = &board.settings.project.target;
    board.git.fetch_refspecs(
        remote,
        &[
            format!("+refs/heads/{target}:{}", tracking(remote, target)),
            format!("+refs/heads/gaffer/*:{}", tracking(remote, "gaffer/*")),
            format!(
                "+refs/gaffer/candidates/*:{}",
                tracking(remote, "gaffer-candidates/*")
            ),
            format!(
                "+refs/gaffer/reverts/*:{}",
                tracking(remote, "gaffer-reverts/*")
            ),
            format!(
                "+refs/gaffer/batches/*:{}",
                tracking(remote, "gaffer-batches/*")
            ),
            format!(
                "+refs/gaffer/landed/*:{}",
                tracking(remote, "gaffer-landed/*")
            ),
        ],
        true,
    )?;
    let Some(theirs) = board.git.rev_parse(&tracking(remote, target))? else {
        return Ok(());
    };
    let landing = board.landing()?;
    let (base, expected) = landing.base(board)?;
    if theirs != base && board.git.is_ancestor(&base, &theirs)? {
        // Another daemon landed: build and start new work on it. A ref that moved meanwhile
        // (a landing of ours) is left for the next fetch.
        board
            .git
            .update_ref_cas(&landing.refname(), &theirs, expected.as_ref())?;
    }
    Ok(())
}

/// The local branches a job of `spec` on `task` works on: the task's, and its best-of
/// attempts' (those at work, or those a settling job discards).
fn branches_of(spec: &JobSpec, task: &Task) -> Vec<String> {
    let mut branches = vec![task.branch.clone()];
    match spec {
        JobSpec::SettleAttempts { slots, .. } => {
            branches.extend((1..=*slots).map(|slot| crate::best_of::attempt_branch(task, slot)));
        }
        // Attempts run side by side: each adopts only its own branch, never rewinding a
        // sibling's commit that is on its way to the remote.
        JobSpec::Attempt { slot, .. } | JobSpec::VerifyAttempt { slot, .. } => {
            branches.push(crate::best_of::attempt_branch(task, *slot));
        }
        _ => branches.extend(
            crate::best_of::live_attempts(task)
                .into_iter()
                .map(|(_, branch)| branch),
        ),
    }
    branches.dedup();
    branches
}

/// Makes local `branch` what the remote has, when it has it (a worktree with it checked out is
/// reset there); returns the remote's value, the lease of a later push.
fn adopt(board: &Board, remote: &str, branch: &str) -> Result<Option<Oid>> {
    let theirs = board.git.rev_parse(&tracking(remote, branch))?;
    let refname = format!("refs/heads/{branch}");
    let ours = board.git.rev_parse(&refname)?;
    if let Some(theirs) = &theirs
        && ours.as_ref() != Some(theirs)
    {
        match board.git.checked_out_in(branch)? {
            Some(dir) => gaffer_git::reset_hard(&dir, theirs, board.git.env())?,
            None => {
                board.git.update_ref_cas(&refname, theirs, ours.as_ref())?;
            }
        }
    }
    Ok(theirs)
}

/// Before a job: see the module's documentation. `None` on a board that is not shared.
pub(crate) async fn before(ctx: &JobContext) -> Result<Option<Fetched>> {
    let Some(remote) = remote_of(&ctx.board) else {
        return Ok(None);
    };
    let board = Arc::clone(&ctx.board);
    let job = ctx.job.clone();
    blocking(move || {
        let _one_at_a_time = lock(&board);
        fetch_locked(&board, &remote)?;
        let mut fetched = Fetched {
            remote,
            branches: Vec::new(),
            candidate: None,
            batch: None,
        };
        let Some(task) = job.task else {
            return Ok(Some(fetched));
        };
        let task = board.store.task(task)?;
        for branch in branches_of(&job.spec, &task) {
            let theirs = adopt(&board, &fetched.remote, &branch)?;
            fetched.branches.push((branch, theirs));
        }
        // Only for a cleanup that goes ahead: one that skips itself (the task is active again)
        // leaves the task's refs, here and on the remote.
        if matches!(job.spec, JobSpec::Cleanup { .. }) && crate::jobs::cleanup::ended(&task) {
            let published = board
                .git
                .rev_parse(&candidate_tracking(&fetched.remote, task.id))?;
            fetched.candidate = Some((task.id, published));
            if !crate::jobs::merge::keeps_batch_ref(&task) {
                let published = board.git.rev_parse(&tracking(
                    &fetched.remote,
                    &format!("gaffer-batches/{}", task.id.0),
                ))?;
                fetched.batch = Some((task.id, published));
            }
        }
        Ok(Some(fetched))
    })
    .await
}

/// After a job: pushes what it moved (see the module's documentation) and returns its result;
/// a push refused because another daemon pushed first puts the job back in the queue.
pub(crate) async fn after(
    ctx: &JobContext,
    fetched: Option<Fetched>,
    result: Result<JobResult>,
) -> Result<JobResult> {
    let Some(fetched) = fetched else {
        return result;
    };
    let finish_run = match &result {
        Ok(JobResult::Input { extra, .. }) => extra.finish_run.clone(),
        Ok(JobResult::Done { .. }) => None,
        Ok(JobResult::Interrupted { .. }) | Err(_) => return result,
    };
    let board = Arc::clone(&ctx.board);
    match blocking(move || push(&board, &fetched)).await? {
        Pushed::All => result,
        Pushed::Moved(why) => {
            tracing::warn!(job = %ctx.job.id, "{why}; the job runs again on what the remote has");
            Ok(JobResult::Interrupted { finish_run })
        }
        // A refusal that running again would meet again (a hook, push protection, a size
        // limit): the job fails, and its attempt counts; the run still ends with what it
        // used (its cost is real).
        Pushed::Refused(why) => {
            if let Some(finish) = finish_run {
                let commit = gaffer_store::Commit {
                    finish_run: Some(finish),
                    ..gaffer_store::Commit::default()
                };
                if let Err(e) = ctx.board.store.commit(&commit) {
                    tracing::warn!(job = %ctx.job.id, "cannot end the run: {e}");
                }
            }
            Err(crate::error::EngineError::Invalid(why))
        }
    }
}

/// How the pushes after a job went.
enum Pushed {
    All,
    /// The remote's branch moved since the fetch (another daemon pushed): run again on it.
    Moved(String),
    /// The remote refused the push itself: its branch is where the lease expected.
    Refused(String),
}

/// Pushes or deletes each branch that moved since `fetched`, under its lease; then drops a
/// cleaned-up task's candidate.
fn push(board: &Board, fetched: &Fetched) -> Result<Pushed> {
    let _one_at_a_time = lock(board);
    let remote = &fetched.remote;
    for (branch, theirs) in &fetched.branches {
        let refname = format!("refs/heads/{branch}");
        let ours = board.git.rev_parse(&refname)?;
        if &ours == theirs {
            continue;
        }
        match board
            .git
            .push_ref_with_lease(remote, ours.as_ref(), &refname, theirs.as_ref())?
        {
            PushOutcome::Pushed => follow(board, &tracking(remote, branch), ours.as_ref(), theirs),
            PushOutcome::Rejected { reason } => {
                let now = board.git.fetch_branch(remote, branch)?;
                let why = format!("{remote} refused {branch}: {reason}");
                return Ok(if &now == theirs {
                    Pushed::Refused(why)
                } else {
                    Pushed::Moved(why)
                });
            }
        }
    }
    let published = [
        fetched
            .candidate
            .as_ref()
            .map(|(t, p)| (candidate_ref(*t), p)),
        fetched
            .batch
            .as_ref()
            .map(|(t, p)| (crate::jobs::merge::batch_ref(*t), p)),
    ];
    for (refname, published) in published.into_iter().flatten() {
        let Some(published) = published else {
            continue;
        };
        if let PushOutcome::Rejected { reason } =
            board
                .git
                .push_ref_with_lease(remote, None, &refname, Some(published))?
        {
            tracing::debug!("{remote} kept {refname}: {reason}");
        }
    }
    Ok(Pushed::All)
}

/// Sets the local tracking ref to what was just pushed, so that the next lease starts there.
fn follow(board: &Board, tracking: &str, new: Option<&Oid>, old: &Option<Oid>) {
    let moved = match new {
        Some(new) => board
            .git
            .update_ref_cas(tracking, new, old.as_ref())
            .map(|_| ()),
        None => board.git.delete_ref(tracking, None),
    };
    if let Err(e) = moved {
        tracing::debug!("cannot update {tracking}: {e}");
    }
}

/// Whether every one of `commits` is in the local repository; on a shared board, after
/// fetching again when one is missing: the board names a commit only once it is on the remote,
/// but it may have named it after this daemon's last fetch. Always true on a board not shared
/// (what is missing there is an error for the caller to meet).
pub(crate) fn has_commits(
    board: &Board,
    commits: &[Option<&gaffer_core::ObjectId>],
) -> Result<bool> {
    if remote_of(board).is_none() {
        return Ok(true);
    }
    let all_here = || -> Result<bool> {
        for commit in commits.iter().flatten() {
            if board.git.rev_parse_commit(commit.as_str())?.is_none() {
                return Ok(false);
            }
        }
        Ok(true)
    };
    if all_here()? {
        return Ok(true);
    }
    fetch(board)?;
    all_here()
}

/// Publishes the candidate `commit` of `task` on the remote before the queue records it, so
/// that any daemon can verify and land it. Nothing on a board that is not shared.
pub(crate) fn publish_candidate(board: &Board, task: TaskId, commit: &Oid) -> Result<()> {
    publish_queue_ref(board, task, commit, "candidates", "the candidate")
}

/// Publishes the scratch merges of the batch whose last task is `lead` (the last of them,
/// which reaches the others: each task's own change) beside its candidate, so that a revert of
/// one of its tasks works on whichever daemon asks for it. Nothing on a board that is not
/// shared.
pub(crate) fn publish_batch(board: &Board, lead: TaskId, last: &Oid) -> Result<()> {
    publish_queue_ref(board, lead, last, "batches", "the batch merges")
}

/// Publishes the scratch merges of a batch that landed, whose last task is `lead`, under
/// `refs/gaffer/landed/`, which no cleanup drops. Nothing on a board that is not shared.
pub(crate) fn publish_landed_batch(board: &Board, lead: TaskId, last: &Oid) -> Result<()> {
    publish_queue_ref(board, lead, last, "landed", "the landed batch's merges")
}

/// Publishes `commit` as `refs/gaffer/<kind>/<task>` on the remote, with a lease on what was
/// fetched of it.
fn publish_queue_ref(
    board: &Board,
    task: TaskId,
    commit: &Oid,
    kind: &str,
    what: &str,
) -> Result<()> {
    let Some(remote) = remote_of(board) else {
        return Ok(());
    };
    let _one_at_a_time = lock(board);
    let tracking = tracking(&remote, &format!("gaffer-{kind}/{}", task.0));
    let theirs = board.git.rev_parse(&tracking)?;
    if theirs.as_ref() == Some(commit) {
        return Ok(());
    }
    let refname = format!("refs/gaffer/{kind}/{}", task.0);
    match board
        .git
        .push_ref_with_lease(&remote, Some(commit), &refname, theirs.as_ref())?
    {
        PushOutcome::Pushed => {
            follow(board, &tracking, Some(commit), &theirs);
            Ok(())
        }
        PushOutcome::Rejected { reason } => Err(EngineError::Invalid(format!(
            "{remote} refused {what} of task {task}: {reason} (another daemon drove the queue \
             meanwhile?)"
        ))),
    }
}

/// Publishes `branch` at `commit` on the remote, where it must not exist yet: a task whose
/// change gaffer made itself (a revert) has its branch before any job ran, and whichever daemon
/// verifies it must find it. Nothing on a board that is not shared.
pub(crate) fn publish_branch(board: &Board, branch: &str, commit: &Oid) -> Result<()> {
    let Some(remote) = remote_of(board) else {
        return Ok(());
    };
    let _one_at_a_time = lock(board);
    let refname = format!("refs/heads/{branch}");
    match board
        .git
        .push_ref_with_lease(&remote, Some(commit), &refname, None)?
    {
        PushOutcome::Pushed => {
            follow(board, &tracking(&remote, branch), Some(commit), &None);
            Ok(())
        }
        PushOutcome::Rejected { reason } => Err(EngineError::Invalid(format!(
            "{remote} refused the new branch {branch}: {reason}"
        ))),
    }
}

/// Where a revert commit waits on the remote until its task's branch holds it.
fn revert_ref(commit: &Oid) -> String {
    format!("refs/gaffer/reverts/{}", commit.as_str())
}

/// Publishes a revert `commit` on the remote before a task names it (its branch does not exist
/// yet: its name comes with the task's id). Nothing on a board that is not shared.
pub(crate) fn publish_revert(board: &Board, commit: &Oid) -> Result<()> {
    let Some(remote) = remote_of(board) else {
        return Ok(());
    };
    let _one_at_a_time = lock(board);
    let refname = revert_ref(commit);
    match board
        .git
        .push_ref_with_lease(&remote, Some(commit), &refname, None)?
    {
        PushOutcome::Pushed => Ok(()),
        PushOutcome::Rejected { reason } => {
            // The ref is named by its commit: one left by an earlier revert made of the very
            // same commit (same landing, tip, message and second) is as good as a new one.
            let there = tracking(&remote, &format!("gaffer-reverts/{}", commit.as_str()));
            board
                .git
                .fetch_refspecs(&remote, &[format!("+{refname}:{there}")], false)?;
            if board.git.rev_parse(&there)?.as_ref() == Some(commit) {
                return Ok(());
            }
            Err(EngineError::Invalid(format!(
                "{remote} refused the revert commit {commit}: {reason}"
            )))
        }
    }
}

/// Drops the revert's waiting ref once its branch holds the commit (best effort: a leftover
/// only keeps a commit alive on the remote).
pub(crate) fn unpublish_revert(board: &Board, commit: &Oid) {
    let Some(remote) = remote_of(board) else {
        return;
    };
    let _one_at_a_time = lock(board);
    if let Err(e) = board
        .git
        .push_ref_with_lease(&remote, None, &revert_ref(commit), Some(commit))
    {
        tracing::debug!("cannot drop {} on {remote}: {e}", revert_ref(commit));
    }
}
