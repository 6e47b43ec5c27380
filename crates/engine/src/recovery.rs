//! Start-up recovery: whatever a killed instance left behind is put right before any new work.
//!
//! 1. Jobs leased by dead instances of this daemon (owners under its prefix, `owner.rs`: the lock
//!    on the state directory makes any other owner with it dead) go back to the queue (without
//!    counting the attempt against them), and the processes they had started are killed, group
//!    and all; so is every process a dead gaffer started that nothing recorded (killed between
//!    spawning it and recording it): each carries its supervisor's mark from before it was
//!    spawned (`gaffer_proc::SUPERVISOR_VAR`), and the sweep finds it by that mark. Other
//!    daemons' jobs on a shared board are never touched: a dead one's leases run out and the
//!    job is taken over by whoever claims it next (`recovery::take_over`).
//! 2. Runs still marked running are marked lost (their jobs run again and make new runs): on a
//!    board of its own, every one; on a shared board, only the runs of the jobs released in 1
//!    (the others belong to live daemons).
//! 3. Worktrees of tasks that ended, or of no task, are removed; `gaffer/` branches of merged,
//!    cancelled or unknown tasks are deleted: `Board::clean` (`clean.rs`, which `gaffer clean`
//!    uses too), keeping the pool.
//! 4. The scratch of verify and setup runs a dead instance cut off is removed.

use crate::engine::Engine;
use crate::error::Result;
use crate::jobs::blocking;
use gaffer_core::Payload;
use std::sync::Arc;

/// What recovery found and did: the `engine.recovery` event's payload.
pub use gaffer_core::payload::Recovery as RecoveryReport;

pub(crate) async fn recover(engine: &Arc<Engine>) -> Result<RecoveryReport> {
    let board = Arc::clone(&engine.board);
    let mut report = RecoveryReport::default();
    let mut released = board
        .store
        .release_jobs_of_dead_owners(&board.owner_prefix, engine.owner())?;
    if !board.shared {
        // Owners written before they named their daemon: on a board no other daemon uses,
        // only this daemon's dead instances wrote them.
        released.extend(
            board
                .store
                .release_jobs_of_dead_owners(crate::owner::LEGACY_PREFIX, engine.owner())?,
        );
    }
    // A dead instance of this daemon that drove the merge queue holds its lease until it
    // expires: give it back now, so the queue does not stall for a lease after a restart.
    let queue = crate::queue_lease::queue_lease_name(&board);
    if let Some(holder) = board.store.lease_holder(&queue)?
        && holder.owner.starts_with(&board.owner_prefix)
        && holder.owner != engine.owner()
    {
        board.store.release_lease(&queue, &holder.owner)?;
    }
    report.jobs_released = released.len();
    for job in &released {
        let Some(process) = &job.process else {
            continue;
        };
        if let Some(identity) = crate::process_record::in_this_boot(process) {
            report.processes_killed += gaffer_proc::kill_group(&identity);
        }
    }
    // Whatever a dead gaffer started and never recorded (or that left its group), found by the
    // supervisor mark it carries since before it was spawned.
    report.processes_killed += blocking(|| Ok(gaffer_proc::kill_orphans())).await?;
    // Their verify and setup runs are gone with them: so is what those kept on the side.
    match std::fs::remove_dir_all(board.paths.scratch_root()) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            tracing::warn!("cannot clear {}: {e}", board.paths.scratch_root().display());
        }
        _ => {}
    }
    const STOPPED: &str = "the gaffer that ran it stopped";
    let lost = if board.shared {
        let mut lost = Vec::new();
        for job in &released {
            lost.extend(board.store.mark_runs_of_job_lost(job.id, STOPPED)?);
        }
        lost
    } else {
        board.store.mark_runs_lost(None, STOPPED)?
    };
    report.runs_lost = lost.len();
    // A run cut off inside the sandbox committed in its own git directory: bring its commits
    // back to its branch (nothing moved meanwhile: its task waited for this recovery).
    let b = Arc::clone(&board);
    report.runs_brought_back = blocking(move || {
        let mut brought = 0;
        for run in &lost {
            match bring_back_remembered(&b, run) {
                Ok(true) => brought += 1,
                Ok(false) => {}
                Err(e) => tracing::warn!(run = %run.id, "cannot bring back the commits of a lost run: {e}"),
            }
        }
        Ok(brought)
    })
    .await?;

    // Nothing runs yet: the pool is kept for the work to come.
    let b = Arc::clone(&board);
    let cleaned = blocking(move || b.clean(false)).await?;
    report.worktrees_removed = cleaned.worktrees_removed.len();
    report.branches_deleted = cleaned.branches_deleted;
    engine.event(Payload::Recovery(report.clone()));
    Ok(report)
}

