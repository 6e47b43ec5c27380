//! The pool of released worktrees: slots `root/.pool/<N>`, each a registered, detached worktree,
//! usable only when its readiness mark `root/.pool-ready/<N>` names the commit its HEAD is at.
//!
//! A slot's life: a task's worktree is *parked* (HEAD detached where it was, without touching
//! the index or the files, then `git worktree move`d into the pool: no file is written); it is
//! then *reset* outside the worktrees' lock (`git reset --hard`, `git clean -ffdx`, leftover
//! operation state removed), which is the only whole-tree work of the cycle and runs in the
//! released task's cleanup, never on a task's path (to the start of a checkout waiting for a
//! slot, if one is, rather than to its own commit); then it is *marked ready*. A new task
//! *takes* a ready slot (mark removed first, `git worktree move` to the task's path) and moves
//! it to its start ([`move_tree`]): `git restore` of only the paths that differ between the
//! two commits, or a two-tree `git read-tree -m -u <slot's commit> <start>` when that cannot do
//! it, so the files written follow the size of the change since the slot's commit, not the
//! size of the repository.
//!
//! Crash safety: the mark is written (atomically, by rename) only after a reset succeeded and
//! removed before anything else touches the slot, so a slot whose mark is missing or names
//! another commit was interrupted somewhere and is never handed out; `Worktrees::reconcile`
//! resets (or removes) such slots when nobody in this process is resetting them.

use std::fs;
use std::path::{Path, PathBuf};

use crate::cmd::GitCommand;
use crate::worktree_list::canonical;
use crate::{GitError, Oid, Result};

use super::Worktrees;

/// Name of the pool directory under the root.
const POOL_DIR: &str = ".pool";
/// Name of the directory of readiness marks under the root.
const READY_DIR: &str = ".pool-ready";

/// Operation state an agent may leave in a worktree's administrative directory (a rebase, a
/// cherry-pick, a bisection), which `git reset --hard` does not end. A slot handed to the next
/// task must not say it is in the middle of someone else's rebase.
pub(super) const OPERATION_STATE: &[&str] = &[
    "rebase-merge",
    "rebase-apply",
    "CHERRY_PICK_HEAD",
    "REVERT_HEAD",
    "sequencer",
    "BISECT_LOG",
    "BISECT_START",
    "BISECT_TERMS",
    "BISECT_NAMES",
    "BISECT_EXPECTED_REV",
    "BISECT_ANCESTORS_OK",
    "AUTO_MERGE",
];

/// A worktree's own sparse-checkout patterns and configuration (`git sparse-checkout` in a
/// task's worktree writes both): a slot keeps neither, or the next task would get a partial
/// tree.
pub(super) const SPARSE_PATTERNS: &str = "info/sparse-checkout";
pub(super) const WORKTREE_CONFIG: &str = "config.worktree";

/// A pool slot as git lists it.
#[derive(Debug, Clone)]
pub(super) struct Slot {
    pub path: PathBuf,
    /// Its number (the directory's name).
    pub number: u64,
    /// The commit its HEAD is at.
    pub head: Option<Oid>,
}

impl Worktrees {
    pub(super) fn pool_dir(&self) -> PathBuf {
        self.root.join(POOL_DIR)
    }

    fn ready_dir(&self) -> PathBuf {
        self.root.join(READY_DIR)
    }

    fn mark_of(&self, number: u64) -> PathBuf {
        self.ready_dir().join(number.to_string())
    }

    /// Registered, detached pool slots whose directory is there, lowest number first (ready
    /// or not).
    pub(super) fn slots(&self) -> Result<Vec<Slot>> {
        let pool = canonical(&self.pool_dir());
        let mut slots: Vec<Slot> = self
            .git
            .registered_worktrees()?
            .into_iter()
            .filter(|wt| !wt.prunable && wt.branch.is_none() && !wt.bare)
            .filter(|wt| canonical(&wt.path).parent() == Some(pool.as_path()))
            .filter_map(|wt| {
                let number = wt.path.file_name()?.to_str()?.parse().ok()?;
                Some(Slot {
                    path: wt.path,
                    number,
                    head: wt.head,
                })
            })
            .collect();
        slots.sort_by_key(|s| s.number);
        Ok(slots)
    }

