//! Merging another commit into a worktree for a person or an agent to finish: what a resolver run
//! starts from when its branch no longer applies on the target.

use std::path::Path;

use crate::cmd::{GitCommand, split_nul};
use crate::repo::rev_parse_in;
use crate::workdir::head_of;
use crate::{Oid, Result};

/// What [`merge_into_worktree`] left in the worktree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WorktreeMerge {
    /// The commit was merged without conflicts and committed; HEAD is `head` (unchanged when the
    /// commit was already contained).
    Clean {
        /// HEAD after the merge.
        head: Oid,
    },
    /// The merge stopped on conflicts: these paths hold conflict markers, everything else is
    /// staged, and `MERGE_HEAD` is set, so the next commit completes the merge.
    Conflicted {
        /// The conflicting paths, sorted.
        files: Vec<String>,
    },
}

/// Merges `commit` into the branch checked out in the worktree at `dir` (`git merge --no-ff`),
/// with `message` for the merge commit. On conflicts the merge is left in progress, for someone
/// to resolve the markers and commit.
///
/// Safe to repeat after a crash: a merge already in progress (left by an interrupted run) is
/// thrown away first (`git reset --hard HEAD`: gaffer's own worktree, whose work is committed)
/// and done again, so the result is the same as the first time.
pub fn merge_into_worktree(
    dir: &Path,
    commit: &Oid,
    message: &str,
    env: &[(String, String)],
) -> Result<WorktreeMerge> {
    if merge_in_progress(dir, env)? {
        GitCommand::new(dir, env)
            .args(["reset", "-q", "--hard", "HEAD"])
            .run()?;
    }
    let out = GitCommand::new(dir, env)
        .default_identity()
        .args(["merge", "--no-ff", "--no-edit", "--no-gpg-sign", "-q", "-m"])
        .arg(message)
        .arg(commit.as_str())
        .output()?;
    if out.code == Some(0) {
        return Ok(WorktreeMerge::Clean {
            head: head_of(dir, env)?,
        });
    }
    let files = unmerged_paths(dir, env)?;
    if out.code == Some(1) && !files.is_empty() {
        return Ok(WorktreeMerge::Conflicted { files });
    }
    Err(out.into_error())
}

/// Whether a merge is in progress in the worktree at `dir` (`MERGE_HEAD` exists).
pub fn merge_in_progress(dir: &Path, env: &[(String, String)]) -> Result<bool> {
    // A linked worktree's `MERGE_HEAD` is a file of its own administrative directory.
    match crate::worktree_admin::admin_dir(dir) {
        Some(admin) => Ok(admin.join("MERGE_HEAD").symlink_metadata().is_ok()),
        None => Ok(rev_parse_in(dir, env, "MERGE_HEAD")?.is_some()),
    }
}

/// The paths git still considers unmerged in the worktree at `dir`, sorted.
pub fn unmerged_paths(dir: &Path, env: &[(String, String)]) -> Result<Vec<String>> {
    let bytes = GitCommand::new(dir, env)
        .args(["diff", "--name-only", "--diff-filter=U", "-z"])
        .run_bytes()?;
    let mut paths = split_nul(&bytes);
    paths.sort();
    paths.dedup();
    Ok(paths)
}

/// Those of `paths` (relative to `dir`) that still contain a conflict marker line (`<<<<<<< `
/// or `>>>>>>> ` at the start of a line), sorted. A missing or unreadable file has none.
pub fn files_with_conflict_markers(dir: &Path, paths: &[String]) -> Vec<String> {
    let mut found: Vec<String> = paths
        .iter()
        .filter(|path| {
            std::fs::read(dir.join(path)).is_ok_and(|bytes| {
                bytes
                    .split(|b| *b == b'\n')
                    .any(|line| line.starts_with(b"<<<<<<< ") || line.starts_with(b">>>>>>> "))
            })
        })
        .cloned()
        .collect();
    found.sort();
    found.dedup();
    found
}

/// While a merge is in progress in the worktree at `dir`: the files that still hold conflict
/// markers, among the unmerged paths and everything changed since HEAD (so that a file staged
/// with its markers still counts). Empty when no merge is in progress.
pub fn unresolved_conflicts(dir: &Path, env: &[(String, String)]) -> Result<Vec<String>> {
    if !merge_in_progress(dir, env)? {
        return Ok(Vec::new());
    }
    let mut paths = unmerged_paths(dir, env)?;
    let changed = GitCommand::new(dir, env)
        .args(["diff", "--name-only", "-z", "HEAD", "--"])
        .run_bytes()?;
    paths.extend(split_nul(&changed));
    paths.sort();
    paths.dedup();
    Ok(files_with_conflict_markers(dir, &paths))
}

/// The branch checked out in the worktree at `dir` (without `refs/heads/`), or `None` when its
/// HEAD is detached.
pub fn branch_of(dir: &Path, env: &[(String, String)]) -> Result<Option<String>> {
    use crate::worktree_admin::{Head, worktree_head};
    match worktree_head(dir) {
        Some(Head::Branch(name)) => Ok(Some(
            name.strip_prefix("refs/heads/").unwrap_or(&name).to_owned(),
        )),
        Some(Head::Detached(_)) => Ok(None),
        None => crate::pull::current_branch(dir, env),
    }
}
