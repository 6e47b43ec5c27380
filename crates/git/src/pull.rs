//! `gaffer pull`: bringing landed work into the user's own checkout without ever clobbering
//! their uncommitted changes.
//!
//! gaffer never checks out, resets or writes the user's checkout on its own. When the target
//! branch is checked out there, the engine lands on another branch and the user pulls from it
//! with this function, which either applies cleanly or refuses before touching anything.

use std::collections::BTreeSet;
use std::path::Path;

use crate::cmd::{GitCommand, not_an_option, split_nul};
use crate::repo::rev_parse_in;
use crate::status::dirty_paths;
use crate::workdir::head_of;
use crate::{Git, GitError, MergeTree, Oid, PullRefused, Result};

/// What [`pull_into_checkout`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PullOutcome {
    /// The checkout already contained everything.
    UpToDate,
    /// The branch was fast-forwarded.
    FastForwarded {
        /// The old HEAD.
        from: Oid,
        /// The new HEAD (the pulled commit).
        to: Oid,
    },
    /// The branch had commits of its own, so a merge commit was made.
    Merged {
        /// The merge commit, now HEAD.
        commit: Oid,
    },
}

/// In the user's checkout `dir`, whose HEAD must be branch `branch`, brings in the commit
/// `from` names (e.g. `refs/heads/gaffer/landed/main`).
///
/// Fast-forwards when possible; otherwise predicts the merge with `merge-tree` and, if clean,
/// commits it (author and committer gaffer unless the environment says otherwise) and
/// fast-forwards to that commit. Refuses with [`GitError::PullRefused`], touching nothing, when:
/// - HEAD is not `branch` ([`PullRefused::NotOnBranch`]);
/// - the merge would conflict ([`PullRefused::Conflicts`]);
/// - a path the pull changes has uncommitted changes: staged, unstaged, untracked, or an
///   ignored file the pull would overwrite ([`PullRefused::DirtyOverlap`]).
///
/// Uncommitted changes to other paths (staged, unstaged and untracked alike) are left byte
/// for byte as they were. Hooks do not run.
pub fn pull_into_checkout(
    dir: &Path,
    branch: &str,
    from: &str,
    env: &[(String, String)],
) -> Result<PullOutcome> {
    not_an_option("branch name", branch)?;
    not_an_option("revision", from)?;
    let git = Git::open_with_env(dir, env.to_vec())?;
    let top = git.top_level();

    let actual = current_branch(top, env)?;
    if actual.as_deref() != Some(branch) {
        return Err(PullRefused::NotOnBranch {
            expected: branch.to_owned(),
            actual,
        }
        .into());
    }
    let head = head_of(top, env)?;
    let incoming = rev_parse_in(top, env, &format!("{from}^{{commit}}"))?
        .ok_or_else(|| GitError::UnknownRevision(from.to_owned()))?;
    if git.is_ancestor(&incoming, &head)? {
        return Ok(PullOutcome::UpToDate);
    }

    let fast_forward = git.is_ancestor(&head, &incoming)?;
    // What HEAD's tree will become: the incoming commit, or the predicted merge.
    let result = if fast_forward {
        incoming.clone()
    } else {
        match git.merge_tree(&head, &incoming)? {
            MergeTree::Clean { tree } => tree,
            MergeTree::Conflicted { files } => return Err(PullRefused::Conflicts { files }.into()),
        }
    };

    let overlap = dirty_overlap(top, env, &head, &result)?;
    if !overlap.is_empty() {
        return Err(PullRefused::DirtyOverlap { files: overlap }.into());
    }

    let target = if fast_forward {
        incoming.clone()
    } else {
        git.commit_tree(
            &result,
            &[head.clone(), incoming],
            &merge_message(from, branch),
        )?
    };
    // Even the merge case is a fast-forward now (to a commit whose first parent is HEAD), so
    // git moves the branch with a two-way checkout that keeps unrelated local changes and
    // re-checks, under the index lock, that none would be overwritten.
    GitCommand::new(top, env)
        .args([
            "merge",
            "--ff-only",
            "--no-autostash",
            "--no-verify-signatures",
            "--no-stat",
            "-q",
        ])
        .arg(target.as_str())
        .run()?;

    let now = head_of(top, env)?;
    if now != target {
        return Err(GitError::Parse(format!(
            "after fast-forwarding to {target}, HEAD is {now}"
        )));
    }
    Ok(if fast_forward {
        PullOutcome::FastForwarded {
            from: head,
            to: target,
        }
    } else {
        PullOutcome::Merged { commit: target }
    })
}