    /// Whether the slot's mark names the commit it is at and was written since the machine
    /// last booted: it was reset there and nothing touched it since (files written before a
    /// power loss may not have reached the disk, whatever the mark says).
    pub(super) fn is_ready(&self, slot: &Slot) -> bool {
        let Some(head) = &slot.head else {
            return false;
        };
        let Ok(mark) = fs::read_to_string(self.mark_of(slot.number)) else {
            return false;
        };
        let mut lines = mark.lines();
        lines.next().map(str::trim) == Some(head.as_str())
            && lines.next().map(str::trim).unwrap_or("") == boot_id().unwrap_or_default()
    }

    /// The first ready slot, if any.
    pub(super) fn ready_slot(&self) -> Result<Option<Slot>> {
        Ok(self.slots()?.into_iter().find(|s| self.is_ready(s)))
    }

    /// Forgets that slot `number` is ready (before anything touches it).
    pub(super) fn unmark(&self, number: u64) -> Result<()> {
        let mark = self.mark_of(number);
        match fs::remove_file(&mark) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(GitError::io("remove", &mark, e)),
        }
    }

    /// Records that the slot at `path` (number `number`) is a clean checkout of `head`.
    pub(super) fn mark_ready(&self, number: u64, head: &Oid) -> Result<()> {
        let dir = self.ready_dir();
        fs::create_dir_all(&dir).map_err(|e| GitError::io("create", &dir, e))?;
        let mark = self.mark_of(number);
        let tmp = dir.join(format!(".{number}.tmp"));
        let boot = boot_id().unwrap_or_default();
        fs::write(&tmp, format!("{}\n{boot}\n", head.as_str()))
            .map_err(|e| GitError::io("write", &tmp, e))?;
        fs::rename(&tmp, &mark).map_err(|e| GitError::io("rename", &tmp, e))
    }

    /// Removes every readiness mark (with the pool).
    pub(super) fn remove_marks(&self) -> Result<()> {
        let dir = self.ready_dir();
        if dir.symlink_metadata().is_ok() {
            super::remove_path(&dir)?;
        }
        Ok(())
    }

    /// Moves the task worktree at `path` into a free pool slot without touching its files or
    /// index: HEAD is detached at the commit it is on, then the directory is moved. Returns
    /// the slot (not ready: it must be [reset](Worktrees::reset_slot) first).
    pub(super) fn park(&self, path: &Path) -> Result<Slot> {
        let env = self.git.env();
        let head = self.git.head_of(path)?;
        GitCommand::new(path, env)
            .args(["update-ref", "--no-deref", "-m", "gaffer: released", "HEAD"])
            .arg(head.as_str())
            .run()?;
        let pool = self.pool_dir();
        fs::create_dir_all(&pool).map_err(|e| GitError::io("create", &pool, e))?;
        let number = (0..)
            .find(|n: &u64| pool.join(n.to_string()).symlink_metadata().is_err())
            .unwrap_or(0);
        self.unmark(number)?;
        let slot = pool.join(number.to_string());
        self.git
            .cmd()
            .args(["worktree", "move"])
            .arg(path)
            .arg(&slot)
            .run()?;
        self.watch.moved_to(&slot);
        Ok(Slot {
            path: slot,
            number,
            head: Some(head),
        })
    }

    /// Makes the slot an exact, clean checkout of `to` (the commit it is at when `None`), and
    /// marks it ready: the index and every tracked file as the commit has them
    /// (`git reset --hard`), nothing untracked or ignored left (`git clean -ffdx`, nested
    /// repositories included), no operation in progress. Whole-tree work: run it where no task
    /// waits for it. Resetting straight to the start of a checkout waiting for a slot costs
    /// the same pass, and spares that task moving the slot on its own path.
    pub(super) fn reset_slot(&self, slot: &Slot, to: Option<&Oid>) -> Result<()> {
        let env = self.git.env();
        let dir = &slot.path;
        // A process the task left running there (a build, a server) could write into the
        // slot after its reset, and so into the next task's worktree: such a slot is not kept.
        if let Some(pid) = process_in(dir) {
            return Err(GitError::PathInUse {
                path: dir.clone(),
                reason: format!("process {pid} is still running in it"),
            });
        }
        let at = match &slot.head {
            Some(head) => head.clone(),
            None => self.git.head_of(dir)?,
        };
        // What the task changed, when the watch knows it, is all there is to put back. The
        // watch starts over before the mark: once marked, the slot is someone else's.
        if self.reset_narrow(dir, &at, to.unwrap_or(&at)) {
            let head = to.unwrap_or(&at);
            self.watch.clean_at(dir, head, None);
            return self.mark_ready(slot.number, head);
        }
        let admin = GitCommand::new(dir, env)
            .args(["rev-parse", "--absolute-git-dir"])
            .run()?;
        let admin = PathBuf::from(admin.trim());
        for name in [SPARSE_PATTERNS, WORKTREE_CONFIG] {
            let file = admin.join(name);
            if file.symlink_metadata().is_ok() {
                super::remove_path(&file)?;
            }
        }
        // `skip-worktree` and `assume-unchanged` entries survive `reset --hard` (and the files
        // behind them are not rewritten): such an index is dropped and rebuilt from HEAD;
        // files it tracked that HEAD does not are then untracked, and cleaned below.
        let flagged = any_flagged(&GitCommand::new(dir, env).args(["ls-files", "-v"]).run()?);
        let to = to.filter(|to| **to != at);
        // Moving to another commit whose `.gitattributes` differ must write every file again
        // (see `advance`): without an index, `reset --hard` does.
        let rewrite_all = match to {
            Some(to) => tree_changes(dir, env, &at, to)?.attributes,
            None => false,
        };
        if flagged || rewrite_all {
            let index = admin.join("index");
            if index.symlink_metadata().is_ok() {
                super::remove_path(&index)?;
            }
        }
        GitCommand::new(dir, env)
            .args(["reset", "-q", "--hard", to.map_or("HEAD", Oid::as_str)])
            .run()?;
        GitCommand::new(dir, env).args(["clean", "-ffdxq"]).run()?;
        // A submodule's directory (a gitlink) is left alone by both: emptied, as a fresh
        // checkout has it.
        let linked = gitlinks_of_index(dir, env)?;
        let gitlinks = !linked.is_empty();
        for rel in &linked {
            let sub = dir.join(rel);
            if sub.symlink_metadata().is_ok() {
                super::remove_path(&sub)?;
                fs::create_dir(&sub).map_err(|e| GitError::io("create", &sub, e))?;
            }
        }
        for name in OPERATION_STATE {
            let state = admin.join(name);
            if state.symlink_metadata().is_ok() {
                super::remove_path(&state)?;
            }
        }
        let head = self.git.head_of(dir)?;
        self.watch.clean_at(dir, &head, Some(gitlinks));
        self.mark_ready(slot.number, &head)
    }

    /// Moves a slot just taken out of the pool (now at `path`, clean, at `from`) to `to`:
    /// only the paths that differ between the two commits are written.
    pub(super) fn advance(&self, path: &Path, from: &Oid, to: &Oid) -> Result<()> {
        if from == to {
            self.watch.clean_at(path, to, None);
            return Ok(());
        }
        let env = self.git.env();
        let changes = tree_changes(path, env, from, to)?;
        move_tree(path, env, from, to, &changes)?;
        // A changed `.gitattributes` changes how files whose blob did not change are written
        // (line endings, filters, `ident`); the move leaves those as they were, so then every
        // file is written again: without an index, `reset --hard` writes them all.
        self.watch
            .clean_at(path, to, changes.gitlinks.then_some(true));
        if changes.attributes {
            // The whole tree is written again below: followed from scratch afterwards.
            self.watch.forget(path);
            let index = GitCommand::new(path, env)
                .args(["rev-parse", "--path-format=absolute", "--git-path", "index"])
                .run()?;
            let index = PathBuf::from(index.trim());
            if index.symlink_metadata().is_ok() {
                super::remove_path(&index)?;
            }
            GitCommand::new(path, env)
                .args(["reset", "-q", "--hard", to.as_str()])
                .run()?;
            self.watch.clean_at(path, to, None);
        }
        Ok(())
    }
}

