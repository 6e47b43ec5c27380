//! Branch-level helpers the engine needs beyond the basics: the merge base of two commits, the
//! branch a checkout is on, and putting a worktree back on its branch.

use std::path::Path;

use crate::cmd::GitCommand;
use crate::{Git, Oid, Result};

impl Git {
    /// The best common ancestor of `a` and `b`, or `None` when they share no history.
    pub fn merge_base(&self, a: &Oid, b: &Oid) -> Result<Option<Oid>> {
        let out = self
            .cmd()
            .arg("merge-base")
            .arg(a.as_str())
            .arg(b.as_str())
            .output()?;
        match out.code {
            Some(0) => Ok(Some(out.stdout_text().trim().parse()?)),
            Some(1) => Ok(None),
            _ => Err(out.into_error()),
        }
    }

    /// The branch the repository's main checkout is on (without `refs/heads/`), or `None` when
    /// its HEAD is detached.
    pub fn current_branch(&self) -> Result<Option<String>> {
        crate::pull::current_branch(self.top_level(), self.env())
    }
}

/// Puts the worktree at `dir` back on `branch`, discarding anything uncommitted except ignored
/// files (gaffer's own worktrees only: used after verifying a merge candidate in a detached
/// checkout; ignored files are the task's setup and build caches, see [`crate::checkout_detached`]).
pub fn checkout_branch(dir: &Path, branch: &str, env: &[(String, String)]) -> Result<()> {
    GitCommand::new(dir, env)
        .args(["checkout", "-q", "--force"])
        .arg(branch)
        .arg("--")
        .run()?;
    GitCommand::new(dir, env).args(["clean", "-ffdq"]).run()?;
    Ok(())
}
