//! [`TreeWatch`]: which paths of a task's worktree may have changed since gaffer last made it
//! a clean checkout, known from the kernel (inotify) instead of a pass over every file.
//!
//! Every pass gaffer made per task (`git add -A` after the agent, the candidate's
//! `checkout --force` and `clean`, the release's `reset --hard` and `clean -ffdx`) exists only
//! to find the few paths that differ from a known state; on 20,000 files each costs tens of
//! milliseconds of processor, most of a task's overhead. A worktree the watch follows is
//! watched from a *clean point* (gaffer just made it an exact checkout: a pool slot reset or
//! filled, or moved to a task's start): every directory under it has an inotify watch, and
//! every event under it adds its path to the worktree's *changed* set. The operations then
//! touch only those paths (`git add -A -- <paths>`, `git clean -- <paths>`,
//! `git checkout HEAD -- <paths>`), which git does without looking at any other file.
//!
//! The answer is `None` (do the whole pass, as before) whenever the set may be incomplete:
//! the worktree was never seen clean by this process, the kernel's queue overflowed, a
//! watch could not be added, a directory was renamed (its watches would name the old path), or
//! someone else wrote the worktree's index or moved its HEAD since gaffer last did (an agent's
//! own `git add`, `git commit`, `git update-index`: index entries can change without a file
//! changing). What the kernel does not report is out of reach of this (and of git's own file
//! monitor): writes through a shared memory mapping after the file was closed, and writes
//! through a hard link from outside the worktree (which a confined run cannot make: links do
//! not cross its mounts).
//!
//! Events are read when an answer is asked for and by a thread every few hundred milliseconds,
//! so that the kernel's queue (16,384 events by default) overflows only under a burst.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, Weak};

use crate::Oid;
use crate::worktree_admin::admin_dir;

/// Most directories watched under one worktree; beyond, the worktree is not followed.
const MAX_WATCHES_PER_TREE: usize = 65_536;

/// Most changed paths an answer carries; a larger change is cheaper as a whole pass.
pub(crate) const MAX_CHANGED: usize = 4_096;

/// The changed paths of a worktree since its clean point, relative to it, `/`-separated,
/// sorted, none under another (a directory stands for everything under it).
pub(crate) type Changed = Vec<String>;

/// How often each kind of operation could use the watch, and how often it made the whole pass.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WatchCounts {
    /// Operations done on the changed paths only.
    pub narrow: u64,
    /// Operations that looked at every file (the watch could not answer).
    pub whole: u64,
}

/// Follows the worktrees of one repository (see the module's documentation). Cheap to ask:
/// one lock, the kernel's pending events, a stat of the index.
#[derive(Debug)]
pub struct TreeWatch {
    inner: Option<Arc<Mutex<imp::Inner>>>,
    /// The reader thread, started with the first worktree followed: a short command that
    /// opens a board and follows none starts no thread.
    reader: std::sync::Once,
    narrow: AtomicU64,
    whole: AtomicU64,
}

/// What identifies a worktree's index file as gaffer last left it: any write replaces it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct IndexStamp {
    ino: u64,
    size: u64,
    mtime_ns: i128,
    ctime_ns: i128,
    /// The file's trailing checksum (git's hash of the whole index): two writes within one
    /// tick of the file system's clock that reuse an inode and a size still differ here.
    checksum: [u8; 32],
}

impl IndexStamp {
    /// The stamp of the index of the worktree at `root`, `None` when it has none or it cannot
    /// be read.
    pub(crate) fn of(root: &Path) -> Option<IndexStamp> {
        use std::io::{Read, Seek, SeekFrom};
        use std::os::unix::fs::MetadataExt;
        let mut file = std::fs::File::open(admin_dir(root)?.join("index")).ok()?;
        let meta = file.metadata().ok()?;
        let mut checksum = [0u8; 32];
        let tail = meta.size().min(32);
        file.seek(SeekFrom::End(-(tail as i64))).ok()?;
        file.read_exact(&mut checksum[..tail as usize]).ok()?;
        Some(IndexStamp {
            ino: meta.ino(),
            size: meta.size(),
            mtime_ns: i128::from(meta.mtime()) * 1_000_000_000 + i128::from(meta.mtime_nsec()),
            ctime_ns: i128::from(meta.ctime()) * 1_000_000_000 + i128::from(meta.ctime_nsec()),
            checksum,
        })
    }
}