/// The paths of the nested repositories (gitlinks) the index of the worktree at `dir` holds.
pub(super) fn gitlinks_of_index(dir: &Path, env: &[(String, String)]) -> Result<Vec<String>> {
    let staged = GitCommand::new(dir, env)
        .args(["ls-files", "-s", "-z"])
        .run()?;
    Ok(staged
        .split('\0')
        .filter_map(|entry| entry.split_once('\t'))
        .filter(|(meta, _)| meta.starts_with("160000 "))
        .map(|(_, rel)| rel.to_owned())
        .collect())
}

/// What a move between two commits changes.
pub(super) struct TreeChanges {
    /// A `.gitattributes` file differs: files whose blob did not change may have to be
    /// written differently.
    pub attributes: bool,
    /// A nested repository (gitlink) is in `to` where `from` had none.
    pub gitlinks: bool,
    /// A `.gitignore` file differs: which untracked files a `clean` keeps may differ anywhere.
    pub ignores: bool,
    /// The paths that differ, as `diff-tree -r` lists them.
    pub paths: Vec<String>,
    /// Only the two-tree merge makes this move: a nested repository is among the paths (in
    /// either commit), or a name that is not UTF-8.
    merge_only: bool,
}

/// The most paths [`move_tree`] gives `git restore`: git matches every index entry against
/// each of them, which beyond this costs more than the two-tree `read-tree` it saves.
const RESTORE_MAX_PATHS: usize = 256;

