//! Idle worktrees and dead branches removed: what recovery does at every start (its step 3)
//! and what `gaffer clean` asks for, in one place.
//!
//! Kept: the worktree of every task still at work (any status but merged, cancelled and
//! failed), with its branch, and the worktrees and branches of best-of attempts at work.
//! Removed: worktrees of tasks that ended or of no task, stray directories, pool slots beyond
//! the pool's size (all of them when asked: `drain_pool`), and the `gaffer/` branches of
//! merged, cancelled and unknown tasks. A failed task keeps its branch (a retry goes on from
//! it); the branches of a task's earlier attempts (set aside by `retry --fresh`) go with its
//! own; `gaffer/landed/*` is where work lands and is never touched.
//!
//! Safe while the engine runs in this process: the tasks are read under the worktrees' lock
//! (no worktree is made meanwhile), and after the branches are listed (a task, and an attempt,
//! is stored before its branch is made), so nothing a live task owns can look orphaned.

use crate::board::Board;
use crate::error::{EngineError, Result};
use crate::jobs::worktree_name;
use gaffer_api::CleanReport;
use gaffer_core::{Status, Task};
use std::collections::{HashMap, HashSet};
use std::path::Path;

/// Branches under this prefix are gaffer's.
const PREFIX: &str = "gaffer/";
/// Where work lands (`landing.branch`): never deleted here.
const LANDED: &str = "gaffer/landed/";

impl Board {
    /// Removes idle worktrees and dead branches (see the module's comment), and with
    /// `drain_pool` every worktree kept for reuse too; `git worktree list` no longer shows
    /// what was removed.
    pub fn clean(&self, drain_pool: bool) -> Result<CleanReport> {
        let removed = self
            .worktrees
            .reconcile_with(|| Ok::<_, EngineError>(worktrees_to_keep(&self.tasks(&[])?)))?;
        let pool = if drain_pool {
            self.worktrees.drain_pool()?
        } else {
            Vec::new()
        };
        let (branches_deleted, branches_in_use) = self.delete_dead_branches()?;
        Ok(CleanReport {
            worktrees_removed: removed.iter().map(|p| display(p)).collect(),
            pool_removed: pool.iter().map(|p| display(p)).collect(),
            branches_deleted,
            branches_in_use,
        })
    }

    /// Deletes the `gaffer/` branches of merged, cancelled and unknown tasks; returns those
    /// deleted and those left because a worktree has them checked out.
    fn delete_dead_branches(&self) -> Result<(Vec<String>, Vec<String>)> {
        // Listed before the tasks are read: see the module's comment.
        let branches = self.git.branches(PREFIX)?;
        let tasks = self.tasks(&[])?;
        let attempts: HashSet<String> = live(&tasks)
            .flat_map(crate::best_of::live_attempts)
            .map(|(_, branch)| branch)
            .collect();
        let by_branch: HashMap<&str, Status> = tasks
            .iter()
            .map(|t| (t.branch.as_str(), t.status()))
            .collect();
        let checked_out: HashSet<String> = self
            .git
            .worktrees()?
            .into_iter()
            .filter_map(|w| w.branch)
            .collect();
        let (mut deleted, mut in_use) = (Vec::new(), Vec::new());
        for (branch, _) in branches {
            if branch.starts_with(LANDED) {
                continue;
            }
            // A fresh retry's earlier attempts go with their task.
            let status = by_branch.get(branch.as_str()).copied().or_else(|| {
                tasks
                    .iter()
                    .find(|t| crate::fresh::earlier_attempt_of(t, &branch))
                    .map(Task::status)
            });
            let dead = match status {
                None => !attempts.contains(&branch),
                Some(status) => matches!(status, Status::Merged | Status::Cancelled),
            };
            if !dead {
                continue;
            }
            if checked_out.contains(&branch) {
                in_use.push(branch);
                continue;
            }
            self.git.delete_branch(&branch)?;
            deleted.push(branch);
        }
        Ok((deleted, in_use))
    }
}

/// Tasks still at work.
fn live(tasks: &[Task]) -> impl Iterator<Item = &Task> {
    tasks.iter().filter(|t| !t.status().is_terminal())
}

/// The worktrees of the tasks still at work and of their best-of attempts.
fn worktrees_to_keep(tasks: &[Task]) -> Vec<String> {
    live(tasks)
        .flat_map(|t| {
            let attempts = crate::best_of::live_attempts(t).into_iter().map(|(n, _)| n);
            std::iter::once(worktree_name(t)).chain(attempts)
        })
        .collect()
}

fn display(path: &Path) -> String {
    path.display().to_string()
}
