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
//! it to its start with `git read-tree -m -u <slot's commit> <start>`: a two-tree merge that
//! writes only the paths that differ between the two commits (and the index), so the cost
//! follows the size of the change since the slot's commit, not the size of the repository.
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
        let staged = GitCommand::new(dir, env)
            .args(["ls-files", "-s", "-z"])
            .run()?;
        let mut gitlinks = false;
        for entry in staged.split('\0') {
            let Some((meta, rel)) = entry.split_once('\t') else {
                continue;
            };
            if !meta.starts_with("160000 ") {
                continue;
            }
            gitlinks = true;
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
        GitCommand::new(path, env)
            .args(["read-tree", "-m", "-u", from.as_str(), to.as_str()])
            .run()?;
        // A changed `.gitattributes` changes how files whose blob did not change are written
        // (line endings, filters, `ident`); the two-tree merge leaves those as they were, so
        // then every file is written again: without an index, `reset --hard` writes them all.
        let changes = tree_changes(path, env, from, to)?;
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

/// What a move between two commits changes beyond their files' contents.
pub(super) struct TreeChanges {
    /// A `.gitattributes` file differs: files whose blob did not change may have to be
    /// written differently.
    pub attributes: bool,
    /// A nested repository (gitlink) is in `to` where `from` had none.
    pub gitlinks: bool,
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
    };
    let mut fields = raw.split(|b| *b == 0);
    while let (Some(meta), Some(path)) = (fields.next(), fields.next()) {
        let new_mode = meta.split(|b| *b == b' ').nth(1);
        changes.gitlinks |= new_mode == Some(b"160000".as_slice());
        changes.attributes |= path == b".gitattributes" || path.ends_with(b"/.gitattributes");
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
