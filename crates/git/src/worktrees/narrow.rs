//! The three passes of a task's cycle, done on the paths the [`TreeWatch`] says changed since
//! the worktree was last a clean checkout, instead of on every file: staging after an agent
//! (`git add -A -- <changed>`), putting the worktree on a merge candidate (the changed paths
//! put back, then only what differs between the branch and the candidate written), and a
//! released slot's reset (the changed paths put back, nothing else looked at).
//!
//! Each runs narrowly only when the watch answers, HEAD is where gaffer left it, and the index
//! is gaffer's own (unchanged since gaffer wrote it, or, when something else wrote it, equal to
//! HEAD's tree with no entry flagged `skip-worktree` or `assume-unchanged`); anything else, or
//! any failure on the way, makes the whole pass as before. Why each narrow step gives the same
//! tree as the pass: outside the changed paths the files are as at the clean point, where
//! they matched the index; so `add -A` can only find changes there, `clean` can only find
//! untracked files there, and `checkout --force` can only find files to rewrite there.

use std::path::Path;

use crate::cmd::GitCommand;
use crate::tree_watch::{Answer, IndexStamp};
use crate::worktree_admin::admin_dir;
use crate::{Oid, Result, TreeWatch};

use super::Worktrees;

/// Arguments per `git clean` (its paths are not read from standard input).
const CLEAN_CHUNK: usize = 512;

/// State files of an operation in progress that only a whole pass ends.
const IN_PROGRESS: &[&str] = &["MERGE_HEAD", "MERGE_MODE", "MERGE_MSG"];

impl Worktrees {
    /// The watch over this repository's task worktrees.
    pub fn watch(&self) -> &TreeWatch {
        &self.watch
    }

    /// Stages everything that changed in the task worktree at `dir` and commits it, as
    /// [`crate::commit_all`] does, staging only the paths the watch says changed when it can.
    pub fn commit_all(&self, dir: &Path, message: &str, author: &str) -> Result<Option<Oid>> {
        let env = self.git.env();
        let head = self.git.head_of(dir)?;
        let staged = match self.usable(dir, &head) {
            Some(answer) if answer.foreign => {
                self.watch.count_whole();
                None
            }
            Some(answer) => match self.stage(dir, &head, &answer.changed) {
                Ok(()) => {
                    self.watch.count_narrow();
                    Some(false)
                }
                Err(e) => {
                    tracing::debug!(target: "gaffer_git", dir = %dir.display(), error = %e, "staging what changed failed; staging everything");
                    self.watch.count_whole();
                    None
                }
            },
            None => None,
        };
        let foreign = match staged {
            Some(foreign) => foreign,
            None => {
                GitCommand::new(dir, env).args(["add", "-A"]).run()?;
                true
            }
        };
        let committed = crate::workdir::commit_staged(dir, message, author, env, Some(&head))?;
        let now = match &committed {
            Some(commit) => commit.clone(),
            None => head,
        };
        self.watch.ours(dir, &now, foreign);
        Ok(committed)
    }

    /// Makes the task worktree at `dir` an exact checkout of `commit` with a detached HEAD,
    /// as [`crate::checkout_detached`] does (untracked files deleted, ignored ones kept),
    /// touching only the changed paths and what differs between HEAD and `commit` when the
    /// watch can say which.
    pub fn checkout_detached(&self, dir: &Path, commit: &Oid) -> Result<()> {
        let env = self.git.env();
        let head = self.git.head_of(dir)?;
        if let Some(answer) = self.usable(dir, &head) {
            if answer.foreign || answer.gitlinks || in_progress(dir) {
                self.watch.count_whole();
            } else {
                let done = self
                    .put_back(dir, &head, &answer.changed, false)
                    .and_then(|()| self.move_to(dir, &head, commit));
                match done {
                    Ok(true) => {
                        self.watch.count_narrow();
                        self.watch.ours(dir, commit, false);
                        return Ok(());
                    }
                    Ok(false) => self.watch.count_whole(),
                    Err(e) => {
                        tracing::debug!(target: "gaffer_git", dir = %dir.display(), error = %e, "a narrow checkout failed; checking out in full");
                        self.watch.count_whole();
                    }
                }
            }
        }
        crate::checkout_detached(dir, commit, env)?;
        self.watch.ours(dir, commit, true);
        Ok(())
    }

