//! [`Worktrees`]: one git worktree per task under gaffer's state directory, optionally reused
//! from a pool of clean, detached worktrees.
//!
//! Layout: `root/<name>` for a task's worktree, `root/.pool/<N>` for pool slots. Task names
//! never start with a dot, so they cannot collide with the pool or with other hidden entries.
//!
//! Every operation is written to be re-run after a crash at any point: the state on disk and
//! in git's worktree list is inspected rather than remembered.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};

use crate::cmd::not_an_option;
use crate::worktree_list::canonical;
use crate::{Git, GitError, Oid, Result, WorktreeInfo};

/// Name of the pool directory under the root.
const POOL_DIR: &str = ".pool";

/// Manages task worktrees under `root`.
#[derive(Debug)]
pub struct Worktrees {
    git: Git,
    root: PathBuf,
    pool_size: usize,
    /// Held for the whole of each public operation. Besides keeping the pool consistent
    /// (two threads never take the same slot or overfill it), this keeps our own git commands
    /// from reading a worktree's administrative files while another thread is writing them.
    lock: Mutex<()>,
}

impl Worktrees {
    /// Worktrees of `git`'s repository under `root` (made absolute), keeping up to
    /// `pool_size` released worktrees for reuse (0 disables the pool).
    pub fn new(git: Git, root: PathBuf, pool_size: usize) -> Worktrees {
        let root = std::path::absolute(&root).unwrap_or(root);
        Worktrees {
            git,
            root,
            pool_size,
            lock: Mutex::new(()),
        }
    }

    /// The directory holding the task worktrees.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where the worktree called `name` lives (whether or not it exists).
    pub fn path_of(&self, name: &str) -> PathBuf {
        self.root.join(name)
    }

    /// Creates a worktree at `root/<name>` with a new branch `branch` starting at `start`,
    /// taking a worktree from the pool when there is one (much cheaper than a fresh checkout
    /// of a large repository), and returns its path.
    ///
    /// Re-running after a crash is safe: if `root/<name>` is already a worktree on `branch`,
    /// it is returned unchanged (work in it is kept); a half-made one is completed or redone.
    /// If `branch` already exists at `start` and is checked out nowhere (a crash right after
    /// git created it), it is used. Fails with [`GitError::BranchExists`] if the branch is
    /// checked out elsewhere or points at another commit, and with [`GitError::PathInUse`]
    /// if `root/<name>` is a worktree on another branch.
    pub fn checkout(&self, name: &str, branch: &str, start: &Oid) -> Result<PathBuf> {
        validate_name(name)?;
        not_an_option("branch name", branch)?;
        let path = self.path_of(name);
        // The common case (the task's worktree exists, on its branch) needs no lock: nothing
        // else moves a task's own worktree, and waiting here behind another task's multi-second
        // checkout of a large repository is what made every job slow.
        if let Some(wt) = self.git.worktree_at(&path)?
            && wt.branch.as_deref() == Some(branch)
        {
            return Ok(path);
        }
        let _guard = self.guard();
        let existing = self.git.worktree_at(&path)?;
        if let Some(wt) = &existing
            && wt.branch.as_deref() == Some(branch)
        {
            return Ok(path);
        }

        let reuse_branch = self.check_branch_is_free(branch, start)?;
        match existing {
            Some(WorktreeInfo {
                branch: Some(other),
                ..
            }) => {
                return Err(GitError::PathInUse {
                    path,
                    reason: format!("it is a worktree on branch {other}"),
                });
            }
            Some(_) => {
                // Detached: a pool slot moved here by a checkout that then crashed.
                self.switch_branch(&path, branch, start, reuse_branch)?;
                self.cmd_in(&path).args(["clean", "-ffdxq"]).run()?;
                return Ok(path);
            }
            None if path.symlink_metadata().is_ok() => {
                // Not a worktree git knows: the remains of an interrupted creation.
                tracing::warn!(path = %path.display(), "removing stray directory");
                remove_path(&path)?;
                self.git.cmd().args(["worktree", "prune"]).run()?;
            }
            None => {}
        }

        fs::create_dir_all(&self.root).map_err(|e| GitError::io("create", &self.root, e))?;
        if self.take_from_pool(&path)? {
            self.switch_branch(&path, branch, start, reuse_branch)?;
            return Ok(path);
        }
        let mut add = self.git.cmd().args(["worktree", "add", "-q"]);
        add = if reuse_branch {
            add.arg(&path).arg(branch)
        } else {
            add.args(["-b", branch]).arg(&path).arg(start.as_str())
        };
        add.run()?;
        Ok(path)
    }

