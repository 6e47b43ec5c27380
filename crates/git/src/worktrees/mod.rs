//! [`Worktrees`]: one git worktree per task under gaffer's state directory, optionally reused
//! from a pool of clean, detached worktrees (see `pool.rs` for a slot's life).
//!
//! Layout: `root/<name>` for a task's worktree, `root/.pool/<N>` for pool slots,
//! `root/.pool-ready/<N>` for the marks of slots ready for reuse, `root/.trash/` for worktrees
//! being deleted. Task names never start with a dot, so they cannot collide with these.
//!
//! What a task pays for its worktree: taking a ready slot is a `git worktree move` and a move
//! writing only the paths that changed since the slot's commit (`pool::move_tree`); releasing one
//! is a detached HEAD and a `git worktree move` under the lock, then the slot's reset (the one
//! whole-tree pass) outside it, in the released task's cleanup. A worktree the pool has no room
//! for is renamed into the trash under the lock and deleted outside it. Only when the pool has no
//! ready slot, none is being reset and none came back within half the last fresh checkout's
//! time does a task wait for a fresh one, which it stops and gives up if a slot is released
//! before it ends.
//!
//! Every operation is written to be re-run after a crash at any point: the state on disk and
//! in git's worktree list is inspected rather than remembered.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use crate::cmd::not_an_option;
use crate::worktree_list::canonical;
use crate::{CasOutcome, Git, GitError, Oid, Result, TreeWatch, WorktreeInfo};

mod narrow;
mod pool;

use pool::Slot;

/// Name of the directory of worktrees being deleted, under the root.
const TRASH_DIR: &str = ".trash";

/// How long a checkout waits for a slot being reset before making a fresh worktree instead.
const WAIT_FOR_RESET: Duration = Duration::from_secs(60);

/// How often a fresh checkout in progress looks whether it has ended, or a slot became ready.
const FILL_POLL: Duration = Duration::from_millis(20);

/// What the lock guards besides git's own files: work this process does outside the lock.
#[derive(Debug, Default)]
struct Busy {
    /// Pool slots being reset now (not ready, but not abandoned either).
    resetting: usize,
    /// Worktrees in the trash being deleted now.
    deleting: usize,
    /// New pool slots being filled (a fresh checkout) for the checkout that made them: not
    /// to be taken, reset or removed by anyone else.
    filling: Vec<u64>,
    /// Warmings of the pool under way or announced (`Worktrees::warm`): a checkout that finds
    /// no slot ready waits for them rather than writing a whole tree of its own, as long as
    /// they still mean to make at least as many slots as there are checkouts waiting.
    warming: usize,
    /// The slots the warmings still mean to make.
    warm_left: usize,
    /// Of `filling`, the slots a warming fills: they stay in the pool, so they count against
    /// its size.
    warm_filling: usize,
    /// Set to stop the warmings (the pool drained, the engine stopping): a fill under way is
    /// stopped and its worktree thrown away.
    warm_stop: bool,
    /// The starts of the checkouts looking for a ready slot, longest waiting first: a released
    /// slot is reset straight to the first (one pass, in the release) rather than to its own
    /// commit and then moved to the start on the task's path.
    wanted: Vec<Oid>,
}

/// Manages task worktrees under `root`.
#[derive(Debug)]
pub struct Worktrees {
    git: Git,
    root: PathBuf,
    pool_size: usize,
    /// Held for the whole of each public operation except the whole-tree work of a release
    /// (a slot's reset, a deletion), which is counted in [`Busy`]. Besides keeping the pool
    /// consistent (two threads never take the same slot or overfill it), this keeps our own
    /// git commands from reading a worktree's administrative files while another thread is
    /// writing them.
    lock: Mutex<Busy>,
    /// Signalled when a slot's reset, a new slot's filling or a deletion ends.
    settled: Condvar,
    counts: Counts,
    /// What changed in each worktree since it was last clean (`narrow.rs`).
    watch: TreeWatch,
    /// Whether every process that writes in these worktrees is refused hard links
    /// ([`Worktrees::set_links_refused`]).
    links_refused: AtomicBool,
}

#[derive(Debug, Default)]
struct Counts {
    made: AtomicU64,
    reused: AtomicU64,
    given_up: AtomicU64,
    advanced: AtomicU64,
    /// How long the last fresh checkout that ran to its end took, in milliseconds.
    last_fill_ms: AtomicU64,
}

/// What [`Worktrees::take_from_pool`] did.
enum Take {
    /// A slot was moved to the path; it is at `head`; `reuse` says whether the branch exists.
    Slot { head: Oid, reuse: bool },
    /// Nothing usable: make a fresh worktree.
    Nothing,
    /// The same checkout was made meanwhile by another thread.
    Exists,
}