    /// A released slot at `dir` (HEAD detached at `at`) made an exact, clean checkout of `at`
    /// (nothing untracked or ignored), then moved to `to`, touching only the changed paths and
    /// what differs between the two commits; false when it cannot be done so (the caller
    /// makes the whole pass).
    pub(super) fn reset_narrow(&self, dir: &Path, at: &Oid, to: &Oid) -> bool {
        let Some(answer) = self.usable(dir, at) else {
            return false;
        };
        // Something else wrote the index: flags or entries a narrow reset would keep may be
        // in it; and nested repositories' directories are emptied only by the whole pass.
        if answer.foreign || answer.gitlinks || in_progress(dir) {
            self.watch.count_whole();
            return false;
        }
        let done = self
            .put_back(dir, at, &answer.changed, true)
            .and_then(|()| self.move_to(dir, at, to));
        match done {
            Ok(true) => {
                self.watch.count_narrow();
                true
            }
            Ok(false) => {
                self.watch.count_whole();
                false
            }
            Err(e) => {
                tracing::debug!(target: "gaffer_git", dir = %dir.display(), error = %e, "a narrow reset failed; resetting in full");
                self.watch.count_whole();
                false
            }
        }
    }

    /// The watch's answer for the worktree at `dir` (HEAD at `head`), when the narrow
    /// operations may use it: the index gaffer's own, or at least as good (see the module).
    fn usable(&self, dir: &Path, head: &Oid) -> Option<Answer> {
        let mut answer = self.watch.changed(dir, head)?;
        if answer
            .changed
            .iter()
            .any(|p| p.split('/').any(|c| c == ".git"))
        {
            // A nested repository made in the tree: only the whole pass handles it.
            self.watch.count_whole();
            return None;
        }
        if answer.foreign {
            match index_is_head(dir, self.git.env()) {
                Ok(true) => {
                    answer.foreign = false;
                    self.watch.ours(dir, head, false);
                }
                Ok(false) => {}
                Err(e) => {
                    tracing::debug!(target: "gaffer_git", dir = %dir.display(), error = %e, "cannot compare the index with HEAD");
                }
            }
        }
        Some(answer)
    }

    /// `git add -A` of the changed paths: those on disk, and those gone that `head` tracks
    /// (a path neither on disk nor tracked is not a pathspec git takes); ignored ones left
    /// out, as a whole `add -A` leaves them.
    fn stage(&self, dir: &Path, head: &Oid, changed: &[String]) -> Result<()> {
        let env = self.git.env();
        let mut paths = Vec::with_capacity(changed.len());
        for path in changed {
            if dir.join(path).symlink_metadata().is_ok()
                || self
                    .git
                    .rev_parse(&format!("{}:{path}", head.as_str()))?
                    .is_some()
            {
                paths.push(path.as_str());
            }
        }
        let paths = not_ignored(dir, env, paths)?;
        if paths.is_empty() {
            return Ok(());
        }
        GitCommand::new(dir, env)
            .env("GIT_LITERAL_PATHSPECS", "1")
            .args(["add", "-A", "--pathspec-from-file=-", "--pathspec-file-nul"])
            .stdin(nul_list(&paths))
            .run()?;
        Ok(())
    }