impl Default for TreeWatch {
    fn default() -> Self {
        TreeWatch::new()
    }
}

impl TreeWatch {
    /// A watch, or one that never answers where inotify is not available.
    pub fn new() -> TreeWatch {
        TreeWatch {
            inner: imp::Inner::new().map(|inner| Arc::new(Mutex::new(inner))),
            reader: std::sync::Once::new(),
            narrow: AtomicU64::new(0),
            whole: AtomicU64::new(0),
        }
    }

    /// A watch that never answers: every operation looks at every file.
    pub fn disabled() -> TreeWatch {
        TreeWatch {
            inner: None,
            reader: std::sync::Once::new(),
            narrow: AtomicU64::new(0),
            whole: AtomicU64::new(0),
        }
    }

    fn lock(&self) -> Option<std::sync::MutexGuard<'_, imp::Inner>> {
        Some(
            self.inner
                .as_ref()?
                .lock()
                .unwrap_or_else(PoisonError::into_inner),
        )
    }

    /// The worktree at `root` is an exact, clean checkout of `head` now (nothing untracked or
    /// ignored, the index gaffer's own): watched from here, with nothing changed.
    /// `gitlinks` says whether its tree may hold nested repositories (whose directories the
    /// narrow operations do not handle); `None`: as far as known before (any, if nothing is).
    pub(crate) fn clean_at(&self, root: &Path, head: &Oid, gitlinks: Option<bool>) {
        if let Some(inner) = &self.inner {
            self.reader
                .call_once(|| imp::spawn_reader(Arc::downgrade(inner)));
        }
        if let Some(mut inner) = self.lock() {
            inner.clean_at(root, head, gitlinks);
        }
    }

    /// gaffer itself wrote the index of the worktree at `root` and left HEAD at `head`, every
    /// file outside the changed paths as HEAD's tree has it (an operation that made the whole
    /// pass makes them so): what changed since the clean point is still known, and the index
    /// and HEAD are its own again. `foreign` says the index may hold what someone else put
    /// there (flags, entries) that the operation did not undo.
    /// `gitlinks`: the new HEAD may hold nested repositories (`None`: as before).
    pub(crate) fn ours(&self, root: &Path, head: &Oid, foreign: bool, gitlinks: Option<bool>) {
        if let Some(mut inner) = self.lock() {
            inner.ours(root, head, foreign, gitlinks);
        }
    }

    /// Someone else wrote the index of the worktree at `root`, and gaffer found it saying
    /// exactly what HEAD (`head`) does, flagging no entry: as good as its own, and no entry
    /// was dropped from it since the clean point.
    pub(crate) fn index_verified(&self, root: &Path, head: &Oid) {
        if let Some(mut inner) = self.lock() {
            inner.ours(root, head, false, None);
            if let Some(key) = key_of(root)
                && let Some(tree) = inner.tree_mut(key)
            {
                tree.touched = false;
            }
        }
    }

    /// What may differ in the worktree at `root` (whose HEAD is `head` now) from its clean
    /// point; `None` when that is not known (see the module's documentation), or HEAD is not
    /// where gaffer left it (someone committed: files outside the changed paths may differ
    /// from the new HEAD).
    pub(crate) fn changed(&self, root: &Path, head: &Oid) -> Option<Answer> {
        self.lock().and_then(|mut inner| inner.changed(root, head))
    }

    /// Counts an operation done narrowly after [`TreeWatch::changed`] answered.
    pub(crate) fn count_narrow(&self) {
        self.narrow.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts an operation that made the whole pass (the watch could not answer, or the narrow
    /// one failed or did not apply).
    pub(crate) fn count_whole(&self) {
        self.whole.fetch_add(1, Ordering::Relaxed);
    }

    /// The worktree followed so far elsewhere is at `root` now (gaffer moved it): a directory
    /// made in it from now on is watched there.
    pub(crate) fn moved_to(&self, root: &Path) {
        if let Some(mut inner) = self.lock() {
            inner.locate(root);
        }
    }

    /// Stops following the worktree at `root` (about to be deleted: its deletion's events
    /// would only fill the kernel's queue).
    pub(crate) fn forget(&self, root: &Path) {
        if let Some(mut inner) = self.lock() {
            inner.forget(root);
        }
    }

    /// How often operations could use the watch.
    pub fn counts(&self) -> WatchCounts {
        WatchCounts {
            narrow: self.narrow.load(Ordering::Relaxed),
            whole: self.whole.load(Ordering::Relaxed),
        }
    }

    /// Whether this watch can answer at all (inotify is available).
    pub fn is_active(&self) -> bool {
        self.inner.is_some()
    }
}

/// What [`TreeWatch::changed`] knows about a worktree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Answer {
    /// The paths that may differ from the clean point.
    pub changed: Changed,
    /// Whether the tree may hold nested repositories.
    pub gitlinks: bool,
    /// Whether someone else may have written the index since gaffer last did: it may hold
    /// entries or flags the narrow operations would keep.
    pub foreign: bool,
    /// Whether someone else wrote the index at any time since the clean point: an entry
    /// dropped from it then (`git rm --cached`) may have left a file behind that no event
    /// names, which only the whole reset removes.
    pub touched: bool,
    /// Whether the index was gaffer's own until a write found now (HEAD unchanged): if that
    /// index says what HEAD does, no entry was dropped, and `touched` may be cleared.
    pub just_written: bool,
}