/// What [`Worktrees::fill_new_slot`] did.
enum Filled<'a> {
    /// A new slot, filled: a clean checkout of the start, for the caller alone.
    Slot(MutexGuard<'a, Busy>, Slot),
    /// A slot became ready while the new one filled: the fill was stopped and its worktree is
    /// in the trash (at the path given, counted in [`Busy::deleting`]); the lock was held since
    /// the ready slot was seen.
    GaveWay(MutexGuard<'a, Busy>, PathBuf),
}

/// What [`Worktrees::recheck`] found.
enum Recheck {
    /// The path is free; whether the branch exists (at the start, checked out nowhere).
    Free(bool),
    /// The path is a worktree on the branch now.
    Exists,
}

/// How the worktrees handed out so far were made.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CheckoutCounts {
    /// Full checkouts (every file written).
    pub fresh: u64,
    /// Pool slots moved to their start (only what differs written).
    pub reused: u64,
    /// Full checkouts stopped part-way because a pool slot became ready meanwhile (the task
    /// got that slot: counted in `reused`).
    pub given_up: u64,
    /// Pool slots taken at another commit than the task's start, and moved to it on the
    /// task's path (`pool::move_tree`); the others were reset to it when they were released.
    pub advanced: u64,
}

impl Worktrees {
    /// Worktrees of `git`'s repository under `root` (made absolute), keeping up to
    /// `pool_size` released worktrees for reuse (0 disables the pool).
    pub fn new(git: Git, root: PathBuf, pool_size: usize) -> Worktrees {
        let root = std::path::absolute(&root).unwrap_or(root);
        Worktrees {
            git,
            root,
            pool_size,
            lock: Mutex::new(Busy::default()),
            settled: Condvar::new(),
            counts: Counts::default(),
            watch: TreeWatch::new(),
            links_refused: AtomicBool::new(false),
        }
    }

    /// Says whether every process that writes in these worktrees (an agent, verify, setup) is
    /// refused hard links, as gaffer's sandbox refuses them. Then a file of a worktree can only
    /// be written through a name inside it, which the watch sees, and the passes that look at
    /// every tracked file only to catch a write through a second name are skipped: the check
    /// of a released slot's files after its narrow reset, and the forced checkout of every
    /// tracked file of a merge candidate (see `narrow.rs`). False (the default) keeps them.
    pub fn set_links_refused(&self, refused: bool) {
        self.links_refused.store(refused, Ordering::Relaxed);
    }

    /// What [`Worktrees::set_links_refused`] said last (false before).
    pub fn links_refused(&self) -> bool {
        self.links_refused.load(Ordering::Relaxed)
    }

    /// The same, without following what changes in the worktrees: every operation looks at
    /// every file (what the watch is measured and tested against).
    pub fn without_watch(mut self) -> Worktrees {
        self.watch = TreeWatch::disabled();
        self
    }

    /// How the worktrees handed out since this was made came about.
    pub fn checkout_counts(&self) -> CheckoutCounts {
        CheckoutCounts {
            fresh: self.counts.made.load(Ordering::Relaxed),
            reused: self.counts.reused.load(Ordering::Relaxed),
            given_up: self.counts.given_up.load(Ordering::Relaxed),
            advanced: self.counts.advanced.load(Ordering::Relaxed),
        }
    }

    /// How long a checkout that finds no slot ready waits for one before it starts a fresh
    /// checkout: half the last fresh checkout's time (none before the first).
    fn fill_grace(&self) -> Duration {
        Duration::from_millis(self.counts.last_fill_ms.load(Ordering::Relaxed) / 2)
    }

    /// The directory holding the task worktrees.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where the worktree called `name` lives (whether or not it exists).
    pub fn path_of(&self, name: &str) -> PathBuf {
        self.root.join(name)
    }

    /// Creates a worktree at `root/<name>` with a new branch `branch` starting at `start`,
    /// taking a ready slot from the pool when there is one (moved to `start` by writing only
    /// what differs), and returns its path. The worktree is an exact checkout of `start`:
    /// nothing of a slot's previous task is left, not even ignored files.
    ///
    /// Re-running after a crash is safe: if `root/<name>` is already a worktree on `branch`,
    /// it is returned unchanged (work in it is kept); a half-made one is completed or redone.
    /// If `branch` already exists at `start` and is checked out nowhere (a crash right after
    /// git created it), it is used. Fails with [`GitError::BranchExists`] if the branch is
    /// checked out elsewhere or points at another commit, and with [`GitError::PathInUse`]
    /// if `root/<name>` is a worktree on another branch.
    pub fn checkout(&self, name: &str, branch: &str, start: &Oid) -> Result<PathBuf> {
        validate_name(name)?;
        not_an_option("branch name", branch)?;
        let path = self.path_of(name);
        // The common case (the task's worktree exists, on its branch) needs no lock: nothing
        // else moves a task's own worktree, and waiting here behind another task's checkout
        // is what made every job slow.
        if let Some(wt) = self.git.worktree_at(&path)?
            && wt.branch.as_deref() == Some(branch)
        {
            return Ok(path);
        }
        let guard = self.guard();
        let existing = self.git.worktree_at(&path)?;
        if let Some(wt) = &existing
            && wt.branch.as_deref() == Some(branch)
        {
            return Ok(path);
        }

        let reuse_branch = self.check_branch_is_free(branch, start)?;
        match existing {
            Some(WorktreeInfo {
                branch: Some(other),
                ..
            }) => {
                return Err(GitError::PathInUse {
                    path,
                    reason: format!("it is a worktree on branch {other}"),
                });
            }
            Some(_) => {
                // Detached: a pool slot moved here by a checkout that then crashed, somewhere
                // between the move and the branch. Nothing about its files is known: the
                // whole tree is made right.
                self.force_onto(&path, start)?;
                self.put_on_branch(&path, branch, start, reuse_branch)?;
                return Ok(path);
            }
            None if path.symlink_metadata().is_ok() => {
                // Not a worktree git knows: the remains of an interrupted creation.
                tracing::warn!(path = %path.display(), "removing stray directory");
                remove_path(&path)?;
                self.git.cmd().args(["worktree", "prune"]).run()?;
            }
            None => {}
        }

        fs::create_dir_all(&self.root).map_err(|e| GitError::io("create", &self.root, e))?;
        let mut given_up = Vec::new();
        let made = self.take_or_fill(guard, &path, branch, start, &mut given_up);
        // A fresh checkout that gave way to a slot left its half-written worktree in the
        // trash: deleted now, with the lock let go.
        for trash in given_up {
            self.delete_trash(&trash);
        }
        made
    }

