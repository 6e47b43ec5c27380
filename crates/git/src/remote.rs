//! A remote holding the target branch: fetching it, and pushing to it only with a lease on the
//! value last seen there, never forcing.

use crate::cmd::not_an_option;
use crate::{Git, Oid, Result};

/// Outcome of [`Git::push_with_lease`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PushOutcome {
    /// The remote branch now points at the pushed commit (or already did).
    Pushed,
    /// The remote refused: the branch was not at the expected value any more (someone pushed),
    /// or the update was not allowed. Nothing changed there.
    Rejected {
        /// What git said.
        reason: String,
    },
}

impl Git {
    /// The URL `remote` fetches from, as configured (`git remote get-url`).
    pub fn remote_url(&self, remote: &str) -> Result<String> {
        not_an_option("remote", remote)?;
        Ok(self
            .cmd()
            .args(["remote", "get-url"])
            .arg(remote)
            .run()?
            .trim()
            .to_owned())
    }

    /// Fetches `branch` of `remote` into `refs/remotes/<remote>/<branch>` and returns what it
    /// points at, or `None` when the remote has no such branch.
    pub fn fetch_branch(&self, remote: &str, branch: &str) -> Result<Option<Oid>> {
        not_an_option("remote", remote)?;
        not_an_option("branch name", branch)?;
        let tracking = format!("refs/remotes/{remote}/{branch}");
        let out = self
            .cmd()
            .args(["fetch", "--no-tags", "--quiet", "--no-write-fetch-head"])
            .arg(remote)
            .arg(format!("+refs/heads/{branch}:{tracking}"))
            .output()?;
        if out.code == Some(0) {
            return self.rev_parse(&tracking);
        }
        if out.stderr.contains("couldn't find remote ref") {
            return Ok(None);
        }
        Err(out.into_error())
    }

    /// Fetches several refspecs (`+src:dst`, globs allowed) from `remote` in one go; with
    /// `prune`, destination refs whose source is gone there are deleted. A refspec naming one
    /// ref the remote lacks fails the whole fetch, as git does.
    pub fn fetch_refspecs(&self, remote: &str, refspecs: &[String], prune: bool) -> Result<()> {
        not_an_option("remote", remote)?;
        for spec in refspecs {
            not_an_option("refspec", spec.trim_start_matches('+'))?;
        }
        let mut cmd = self
            .cmd()
            .args(["fetch", "--no-tags", "--quiet", "--no-write-fetch-head"]);
        if prune {
            cmd = cmd.arg("--prune");
        }
        cmd.arg(remote).args(refspecs).run()?;
        Ok(())
    }

    /// Pushes `new` to `branch` of `remote`, only if the remote branch is at `expected` (or does
    /// not exist, for `None`): `git push --force-with-lease=refs/heads/<branch>:<expected>`. The
    /// lease makes the update a compare-and-swap on the remote; callers push only descendants of
    /// `expected`, so nothing there is ever overwritten.
    pub fn push_with_lease(
        &self,
        remote: &str,
        new: &Oid,
        branch: &str,
        expected: Option<&Oid>,
    ) -> Result<PushOutcome> {
        not_an_option("branch name", branch)?;
        self.push_ref_with_lease(remote, Some(new), &format!("refs/heads/{branch}"), expected)
    }

    /// Sets `refname` (a full name) of `remote` to `new`, or deletes it for `None`, only if it
    /// is at `expected` there (absent, for `None`): a compare-and-swap on the remote, so another
    /// writer's update is never overwritten, whatever `new` is.
    pub fn push_ref_with_lease(
        &self,
        remote: &str,
        new: Option<&Oid>,
        refname: &str,
        expected: Option<&Oid>,
    ) -> Result<PushOutcome> {
        not_an_option("remote", remote)?;
        not_an_option("ref name", refname)?;
        let lease = format!(
            "--force-with-lease={refname}:{}",
            expected.map(Oid::as_str).unwrap_or_default()
        );
        let out = self
            .cmd()
            .args(["push", "--porcelain", "--no-verify"])
            .arg(lease)
            .arg(remote)
            .arg(format!(
                "{}:{refname}",
                new.map(Oid::as_str).unwrap_or_default()
            ))
            .output()?;
        let stdout = out.stdout_text();
        // Porcelain: one line per ref, its first character the outcome ('!' rejected).
        let line = stdout
            .lines()
            .find(|l| l.contains(&format!(":{refname}")))
            .unwrap_or("");
        if out.code == Some(0) && !line.starts_with('!') {
            return Ok(PushOutcome::Pushed);
        }
        if line.starts_with('!') {
            let reason = line.rsplit('\t').next().unwrap_or(line).trim().to_owned();
            return Ok(PushOutcome::Rejected { reason });
        }
        Err(out.into_error())
    }
}