/// The paths of `set` that are not under another path of it, in order.
fn outermost(set: &BTreeSet<String>) -> Changed {
    let mut out: Changed = Vec::with_capacity(set.len());
    for path in set {
        // Sorted: a directory comes right before what is under it (`a` < `a/b`; `a-b`, which
        // sorts between them, is no descendant, hence the check on the last kept one only
        // when it is a prefix followed by `/`).
        if let Some(last) = out.last()
            && path.len() > last.len()
            && path.starts_with(last.as_str())
            && path.as_bytes()[last.len()] == b'/'
        {
            continue;
        }
        out.push(path.clone());
    }
    // `a`, `a-b`, `a/c`: `a/c` is under `a` though `a-b` was kept in between.
    let dirs: BTreeSet<&str> = out.iter().map(String::as_str).collect();
    out.iter()
        .filter(|p| !under_any(p, |dir| dirs.contains(dir)))
        .cloned()
        .collect()
}

/// Whether a directory above `path` (a `/`-separated relative path) is one `is_listed` says
/// yes to.
pub(crate) fn under_any(path: &str, is_listed: impl Fn(&str) -> bool) -> bool {
    let mut at = path;
    while let Some((parent, _)) = at.rsplit_once('/') {
        if is_listed(parent) {
            return true;
        }
        at = parent;
    }
    false
}

/// One worktree's state, kept by its directory's device and inode: it is found by them
/// whatever its path (a pool slot is moved to a task's path and back).
#[derive(Debug)]
struct Tree {
    /// Paths changed since the clean point; `None` when that is no longer known.
    changed: Option<BTreeSet<String>>,
    /// The index as gaffer last left it, and HEAD.
    index: Option<IndexStamp>,
    head: Oid,
    gitlinks: bool,
    foreign: bool,
    touched: bool,
    /// Directories watched under it.
    watches: usize,
    /// Where it was when gaffer last named it (a directory made in it is watched from there).
    top: PathBuf,
}

impl Tree {
    fn lose(&mut self) {
        self.changed = None;
    }
}

fn key_of(path: &Path) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::symlink_metadata(path).ok()?;
    meta.is_dir().then(|| (meta.dev(), meta.ino()))
}

#[cfg(target_os = "linux")]
mod imp {
    use super::*;
    use nix::errno::Errno;
    use nix::sys::inotify::{AddWatchFlags, InitFlags, Inotify, InotifyEvent, WatchDescriptor};
    use std::time::Duration;

    /// How often the reader thread drains the kernel's queue when nobody asks.
    const READ_EVERY: Duration = Duration::from_millis(200);

    #[derive(Debug)]
    pub(super) struct Inner {
        inotify: Inotify,
        trees: HashMap<(u64, u64), Tree>,
        /// Watch → (worktree key, the directory's path relative to it: "" for its top).
        dirs: HashMap<WatchDescriptor, ((u64, u64), String)>,
    }

    fn mask() -> AddWatchFlags {
        AddWatchFlags::IN_CREATE
            | AddWatchFlags::IN_DELETE
            | AddWatchFlags::IN_MODIFY
            | AddWatchFlags::IN_ATTRIB
            | AddWatchFlags::IN_CLOSE_WRITE
            | AddWatchFlags::IN_MOVED_FROM
            | AddWatchFlags::IN_MOVED_TO
            | AddWatchFlags::IN_MOVE_SELF
            | AddWatchFlags::IN_DELETE_SELF
            | AddWatchFlags::IN_ONLYDIR
            | AddWatchFlags::IN_DONT_FOLLOW
    }