    /// The changed paths made as `head` has them: untracked files among them deleted
    /// (ignored ones too when `ignored`), tracked ones written back with their index entries.
    fn put_back(&self, dir: &Path, head: &Oid, changed: &[String], ignored: bool) -> Result<()> {
        if changed.is_empty() {
            return Ok(());
        }
        let env = self.git.env();
        let flags = if ignored { "-ffdxq" } else { "-ffdq" };
        for chunk in changed.chunks(CLEAN_CHUNK) {
            GitCommand::new(dir, env)
                .env("GIT_LITERAL_PATHSPECS", "1")
                .args(["clean", flags, "--"])
                .args(chunk)
                .run()?;
        }
        let mut tracked = Vec::new();
        for path in changed {
            if self
                .git
                .rev_parse(&format!("{}:{path}", head.as_str()))?
                .is_some()
            {
                tracked.push(path.as_str());
            }
        }
        if !tracked.is_empty() {
            GitCommand::new(dir, env)
                .env("GIT_LITERAL_PATHSPECS", "1")
                .args(["checkout", "-q", "--force"])
                .arg(head.as_str())
                .args(["--pathspec-from-file=-", "--pathspec-file-nul"])
                .stdin(nul_list(&tracked))
                .run()?;
        }
        Ok(())
    }

    /// Moves the clean worktree at `dir` from `from` to `to` (HEAD detached there) writing
    /// only what differs; false when a `.gitattributes` differs or a nested repository comes
    /// in (the whole checkout handles those).
    fn move_to(&self, dir: &Path, from: &Oid, to: &Oid) -> Result<bool> {
        if from != to {
            let changes = super::pool::tree_changes(dir, self.git.env(), from, to)?;
            if changes.attributes || changes.gitlinks {
                return Ok(false);
            }
            GitCommand::new(dir, self.git.env())
                .args(["read-tree", "-m", "-u", from.as_str(), to.as_str()])
                .run()?;
        }
        GitCommand::new(dir, self.git.env())
            .args(["update-ref", "--no-deref", "-m", "gaffer: checkout", "HEAD"])
            .arg(to.as_str())
            .run()?;
        Ok(true)
    }
}

/// Whether an operation is in progress in the worktree at `dir` (a merge, a rebase…).
fn in_progress(dir: &Path) -> bool {
    let Some(admin) = admin_dir(dir) else {
        return true;
    };
    IN_PROGRESS
        .iter()
        .chain(super::pool::OPERATION_STATE)
        .any(|name| admin.join(name).symlink_metadata().is_ok())
}

/// Whether the index of the worktree at `dir` says exactly what HEAD's tree does and flags
/// no entry (`skip-worktree`, `assume-unchanged`): as good as gaffer's own.
fn index_is_head(dir: &Path, env: &[(String, String)]) -> Result<bool> {
    if IndexStamp::of(dir).is_none() {
        return Ok(false);
    }
    let same = GitCommand::new(dir, env)
        .args(["diff-index", "--cached", "--quiet", "HEAD", "--"])
        .output()?;
    match same.code {
        Some(0) => {}
        Some(1) => return Ok(false),
        _ => return Err(same.into_error()),
    }
    let listed = GitCommand::new(dir, env).args(["ls-files", "-v"]).run()?;
    Ok(!super::pool::any_flagged(&listed))
}

/// The paths of `paths` that are not ignored (tracked ones never are).
fn not_ignored<'a>(
    dir: &Path,
    env: &[(String, String)],
    paths: Vec<&'a str>,
) -> Result<Vec<&'a str>> {
    if paths.is_empty() {
        return Ok(paths);
    }
    // check-ignore takes no pathspec magic: the paths are read as they are.
    let out = GitCommand::new(dir, env)
        .args(["check-ignore", "-z", "--stdin"])
        .stdin(nul_list(&paths))
        .output()?;
    // 0: some are ignored; 1: none is.
    let ignored: std::collections::HashSet<&[u8]> = match out.code {
        Some(0) => out
            .stdout
            .split(|b| *b == 0)
            .filter(|p| !p.is_empty())
            .collect(),
        Some(1) => std::collections::HashSet::new(),
        _ => return Err(out.into_error()),
    };
    Ok(paths
        .into_iter()
        .filter(|p| !ignored.contains(p.as_bytes()))
        .collect())
}

/// Paths as git reads them with `--pathspec-file-nul` / `-z`.
fn nul_list(paths: &[&str]) -> Vec<u8> {
    let mut out = Vec::new();
    for path in paths {
        out.extend_from_slice(path.as_bytes());
        out.push(0);
    }
    out
}
