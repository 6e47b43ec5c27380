//! Start-up recovery: whatever a killed instance left behind is put right before any new work.
//!
//! 1. Jobs leased by dead instances of this machine go back to the queue (without counting the
//!    attempt against them), and the processes they had started are killed, group and all; so is
//!    every process a dead gaffer started that nothing recorded (killed between spawning it and
//!    recording it): each carries its supervisor's mark from before it was spawned
//!    (`gaffer_proc::SUPERVISOR_VAR`), and the sweep finds it by that mark.
//! 2. Runs still marked running are marked lost (their jobs run again and make new runs).
//! 3. Worktrees of tasks that ended, or of no task, are removed; `gaffer/` branches of merged,
//!    cancelled or unknown tasks are deleted.

use crate::engine::{Engine, LOCAL_OWNER_PREFIX};
use crate::error::Result;
use crate::jobs::{blocking, worktree_name};
use gaffer_core::{Status, event_kind};
use serde::Serialize;
use std::collections::HashMap;
use std::sync::Arc;

#[derive(Debug, Default, Serialize)]
pub struct RecoveryReport {
    pub jobs_released: usize,
    pub processes_killed: usize,
    pub runs_lost: usize,
    pub worktrees_removed: usize,
    pub branches_deleted: Vec<String>,
}

pub(crate) async fn recover(engine: &Arc<Engine>) -> Result<RecoveryReport> {
    let board = Arc::clone(&engine.board);
    let mut report = RecoveryReport::default();
    let released = board
        .store
        .release_jobs_of_dead_owners(LOCAL_OWNER_PREFIX, engine.owner())?;
    report.jobs_released = released.len();
    for job in &released {
        let Some(process) = &job.process else {
            continue;
        };
        let same_boot = process["boot_id"].as_str().map(str::to_string) == gaffer_proc::boot_id();
        let identity =
            serde_json::from_value::<gaffer_proc::ProcessIdentity>(process["identity"].clone())
                .ok();
        if let (true, Some(identity)) = (same_boot, identity) {
            report.processes_killed += gaffer_proc::kill_group(&identity);
        }
    }
    // Whatever a dead gaffer started and never recorded (or that left its group), found by the
    // supervisor mark it carries since before it was spawned.
    report.processes_killed += blocking(|| Ok(gaffer_proc::kill_orphans())).await?;
    report.runs_lost = board
        .store
        .mark_runs_lost(None, "the gaffer that ran it stopped")?
        .len();

    let b = Arc::clone(&board);
    let (removed, deleted) = blocking(move || {
        let tasks = b.tasks(&[])?;
        let live: Vec<&gaffer_core::Task> =
            tasks.iter().filter(|t| !t.status().is_terminal()).collect();
        // Best-of-N attempts still at work keep their worktrees and branches.
        let attempts: Vec<(String, String)> = live
            .iter()
            .flat_map(|t| crate::best_of::live_attempts(t))
            .collect();
        let keep: Vec<String> = live
            .iter()
            .map(|t| worktree_name(t))
            .chain(attempts.iter().map(|(name, _)| name.clone()))
            .collect();
        let removed = b.worktrees.reconcile(&keep)?;
        let by_branch: HashMap<&str, Status> = tasks
            .iter()
            .map(|t| (t.branch.as_str(), t.status()))
            .collect();
        let mut deleted = Vec::new();
        for (branch, _) in b.git.branches("gaffer/")? {
            if branch.starts_with("gaffer/landed/") {
                continue;
            }
            let orphan = match by_branch.get(branch.as_str()) {
                None if attempts.iter().any(|(_, b)| *b == branch) => false,
                None => true,
                Some(status) => matches!(status, Status::Merged | Status::Cancelled),
            };
            if orphan {
                b.git.delete_branch(&branch)?;
                deleted.push(branch);
            }
        }
        Ok((removed.len(), deleted))
    })
    .await?;
    report.worktrees_removed = removed;
    report.branches_deleted = deleted;
    engine.event(
        event_kind::RECOVERY,
        serde_json::to_value(&report).unwrap_or_default(),
    );
    Ok(report)
}
