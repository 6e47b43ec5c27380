//! [`RunRepo::bring_back`]: moving the task branch to what the run committed, and nothing
//! else.

use std::collections::BTreeMap;

use super::fetch_dir::fetch_objects;
use super::{RunRepo, RunRepoError, RunRepoResult, refs_read};
use crate::{CasOutcome, Oid};

/// What [`RunRepo::bring_back`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BroughtBack {
    /// What happened to the task branch.
    pub branch: BranchChange,
    /// Refs the run created, moved or deleted in its repository besides its branch: left
    /// there, reported for the log.
    pub ignored: Vec<IgnoredRef>,
}

/// What happened to the task branch in the main repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BranchChange {
    /// The run left its branch where it started.
    Unchanged,
    /// The branch now points at the run's tip (it did already when this is a repeat).
    Moved {
        /// Where the run started.
        from: Oid,
        /// The run's tip.
        to: Oid,
        /// `to` descends from `from` (false: the run rewrote its branch's history).
        fast_forward: bool,
    },
}

/// A ref other than the task branch that the run changed in its own repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IgnoredRef {
    /// Full name.
    pub name: String,
    /// Its value when the run started (`None`: the run created it).
    pub before: Option<Oid>,
    /// Its value after the run (`None`: the run deleted it).
    pub after: Option<Oid>,
}

impl RunRepo {
    /// Brings the run's work back: if the run repository's branch moved, fetches its new
    /// objects into the main repository and moves the task branch there by compare-and-swap
    /// from [`RunRepo::start`]. Every other ref of the run repository is ignored (and listed).
    /// Never touches the worktree, its index or the run repository.
    ///
    /// Call it once every process of the run has ended. Repeating it (after a crash, say)
    /// gives the same result. Fails with [`RunRepoError::BranchMoved`] if the main
    /// repository's branch is neither at the start nor already at the run's tip,
    /// [`RunRepoError::RunBranchUnreadable`] if the run repository has no plain ref for the
    /// branch, and [`RunRepoError::NotACommit`] if it points at something else; in each case
    /// no ref was changed.
    pub fn bring_back(&self) -> RunRepoResult<BroughtBack> {
        let branch_ref = format!("refs/heads/{}", self.branch);
        let tip = refs_read::read_ref(&self.dir, &branch_ref).ok_or_else(|| {
            RunRepoError::RunBranchUnreadable {
                run_repo: self.dir.clone(),
                branch: self.branch.clone(),
            }
        })?;
        let mut after = refs_read::read_refs(&self.dir);
        after.insert(branch_ref.clone(), tip.clone());
        let ignored = ignored_changes(&self.seeded, &after, &branch_ref);
        let branch = if tip == self.start {
            BranchChange::Unchanged
        } else {
            self.move_branch(&branch_ref, &tip)?
        };
        Ok(BroughtBack { branch, ignored })
    }

    fn move_branch(&self, branch_ref: &str, tip: &Oid) -> RunRepoResult<BranchChange> {
        let moved = |actual| RunRepoError::BranchMoved {
            branch: self.branch.clone(),
            expected: self.start.clone(),
            actual,
        };
        let current = self.git.rev_parse(branch_ref)?;
        if current.as_ref() != Some(tip) {
            if current.as_ref() != Some(&self.start) {
                return Err(moved(current));
            }
            fetch_objects(&self.git, &self.dir.join("objects"), tip)?;
            if self.git.rev_parse_commit(tip.as_str())?.as_ref() != Some(tip) {
                return Err(RunRepoError::NotACommit {
                    branch: self.branch.clone(),
                    oid: tip.clone(),
                });
            }
            match self
                .git
                .update_ref_cas(branch_ref, tip, Some(&self.start))?
            {
                CasOutcome::Updated => {}
                CasOutcome::Moved { actual } if actual.as_ref() == Some(tip) => {}
                CasOutcome::Moved { actual } => return Err(moved(actual)),
            }
        }
        Ok(BranchChange::Moved {
            from: self.start.clone(),
            to: tip.clone(),
            fast_forward: self.git.is_ancestor(&self.start, tip)?,
        })
    }
}

/// Refs whose value differs between `before` and `after`, except `branch_ref`.
fn ignored_changes(
    before: &BTreeMap<String, Oid>,
    after: &BTreeMap<String, Oid>,
    branch_ref: &str,
) -> Vec<IgnoredRef> {
    let mut names: Vec<&String> = before.keys().chain(after.keys()).collect();
    names.sort();
    names.dedup();
    names
        .into_iter()
        .filter(|name| *name != branch_ref && before.get(*name) != after.get(*name))
        .map(|name| IgnoredRef {
            name: name.clone(),
            before: before.get(name).cloned(),
            after: after.get(name).cloned(),
        })
        .collect()
}
