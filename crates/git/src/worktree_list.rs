//! The repository's worktrees, from `git worktree list --porcelain -z`.

use std::path::{Path, PathBuf};

use crate::cmd::split_nul;
use crate::{Git, GitError, Oid, Result};

/// One worktree of the repository, as git records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorktreeInfo {
    /// Its top-level directory (absolute).
    pub path: PathBuf,
    /// The commit checked out; `None` for a bare repository or an unborn branch.
    pub head: Option<Oid>,
    /// The branch checked out, without `refs/heads/`; `None` when detached.
    pub branch: Option<String>,
    /// HEAD is detached.
    pub detached: bool,
    /// This is the bare repository itself.
    pub bare: bool,
    /// Locked against pruning (`git worktree lock`).
    pub locked: bool,
    /// Its directory is gone; `git worktree prune` would forget it.
    pub prunable: bool,
}

impl Git {
    /// All worktrees of the repository, the main one first.
    pub fn worktrees(&self) -> Result<Vec<WorktreeInfo>> {
        let bytes = self
            .cmd()
            .args(["worktree", "list", "--porcelain", "-z"])
            .run_bytes()?;
        parse(&bytes)
    }

    /// The worktree whose HEAD is `refs/heads/<branch>`, if any.
    pub fn checked_out_in(&self, branch: &str) -> Result<Option<PathBuf>> {
        Ok(self
            .registered_worktrees()?
            .into_iter()
            .find(|wt| wt.branch.as_deref() == Some(branch))
            .map(|wt| wt.path))
    }

    /// The registered worktree at `path`, if any (paths compared after resolving symlinks).
    pub fn worktree_at(&self, path: &Path) -> Result<Option<WorktreeInfo>> {
        let wanted = canonical(path);
        Ok(self
            .registered_worktrees()?
            .into_iter()
            .find(|wt| canonical(&wt.path) == wanted))
    }
}

/// `path` with symlinks resolved when it exists, as given otherwise.
pub(crate) fn canonical(path: &Path) -> PathBuf {
    path.canonicalize().unwrap_or_else(|_| path.to_path_buf())
}

/// Parses the `-z` porcelain format: attribute lines (`worktree <path>`, `HEAD <oid>`,
/// `branch <ref>`, `detached`, `bare`, `locked [reason]`, `prunable [reason]`), each
/// NUL-terminated, records separated by an empty field.
fn parse(bytes: &[u8]) -> Result<Vec<WorktreeInfo>> {
    let mut worktrees = Vec::new();
    let mut current: Option<WorktreeInfo> = None;
    for field in split_nul(bytes) {
        let (key, value) = field.split_once(' ').unwrap_or((field.as_str(), ""));
        if key == "worktree" {
            worktrees.extend(current.take());
            current = Some(WorktreeInfo {
                path: PathBuf::from(value),
                head: None,
                branch: None,
                detached: false,
                bare: false,
                locked: false,
                prunable: false,
            });
            continue;
        }
        if field.is_empty() {
            worktrees.extend(current.take());
            continue;
        }
        let wt = current.as_mut().ok_or_else(|| {
            GitError::Parse(format!("worktree list: {field:?} before a worktree"))
        })?;
        match key {
            "HEAD" => {
                let oid: Oid = value.parse()?;
                // An unborn branch shows as the zero id.
                wt.head = (!oid.is_zero()).then_some(oid);
            }
            "branch" => {
                wt.branch = Some(
                    value
                        .strip_prefix("refs/heads/")
                        .unwrap_or(value)
                        .to_owned(),
                );
            }
            "detached" => wt.detached = true,
            "bare" => wt.bare = true,
            "locked" => wt.locked = true,
            "prunable" => wt.prunable = true,
            // Attributes added by future git versions.
            _ => {}
        }
    }
    worktrees.extend(current);
    Ok(worktrees)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_records() {
        let a = "a".repeat(40);
        let b = "b".repeat(40);
        let out = format!(
            "worktree /r\0HEAD {a}\0branch refs/heads/main\0\0\
             worktree /w x\0HEAD {b}\0detached\0locked reason here\0\0\
             worktree /gone\0HEAD {z}\0branch refs/heads/gaffer/t\0prunable gitdir file points to non-existent location\0\0",
            z = "0".repeat(40)
        );
        let list = parse(out.as_bytes()).unwrap();
        assert_eq!(list.len(), 3);
        assert_eq!(list[0].path, PathBuf::from("/r"));
        assert_eq!(list[0].branch.as_deref(), Some("main"));
        assert_eq!(list[0].head.as_ref().map(Oid::as_str), Some(a.as_str()));
        assert_eq!(list[1].path, PathBuf::from("/w x"));
        assert!(list[1].detached && list[1].locked && list[1].branch.is_none());
        assert!(list[2].prunable && list[2].head.is_none());
        assert_eq!(list[2].branch.as_deref(), Some("gaffer/t"));
    }
}