impl TreeChanges {
    /// Whether `git restore` of only these paths makes the move exactly as the two-tree
    /// `read-tree -m -u` would: not when a path turns from a file into a directory or back
    /// (one changed path under another: `restore` refuses one way, and the other is not worth
    /// telling apart), nested repositories, changed attributes, or too many paths; nor when two
    /// paths could be one file on a file system that folds case or normalizes Unicode (macOS's
    /// by default): `restore` writes and deletes in one pass in index order, so a rename from
    /// `a` to `A` would write `A` and then delete it as `a` (`read-tree` deletes first). Any
    /// name outside ASCII goes the two-tree way for that reason.
    fn restorable(&self) -> bool {
        if self.attributes
            || self.merge_only
            || self.paths.is_empty()
            || self.paths.len() > RESTORE_MAX_PATHS
            || !self.paths.iter().all(|path| path.is_ascii())
        {
            return false;
        }
        let folded: std::collections::HashSet<String> = self
            .paths
            .iter()
            .map(|path| path.to_ascii_lowercase())
            .collect();
        if folded.len() != self.paths.len() {
            return false;
        }
        let paths: std::collections::HashSet<&str> =
            self.paths.iter().map(String::as_str).collect();
        !self
            .paths
            .iter()
            .any(|path| crate::tree_watch::under_any(path, |dir| paths.contains(dir)))
    }
}

/// Moves the clean worktree at `dir` (index and files exactly at `from`) to `to`, as
/// `git read-tree -m -u <from> <to>` does, HEAD aside: only the paths that differ are written
/// and the index is updated for them. That two-tree merge reads both trees whole (about 30 ms
/// of processor at 20,000 files for a one-file change), so when it can, `git restore` of the
/// changed paths does it instead (it reads only the trees along those paths). A `restore`
/// that fails is an error, never finished by the two-tree merge: it may have written the index
/// for a file it could not write, and the merge would then keep that entry and say nothing
/// (the callers make the whole tree right instead). True when `restore` did it.
pub(super) fn move_tree(
    dir: &Path,
    env: &[(String, String)],
    from: &Oid,
    to: &Oid,
    changes: &TreeChanges,
) -> Result<bool> {
    if changes.restorable() {
        let restored = GitCommand::new(dir, env)
            .env("GIT_LITERAL_PATHSPECS", "1")
            .args([
                "restore",
                "--quiet",
                "--staged",
                "--worktree",
                "--no-overlay",
            ])
            .arg(format!("--source={to}"))
            .args(["--pathspec-from-file=-", "--pathspec-file-nul"])
            .stdin(super::narrow::nul_list(changes.paths.iter()))
            .output()?;
        return match restored.code {
            Some(0) => Ok(true),
            _ => Err(restored.into_error()),
        };
    }
    GitCommand::new(dir, env)
        .args(["read-tree", "-m", "-u", from.as_str(), to.as_str()])
        .run()?;
    Ok(false)
}