    /// Runs `f` while no worktree is made or removed here (it holds the lock every operation
    /// holds): a caller that stores a task and makes its branch in `f` is never overtaken by a
    /// checkout of that branch made in between.
    pub fn exclusive<T>(&self, f: impl FnOnce() -> T) -> T {
        let _guard = self.guard();
        f()
    }

    /// Ends the task worktree `name`: if the pool has room, it is detached, reset to a clean
    /// state (`git clean -ffdx`) and moved into the pool; otherwise it is removed
    /// (`git worktree remove --force`). Then deletes `branch` when `delete_branch` is set.
    /// A worktree that does not exist is not an error, so this can be repeated.
    pub fn release(&self, name: &str, branch: &str, delete_branch: bool) -> Result<()> {
        validate_name(name)?;
        let _guard = self.guard();
        let path = self.path_of(name);
        if self.git.worktree_at(&path)?.is_some() {
            // Pooling is best effort: a worktree that cannot be reset and moved is removed.
            let pooled = self.pool_has_room()?
                && self
                    .put_in_pool(&path)
                    .inspect_err(|e| {
                        tracing::warn!(path = %path.display(), error = %e, "cannot return worktree to the pool");
                    })
                    .is_ok();
            if !pooled {
                self.remove_worktree(&path)?;
            }
        } else if path.symlink_metadata().is_ok() {
            remove_path(&path)?;
            self.git.cmd().args(["worktree", "prune"]).run()?;
        }
        if delete_branch {
            self.git.delete_branch(branch)?;
        }
        Ok(())
    }

    /// Removes everything under the root that is not a worktree named in `keep`: worktrees of
    /// tasks that no longer exist and stray directories left by crashes. Hidden entries
    /// (including the pool) are not task worktrees and are left, except that the pool is
    /// tidied: slots git does not know and slots beyond the pool size are removed. Finishes
    /// with `git worktree prune`. Returns the task paths it removed.
    pub fn reconcile(&self, keep: &[String]) -> Result<Vec<PathBuf>> {
        self.reconcile_with(|| Ok::<_, GitError>(keep.to_vec()))
    }

    /// [`Worktrees::reconcile`], with the names to keep asked for once the lock is held: no
    /// worktree is made while `keep` decides, so every one on disk then belongs to something
    /// `keep` can see (used while the engine runs, which makes worktrees for new tasks).
    pub fn reconcile_with<E: From<GitError>>(
        &self,
        keep: impl FnOnce() -> std::result::Result<Vec<String>, E>,
    ) -> std::result::Result<Vec<PathBuf>, E> {
        let _guard = self.guard();
        let keep = keep()?;
        Ok(self.reconcile_locked(&keep)?)
    }

    fn reconcile_locked(&self, keep: &[String]) -> Result<Vec<PathBuf>> {
        let mut removed = Vec::new();
        for (name, path) in list_dir(&self.root)? {
            if name.starts_with('.') || keep.contains(&name) {
                continue;
            }
            if self.git.worktree_at(&path)?.is_some() {
                self.remove_worktree(&path)?;
            } else {
                remove_path(&path)?;
            }
            tracing::info!(path = %path.display(), "removed leftover worktree");
            removed.push(path);
        }
        self.tidy_pool()?;
        self.git.cmd().args(["worktree", "prune"]).run()?;
        Ok(removed)
    }

