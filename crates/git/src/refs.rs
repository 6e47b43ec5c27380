//! Refs and branches: compare-and-swap updates, deletion, listing.

use crate::cmd::not_an_option;
use crate::{Git, GitError, Oid, Result};

/// Outcome of [`Git::update_ref_cas`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CasOutcome {
    /// The ref now points at the new value.
    Updated,
    /// The ref was not at the expected value, so it was left alone. `actual` is what it
    /// points at now (`None`: it does not exist).
    Moved {
        /// The ref's current value.
        actual: Option<Oid>,
    },
}

/// Reflog message of gaffer's ref updates.
const REFLOG_MESSAGE: &str = "gaffer";

impl Git {
    /// Points `refname` (a full name such as `refs/heads/main`) at `new` if and only if it
    /// currently points at `expected_old`, or does not exist when `expected_old` is `None`.
    /// Atomic: git locks the ref and checks the old value under the lock.
    ///
    /// A ref found elsewhere is not an error: the result is [`CasOutcome::Moved`]. Other
    /// failures (invalid name, lock held by another process) are errors.
    pub fn update_ref_cas(
        &self,
        refname: &str,
        new: &Oid,
        expected_old: Option<&Oid>,
    ) -> Result<CasOutcome> {
        not_an_option("ref name", refname)?;
        let old = expected_old.cloned().unwrap_or_else(|| new.zero_like());
        let out = self
            .cmd()
            .args(["update-ref", "-m", REFLOG_MESSAGE, refname])
            .arg(new.as_str())
            .arg(old.as_str())
            .output()?;
        if out.code == Some(0) {
            return Ok(CasOutcome::Updated);
        }
        // Distinguish "not at the expected value" from other failures by looking, rather
        // than by parsing git's message.
        let actual = self.rev_parse(refname)?;
        if actual.as_ref() != expected_old {
            return Ok(CasOutcome::Moved { actual });
        }
        Err(out.into_error())
    }

    /// Deletes `refname`. With `expected_old`, only if it points there
    /// ([`GitError::RefMoved`] otherwise); without, unconditionally. Deleting a ref that
    /// does not exist is a success when no value was expected.
    pub fn delete_ref(&self, refname: &str, expected_old: Option<&Oid>) -> Result<()> {
        not_an_option("ref name", refname)?;
        let mut cmd = self
            .cmd()
            .args(["update-ref", "-m", REFLOG_MESSAGE, "-d", refname]);
        if let Some(old) = expected_old {
            cmd = cmd.arg(old.as_str());
        }
        let out = cmd.output()?;
        if out.code == Some(0) {
            return Ok(());
        }
        if let Some(expected) = expected_old {
            let actual = self.rev_parse(refname)?;
            if actual.as_ref() != Some(expected) {
                return Err(GitError::RefMoved {
                    refname: refname.to_owned(),
                    expected: expected.clone(),
                    actual,
                });
            }
        }
        Err(out.into_error())
    }

    /// Local branches whose name starts with `prefix` (e.g. `gaffer/`), with the commits they
    /// point at, sorted by name. Names are given without `refs/heads/`.
    pub fn branches(&self, prefix: &str) -> Result<Vec<(String, Oid)>> {
        // Ref names cannot contain spaces or newlines, so plain lines parse unambiguously.
        let out = self
            .cmd()
            .args([
                "for-each-ref",
                "--sort=refname",
                "--format=%(objectname) %(refname)",
                "refs/heads/",
            ])
            .run()?;
        let mut branches = Vec::new();
        for line in out.lines().filter(|l| !l.is_empty()) {
            let (oid, refname) = line
                .split_once(' ')
                .ok_or_else(|| GitError::Parse(format!("for-each-ref printed {line:?}")))?;
            let name = refname.strip_prefix("refs/heads/").unwrap_or(refname);
            if name.starts_with(prefix) {
                branches.push((name.to_owned(), oid.parse()?));
            }
        }
        Ok(branches)
    }

    /// Deletes local branch `name` (without `refs/heads/`) whatever it points at. Absent is a
    /// success. Fails if the branch is checked out in a worktree.
    pub fn delete_branch(&self, name: &str) -> Result<()> {
        not_an_option("branch name", name)?;
        let refname = format!("refs/heads/{name}");
        if self.rev_parse(&refname)?.is_none() {
            return Ok(());
        }
        let out = self.cmd().args(["branch", "-D", "-q", name]).output()?;
        if out.code == Some(0) || self.rev_parse(&refname)?.is_none() {
            // Also fine if someone else deleted it in the meantime.
            return Ok(());
        }
        if let Some(path) = self.checked_out_in(name)? {
            return Err(GitError::BranchExists {
                branch: name.to_owned(),
                checked_out_in: Some(path),
            });
        }
        Err(out.into_error())
    }
}