/// What differs between the commits `from` and `to` beyond their files' contents.
pub(super) fn tree_changes(
    dir: &Path,
    env: &[(String, String)],
    from: &Oid,
    to: &Oid,
) -> Result<TreeChanges> {
    let raw = GitCommand::new(dir, env)
        .args([
            "diff-tree",
            "-r",
            "-z",
            "--raw",
            "--no-renames",
            "--no-commit-id",
        ])
        .args([from.as_str(), to.as_str()])
        .run_bytes()?;
    // `:<old mode> <new mode> <old> <new> <status>` NUL `<path>` NUL, per path.
    let mut changes = TreeChanges {
        attributes: false,
        gitlinks: false,
        ignores: false,
        paths: Vec::new(),
        merge_only: false,
    };
    let mut fields = raw.split(|b| *b == 0);
    while let (Some(meta), Some(path)) = (fields.next(), fields.next()) {
        let mut modes = meta.split(|b| *b == b' ');
        let old_mode = modes.next().map(|m| m.strip_prefix(b":").unwrap_or(m));
        let new_mode = modes.next();
        let gitlink = Some(b"160000".as_slice());
        changes.gitlinks |= new_mode == gitlink;
        changes.merge_only |= new_mode == gitlink || old_mode == gitlink;
        changes.attributes |= path == b".gitattributes" || path.ends_with(b"/.gitattributes");
        changes.ignores |= path == b".gitignore" || path.ends_with(b"/.gitignore");
        match std::str::from_utf8(path) {
            Ok(path) => changes.paths.push(path.to_owned()),
            Err(_) => changes.merge_only = true,
        }
    }
    Ok(changes)
}

/// Whether `git ls-files -v` lists an entry flagged `skip-worktree` (`S`) or
/// `assume-unchanged` (a lower-case tag).
pub(super) fn any_flagged(listed: &str) -> bool {
    listed.lines().any(|line| {
        line.chars()
            .next()
            .is_some_and(|tag| tag == 'S' || tag.is_ascii_lowercase())
    })
}

/// A process (other than this one) whose working directory or root is under `dir`, if any.
/// Best effort, from `/proc`: always `None` where there is none.
fn process_in(dir: &Path) -> Option<u32> {
    let dir = canonical(dir);
    let entries = fs::read_dir("/proc").ok()?;
    let me = std::process::id();
    for entry in entries.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        if pid == me {
            continue;
        }
        for link in ["cwd", "root"] {
            if let Ok(target) = fs::read_link(entry.path().join(link))
                && target.starts_with(&dir)
            {
                return Some(pid);
            }
        }
    }
    None
}