    /// Removes every pool slot and the pool directory; returns the slots it removed.
    pub fn drain_pool(&self) -> Result<Vec<PathBuf>> {
        let _guard = self.guard();
        let pool = self.pool_dir();
        let mut removed = Vec::new();
        for (_, slot) in list_dir(&pool)? {
            if self.git.worktree_at(&slot)?.is_some() {
                self.remove_worktree(&slot)?;
            }
            removed.push(slot);
        }
        if pool.exists() {
            remove_path(&pool)?;
        }
        self.git.cmd().args(["worktree", "prune"]).run()?;
        Ok(removed)
    }

    fn guard(&self) -> MutexGuard<'_, ()> {
        // A panic while holding the lock leaves nothing in memory to repair: all state is on
        // disk and re-inspected by every operation.
        self.lock.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn pool_dir(&self) -> PathBuf {
        self.root.join(POOL_DIR)
    }

    fn cmd_in(&self, dir: &Path) -> crate::cmd::GitCommand {
        crate::cmd::GitCommand::new(dir, self.git.env())
    }

    /// Usable pool slots (registered, detached, directory present), lowest number first.
    fn slots(&self) -> Result<Vec<PathBuf>> {
        let pool = canonical(&self.pool_dir());
        let mut slots: Vec<(u64, PathBuf)> = self
            .git
            .worktrees()?
            .into_iter()
            .filter(|wt| !wt.prunable && wt.branch.is_none() && !wt.bare)
            .filter(|wt| canonical(&wt.path).parent() == Some(pool.as_path()))
            .filter_map(|wt| {
                let n = wt.path.file_name()?.to_str()?.parse().ok()?;
                Some((n, wt.path))
            })
            .collect();
        slots.sort();
        Ok(slots.into_iter().map(|(_, p)| p).collect())
    }

    fn pool_has_room(&self) -> Result<bool> {
        Ok(self.pool_size > 0 && self.slots()?.len() < self.pool_size)
    }

    /// Moves a pool slot to `path`; false when the pool is empty or the move failed.
    fn take_from_pool(&self, path: &Path) -> Result<bool> {
        if self.pool_size == 0 {
            return Ok(false);
        }
        let Some(slot) = self.slots()?.into_iter().next() else {
            return Ok(false);
        };
        let moved = self
            .git
            .cmd()
            .args(["worktree", "move"])
            .arg(&slot)
            .arg(path)
            .run();
        if let Err(e) = moved {
            // A broken slot must not block the task: drop it and make a fresh worktree.
            tracing::warn!(slot = %slot.display(), error = %e, "discarding unusable pool slot");
            self.remove_worktree(&slot)?;
            return Ok(false);
        }
        Ok(true)
    }

    /// Detaches and cleans the worktree at `path` and moves it into a free pool slot.
    fn put_in_pool(&self, path: &Path) -> Result<()> {
        // Detach first so the branch is free to delete, then clean, then move.
        self.cmd_in(path)
            .args(["checkout", "-q", "--force", "--detach"])
            .run()?;
        self.cmd_in(path).args(["clean", "-ffdxq"]).run()?;
        let pool = self.pool_dir();
        fs::create_dir_all(&pool).map_err(|e| GitError::io("create", &pool, e))?;
        let slot = (0..)
            .map(|n: u64| pool.join(n.to_string()))
            .find(|p| p.symlink_metadata().is_err())
            .unwrap_or_else(|| pool.join("0"));
        self.git
            .cmd()
            .args(["worktree", "move"])
            .arg(path)
            .arg(&slot)
            .run()?;
        Ok(())
    }