    /// The rest of [`Worktrees::checkout`] once `path` is known to be free: a ready slot moved
    /// there, else a fresh checkout, which gives way to a slot that becomes ready while it is
    /// being written (its worktree goes into `given_up`, in the trash, to be deleted once the
    /// lock is let go).
    fn take_or_fill<'a>(
        &'a self,
        mut guard: MutexGuard<'a, Busy>,
        path: &Path,
        branch: &str,
        start: &Oid,
        given_up: &mut Vec<PathBuf>,
    ) -> Result<PathBuf> {
        loop {
            let (held, taken) = self.take_from_pool(guard, path, branch, start)?;
            match taken {
                Take::Exists => return Ok(path.to_owned()),
                Take::Slot { head, reuse } => {
                    if head != *start {
                        self.counts.advanced.fetch_add(1, Ordering::Relaxed);
                    }
                    if let Err(e) = self.advance(path, &head, start) {
                        // The slot was not as clean as its mark said: make the whole tree
                        // right.
                        tracing::warn!(path = %path.display(), error = %e, "pool slot did not move cleanly; checking out in full");
                        self.force_onto(path, start)?;
                    }
                    self.put_on_branch(path, branch, start, reuse)?;
                    self.counts.reused.fetch_add(1, Ordering::Relaxed);
                    drop(held);
                    return Ok(path.to_owned());
                }
                Take::Nothing => {}
            }
            let (held, slot) = match self.fill_new_slot(held, start, true)? {
                Filled::Slot(held, slot) => (held, slot),
                Filled::GaveWay(held, trash) => {
                    given_up.push(trash);
                    // The lock was let go while the slot filled: the path and the branch are
                    // checked again before the ready slot is taken.
                    if let Recheck::Exists = self.recheck(path, branch, start)? {
                        return Ok(path.to_owned());
                    }
                    guard = held;
                    continue;
                }
            };
            // The lock was let go while the slot filled: another checkout of this path may
            // have made it meanwhile, or the branch moved. The slot (a clean checkout of
            // `start`) goes back to the pool then.
            let reuse_branch = match self.recheck(path, branch, start) {
                Ok(Recheck::Free(reuse)) => reuse,
                other => {
                    self.mark_ready(slot.number, start)?;
                    return match other? {
                        Recheck::Exists => Ok(path.to_owned()),
                        Recheck::Free(_) => unreachable!(),
                    };
                }
            };
            let moved = self
                .git
                .cmd()
                .args(["worktree", "move"])
                .arg(&slot.path)
                .arg(path)
                .run();
            if let Err(e) = moved {
                self.remove_worktree(&slot.path)?;
                return Err(e);
            }
            self.watch.moved_to(path);
            remove_if_empty(&self.pool_dir());
            self.put_on_branch(path, branch, start, reuse_branch)?;
            drop(held);
            return Ok(path.to_owned());
        }
    }

    /// A new pool slot, a full checkout of `start`, for the caller alone: registered under the
    /// lock without a single file (`git worktree add --no-checkout`), then filled
    /// (`git reset --hard`, every file written) with the lock released, so that other tasks'
    /// checkouts and releases do not wait seconds behind it. A crash while it fills leaves a
    /// slot without a mark, which reconcile fills and marks ready. Returns the lock again.
    ///
    /// Writing every file is the dearest thing a checkout does (seconds, on a large
    /// repository), while a slot another task releases meanwhile is ready in a fraction of
    /// that: when one becomes ready before the fill ends, the fill is stopped (git and its
    /// checkout workers killed) and its worktree put in the trash, and the caller takes that
    /// slot instead ([`Filled::GaveWay`]). A slot is never handed out half-written: it is
    /// either filled to the end or discarded.
    fn fill_new_slot<'a>(
        &'a self,
        mut guard: MutexGuard<'a, Busy>,
        start: &Oid,
        give_way: bool,
    ) -> Result<Filled<'a>> {
        let pool = self.pool_dir();
        fs::create_dir_all(&pool).map_err(|e| GitError::io("create", &pool, e))?;
        let number = (0..)
            .find(|n: &u64| pool.join(n.to_string()).symlink_metadata().is_err())
            .unwrap_or(0);
        self.unmark(number)?;
        let path = pool.join(number.to_string());
        self.git
            .cmd()
            .args(["worktree", "add", "-q", "--no-checkout", "--detach"])
            .arg(&path)
            .arg(start.as_str())
            .run()?;
        guard.filling.push(number);
        drop(guard);
        let began = Instant::now();
        let fill = || {
            self.cmd_in(&path)
                .args(["reset", "-q", "--hard", start.as_str()])
        };
        let (mut guard, mut filled) = match fill().start() {
            Ok(running) => match self.fill_or_give_way(running, give_way) {
                (guard, Some(filled)) => (guard, filled),
                (mut guard, None) => {
                    guard.filling.retain(|n| *n != number);
                    self.settled.notify_all();
                    self.counts.given_up.fetch_add(1, Ordering::Relaxed);
                    let trash = self.discard(&path)?;
                    guard.deleting += 1;
                    return Ok(Filled::GaveWay(guard, trash));
                }
            },
            Err(e) => (self.guard(), Err(e)),
        };
        if let Err(GitError::Failed { stderr, .. }) = &filled
            && crate::cmd::is_transient(stderr)
        {
            drop(guard);
            filled = fill().run().map(drop);
            guard = self.guard();
        }
        guard.filling.retain(|n| *n != number);
        self.settled.notify_all();
        self.counts.made.fetch_add(1, Ordering::Relaxed);
        if filled.is_ok() {
            let took = u64::try_from(began.elapsed().as_millis()).unwrap_or(u64::MAX);
            self.counts.last_fill_ms.store(took, Ordering::Relaxed);
        }
        if let Err(e) = filled {
            self.remove_worktree(&path)?;
            return Err(e);
        }
        // Whether it holds nested repositories, which the narrow passes leave to whole ones:
        // known from birth, its first task's passes can be narrow.
        let gitlinks = pool::gitlinks_of_index(&path, self.git.env())
            .map(|linked| !linked.is_empty())
            .ok();
        self.watch.clean_at(&path, start, gitlinks);
        Ok(Filled::Slot(
            guard,
            Slot {
                path,
                number,
                head: Some(start.clone()),
            },
        ))
    }

    /// Waits for the fill `running` to end, unless a pool slot becomes ready first: then the
    /// fill is stopped and `None` returned, with the lock held so that the caller can take
    /// that slot before anyone else.
    fn fill_or_give_way(
        &self,
        mut running: crate::cmd::Running,
        give_way: bool,
    ) -> (MutexGuard<'_, Busy>, Option<Result<()>>) {
        let mut guard = self.guard();
        loop {
            if let Some(result) = running.try_finish() {
                return (guard, Some(result));
            }
            // Without a pool there is nothing to give way to; a slot filled to warm the pool
            // is for whoever comes.
            if !give_way && guard.warm_stop {
                running.stop();
                return (guard, None);
            }
            let ready = match self.pool_size {
                0 => Ok(None),
                _ if !give_way => Ok(None),
                _ => self.ready_slot(),
            };
            match ready {
                // A slot reset for a checkout that waits is that checkout's.
                Ok(Some(_)) if guard.wanted.is_empty() => {
                    running.stop();
                    return (guard, None);
                }
                Ok(_) => {}
                // Not knowing is no reason to stop the fill.
                Err(e) => tracing::debug!(error = %e, "cannot look for a ready pool slot"),
            }
            guard = self
                .settled
                .wait_timeout(guard, FILL_POLL)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }

    /// Deletes a worktree [`Worktrees::discard`]ed into the trash (counted in
    /// [`Busy::deleting`]), without the lock; a failure is left to the next reconcile.
    fn delete_trash(&self, trash: &Path) {
        let deleted = remove_path(trash);
        let trash_dir = self.trash_dir();
        self.settle(|busy| {
            busy.deleting -= 1;
            if busy.deleting == 0 {
                remove_if_empty(&trash_dir);
            }
        });
        if let Err(e) = deleted {
            tracing::warn!(path = %trash.display(), error = %e, "cannot delete a worktree in the trash");
        }
    }

    /// Fills the pool up to its size with fresh checkouts of `start` (where new work starts),
    /// one after another, each marked ready as soon as it is filled: an engine does it in the
    /// background when it starts, so that the first tasks take a slot rather than each writing
    /// a whole tree (a checkout that finds no slot ready meanwhile waits for the one being
    /// filled). At most the pool's size in all, even as tasks take the slots: after that,
    /// released worktrees come back sooner than a whole tree is written. Returns how many
    /// slots it made; stops at the first that cannot be.
    pub fn warm(&self, start: &Oid) -> Result<usize> {
        self.warm_coming();
        let made = self.fill_pool(start);
        self.warm_done();
        made
    }

    /// Says a [`Worktrees::warm`] is on its way (about to start on another thread): checkouts
    /// that find no slot ready wait for it from now on. Each call is ended by one
    /// [`Worktrees::warm_done`].
    pub fn warm_coming(&self) {
        let mut guard = self.guard();
        guard.warming += 1;
        guard.warm_stop = false;
        guard.warm_left = guard.warm_left.max(self.pool_size);
    }

    /// Stops the warmings under way (a fill is stopped and thrown away): an engine stopping
    /// does not wait for whole trees nobody will use.
    pub fn stop_warming(&self) {
        self.settle(|busy| busy.warm_stop = true);
    }

    /// Ends a [`Worktrees::warm_coming`].
    pub fn warm_done(&self) {
        self.settle(|busy| {
            busy.warming = busy.warming.saturating_sub(1);
            if busy.warming == 0 {
                busy.warm_left = 0;
            }
        });
    }

    /// The fills of [`Worktrees::warm`].
    fn fill_pool(&self, start: &Oid) -> Result<usize> {
        let mut made = 0;
        while made < self.pool_size {
            let mut guard = self.guard();
            if guard.warm_stop || !self.warm_has_room(&guard)? {
                guard.warm_left = 0;
                return Ok(made);
            }
            guard.warm_left = self.pool_size - made;
            guard.warm_filling += 1;
            let filled = self.fill_new_slot(guard, start, false);
            let (mut guard, trash, result) = match filled {
                Ok(Filled::Slot(guard, slot)) => {
                    let marked = self.mark_ready(slot.number, start);
                    (guard, None, marked)
                }
                // Stopped: the pool is being drained or the engine is stopping.
                Ok(Filled::GaveWay(guard, trash)) => (guard, Some(trash), Ok(())),
                Err(e) => (self.guard(), None, Err(e)),
            };
            guard.warm_filling -= 1;
            if trash.is_some() || result.is_err() {
                guard.warm_left = 0;
            }
            drop(guard);
            self.settled.notify_all();
            if let Some(trash) = trash {
                self.delete_trash(&trash);
                return Ok(made);
            }
            result?;
            made += 1;
        }
        Ok(made)
    }

    /// Runs `f` while no worktree is made or removed here (it holds the lock every operation
    /// holds): a caller that stores a task and makes its branch in `f` is never overtaken by a
    /// checkout of that branch made in between.
    pub fn exclusive<T>(&self, f: impl FnOnce() -> T) -> T {
        let _guard = self.guard();
        f()
    }

    /// Ends the task worktree `name`: if the pool has room, it is parked there (HEAD detached,
    /// moved, no file touched) and then reset to a clean checkout (`git reset --hard`,
    /// `git clean -ffdx`) and marked ready; otherwise it is renamed into the trash and deleted.
    /// Only the parking or the renaming holds the lock: the whole-tree work (the reset, the
    /// deletion) runs after it is released, here, so checkouts of other tasks never wait
    /// behind it. Then deletes `branch` when `delete_branch` is set. A worktree that does not
    /// exist is not an error, so this can be repeated.
    pub fn release(&self, name: &str, branch: &str, delete_branch: bool) -> Result<()> {
        validate_name(name)?;
        let mut guard = self.guard();
        let path = self.path_of(name);
        let mut parked = None;
        let mut trashed = None;
        if self.git.worktree_at(&path)?.is_some() {
            if self.pool_has_room(&guard)? {
                // Pooling is best effort: a worktree that cannot be parked is deleted.
                match self.park(&path) {
                    Ok(slot) => parked = Some(slot),
                    Err(e) => {
                        tracing::warn!(path = %path.display(), error = %e, "cannot return worktree to the pool");
                    }
                }
            }
            if parked.is_none() {
                trashed = Some(self.discard(&path)?);
            }
        } else if path.symlink_metadata().is_ok() {
            trashed = Some(self.discard(&path)?);
        }
        if delete_branch {
            self.git.delete_branch(branch)?;
        }
        // A checkout waiting for a slot gets this one already at its start.
        let reset_to = guard.wanted.first().cloned();
        if parked.is_some() {
            guard.resetting += 1;
        }
        if trashed.is_some() {
            guard.deleting += 1;
        }
        drop(guard);

        if let Some(trash) = trashed {
            let deleted = remove_path(&trash);
            let trash_dir = self.trash_dir();
            self.settle(|busy| {
                busy.deleting -= 1;
                if busy.deleting == 0 {
                    remove_if_empty(&trash_dir);
                }
            });
            deleted?;
        }
        if let Some(slot) = parked {
            let reset = match self.reset_slot(&slot, reset_to.as_ref()) {
                // The waiting checkout's start may be what failed (an unknown commit): the slot
                // is still good at its own.
                Err(e) if reset_to.is_some() && !matches!(e, GitError::PathInUse { .. }) => {
                    tracing::debug!(error = %e, "cannot reset a pool slot to a waiting start");
                    self.reset_slot(&slot, None)
                }
                reset => reset,
            };
            let mut guard = self.guard();
            guard.resetting -= 1;
            let mut removed = Ok(());
            if let Err(e) = &reset {
                // A slot that cannot be made clean is not kept.
                tracing::warn!(slot = %slot.path.display(), error = %e, "cannot reset pool slot; removing it");
                let _ = self.unmark(slot.number);
                removed = self.remove_worktree(&slot.path);
            }
            drop(guard);
            // Whatever happened, a checkout waiting for this reset must hear that it ended.
            self.settled.notify_all();
            removed?;
        }
        Ok(())
    }

    /// Removes everything under the root that is not a worktree named in `keep`: worktrees of
    /// tasks that no longer exist and stray directories left by crashes. Hidden entries
    /// (including the pool) are not task worktrees and are left, except that the pool is
    /// tidied (slots git does not know and slots beyond the pool size are removed; slots left
    /// half reset by a crash are reset) and the trash emptied. Finishes with
    /// `git worktree prune`. Returns the task paths it removed.
    pub fn reconcile(&self, keep: &[String]) -> Result<Vec<PathBuf>> {
        self.reconcile_with(|| Ok::<_, GitError>(keep.to_vec()))
    }

    /// [`Worktrees::reconcile`], with the names to keep asked for once the lock is held: no
    /// worktree is made while `keep` decides, so every one on disk then belongs to something
    /// `keep` can see (used while the engine runs, which makes worktrees for new tasks).
    pub fn reconcile_with<E: From<GitError>>(
        &self,
        keep: impl FnOnce() -> std::result::Result<Vec<String>, E>,
    ) -> std::result::Result<Vec<PathBuf>, E> {
        let guard = self.guard();
        let keep = keep()?;
        Ok(self.reconcile_locked(&guard, &keep)?)
    }

    fn reconcile_locked(&self, busy: &Busy, keep: &[String]) -> Result<Vec<PathBuf>> {
        let mut removed = Vec::new();
        for (name, path) in list_dir(&self.root)? {
            if name.starts_with('.') || keep.contains(&name) {
                continue;
            }
            if self.git.worktree_at(&path)?.is_some() {
                self.remove_worktree(&path)?;
            } else {
                remove_path(&path)?;
            }
            tracing::info!(path = %path.display(), "removed leftover worktree");
            removed.push(path);
        }
        self.tidy_pool(busy)?;
        if busy.deleting == 0 {
            for (_, entry) in list_dir(&self.trash_dir())? {
                remove_path(&entry)?;
            }
            remove_if_empty(&self.trash_dir());
        }
        self.git.cmd().args(["worktree", "prune"]).run()?;
        Ok(removed)
    }

    /// Removes every pool slot and the pool directory (after waiting for resets in progress);
    /// returns the slots it removed.
    pub fn drain_pool(&self) -> Result<Vec<PathBuf>> {
        let mut guard = self.guard();
        // A warming would fill the pool again.
        guard.warm_stop = true;
        while guard.resetting > 0 || !guard.filling.is_empty() {
            guard = self
                .settled
                .wait(guard)
                .unwrap_or_else(PoisonError::into_inner);
        }
        let pool = self.pool_dir();
        let mut removed = Vec::new();
        self.remove_marks()?;
        for (_, slot) in list_dir(&pool)? {
            if self.git.worktree_at(&slot)?.is_some() {
                self.remove_worktree(&slot)?;
            }
            removed.push(slot);
        }
        if pool.exists() {
            remove_path(&pool)?;
        }
        self.git.cmd().args(["worktree", "prune"]).run()?;
        drop(guard);
        Ok(removed)
    }

    fn guard(&self) -> MutexGuard<'_, Busy> {
        // A panic while holding the lock leaves nothing in memory to repair but the counts of
        // work in progress, which at worst delay a wait or a tidy-up: all other state is on
        // disk and re-inspected by every operation.
        self.lock.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Updates the counts of work in progress and wakes whoever waits on them.
    fn settle(&self, f: impl FnOnce(&mut Busy)) {
        f(&mut self.guard());
        self.settled.notify_all();
    }

    fn trash_dir(&self) -> PathBuf {
        self.root.join(TRASH_DIR)
    }

    fn cmd_in(&self, dir: &Path) -> crate::cmd::GitCommand {
        crate::cmd::GitCommand::new(dir, self.git.env())
    }

    /// Whether a warming may add a slot: the pool has room even counting the task worktrees
    /// alive now, which come back to it when their tasks end (filling their places too would
    /// write whole trees for nothing and leave them no room).
    fn warm_has_room(&self, busy: &Busy) -> Result<bool> {
        let tasks = list_dir(&self.root)?
            .into_iter()
            .filter(|(name, _)| !name.starts_with('.'))
            .count();
        Ok(self.kept_slots(busy)? + tasks < self.pool_size)
    }

    fn pool_has_room(&self, busy: &Busy) -> Result<bool> {
        Ok(self.pool_size > 0 && self.kept_slots(busy)? < self.pool_size)
    }

    /// The pool's slots that stay in it: slots being filled for a checkout are on their way
    /// out to a task; those a warming fills stay.
    fn kept_slots(&self, busy: &Busy) -> Result<usize> {
        let leaving = busy.filling.len().saturating_sub(busy.warm_filling);
        Ok(self.slots()?.len().saturating_sub(leaving))
    }

    /// Moves a ready pool slot to `path` and returns the commit it is at; `None` when there is
    /// none (after waiting, up to [`WAIT_FOR_RESET`], for a slot being reset, and otherwise up
    /// to [`Worktrees::fill_grace`] for one to be released: either is far cheaper than a fresh
    /// checkout) or the move failed.
    fn take_from_pool<'a>(
        &'a self,
        mut guard: MutexGuard<'a, Busy>,
        path: &Path,
        branch: &str,
        start: &Oid,
    ) -> Result<(MutexGuard<'a, Busy>, Take)> {
        if self.pool_size == 0 {
            return Ok((guard, Take::Nothing));
        }
        let began = Instant::now();
        let deadline = began + WAIT_FOR_RESET;
        // Before writing every file of a fresh worktree, wait a while for another task to
        // release one: half as long as the last fresh checkout took, so that a task waits at
        // most half again as long as it would have anyway, while on a busy board, where
        // worktrees come back every few hundred milliseconds, no fill starts (and none is
        // stopped part-way, its work lost) at all. Nothing to wait for before the first.
        let grace_ends = began + self.fill_grace();
        let mut waited = false;
        guard.wanted.push(start.clone());
        let found = loop {
            if waited {
                // The lock was let go while waiting: what the caller found may have changed.
                match self.recheck(path, branch, start) {
                    Ok(Recheck::Exists) => break Ok(None),
                    Ok(Recheck::Free(_)) => {}
                    Err(e) => break Err(e),
                }
            }
            match self.ready_slot() {
                Ok(Some(slot)) => break Ok(Some(Some(slot))),
                Ok(None) => {}
                Err(e) => break Err(e),
            }
            let now = Instant::now();
            let warm_enough = guard.warming > 0 && guard.wanted.len() <= guard.warm_left;
            let until = if guard.resetting > 0 || warm_enough {
                deadline
            } else {
                grace_ends
            };
            if now >= until {
                break Ok(Some(None));
            }
            waited = true;
            guard = self
                .settled
                .wait_timeout(guard, until - now)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        };
        if let Some(at) = guard.wanted.iter().position(|w| w == start) {
            guard.wanted.remove(at);
        }
        let slot = match found? {
            None => return Ok((guard, Take::Exists)),
            Some(None) => return Ok((guard, Take::Nothing)),
            Some(Some(slot)) => slot,
        };
        let Slot {
            path: from,
            number,
            head,
        } = slot;
        let reuse = self.check_branch_is_free(branch, start)?;
        self.unmark(number)?;
        let Some(head) = head else {
            return Ok((guard, Take::Nothing));
        };
        let moved = self
            .git
            .cmd()
            .args(["worktree", "move"])
            .arg(&from)
            .arg(path)
            .run();
        if let Err(e) = moved {
            // A broken slot must not block the task: drop it and make a fresh worktree.
            tracing::warn!(slot = %from.display(), error = %e, "discarding unusable pool slot");
            self.remove_worktree(&from)?;
            return Ok((guard, Take::Nothing));
        }
        self.watch.moved_to(path);
        remove_if_empty(&self.pool_dir());
        Ok((guard, Take::Slot { head, reuse }))
    }

    /// What `checkout` found before letting the lock go, found again: `path` must still be
    /// free (a worktree on `branch` there now is the same checkout, made meanwhile) and the
    /// branch still usable.
    fn recheck(&self, path: &Path, branch: &str, start: &Oid) -> Result<Recheck> {
        if let Some(wt) = self.git.worktree_at(path)? {
            if wt.branch.as_deref() == Some(branch) {
                return Ok(Recheck::Exists);
            }
            return Err(GitError::PathInUse {
                path: path.to_owned(),
                reason: "a worktree was made there meanwhile".to_owned(),
            });
        }
        if path.symlink_metadata().is_ok() {
            return Err(GitError::PathInUse {
                path: path.to_owned(),
                reason: "something was put there meanwhile".to_owned(),
            });
        }
        Ok(Recheck::Free(self.check_branch_is_free(branch, start)?))
    }
}
impl Worktrees {
    /// Removes pool entries git does not know as usable slots and slots beyond the size;
    /// resets slots a crash left unready (when nobody here is resetting one).
    fn tidy_pool(&self, busy: &Busy) -> Result<()> {
        let slots = self.slots()?;
        let mut keep: Vec<PathBuf> = slots
            .iter()
            .filter(|s| busy.filling.contains(&s.number))
            .map(|s| canonical(&s.path))
            .collect();
        let settled = slots.iter().filter(|s| !busy.filling.contains(&s.number));
        for slot in settled.take(self.pool_size) {
            if busy.resetting == 0 && !self.is_ready(slot) {
                self.unmark(slot.number)?;
                if let Err(e) = self.reset_slot(slot, None) {
                    tracing::warn!(slot = %slot.path.display(), error = %e, "cannot reset pool slot left by a crash");
                    continue;
                }
            }
            keep.push(canonical(&slot.path));
        }
        for (_, entry) in list_dir(&self.pool_dir())? {
            if keep.contains(&canonical(&entry)) {
                continue;
            }
            if let Some(number) = entry.file_name().and_then(|n| n.to_str()?.parse().ok()) {
                self.unmark(number)?;
            }
            if self.git.worktree_at(&entry)?.is_some() {
                self.remove_worktree(&entry)?;
            } else {
                remove_path(&entry)?;
            }
        }
        Ok(())
    }