/// A job handed out before and never given back (its attempts count only expired leases:
/// releases do not count) was taken from a holder that died or stalled: the runs it had
/// started will never end otherwise, so they are marked lost before it runs again.
pub(crate) fn take_over(board: &crate::board::Board, job: &gaffer_core::Job) {
    if job.attempts <= 1 {
        return;
    }
    match board
        .store
        .mark_runs_of_job_lost(job.id, "its job's previous holder lost the lease")
    {
        Ok(lost) if !lost.is_empty() => {
            tracing::info!(job = %job.id, runs = lost.len(), "took over a job; its runs are lost");
        }
        Ok(_) => {}
        Err(e) => {
            tracing::warn!(job = %job.id, "cannot mark the runs of a taken-over job lost: {e}")
        }
    }
}

/// The file beside a run's git directory naming its branch and where it started.
const RUN_REPO_START: &str = "start";

/// Records, beside the run repository under `scratch`, the branch and where it started.
pub(crate) fn remember_run_repo(
    scratch: &std::path::Path,
    branch: &str,
    start: &gaffer_git::Oid,
) -> Result<()> {
    let file = scratch.join(RUN_REPO_START);
    std::fs::write(&file, format!("{branch}\n{}\n", start.as_str()))
        .map_err(|e| crate::error::EngineError::io(format!("writing {}", file.display()), e))
}

/// Forgets a run repository that served (its commits came back, or it was removed).
pub(crate) fn forget_run_repo(scratch: &std::path::Path) {
    let _ = std::fs::remove_file(scratch.join(RUN_REPO_START));
}

/// Brings the commits a coder run that did not end normally (lost in a crash) made in its own
/// git directory back to its branch, and removes that directory; `Ok(false)` when it had none,
/// or made no commit.
fn bring_back_remembered(board: &crate::board::Board, run: &gaffer_core::Run) -> Result<bool> {
    let writer = matches!(
        run.role,
        gaffer_core::Role::Coder | gaffer_core::Role::Resolver
    );
    let Some((repo, scratch)) = open_remembered(board, run)? else {
        return Ok(false);
    };
    if !writer {
        return Ok(false);
    }
    let invalid = |e: &dyn std::fmt::Display| crate::error::EngineError::Invalid(e.to_string());
    let brought = repo.bring_back().map_err(|e| invalid(&e))?;
    let moved = !matches!(brought.branch, gaffer_git::BranchChange::Unchanged);
    repo.remove().map_err(|e| invalid(&e))?;
    forget_run_repo(&scratch);
    Ok(moved)
}

/// Removes the git directory of a run that an error cut off, without taking its commits: its
/// agent may still be winding down, and the judge may have undone some of them (a change that
/// held a secret).
pub(crate) fn discard_remembered(board: &crate::board::Board, run: &gaffer_core::Run) {
    let scratch = board.paths.run_dir(run.id).join("git");
    if let Ok(Some((repo, _))) = open_remembered(board, run)
        && let Err(e) = repo.remove()
    {
        tracing::warn!(run = %run.id, "cannot remove the run's git directory: {e}");
    }
    forget_run_repo(&scratch);
}

/// The run's own git directory, as recorded beside it, with where it lives; `None` when none
/// is recorded or the run's worktree is gone.
fn open_remembered(
    board: &crate::board::Board,
    run: &gaffer_core::Run,
) -> Result<Option<(gaffer_git::RunRepo, std::path::PathBuf)>> {
    let scratch = board.paths.run_dir(run.id).join("git");
    let Ok(text) = std::fs::read_to_string(scratch.join(RUN_REPO_START)) else {
        return Ok(None);
    };
    let mut lines = text.lines();
    let (Some(branch), Some(start)) = (lines.next(), lines.next()) else {
        return Ok(None);
    };
    let worktree = std::path::Path::new(&run.worktree);
    if !worktree.exists() {
        return Ok(None);
    }
    let invalid = |e: &dyn std::fmt::Display| crate::error::EngineError::Invalid(e.to_string());
    let start: gaffer_git::Oid = start.parse().map_err(|e| invalid(&e))?;
    let repo = gaffer_git::RunRepo::open(&board.git, worktree, branch, &scratch, start)
        .map_err(|e| invalid(&e))?;
    Ok(Some((repo, scratch)))
}