    /// Starts the thread that drains the queue while the watch lives.
    pub(super) fn spawn_reader(inner: Weak<Mutex<Inner>>) {
        let spawned = std::thread::Builder::new()
            .name("gaffer-tree-watch".into())
            .spawn(move || {
                loop {
                    std::thread::sleep(READ_EVERY);
                    let Some(inner) = inner.upgrade() else {
                        return;
                    };
                    inner.lock().unwrap_or_else(PoisonError::into_inner).drain();
                }
            });
        if let Err(e) = spawned {
            // Answers stay right without it; only a burst may overflow the queue sooner.
            tracing::debug!(target: "gaffer_git", error = %e, "cannot start the tree watch's reader");
        }
    }

    impl Inner {
        pub(super) fn new() -> Option<Inner> {
            match Inotify::init(InitFlags::IN_NONBLOCK | InitFlags::IN_CLOEXEC) {
                Ok(inotify) => Some(Inner {
                    inotify,
                    trees: HashMap::new(),
                    dirs: HashMap::new(),
                }),
                Err(e) => {
                    tracing::debug!(target: "gaffer_git", error = %e, "inotify is not available; worktrees are checked in full");
                    None
                }
            }
        }

        /// The key of the tree at `root`, whose known place becomes `root` before its pending
        /// events are read (a directory made in it is watched from there).
        pub(super) fn locate(&mut self, root: &Path) -> Option<(u64, u64)> {
            let key = key_of(root)?;
            if let Some(tree) = self.trees.get_mut(&key) {
                tree.top = root.to_owned();
            }
            Some(key)
        }

        pub(super) fn clean_at(&mut self, root: &Path, head: &Oid, gitlinks: Option<bool>) {
            let Some(key) = self.locate(root) else {
                return;
            };
            self.drain();
            let known = self
                .trees
                .get(&key)
                .is_some_and(|tree| tree.changed.is_some());
            let tree = self.trees.entry(key).or_insert_with(|| Tree {
                changed: None,
                index: None,
                head: head.clone(),
                gitlinks: true,
                foreign: false,
                touched: false,
                watches: 0,
                top: root.to_owned(),
            });
            tree.top = root.to_owned();
            tree.head = head.clone();
            tree.gitlinks = match gitlinks {
                Some(gitlinks) => gitlinks,
                None => tree.gitlinks || !known,
            };
            tree.foreign = false;
            tree.touched = false;
            tree.index = IndexStamp::of(root);
            if known {
                // Every directory is watched already (new ones were as they appeared).
                if let Some(changed) = tree.changed.as_mut() {
                    changed.clear();
                }
                return;
            }
            // Watched afresh: every directory of the tree, top first (a directory made after
            // its parent's watch is reported by it; one made before is found by the walk).
            // A file that already has a second name (made before, by a process gaffer did
            // not confine) could be written through it unseen: such a tree is not followed.
            tree.changed = Some(BTreeSet::new());
            if !self.watch_dir(key, root, String::new(), true)
                && let Some(tree) = self.trees.get_mut(&key)
            {
                tree.lose();
            }
            // What happened while the walk ran is not the clean state's.
            self.drain();
            if let Some(changed) = self.trees.get_mut(&key).and_then(|t| t.changed.as_mut()) {
                changed.clear();
            }
        }

