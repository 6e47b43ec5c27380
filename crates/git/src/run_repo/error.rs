//! Why preparing or bringing back a run repository failed.

use std::path::PathBuf;

use crate::{GitError, Oid};

/// Result of a [`RunRepo`](super::RunRepo) operation.
pub type RunRepoResult<T> = std::result::Result<T, RunRepoError>;

/// Why a [`RunRepo`](super::RunRepo) operation failed.
#[derive(Debug, thiserror::Error)]
pub enum RunRepoError {
    /// A git command or a file operation failed.
    #[error(transparent)]
    Git(#[from] GitError),
    /// The task branch in the main repository is not where the run started: something else
    /// moved it during the run. Nothing was changed.
    #[error("branch {branch} moved during the run: it is at {}, not {expected}", actual.as_ref().map_or("nothing", Oid::as_str))]
    BranchMoved {
        /// The task branch (without `refs/heads/`).
        branch: String,
        /// Where the run started.
        expected: Oid,
        /// Where it is now (`None`: deleted).
        actual: Option<Oid>,
    },
    /// The worktree is not a worktree of this repository with the branch checked out.
    #[error("{} is not a worktree of this repository on branch {branch}: {reason}", worktree.display())]
    NotTheTaskWorktree {
        /// The worktree given.
        worktree: PathBuf,
        /// The task branch.
        branch: String,
        /// What is wrong.
        reason: String,
    },
    /// The run repository has no plain ref for the task branch: the run deleted it, made it
    /// symbolic, or changed the ref storage.
    #[error("the run repository {} has no readable branch {branch}", run_repo.display())]
    RunBranchUnreadable {
        /// The run repository.
        run_repo: PathBuf,
        /// The task branch.
        branch: String,
    },
    /// The run left its branch at an object that is not a commit.
    #[error("the run left branch {branch} at {oid}, which is not a commit")]
    NotACommit {
        /// The task branch.
        branch: String,
        /// What it points at.
        oid: Oid,
    },
    /// A run repository from an earlier run is still there, its branch at a commit the main
    /// repository's branch does not contain: bring it back ([`RunRepo::open`](super::RunRepo::open) then
    /// `bring_back`) or remove it first.
    #[error("the run repository {} holds work not brought back (branch at {tip})", run_repo.display())]
    LeftoverRun {
        /// The leftover run repository.
        run_repo: PathBuf,
        /// Its task branch's tip.
        tip: Oid,
    },
}