    /// Makes the worktree at `path` an exact, clean checkout of `start` with a detached HEAD,
    /// whatever state it is in: the whole tree is checked (used only after a crash or a slot
    /// that did not move cleanly).
    fn force_onto(&self, path: &Path, start: &Oid) -> Result<()> {
        self.cmd_in(path)
            .args(["checkout", "-q", "--force", "--detach"])
            .arg(start.as_str())
            .arg("--")
            .run()?;
        self.cmd_in(path).args(["clean", "-ffdxq"]).run()?;
        Ok(())
    }

    /// Puts the worktree at `path` (an exact checkout of `start`, detached) on `branch`:
    /// created at `start` unless `existing` says it is there already. Neither the index nor a
    /// file is touched.
    fn put_on_branch(&self, path: &Path, branch: &str, start: &Oid, existing: bool) -> Result<()> {
        let refname = format!("refs/heads/{branch}");
        if !existing {
            match self.git.update_ref_cas(&refname, start, None)? {
                CasOutcome::Updated => {}
                CasOutcome::Moved { actual } if actual.as_ref() == Some(start) => {}
                CasOutcome::Moved { .. } => {
                    return Err(GitError::BranchExists {
                        branch: branch.to_owned(),
                        checked_out_in: None,
                    });
                }
            }
        }
        self.cmd_in(path)
            .args(["symbolic-ref", "-m", "gaffer: task worktree", "HEAD"])
            .arg(&refname)
            .run()?;
        // Someone outside this process may have moved the branch since it was checked: the
        // index and files are `start`'s, so HEAD must be too.
        let head = self.git.head_of(path)?;
        if head != *start {
            self.cmd_in(path)
                .args([
                    "update-ref",
                    "--no-deref",
                    "-m",
                    "gaffer: branch moved",
                    "HEAD",
                ])
                .arg(start.as_str())
                .run()?;
            return Err(GitError::BranchExists {
                branch: branch.to_owned(),
                checked_out_in: None,
            });
        }
        Ok(())
    }