    /// Removes pool entries git does not know as usable slots, and slots beyond the size.
    fn tidy_pool(&self) -> Result<()> {
        let slots = self.slots()?;
        let keep: Vec<PathBuf> = slots
            .iter()
            .take(self.pool_size)
            .map(|p| canonical(p))
            .collect();
        for (_, entry) in list_dir(&self.pool_dir())? {
            if keep.contains(&canonical(&entry)) {
                continue;
            }
            if self.git.worktree_at(&entry)?.is_some() {
                self.remove_worktree(&entry)?;
            } else {
                remove_path(&entry)?;
            }
        }
        Ok(())
    }

    /// Checks `branch` out in the worktree at `path`, creating it at `start` unless
    /// `existing` says it already exists there. Local changes are discarded.
    fn switch_branch(&self, path: &Path, branch: &str, start: &Oid, existing: bool) -> Result<()> {
        let cmd = self.cmd_in(path).args(["checkout", "-q", "--force"]);
        let cmd = if existing {
            cmd.arg(branch).arg("--")
        } else {
            cmd.args(["-b", branch]).arg(start.as_str()).arg("--")
        };
        cmd.run()?;
        Ok(())
    }

    /// Whether `branch` can be used for a new task worktree at `start`: `Ok(false)` if it does
    /// not exist, `Ok(true)` if it exists at `start` and is checked out nowhere.
    fn check_branch_is_free(&self, branch: &str, start: &Oid) -> Result<bool> {
        let Some(at) = self.git.rev_parse(&format!("refs/heads/{branch}"))? else {
            return Ok(false);
        };
        let checked_out_in = self.git.checked_out_in(branch)?;
        if checked_out_in.is_some() || at != *start {
            return Err(GitError::BranchExists {
                branch: branch.to_owned(),
                checked_out_in,
            });
        }
        Ok(true)
    }

    /// `git worktree remove --force --force` (dirty and locked alike), falling back to
    /// deleting the directory and pruning if git refuses.
    fn remove_worktree(&self, path: &Path) -> Result<()> {
        let out = self
            .git
            .cmd()
            .args(["worktree", "remove", "--force", "--force"])
            .arg(path)
            .output()?;
        if out.code != Some(0) {
            tracing::warn!(path = %path.display(), stderr = %out.stderr.trim(), "git worktree remove failed; deleting");
            if path.symlink_metadata().is_ok() {
                remove_path(path)?;
            }
            self.git.cmd().args(["worktree", "prune"]).run()?;
        }
        Ok(())
    }
}

/// Task names become directory names: one plain, non-hidden path component.
fn validate_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && !name.starts_with('.')
        && !name.starts_with('-')
        && !name.contains(['/', '\\', '\0']);
    if ok {
        Ok(())
    } else {
        Err(GitError::InvalidArgument(format!(
            "worktree name must be one path component not starting with '.' or '-': {name:?}"
        )))
    }
}

/// Entries of `dir` as (name, path); empty when `dir` does not exist.
fn list_dir(dir: &Path) -> Result<Vec<(String, PathBuf)>> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(GitError::io("read", dir, e)),
    };
    let mut out = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| GitError::io("read", dir, e))?;
        out.push((
            entry.file_name().to_string_lossy().into_owned(),
            entry.path(),
        ));
    }
    out.sort();
    Ok(out)
}

/// Deletes a file, symlink or directory tree.
fn remove_path(path: &Path) -> Result<()> {
    let meta = path
        .symlink_metadata()
        .map_err(|e| GitError::io("inspect", path, e))?;
    let result = if meta.is_dir() {
        fs::remove_dir_all(path)
    } else {
        fs::remove_file(path)
    };
    result.map_err(|e| GitError::io("remove", path, e))
}

#[cfg(test)]
mod tests {
    use super::validate_name;

    #[test]
    fn names_are_single_visible_components() {
        assert!(validate_name("t-12-fix-login").is_ok());
        for bad in ["", ".pool", "..", "a/b", "-x", "a\\b"] {
            assert!(validate_name(bad).is_err(), "{bad:?}");
        }
    }
}
