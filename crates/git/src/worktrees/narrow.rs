//! The passes of a task's cycle done on the paths the [`TreeWatch`] says changed since the
//! worktree was last a clean checkout, instead of on every file: staging after an agent
//! (`git add -A -- <changed>`), the untracked half of a candidate's checkout (`git clean --
//! <changed>`; its tracked files are always forced in full), and a released slot's reset (the
//! changed paths put back, then a read-only check of every tracked file's stat data instead of
//! a rewrite of the index and a walk of every directory).
//!
//! Why each gives what the whole pass gives: outside the changed paths every file is as it was
//! at the clean point, where it matched the index, so `add -A` can only find changes there, and
//! `clean` can only find untracked files there. Two things the kernel does not report break
//! that: a write through a second name of a file (a hard link, reported under the link's name
//! only) and a write through a shared memory mapping. A mapping's writes are followed by the
//! close of its file when the mapping goes (`IN_CLOSE_WRITE`, which the watch takes), at the
//! latest when its process dies, and every confined process dies with its run. A second name
//! is only refused where gaffer's sandbox refuses hard links
//! ([`Worktrees::set_links_refused`]); without that, two passes still look at every tracked
//! file. For staging a missed write can only hide an agent's own change from its own commit,
//! which the candidate's checkout (every tracked file forced: what lands is what was verified)
//! then puts right. For a slot handed to another task, whose agent must not see what an earlier
//! one left, the reset checks every tracked file against the index (`git diff-files`, stat data
//! only) after putting the changed paths back, and resets in full if one differs. With links
//! refused, both are narrow too: the candidate's tracked files are put back and moved to the
//! candidate like a pool slot's, and the slot's check is skipped.
//!
//! Each runs narrowly only when the watch answers, HEAD is where gaffer left it, and the index
//! is gaffer's own: unchanged since gaffer wrote it, or for staging, equal to HEAD's tree with no
//! entry flagged `skip-worktree` or `assume-unchanged`; a slot whose index anyone else ever
//! wrote since its clean point (an entry dropped with `git rm --cached` leaves a file no event
//! names) is reset in full. Anything else, or any failure on the way, makes the whole pass.

use std::collections::BTreeSet;
use std::path::Path;

use crate::cmd::GitCommand;
use crate::tree_watch::{Answer, IndexStamp};
use crate::worktree_admin::admin_dir;
use crate::{Oid, Result, TreeWatch};

use super::Worktrees;

/// Arguments per `git clean` (its paths are not read from standard input).
const CLEAN_CHUNK: usize = 512;