/// The branch HEAD points at (without `refs/heads/`), or `None` when detached.
pub(crate) fn current_branch(top: &Path, env: &[(String, String)]) -> Result<Option<String>> {
    let out = GitCommand::new(top, env)
        .args(["symbolic-ref", "-q", "HEAD"])
        .output()?;
    match out.code {
        Some(0) => {
            let text = out.stdout_text();
            let name = text.trim();
            Ok(Some(
                name.strip_prefix("refs/heads/").unwrap_or(name).to_owned(),
            ))
        }
        Some(1) => Ok(None),
        _ => Err(out.into_error()),
    }
}

/// Paths changed between `head` and `result` that the user has uncommitted changes to.
///
/// Besides what `git status` shows, this catches ignored files in the way of added paths:
/// git would silently overwrite those, but they are the user's.
fn dirty_overlap(
    top: &Path,
    env: &[(String, String)],
    head: &Oid,
    result: &Oid,
) -> Result<Vec<String>> {
    let changes = name_status(top, env, head, result)?;
    if changes.is_empty() {
        return Ok(Vec::new());
    }
    let changed: BTreeSet<&str> = changes.iter().map(|(_, p)| p.as_str()).collect();
    let dirty = dirty_paths(top, env)?;
    let mut overlap = BTreeSet::new();
    for (status, path) in &changes {
        if dirty.iter().any(|d| paths_overlap(d, path)) {
            overlap.insert(path.clone());
            continue;
        }
        if status == "A" && blocked_on_disk(top, path, &changed) {
            overlap.insert(path.clone());
        }
    }
    Ok(overlap.into_iter().collect())
}

/// Whether adding `path` would overwrite something on disk that is not tracked: the path
/// itself exists, or one of its parent directories is a file (and not one the pull changes).
fn blocked_on_disk(top: &Path, path: &str, changed: &BTreeSet<&str>) -> bool {
    if top.join(path).symlink_metadata().is_ok() {
        return true;
    }
    let mut prefix = String::new();
    for component in path
        .split('/')
        .take(path.split('/').count().saturating_sub(1))
    {
        if !prefix.is_empty() {
            prefix.push('/');
        }
        prefix.push_str(component);
        let is_non_dir = top
            .join(&prefix)
            .symlink_metadata()
            .is_ok_and(|m| !m.is_dir());
        if is_non_dir && !changed.contains(prefix.as_str()) {
            return true;
        }
    }
    false
}

/// Whether two repository paths are the same or one contains the other.
fn paths_overlap(a: &str, b: &str) -> bool {
    let contains = |outer: &str, inner: &str| {
        inner
            .strip_prefix(outer)
            .is_some_and(|rest| rest.starts_with('/'))
    };
    a == b || contains(a, b) || contains(b, a)
}

/// `(status letter, path)` of each change between two commits or trees, renames split.
fn name_status(
    top: &Path,
    env: &[(String, String)],
    from: &Oid,
    to: &Oid,
) -> Result<Vec<(String, String)>> {
    let bytes = GitCommand::new(top, env)
        .args([
            "diff",
            "--no-ext-diff",
            "--no-renames",
            "--name-status",
            "-z",
        ])
        .arg(from.as_str())
        .arg(to.as_str())
        .arg("--")
        .run_bytes()?;
    let fields = split_nul(&bytes);
    let mut changes = Vec::new();
    for pair in fields.chunks(2) {
        let [status, path] = pair else {
            return Err(GitError::Parse(format!("diff --name-status: {pair:?}")));
        };
        changes.push((status.clone(), path.clone()));
    }
    Ok(changes)
}

/// The merge commit's message, in git's own style.
fn merge_message(from: &str, branch: &str) -> String {
    match from.strip_prefix("refs/heads/") {
        Some(short) => format!("Merge branch '{short}' into {branch}\n"),
        None => format!("Merge {from} into {branch}\n"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlap_is_equality_or_containment() {
        assert!(paths_overlap("a", "a"));
        assert!(paths_overlap("a", "a/b"));
        assert!(paths_overlap("a/b/c", "a/b"));
        assert!(!paths_overlap("a", "ab"));
        assert!(!paths_overlap("a/b", "a/c"));
    }

    #[test]
    fn merge_messages() {
        assert_eq!(
            merge_message("refs/heads/gaffer/landed/main", "main"),
            "Merge branch 'gaffer/landed/main' into main\n"
        );
        assert_eq!(merge_message("abc123", "main"), "Merge abc123 into main\n");
    }
}
