//! Undoing a commit that landed: `git revert` in a throwaway worktree, detached at the commit
//! to build on, so that neither the user's checkout nor any branch is touched; the caller points
//! a branch at the result. A landing of gaffer's merge queue is a merge commit whose first
//! parent is what it landed on (`-m 1`), or, with `queue.strategy = "rebase"`, one plain commit.

use std::path::Path;

use crate::cmd::GitCommand;
use crate::merge_workdir::unmerged_paths;
use crate::workdir::head_of;
use crate::{Git, GitError, Oid, Result};

/// What reverting a commit on top of another gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reverted {
    /// The revert commit, whose only parent is the commit it was made on.
    Commit(Oid),
    /// Later changes touched the same lines: these paths conflict (sorted). Nothing was made.
    Conflicted { files: Vec<String> },
    /// Reverting changes nothing: what the commit did is undone already.
    Empty,
}

impl Git {
    /// Makes, on top of `onto`, the commit that undoes `commit` (against its first parent when
    /// it is a merge), with `message`, in a worktree at `scratch` that is removed afterwards
    /// whatever happened (a leftover of an interrupted call is removed first). Commits under
    /// gaffer's identity unless the environment names another; never runs hooks.
    pub fn revert_onto(
        &self,
        commit: &Oid,
        onto: &Oid,
        scratch: &Path,
        message: &str,
    ) -> Result<Reverted> {
        let parents = self.parents_of(commit)?;
        if parents == 0 {
            return Err(GitError::InvalidArgument(format!(
                "{commit} is a root commit: there is nothing before it to go back to"
            )));
        }
        self.remove_scratch(scratch)?;
        if let Some(parent) = scratch.parent() {
            std::fs::create_dir_all(parent).map_err(|e| GitError::io("create", parent, e))?;
        }
        self.cmd()
            .args(["worktree", "add", "-q", "--detach"])
            .arg(scratch)
            .arg(onto.as_str())
            .run()?;
        let made = self.revert_in(scratch, commit, parents, message);
        let removed = self.remove_scratch(scratch);
        let made = made?;
        removed?;
        Ok(made)
    }

    fn revert_in(
        &self,
        dir: &Path,
        commit: &Oid,
        parents: usize,
        message: &str,
    ) -> Result<Reverted> {
        let mut revert = GitCommand::new(dir, self.env()).default_identity().args([
            "revert",
            "--no-commit",
            "--no-edit",
        ]);
        if parents > 1 {
            revert = revert.args(["-m", "1"]);
        }
        let out = revert.arg(commit.as_str()).output()?;
        if out.code != Some(0) {
            let files = unmerged_paths(dir, self.env())?;
            if out.code == Some(1) && !files.is_empty() {
                return Ok(Reverted::Conflicted { files });
            }
            return Err(out.into_error());
        }
        let staged = GitCommand::new(dir, self.env())
            .args(["diff", "--cached", "--quiet", "--no-ext-diff"])
            .output()?;
        match staged.code {
            Some(0) => return Ok(Reverted::Empty),
            Some(1) => {}
            _ => return Err(staged.into_error()),
        }
        GitCommand::new(dir, self.env())
            .default_identity()
            .args([
                "commit",
                "-q",
                "--no-verify",
                "--no-gpg-sign",
                "--cleanup=verbatim",
                "-F",
                "-",
            ])
            .stdin(message)
            .run()?;
        Ok(Reverted::Commit(head_of(dir, self.env())?))
    }

    /// How many parents `commit` has.
    fn parents_of(&self, commit: &Oid) -> Result<usize> {
        let line = self
            .cmd()
            .args(["rev-list", "--parents", "-n", "1"])
            .arg(commit.as_str())
            .arg("--")
            .run()?;
        Ok(line.split_whitespace().count().saturating_sub(1))
    }

    /// Removes the worktree at `scratch` (and what git knows of it); absent is fine.
    fn remove_scratch(&self, scratch: &Path) -> Result<()> {
        if self.worktree_at(scratch)?.is_some() {
            let out = self
                .cmd()
                .args(["worktree", "remove", "--force", "--force"])
                .arg(scratch)
                .output()?;
            if out.code == Some(0) {
                return Ok(());
            }
        }
        if scratch.symlink_metadata().is_ok() {
            std::fs::remove_dir_all(scratch).map_err(|e| GitError::io("remove", scratch, e))?;
        }
        self.cmd().args(["worktree", "prune"]).run()?;
        Ok(())
    }
}