        /// Watches `dir` (at `rel` under the tree `key`) and every directory under it; false
        /// when one could not be watched, or, with `check_links` (a tree watched afresh, a
        /// directory made since the clean point), when a file in it has a second name (writes
        /// through the other name would not be reported under this one).
        fn watch_dir(
            &mut self,
            key: (u64, u64),
            dir: &Path,
            rel: String,
            check_links: bool,
        ) -> bool {
            let mut stack = vec![(dir.to_owned(), rel)];
            let mut first = true;
            while let Some((dir, rel)) = stack.pop() {
                let Some(tree) = self.trees.get_mut(&key) else {
                    return false;
                };
                if tree.watches >= MAX_WATCHES_PER_TREE {
                    return false;
                }
                let wd = match self.inotify.add_watch(&dir, mask()) {
                    Ok(wd) => wd,
                    // Gone meanwhile (a directory made and deleted between two reads of the
                    // queue, as builds do): its parent's event says so, and its path stands
                    // for whatever it held. Unless the tree itself is no longer where it was
                    // last seen (moved since): then what is in it is not watched.
                    Err(Errno::ENOENT | Errno::ENOTDIR)
                        if !first || key_of(&tree.top) == Some(key) =>
                    {
                        continue;
                    }
                    Err(e) => {
                        tracing::debug!(target: "gaffer_git", dir = %dir.display(), error = %e, "cannot watch a worktree directory");
                        return false;
                    }
                };
                first = false;
                if self.dirs.insert(wd, (key, rel.clone())).is_none() {
                    tree.watches += 1;
                }
                let Ok(entries) = std::fs::read_dir(&dir) else {
                    continue;
                };
                for entry in entries.flatten() {
                    let Ok(kind) = entry.file_type() else {
                        continue;
                    };
                    if check_links && kind.is_file() {
                        use std::os::unix::fs::MetadataExt;
                        if entry.metadata().is_ok_and(|meta| meta.nlink() > 1) {
                            return false;
                        }
                    }
                    let name = entry.file_name();
                    let Some(name) = name.to_str() else {
                        // A name git would not give us back as a path we can pass on.
                        return false;
                    };
                    if !kind.is_dir() || (rel.is_empty() && name == ".git") {
                        continue;
                    }
                    let child = if rel.is_empty() {
                        name.to_owned()
                    } else {
                        format!("{rel}/{name}")
                    };
                    stack.push((entry.path(), child));
                }
            }
            true
        }

        pub(super) fn ours(
            &mut self,
            root: &Path,
            head: &Oid,
            foreign: bool,
            gitlinks: Option<bool>,
        ) {
            let Some(key) = self.locate(root) else {
                return;
            };
            self.drain();
            if let Some(tree) = self.trees.get_mut(&key) {
                tree.top = root.to_owned();
                tree.index = IndexStamp::of(root);
                tree.head = head.clone();
                tree.foreign = foreign;
                tree.touched |= foreign;
                if let Some(gitlinks) = gitlinks {
                    tree.gitlinks |= gitlinks;
                }
            }
        }

        pub(super) fn changed(&mut self, root: &Path, head: &Oid) -> Option<Answer> {
            let key = self.locate(root)?;
            self.drain();
            let stamp = IndexStamp::of(root);
            let tree = self.trees.get_mut(&key)?;
            if tree.head != *head || tree.changed.is_none() {
                return None;
            }
            let just_written = !tree.foreign && !tree.touched && tree.index != stamp;
            if tree.index.is_none() || tree.index != stamp {
                tree.foreign = true;
                tree.touched = true;
            }
            let (foreign, touched) = (tree.foreign, tree.touched);
            let changed = tree.changed.as_ref()?;
            if changed.len() > MAX_CHANGED * 4 {
                return None;
            }
            let changed = outermost(changed);
            if changed.len() > MAX_CHANGED {
                return None;
            }
            Some(Answer {
                changed,
                gitlinks: tree.gitlinks,
                foreign,
                touched,
                just_written,
            })
        }

        pub(super) fn tree_mut(&mut self, key: (u64, u64)) -> Option<&mut Tree> {
            self.trees.get_mut(&key)
        }

        pub(super) fn forget(&mut self, root: &Path) {
            let Some(key) = self.locate(root) else {
                return;
            };
            self.drain();
            self.trees.remove(&key);
            let gone: Vec<WatchDescriptor> = self
                .dirs
                .iter()
                .filter(|(_, (k, _))| *k == key)
                .map(|(wd, _)| *wd)
                .collect();
            for wd in gone {
                self.dirs.remove(&wd);
                let _ = self.inotify.rm_watch(wd);
            }
            // The removals' own events.
            self.drain();
        }

        /// Reads every event the kernel holds and applies it.
        pub(super) fn drain(&mut self) {
            loop {
                match self.inotify.read_events() {
                    Ok(events) if events.is_empty() => return,
                    Ok(events) => {
                        for event in events {
                            self.apply(event);
                        }
                    }
                    Err(Errno::EAGAIN) => return,
                    Err(Errno::EINTR) => continue,
                    Err(e) => {
                        tracing::debug!(target: "gaffer_git", error = %e, "cannot read the tree watch's events");
                        for tree in self.trees.values_mut() {
                            tree.lose();
                        }
                        return;
                    }
                }
            }
        }