    /// Whether `branch` can be used for a new task worktree at `start`: `Ok(false)` if it does
    /// not exist, `Ok(true)` if it exists at `start` and is checked out nowhere.
    fn check_branch_is_free(&self, branch: &str, start: &Oid) -> Result<bool> {
        let Some(at) = self.git.rev_parse(&format!("refs/heads/{branch}"))? else {
            return Ok(false);
        };
        let checked_out_in = self.git.checked_out_in(branch)?;
        if checked_out_in.is_some() || at != *start {
            return Err(GitError::BranchExists {
                branch: branch.to_owned(),
                checked_out_in,
            });
        }
        Ok(true)
    }

    /// Takes the worktree (or stray directory) at `path` out of git's list and out of the
    /// way at once: it is renamed into the trash and git forgets it (`git worktree prune`).
    /// Returns where it now is, for the caller to delete without holding the lock. Falls
    /// back to removing it in place when it cannot be renamed.
    fn discard(&self, path: &Path) -> Result<PathBuf> {
        self.watch.forget(path);
        let trash = self.trash_dir();
        fs::create_dir_all(&trash).map_err(|e| GitError::io("create", &trash, e))?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let to = trash.join(format!("{name}-{nanos}-{}", std::process::id()));
        if let Err(e) = fs::rename(path, &to) {
            tracing::warn!(path = %path.display(), error = %e, "cannot move worktree to the trash; removing it in place");
            if self.git.worktree_at(path)?.is_some() {
                self.remove_worktree(path)?;
            } else if path.symlink_metadata().is_ok() {
                remove_path(path)?;
            }
            fs::create_dir_all(&to).map_err(|e| GitError::io("create", &to, e))?;
            return Ok(to);
        }
        self.git.cmd().args(["worktree", "prune"]).run()?;
        Ok(to)
    }

