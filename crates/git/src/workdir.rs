//! Operations on one worktree (a directory) rather than on the repository.

use std::path::Path;

use crate::cmd::GitCommand;
use crate::repo::rev_parse_in;
use crate::status::dirty_paths;
use crate::{GitError, Oid, Result};

/// The commit checked out in the worktree at `dir`.
pub fn head_of(dir: &Path, env: &[(String, String)]) -> Result<Oid> {
    rev_parse_in(dir, env, "HEAD")?.ok_or_else(|| GitError::UnknownRevision("HEAD".to_owned()))
}

/// Moves the worktree's branch (or detached HEAD) back to `to`, keeping every change of the
/// commits it drops in the index and the files (`git reset --soft`).
pub fn reset_soft(dir: &Path, to: &Oid, env: &[(String, String)]) -> Result<()> {
    GitCommand::new(dir, env)
        .args(["reset", "-q", "--soft", to.as_str()])
        .run()?;
    Ok(())
}

/// Points the worktree's branch (or detached HEAD) at `to` and makes its index and tracked
/// files match (`git reset --hard`): whatever was there is dropped.
pub fn reset_hard(dir: &Path, to: &Oid, env: &[(String, String)]) -> Result<()> {
    GitCommand::new(dir, env)
        .args(["reset", "-q", "--hard", to.as_str()])
        .run()?;
    Ok(())
}

/// Stages everything in the worktree at `dir` (`git add -A`) and, if that differs from HEAD,
/// commits it with `message` (verbatim) and `author` (`"Name <email>"`). The committer is
/// gaffer unless the environment sets `GIT_COMMITTER_*`. Never runs hooks, never signs.
///
/// `git add -A` is the one pass over the whole tree (it must look at every file to find what
/// the agent changed; the index's stat data, kept valid by every checkout gaffer makes, spares
/// it rehashing). The commit itself is made from the index in the object store
/// (`write-tree`, `commit-tree`, a compare-and-swap of HEAD): `git commit` would refresh the
/// index, a second pass over every file, and start background maintenance. A merge in
/// progress (a resolver's) is committed with `git commit`, which concludes it.
///
/// Returns the new HEAD, or `None` when there was nothing to commit.
pub fn commit_all(
    dir: &Path,
    message: &str,
    author: &str,
    env: &[(String, String)],
) -> Result<Option<Oid>> {
    parse_author(author)?;
    GitCommand::new(dir, env).args(["add", "-A"]).run()?;
    commit_staged(dir, message, author, env, None)
}

/// Commits what is staged in the worktree at `dir` as [`commit_all`] does once it has staged
/// everything; `None` when the index is HEAD's tree. `head`: HEAD, when the caller knows it.
pub(crate) fn commit_staged(
    dir: &Path,
    message: &str,
    author: &str,
    env: &[(String, String)],
    head: Option<&Oid>,
) -> Result<Option<Oid>> {
    let (name, email) = parse_author(author)?;
    let staged = GitCommand::new(dir, env)
        .args(["diff", "--cached", "--quiet", "--no-ext-diff"])
        .output()?;
    match staged.code {
        Some(0) => return Ok(None),
        Some(1) => {}
        _ => return Err(staged.into_error()),
    }
    if crate::merge_in_progress(dir, env)? {
        return commit_merge(dir, message, (name, email), env).map(Some);
    }
    let parent = match head {
        Some(head) => head.clone(),
        None => head_of(dir, env)?,
    };
    let tree: Oid = GitCommand::new(dir, env)
        .arg("write-tree")
        .run()?
        .trim()
        .parse()?;
    let commit: Oid = GitCommand::new(dir, env)
        .default_identity()
        .env("GIT_AUTHOR_NAME", name)
        .env("GIT_AUTHOR_EMAIL", email)
        .args([
            "commit-tree",
            "--no-gpg-sign",
            tree.as_str(),
            "-p",
            parent.as_str(),
            "-F",
            "-",
        ])
        .stdin(message)
        .run()?
        .trim()
        .parse()?;
    // HEAD (and the branch it names) moves only from the commit the tree was made on.
    let first_line = message.lines().next().unwrap_or_default();
    GitCommand::new(dir, env)
        .args(["update-ref", "-m"])
        .arg(format!("commit: {first_line}"))
        .args(["HEAD", commit.as_str(), parent.as_str()])
        .run()?;
    Ok(Some(commit))
}