/// State files of an operation in progress, or of a sparse checkout, that only a whole pass
/// ends.
const IN_PROGRESS: &[&str] = &[
    "MERGE_HEAD",
    "MERGE_MODE",
    "MERGE_MSG",
    super::pool::SPARSE_PATTERNS,
    super::pool::WORKTREE_CONFIG,
];

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
            // A nested repository's directory is staged as a gitlink, which the check of what
            // HEAD tracks cannot see.
            Some(answer) if answer.foreign || answer.gitlinks => {
                self.watch.count_whole();
                false
            }
            Some(answer) => self.counted(
                dir,
                "staging what changed",
                self.stage(dir, &head, &answer.changed).map(|()| true),
            ),
            None => false,
        };
        if !staged {
            GitCommand::new(dir, env).args(["add", "-A"]).run()?;
        }
        let committed = crate::workdir::commit_staged(dir, message, author, env, Some(&head))?;
        let now = match &committed {
            Some(commit) => commit.clone(),
            None => head,
        };
        // After a whole `add -A` the index may still hold what someone else put there
        // (flags `add` keeps).
        self.watch.ours(dir, &now, !staged, None);
        Ok(committed)
    }

    /// Makes the task worktree at `dir` an exact checkout of `commit` with a detached HEAD,
    /// as [`crate::checkout_detached`] does. The untracked files only among the changed paths
    /// when the watch knows them (a file is made by creating a name, which is always reported)
    /// and nobody dropped an index entry since the clean point (which leaves an untracked file
    /// no event names). The tracked ones over every file (`checkout --force`), because what is
    /// verified there is what lands, and an agent's test code may have written a tracked file
    /// through a second name no event reports; unless hard links are refused
    /// ([`Worktrees::set_links_refused`]) and gaffer's own index is there: then the changed
    /// paths are put back and what differs between HEAD and `commit` written, as a pool slot
    /// is moved. The watch then knows the worktree is at `commit`.
    pub fn checkout_detached(&self, dir: &Path, commit: &Oid) -> Result<()> {
        let env = self.git.env();
        let head = self.git.head_of(dir)?;
        let known = self.watch.changed(dir, &head);
        // What the candidate changes, when the watch knows the tree and has seen no nested
        // repository in it.
        let changes = match &known {
            Some(answer) if !answer.gitlinks && head != *commit => {
                Some(super::pool::tree_changes(dir, env, &head, commit)?)
            }
            _ => None,
        };
        // Whether the candidate brings in a nested repository (gitlink) the tree has none of;
        // `None` when the watch already knows of one, or nothing moves.
        let brought = changes.as_ref().map(|c| c.gitlinks);
        // Nested repositories (gitlinks), the tree's or the candidate's, go whole: their
        // directories are tracked, empty or not, and only a whole pass tells them apart from
        // an emptied directory. So does a changed `.gitignore`, as a precaution: every
        // untracked file is among the changed paths (the clean point has none), so cleaning
        // them by the candidate's rules would do, but such candidates are rare.
        let narrow = known.as_ref().filter(|a| {
            !a.touched
                && !a.gitlinks
                && brought != Some(true)
                && !changes.as_ref().is_some_and(|c| c.ignores)
                && !a.changed.iter().any(|p| p.split('/').any(|c| c == ".git"))
        });
        let moved = match narrow {
            Some(answer) if self.links_refused() && !answer.foreign && !in_progress(dir) => {
                let tried = self.checkout_narrow(dir, &head, commit, &answer.changed, changes);
                match tried {
                    Ok(moved) => moved,
                    Err(e) => {
                        // What it did is undone below: every tracked file is forced.
                        tracing::debug!(target: "gaffer_git", dir = %dir.display(), error = %e, "a narrow checkout failed; forcing every tracked file");
                        false
                    }
                }
            }
            _ => false,
        };
        match narrow {
            _ if moved => self.watch.count_narrow(),
            Some(answer) => {
                crate::workdir::checkout_tracked(dir, commit, env)?;
                let cleaned = self
                    .clean_changed(dir, &answer.changed, false)
                    .and_then(|()| remove_emptied(dir, &answer.changed, Some(env)));
                if !self.counted(dir, "cleaning what changed", cleaned.map(|()| true)) {
                    GitCommand::new(dir, env).args(["clean", "-ffdq"]).run()?;
                }
            }
            None => {
                self.watch.count_whole();
                crate::checkout_detached(dir, commit, env)?;
            }
        }
        if let Some(answer) = known {
            // A nested repository the candidate brings in is emptied only by a whole reset.
            self.watch.ours(dir, commit, answer.foreign, brought);
        }
        Ok(())
    }

    /// The task worktree at `dir` (HEAD at `head`, gaffer's index, `changed` the watch's
    /// paths) made an exact checkout of `commit` with HEAD detached there, writing only the
    /// changed paths and what differs (`changes`, `None` when nothing does): the tracked ones
    /// among the changed paths put back as `head` has them, the tree moved to `commit`, then
    /// the untracked ones deleted by `commit`'s ignore rules, as a whole `checkout --force` then
    /// `clean -ffd` would. False when the move cannot be done so (a `.gitattributes` differs).
    fn checkout_narrow(
        &self,
        dir: &Path,
        head: &Oid,
        commit: &Oid,
        changed: &[String],
        changes: Option<super::pool::TreeChanges>,
    ) -> Result<bool> {
        self.restore_tracked(dir, head, changed)?;
        if !self.move_with(dir, head, commit, changes.as_ref())? {
            return Ok(false);
        }
        // After the move: the ignore rules are the candidate's.
        self.clean_changed(dir, changed, false)?;
        remove_emptied(dir, changed, Some(self.git.env()))?;
        Ok(true)
    }

    /// A released slot at `dir` (HEAD detached at `at`) made an exact, clean checkout of `at`
    /// (nothing untracked or ignored), then moved to `to`, touching only the changed paths and
    /// what differs between the two commits; false when it cannot be done so (the caller
    /// makes the whole pass).
    pub(super) fn reset_narrow(&self, dir: &Path, at: &Oid, to: &Oid) -> bool {
        let Some(answer) = self.usable(dir, at) else {
            return false;
        };
        if answer.touched || answer.gitlinks || in_progress(dir) {
            self.watch.count_whole();
            return false;
        }
        // With hard links refused no tracked file can have changed but through a name the
        // watch reported, and those were just put back.
        let done = self
            .put_back(dir, at, &answer.changed)
            .and_then(|()| match self.links_refused() {
                true => Ok(true),
                false => tracked_files_match(dir, self.git.env()),
            })
            .and_then(|clean| match clean {
                true => self.move_to(dir, at, to),
                false => Ok(false),
            });
        self.counted(dir, "a narrow reset", done)
    }

    /// Counts how a narrow pass over the worktree at `dir` went: true when it was done
    /// (counted narrow); false when the caller makes the whole pass instead (counted whole, and
    /// a failure of `what` logged).
    fn counted(&self, dir: &Path, what: &str, done: Result<bool>) -> bool {
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
                tracing::debug!(target: "gaffer_git", dir = %dir.display(), error = %e, "{what} failed; making the whole pass");
                self.watch.count_whole();
                false
            }
        }
    }

    /// The watch's answer for the worktree at `dir` (HEAD at `head`), with `foreign` cleared
    /// when the index someone else wrote is as good as gaffer's own (see the module).
    fn usable(&self, dir: &Path, head: &Oid) -> Option<Answer> {
        let Some(mut answer) = self.watch.changed(dir, head) else {
            self.watch.count_whole();
            return None;
        };
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
                // Cleared for good only when the index was gaffer's own until this write:
                // after a whole pass that left someone else's index, an entry may have been
                // dropped and committed (so the index says what HEAD does) with its file left.
                Ok(true) if answer.just_written => {
                    answer.foreign = false;
                    answer.touched = false;
                    self.watch.index_verified(dir, head);
                }
                Ok(true) => {
                    answer.foreign = false;
                    self.watch.ours(dir, head, false, None);
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
            if dir.join(path).symlink_metadata().is_ok() || self.tracks(head, path)? {
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
            .stdin(nul_list(paths.iter().copied()))
            .run()?;
        Ok(())
    }

    /// Whether `commit` has something (a file, a directory) at `path`.
    fn tracks(&self, commit: &Oid, path: &str) -> Result<bool> {
        Ok(self
            .git
            .rev_parse(&format!("{}:{path}", commit.as_str()))?
            .is_some())
    }

    /// The changed paths made as `head` has them: untracked and ignored files among them
    /// deleted, tracked ones written back with their index entries, and directories left
    /// empty (their files deleted) removed, as a whole `clean -ffdx` removes them.
    fn put_back(&self, dir: &Path, head: &Oid, changed: &[String]) -> Result<()> {
        if changed.is_empty() {
            return Ok(());
        }
        self.clean_changed(dir, changed, true)?;
        self.restore_tracked(dir, head, changed)?;
        remove_emptied(dir, changed, None)?;
        Ok(())
    }

    /// The paths of `changed` that `head` tracks written back as it has them, with their index
    /// entries (whatever is in their way removed, as `checkout --force` does).
    fn restore_tracked(&self, dir: &Path, head: &Oid, changed: &[String]) -> Result<()> {
        let mut tracked = Vec::new();
        for path in changed {
            if self.tracks(head, path)? {
                tracked.push(path.as_str());
            }
        }
        if !tracked.is_empty() {
            GitCommand::new(dir, self.git.env())
                .env("GIT_LITERAL_PATHSPECS", "1")
                .args(["checkout", "-q", "--force"])
                .arg(head.as_str())
                .args(["--pathspec-from-file=-", "--pathspec-file-nul"])
                .stdin(nul_list(tracked.iter().copied()))
                .run()?;
        }
        Ok(())
    }

    /// `git clean -ffd` (`-ffdx` with `ignored`) of the changed paths: untracked files among
    /// them deleted (ignored ones too with `ignored`). The directories this leaves empty are
    /// for [`remove_emptied`], once nothing more is written.
    fn clean_changed(&self, dir: &Path, changed: &[String], ignored: bool) -> Result<()> {
        let flags = if ignored { "-ffdxq" } else { "-ffdq" };
        for chunk in changed.chunks(CLEAN_CHUNK) {
            GitCommand::new(dir, self.git.env())
                .env("GIT_LITERAL_PATHSPECS", "1")
                .args(["clean", flags, "--"])
                .args(chunk)
                .run()?;
        }
        Ok(())
    }

    /// Moves the clean worktree at `dir` from `from` to `to` (HEAD detached there) writing
    /// only what differs; false when a `.gitattributes` differs or a nested repository comes
    /// in (the whole reset handles those).
    fn move_to(&self, dir: &Path, from: &Oid, to: &Oid) -> Result<bool> {
        let changes = match from != to {
            true => Some(super::pool::tree_changes(dir, self.git.env(), from, to)?),
            false => None,
        };
        self.move_with(dir, from, to, changes.as_ref())
    }

    /// [`Worktrees::move_to`] with what differs already known (`None`: nothing).
    fn move_with(
        &self,
        dir: &Path,
        from: &Oid,
        to: &Oid,
        changes: Option<&super::pool::TreeChanges>,
    ) -> Result<bool> {
        if let Some(changes) = changes {
            if changes.attributes || changes.gitlinks {
                return Ok(false);
            }
            super::pool::move_tree(dir, self.git.env(), from, to, changes)?;
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

/// Whether every tracked file of the worktree at `dir` is as its index entry says, by stat
/// data (content compared only where the stat data cannot tell): `git diff-files`, which reads
/// every file's metadata and writes nothing.
fn tracked_files_match(dir: &Path, env: &[(String, String)]) -> Result<bool> {
    // Whatever the repository says: every field of the stat data compared, ctime included.
    let out = GitCommand::new(dir, env)
        .args(["-c", "core.checkStat=default", "-c", "core.trustctime=true"])
        .args(["diff-files", "--quiet"])
        .output()?;
    match out.code {
        Some(0) => Ok(true),
        Some(1) => Ok(false),
        _ => Err(out.into_error()),
    }
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
    // check-ignore reads its paths as pathspecs (a leading `:` is magic) and takes no
    // `GIT_LITERAL_PATHSPECS`: each is given as `./<path>`, which it reads as it is and
    // prints back so.
    let out = GitCommand::new(dir, env)
        .args(["check-ignore", "-z", "--stdin"])
        .stdin(nul_list(paths.iter().map(|p| format!("./{p}"))))
        .output()?;
    // 0: some are ignored; 1: none is.
    let ignored: std::collections::HashSet<&[u8]> = match out.code {
        Some(0) => out
            .stdout
            .split(|b| *b == 0)
            .filter_map(|p| p.strip_prefix(b"./"))
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
pub(super) fn nul_list<S: AsRef<str>>(paths: impl Iterator<Item = S>) -> Vec<u8> {
    let mut out = Vec::new();
    for path in paths {
        out.extend_from_slice(path.as_ref().as_bytes());
        out.push(0);
    }
    out
}

/// The directories among `changed` and their parents left with nothing in them, removed, as a
/// whole `clean` removes them (git tracks no directory: an empty one is in no fresh checkout).
/// With `keep_ignored` (the environment to ask git in), ignored ones are kept, as `clean`
/// without `-x` keeps them (a build's empty output directory, say).
fn remove_emptied(
    dir: &Path,
    changed: &[String],
    keep_ignored: Option<&[(String, String)]>,
) -> Result<()> {
    let mut dirs = BTreeSet::new();
    for path in changed {
        let mut at = path.as_str();
        dirs.insert(at);
        while let Some((parent, _)) = at.rsplit_once('/') {
            dirs.insert(parent);
            at = parent;
        }
    }
    // Real directories only, under real directories only: a path through a symbolic link
    // (a tracked link to a directory, say) would reach outside the worktree.
    let is_dir = |rel: &str| {
        std::fs::symlink_metadata(dir.join(rel)).is_ok_and(|meta| meta.file_type().is_dir())
    };
    let real: std::collections::HashSet<&str> =
        dirs.iter().copied().filter(|rel| is_dir(rel)).collect();
    let mut dirs: Vec<&str> = dirs
        .into_iter()
        .filter(|rel| {
            real.contains(rel)
                && !crate::tree_watch::under_any(rel, |parent| !real.contains(parent))
        })
        .collect();
    if let Some(env) = keep_ignored {
        dirs = not_ignored(dir, env, dirs)?;
    }
    // Deepest first, so that a parent emptied by its child's removal goes too.
    dirs.sort_by_key(|d| std::cmp::Reverse(d.matches('/').count()));
    for rel in dirs {
        // Fails (and is meant to) for a directory that holds anything.
        let _ = std::fs::remove_dir(dir.join(rel));
    }
    Ok(())
}
