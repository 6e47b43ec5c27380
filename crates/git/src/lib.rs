//! Git operations for gaffer.
//!
//! Everything here shells out to the `git` command-line tool rather than linking a git library.
//! The CLI is what users have and what their repositories are tested against; it implements
//! worktrees, ref locking and `merge-tree --write-tree` exactly as git itself does, whereas
//! libgit2 lags behind on worktrees and has no equivalent of `merge-tree --write-tree`. We only
//! use plumbing commands and porcelain output formats that git promises to keep stable, and we
//! never run hooks.
//!
//! The API is synchronous (`std::process::Command`); async callers run it on a blocking thread.
//! Every invocation runs with `LC_ALL=C`, `GIT_TERMINAL_PROMPT=0`, closed stdin, hooks disabled,
//! and the extra environment the caller supplied (tests pass a hermetic one).
//!
//! Requires git 2.38 or newer (for `merge-tree --write-tree`); see [`ensure_supported_git`].
//!
//! - [`Git`]: a repository: refs, merges without a worktree, diffs, the worktree list.
//! - [`head_of`], [`commit_all`], [`is_dirty`], [`checkout_detached`]: operations on one worktree.
//! - [`Worktrees`]: per-task worktrees under gaffer's state directory, with a reuse pool.
//! - [`merge_into_worktree`]: merge the target into a task's worktree for a resolver to finish.
//! - [`Git::fetch_branch`], [`Git::push_with_lease`]: the target on a remote, never forced.
//! - [`Git::revert_onto`]: the commit that undoes a landing, made in a throwaway worktree.
//! - [`pull_into_checkout`]: bring landed work into the user's own checkout, safely.

mod branch;
mod cmd;
mod error;
mod merge_tree;
mod merge_workdir;
mod oid;
mod pull;
mod refs;
mod remote;
mod repo;
mod resolver;
mod revert;
mod run_repo;
mod status;
mod tree_watch;
mod version;
mod workdir;
mod worktree_admin;
mod worktree_list;
mod worktrees;

pub use branch::checkout_branch;
pub use error::{GitError, PullRefused, Result};
pub use merge_tree::MergeTree;
pub use merge_workdir::{
    WorktreeMerge, branch_of, files_with_conflict_markers, merge_in_progress, merge_into_worktree,
    unmerged_paths, unresolved_conflicts,
};
pub use oid::Oid;
pub use pull::{PullOutcome, pull_into_checkout};
pub use refs::CasOutcome;
pub use remote::PushOutcome;
pub use repo::{CommitInfo, Git};
pub use revert::Reverted;
pub use run_repo::{
    BranchChange, BroughtBack, IgnoredRef, Mounts, RunRepo, RunRepoError, RunRepoResult,
};
pub use tree_watch::{TreeWatch, WatchCounts};
pub use version::{GitVersion, MIN_GIT_VERSION, ensure_supported_git, git_version};
pub use workdir::{
    checkout_detached, commit_all, configured_author, head_of, is_dirty, reset_hard, reset_soft,
    tracked_files,
};
pub use worktree_list::WorktreeInfo;
pub use worktrees::{CheckoutCounts, Worktrees};

/// Name and email gaffer commits under unless the environment says otherwise.
pub const GAFFER_IDENTITY: (&str, &str) = ("gaffer", "gaffer@localhost");