/// Concludes a merge in progress with `git commit` (which records `MERGE_HEAD` as a parent and
/// ends the merge).
fn commit_merge(
    dir: &Path,
    message: &str,
    (name, email): (&str, &str),
    env: &[(String, String)],
) -> Result<Oid> {
    GitCommand::new(dir, env)
        .default_identity()
        // Passed as variables rather than --author, which searches history for a match when
        // the value is not exactly "Name <email>".
        .env("GIT_AUTHOR_NAME", name)
        .env("GIT_AUTHOR_EMAIL", email)
        .args([
            "commit",
            "-q",
            "--no-verify",
            "--no-gpg-sign",
            "--allow-empty-message",
            "--cleanup=verbatim",
            "-F",
            "-",
        ])
        .stdin(message)
        .run()?;
    head_of(dir, env)
}

/// Who commits in `dir` by git's own configuration (`user.name`, `user.email`: the person's,
/// as their `git commit` would find it), as `Name <email>`; `None` when either is not set.
pub fn configured_author(dir: &Path, env: &[(String, String)]) -> Result<Option<String>> {
    let get = |key: &str| -> Result<Option<String>> {
        let out = GitCommand::new(dir, env)
            .args(["config", "--get", key])
            .output()?;
        Ok(match out.code {
            Some(0) => Some(out.stdout_text().trim().to_string()).filter(|v| !v.is_empty()),
            // 1: not set.
            Some(1) => None,
            _ => return Err(out.into_error()),
        })
    };
    Ok(match (get("user.name")?, get("user.email")?) {
        (Some(name), Some(email)) => Some(format!("{name} <{email}>")),
        _ => None,
    })
}

/// Whether the worktree at `dir` has staged, unstaged or untracked (not ignored) changes.
pub fn is_dirty(dir: &Path, env: &[(String, String)]) -> Result<bool> {
    Ok(!dirty_paths(dir, env)?.is_empty())
}

/// Makes the worktree at `dir` an exact checkout of `commit` with a detached HEAD:
/// `git checkout --detach --force` then `git clean -ffd` (untracked files are deleted, nested
/// repositories included). Ignored files stay: within one task's worktree they are what its
/// setup command installed and its builds cached (`node_modules`, `target/`), which verifying a
/// merge candidate needs as much as verifying the branch. Used to verify a merge candidate.
pub fn checkout_detached(dir: &Path, commit: &Oid, env: &[(String, String)]) -> Result<()> {
    checkout_tracked(dir, commit, env)?;
    GitCommand::new(dir, env).args(["clean", "-ffdq"]).run()?;
    Ok(())
}

/// The tracked half of [`checkout_detached`]: HEAD detached at `commit`, every tracked file
/// forced to it (`git checkout --force --detach`); untracked files are left.
pub(crate) fn checkout_tracked(dir: &Path, commit: &Oid, env: &[(String, String)]) -> Result<()> {
    GitCommand::new(dir, env)
        .args(["checkout", "-q", "--force", "--detach"])
        .arg(commit.as_str())
        .arg("--")
        .run()?;
    Ok(())
}

/// The files tracked in the worktree at `dir` (`git ls-files`), repository-relative with `/`
/// separators, in git's order. Files that are not valid UTF-8 are skipped.
pub fn tracked_files(dir: &Path, env: &[(String, String)]) -> Result<Vec<String>> {
    let out = GitCommand::new(dir, env)
        .args(["ls-files", "-z", "--cached"])
        .run_bytes()?;
    Ok(out
        .split(|b| *b == 0)
        .filter(|name| !name.is_empty())
        .filter_map(|name| std::str::from_utf8(name).ok().map(str::to_string))
        .collect())
}

/// Splits `"Name <email>"`.
fn parse_author(author: &str) -> Result<(&str, &str)> {
    let invalid =
        || GitError::InvalidArgument(format!("author must be \"Name <email>\": {author:?}"));
    let inner = author.trim().strip_suffix('>').ok_or_else(invalid)?;
    let (name, email) = inner.rsplit_once('<').ok_or_else(invalid)?;
    let (name, email) = (name.trim(), email.trim());
    let bad_char = |s: &str| s.contains(['<', '>', '\n']);
    if name.is_empty() || email.is_empty() || bad_char(name) || bad_char(email) {
        return Err(invalid());
    }
    Ok((name, email))
}

#[cfg(test)]
mod tests {
    use super::parse_author;

    #[test]
    fn parses_authors() {
        assert_eq!(
            parse_author("Claude (gaffer) <claude@gaffer.local>").unwrap(),
            ("Claude (gaffer)", "claude@gaffer.local")
        );
        for bad in ["claude", "<a@b>", "A <>", "A <b", "A <b> x", "A <<b>"] {
            assert!(parse_author(bad).is_err(), "{bad:?}");
        }
    }
}