        fn apply(&mut self, event: InotifyEvent) {
            let mask = event.mask;
            if mask.contains(AddWatchFlags::IN_Q_OVERFLOW) {
                for tree in self.trees.values_mut() {
                    tree.lose();
                }
                return;
            }
            let Some((key, rel)) = self.dirs.get(&event.wd).cloned() else {
                return;
            };
            if mask.contains(AddWatchFlags::IN_IGNORED) {
                self.dirs.remove(&event.wd);
                if rel.is_empty() {
                    // The worktree itself is gone: its inode may be reused by another
                    // directory, which must not inherit what is known of this one.
                    self.trees.remove(&key);
                } else if let Some(tree) = self.trees.get_mut(&key) {
                    tree.watches = tree.watches.saturating_sub(1);
                }
                return;
            }
            let Some(tree) = self.trees.get_mut(&key) else {
                return;
            };
            if mask.intersects(AddWatchFlags::IN_MOVE_SELF | AddWatchFlags::IN_DELETE_SELF) {
                // The top moving is a worktree moved (by gaffer); a directory under it moved
                // away keeps watches that name its old path.
                if !rel.is_empty() && mask.contains(AddWatchFlags::IN_MOVE_SELF) {
                    tree.lose();
                }
                return;
            }
            let Some(name) = event.name.as_ref().and_then(|n| n.to_str()) else {
                // An event on the directory itself (its mode, its times): git does not track
                // directories. A name that is not UTF-8 cannot be handed to git by us.
                if event.name.is_some() {
                    tree.lose();
                }
                return;
            };
            let path = if rel.is_empty() {
                name.to_owned()
            } else {
                format!("{rel}/{name}")
            };
            if rel.is_empty() && name == ".git" {
                return;
            }
            let Some(changed) = tree.changed.as_mut() else {
                return;
            };
            // Under a directory already listed (one made since the clean point, say): that
            // directory stands for it.
            let listed_above = path
                .match_indices('/')
                .any(|(at, _)| changed.contains(&path[..at]));
            if !listed_above {
                changed.insert(path.clone());
            }
            if !mask.contains(AddWatchFlags::IN_ISDIR)
                && mask.intersects(AddWatchFlags::IN_CREATE | AddWatchFlags::IN_MOVED_TO)
            {
                // A second name for a file: writes through one are reported under that name
                // only. A file with another name (here, or made while it lived) is not followed.
                use std::os::unix::fs::MetadataExt;
                if std::fs::symlink_metadata(tree.top.join(&path))
                    .is_ok_and(|meta| meta.is_file() && meta.nlink() > 1)
                {
                    tree.lose();
                    return;
                }
            }
            if mask.contains(AddWatchFlags::IN_ISDIR) {
                if mask.intersects(AddWatchFlags::IN_MOVED_FROM | AddWatchFlags::IN_MOVED_TO) {
                    tree.lose();
                } else if mask.contains(AddWatchFlags::IN_CREATE) {
                    // Watched at once, with what it already holds, for the clean points to
                    // come; the directory itself stands for all of it until then.
                    let dir = tree.top.join(&path);
                    if !self.watch_dir(key, &dir, path, true)
                        && let Some(tree) = self.trees.get_mut(&key)
                    {
                        tree.lose();
                    }
                }
            }
        }
    }
}

#[cfg(not(target_os = "linux"))]
mod imp {
    use super::*;

    /// Without inotify nothing is followed: every operation looks at every file.
    #[derive(Debug)]
    pub(super) struct Inner;

    pub(super) fn spawn_reader(_: Weak<Mutex<Inner>>) {}

    impl Inner {
        pub(super) fn new() -> Option<Inner> {
            None
        }
        pub(super) fn clean_at(&mut self, _: &Path, _: &Oid, _: Option<bool>) {}
        pub(super) fn ours(&mut self, _: &Path, _: &Oid, _: bool, _: Option<bool>) {}
        pub(super) fn changed(&mut self, _: &Path, _: &Oid) -> Option<Answer> {
            None
        }
        pub(super) fn forget(&mut self, _: &Path) {}
        pub(super) fn locate(&mut self, _: &Path) -> Option<(u64, u64)> {
            None
        }
        pub(super) fn tree_mut(&mut self, _: (u64, u64)) -> Option<&mut Tree> {
            None
        }
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    // Helpers outside #[test] functions panic too.
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::fs;

    fn head(c: char) -> Oid {
        c.to_string().repeat(40).parse().unwrap()
    }