/// This boot of the machine (Linux), to tell marks written before a restart.
fn boot_id() -> Option<String> {
    let id = fs::read_to_string("/proc/sys/kernel/random/boot_id").ok()?;
    Some(id.trim().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use gaffer_test_support::TestRepo;
    use std::os::unix::fs::{PermissionsExt, symlink};

    /// Every path under `dir` but `.git`, with what it is: `dir`, `-> target`, or the file's
    /// mode and contents.
    fn listing(dir: &Path) -> Vec<String> {
        let mut out = Vec::new();
        let mut stack = vec![dir.to_path_buf()];
        while let Some(at) = stack.pop() {
            for entry in fs::read_dir(&at).unwrap() {
                let path = entry.unwrap().path();
                let rel = path.strip_prefix(dir).unwrap().display().to_string();
                if rel == ".git" {
                    continue;
                }
                let meta = fs::symlink_metadata(&path).unwrap();
                if meta.file_type().is_symlink() {
                    out.push(format!(
                        "{rel} -> {}",
                        fs::read_link(&path).unwrap().display()
                    ));
                } else if meta.is_dir() {
                    out.push(format!("{rel}/"));
                    stack.push(path);
                } else {
                    let mode = meta.permissions().mode() & 0o111;
                    out.push(format!(
                        "{rel} {mode:o} {}",
                        fs::read_to_string(&path).unwrap()
                    ));
                }
            }
        }
        out.sort();
        out
    }

    fn commit(repo: &TestRepo, what: impl FnOnce(&Path)) -> Oid {
        what(repo.path());
        repo.git(&["add", "-A"]);
        repo.git(&["commit", "-q", "-m", "step"]);
        repo.head().parse().unwrap()
    }

    /// Moves a worktree at `from` to `to` and checks it is what a fresh checkout of `to` is:
    /// the same files, modes and links, no directory left empty, the index at `to` and in
    /// step with the files.
    fn moved_is_fresh(repo: &TestRepo, from: &Oid, to: &Oid, restorable: bool) {
        let env = repo.env();
        static MOVES: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = MOVES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let moved = repo.scratch(&format!("moved-{n}"));
        let fresh = repo.scratch(&format!("fresh-{n}"));
        for (dir, at) in [(&moved, from), (&fresh, to)] {
            let dir = dir.to_str().unwrap();
            repo.git(&["worktree", "add", "-q", "--detach", dir, at.as_str()]);
        }
        let changes = tree_changes(&moved, &env, from, to).unwrap();
        assert_eq!(changes.restorable(), restorable, "{:?}", changes.paths);
        assert_eq!(
            move_tree(&moved, &env, from, to, &changes).unwrap(),
            restorable,
            "restored"
        );
        repo.git_in(&moved, &["update-ref", "--no-deref", "HEAD", to.as_str()]);
        assert_eq!(listing(&moved), listing(&fresh));
        assert_eq!(
            repo.git_in(&moved, &["status", "--porcelain", "--ignored", "-uall"]),
            ""
        );
        assert_eq!(
            repo.git_in(&moved, &["ls-files", "--stage"]),
            repo.git_in(&fresh, &["ls-files", "--stage"])
        );
        // The stat data of what was written is in the index: nothing to refresh.
        repo.git_in(&moved, &["diff-files", "--quiet"]);
    }

    #[test]
    fn a_move_by_the_changed_paths_equals_a_fresh_checkout() {
        let repo = TestRepo::new();
        let base = commit(&repo, |root| {
            fs::create_dir_all(root.join("d/e")).unwrap();
            fs::write(root.join("d/e/f"), "f\n").unwrap();
            fs::write(root.join("a"), "a\n").unwrap();
            fs::write(root.join("x"), "x\n").unwrap();
            fs::write(root.join(":magic"), "m\n").unwrap();
            fs::write(root.join("-dash"), "d\n").unwrap();
            symlink("a", root.join("link")).unwrap();
        });
        // Edits, a new nested directory, a deletion that empties two directories, an
        // executable bit, a link turned into a file, names git could read as options or magic.
        let edited = commit(&repo, |root| {
            fs::write(root.join("a"), "a2\n").unwrap();
            fs::create_dir_all(root.join("new/deep")).unwrap();
            fs::write(root.join("new/deep/n"), "n\n").unwrap();
            fs::remove_dir_all(root.join("d")).unwrap();
            fs::set_permissions(root.join("x"), fs::Permissions::from_mode(0o755)).unwrap();
            fs::remove_file(root.join("link")).unwrap();
            fs::write(root.join("link"), "now a file\n").unwrap();
            fs::write(root.join(":magic"), "m2\n").unwrap();
            fs::remove_file(root.join("-dash")).unwrap();
        });
        moved_is_fresh(&repo, &base, &edited, true);
        moved_is_fresh(&repo, &edited, &base, true);
        // A file turned into a directory and back: the two-tree merge does those.
        let file_to_dir = commit(&repo, |root| {
            fs::remove_file(root.join("a")).unwrap();
            fs::create_dir(root.join("a")).unwrap();
            fs::write(root.join("a/inner"), "i\n").unwrap();
        });
        moved_is_fresh(&repo, &edited, &file_to_dir, false);
        moved_is_fresh(&repo, &file_to_dir, &edited, false);
        // Nothing in common but the root: still exact.
        moved_is_fresh(&repo, &base, &file_to_dir, false);
    }

    #[test]
    fn too_many_paths_or_a_nested_repository_go_through_the_two_tree_merge() {
        let repo = TestRepo::new();
        let base: Oid = repo.head().parse().unwrap();
        let many = commit(&repo, |root| {
            for i in 0..=RESTORE_MAX_PATHS {
                fs::write(root.join(format!("f{i}")), "x\n").unwrap();
            }
        });
        moved_is_fresh(&repo, &base, &many, false);
        repo.git(&[
            "update-index",
            "--add",
            "--cacheinfo",
            "160000,1111111111111111111111111111111111111111,sub",
        ]);
        repo.git(&["commit", "-q", "-m", "a gitlink"]);
        let gitlink: Oid = repo.head().parse().unwrap();
        let changes = tree_changes(repo.path(), &repo.env(), &many, &gitlink).unwrap();
        assert!(!changes.restorable());
        let changes = tree_changes(repo.path(), &repo.env(), &gitlink, &many).unwrap();
        assert!(!changes.restorable(), "a gitlink removed too");
    }

    /// A restore that fails on one file has already written the index (every listed path at
    /// `to`); a two-tree merge after it would keep those entries and succeed without writing
    /// the file. The move fails instead (found by review).
    #[test]
    fn a_restore_failing_on_one_file_fails_the_move() {
        let repo = TestRepo::new();
        let base = commit(&repo, |root| {
            fs::write(root.join("a"), "a\n").unwrap();
            fs::write(root.join("s"), "s\n").unwrap();
        });
        fs::write(repo.path().join("a"), "a2\n").unwrap();
        repo.git(&["add", "a"]);
        // A symbolic link whose target is longer than the kernel takes (PATH_MAX): writing it
        // fails (any per-file failure does: no space left, a permission, an I/O error).
        fs::write(repo.path().join("target"), "x".repeat(5000)).unwrap();
        let blob = repo.git(&["hash-object", "-w", "target"]);
        fs::remove_file(repo.path().join("target")).unwrap();
        repo.git(&[
            "update-index",
            "--cacheinfo",
            &format!("120000,{},s", blob.trim()),
        ]);
        repo.git(&["commit", "-q", "-m", "unwritable"]);
        let to: Oid = repo.head().parse().unwrap();
        let env = repo.env();
        let moved = repo.scratch("moved");
        repo.git(&[
            "worktree",
            "add",
            "-q",
            "--detach",
            moved.to_str().unwrap(),
            base.as_str(),
        ]);
        let changes = tree_changes(&moved, &env, &base, &to).unwrap();
        assert!(changes.restorable());
        let result = move_tree(&moved, &env, &base, &to, &changes);
        assert!(result.is_err(), "{result:?}");
    }

    #[test]
    fn names_that_may_be_one_file_on_another_file_system_go_through_the_two_tree_merge() {
        let repo = TestRepo::new();
        let base = commit(&repo, |root| fs::write(root.join("a"), "a\n").unwrap());
        let renamed = commit(&repo, |root| {
            fs::remove_file(root.join("a")).unwrap();
            fs::write(root.join("A"), "a\n").unwrap();
        });
        moved_is_fresh(&repo, &base, &renamed, false);
        let accented = commit(&repo, |root| {
            fs::write(root.join("caf\u{e9}"), "c\n").unwrap()
        });
        moved_is_fresh(&repo, &renamed, &accented, false);
    }
}
