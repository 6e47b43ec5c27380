//! What `gaffer clean` removed: the engine's `Board::clean` returns it, `POST /api/clean`
//! serves it, the CLI prints it.

use serde::{Deserialize, Serialize};

/// The idle worktrees and dead branches one clean removed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CleanReport {
    /// Worktrees of tasks that ended, or of no task, and stray directories (absolute paths).
    pub worktrees_removed: Vec<String>,
    /// Idle worktrees kept for reuse (the pool, `engine.worktree_pool`) that were removed.
    pub pool_removed: Vec<String>,
    /// `gaffer/` branches of merged, cancelled or unknown tasks, deleted.
    pub branches_deleted: Vec<String>,
    /// Branches that would have been deleted but are checked out in a worktree that is not
    /// gaffer's (a person's own checkout, say): left alone.
    pub branches_in_use: Vec<String>,
}

impl CleanReport {
    /// Nothing was removed.
    pub fn is_empty(&self) -> bool {
        self.worktrees_removed.is_empty()
            && self.pool_removed.is_empty()
            && self.branches_deleted.is_empty()
    }
}