    fn tree() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for path in ["a/x", "b/c/y", "top.txt"] {
            let path = dir.path().join(path);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(path, "v1").unwrap();
        }
        dir
    }

    fn changed(watch: &TreeWatch, root: &Path) -> Option<Vec<String>> {
        watch.changed(root, &head('a')).map(|a| a.changed)
    }

    #[test]
    fn what_changed_under_a_watched_tree_is_listed_outermost_first() {
        let dir = tree();
        let root = dir.path();
        let watch = TreeWatch::new();
        watch.clean_at(root, &head('a'), Some(false));
        assert_eq!(changed(&watch, root), Some(vec![]));
        fs::write(root.join("a/x"), "v2").unwrap();
        fs::remove_file(root.join("b/c/y")).unwrap();
        fs::create_dir_all(root.join("new/deep")).unwrap();
        fs::write(root.join("new/deep/f"), "new").unwrap();
        fs::set_permissions(
            root.join("top.txt"),
            std::os::unix::fs::PermissionsExt::from_mode(0o755),
        )
        .unwrap();
        // The worktree's own `.git` file is not the tree's.
        fs::write(root.join(".git"), "gitdir: elsewhere\n").unwrap();
        assert_eq!(
            changed(&watch, root),
            Some(vec![
                "a/x".to_owned(),
                "b/c/y".to_owned(),
                "new".to_owned(),
                "top.txt".to_owned()
            ])
        );
        // HEAD elsewhere than gaffer left it: not known.
        assert!(watch.changed(root, &head('b')).is_none());
    }

    #[test]
    fn a_directory_made_before_a_clean_point_is_watched_after_it() {
        let dir = tree();
        let root = dir.path();
        let watch = TreeWatch::new();
        watch.clean_at(root, &head('a'), Some(false));
        fs::create_dir_all(root.join("n/m")).unwrap();
        watch.clean_at(root, &head('a'), Some(false));
        fs::write(root.join("n/m/f"), "x").unwrap();
        assert_eq!(changed(&watch, root), Some(vec!["n/m/f".to_owned()]));
    }

    #[test]
    fn a_renamed_directory_loses_track_until_the_next_clean_point() {
        let dir = tree();
        let root = dir.path();
        let watch = TreeWatch::new();
        watch.clean_at(root, &head('a'), Some(false));
        fs::rename(root.join("b"), root.join("b2")).unwrap();
        assert_eq!(changed(&watch, root), None);
        watch.clean_at(root, &head('a'), Some(false));
        fs::write(root.join("b2/c/y"), "v2").unwrap();
        assert_eq!(changed(&watch, root), Some(vec!["b2/c/y".to_owned()]));
    }

    #[test]
    fn a_moved_worktree_is_followed_and_a_deleted_one_forgotten() {
        let dir = tree();
        let parent = tempfile::tempdir().unwrap();
        let moved = parent.path().join("moved");
        let watch = TreeWatch::new();
        watch.clean_at(dir.path(), &head('a'), Some(false));
        fs::rename(dir.path(), &moved).unwrap();
        fs::create_dir(moved.join("later")).unwrap();
        assert_eq!(changed(&watch, &moved), Some(vec!["later".to_owned()]));
        fs::write(moved.join("later/f"), "x").unwrap();
        fs::remove_dir_all(&moved).unwrap();
        // A directory made where (and perhaps with the inode) the deleted one was is not it.
        fs::create_dir(&moved).unwrap();
        assert_eq!(changed(&watch, &moved), None);
        // Nor is an unwatched directory, or anything after `forget`.
        watch.clean_at(&moved, &head('a'), Some(false));
        watch.forget(&moved);
        assert_eq!(changed(&watch, &moved), None);
    }

    #[test]
    fn a_disabled_watch_never_answers() {
        let dir = tree();
        let watch = TreeWatch::disabled();
        watch.clean_at(dir.path(), &head('a'), Some(false));
        assert_eq!(changed(&watch, dir.path()), None);
        assert!(!watch.is_active());
    }

    #[test]
    fn outermost_drops_what_a_listed_directory_holds() {
        let set: BTreeSet<String> = ["a", "a-b", "a/c", "a/c/d", "b/x", "bb"]
            .into_iter()
            .map(str::to_owned)
            .collect();
        assert_eq!(outermost(&set), vec!["a", "a-b", "b/x", "bb"]);
    }
}