    /// `git worktree remove --force --force` (dirty and locked alike), falling back to
    /// deleting the directory and pruning if git refuses.
    fn remove_worktree(&self, path: &Path) -> Result<()> {
        self.watch.forget(path);
        let out = self
            .git
            .cmd()
            .args(["worktree", "remove", "--force", "--force"])
            .arg(path)
            .output()?;
        if out.code != Some(0) {
            tracing::warn!(path = %path.display(), stderr = %out.stderr.trim(), "git worktree remove failed; deleting");
            if path.symlink_metadata().is_ok() {
                remove_path(path)?;
            }
            self.git.cmd().args(["worktree", "prune"]).run()?;
        }
        Ok(())
    }
}

/// Task names become directory names: one plain, non-hidden path component.
fn validate_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && !name.starts_with('.')
        && !name.starts_with('-')
        && !name.contains(['/', '\\', '\0']);
    if ok {
        Ok(())
    } else {
        Err(GitError::InvalidArgument(format!(
            "worktree name must be one path component not starting with '.' or '-': {name:?}"
        )))
    }
}

/// Entries of `dir` as (name, path); empty when `dir` does not exist.
fn list_dir(dir: &Path) -> Result<Vec<(String, PathBuf)>> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(GitError::io("read", dir, e)),
    };
    let mut out = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| GitError::io("read", dir, e))?;
        out.push((
            entry.file_name().to_string_lossy().into_owned(),
            entry.path(),
        ));
    }
    out.sort();
    Ok(out)
}

/// Removes `dir` if it is an empty directory (the pool's and the trash's directories, so that
/// nothing is left under the root when no worktree is).
fn remove_if_empty(dir: &Path) {
    let _ = fs::remove_dir(dir);
}

/// Deletes a file, symlink or directory tree.
fn remove_path(path: &Path) -> Result<()> {
    let meta = path
        .symlink_metadata()
        .map_err(|e| GitError::io("inspect", path, e))?;
    let result = if meta.is_dir() {
        fs::remove_dir_all(path)
    } else {
        fs::remove_file(path)
    };
    result.map_err(|e| GitError::io("remove", path, e))
}

#[cfg(test)]
mod tests {
    use super::validate_name;

    #[test]
    fn names_are_single_visible_components() {
        assert!(validate_name("t-12-fix-login").is_ok());
        for bad in ["", ".pool", "..", "a/b", "-x", "a\\b"] {
            assert!(validate_name(bad).is_err(), "{bad:?}");
        }
    }
}
