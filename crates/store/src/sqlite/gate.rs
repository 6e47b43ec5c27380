//! What the handles of this process on one database file share: the turn to write, and a
//! checkpointer.
//!
//! **The turn to write.** SQLite lets one connection write at a time; the others get
//! SQLITE_BUSY and their busy handler sleeps and tries again ([`super::retry`]). Between
//! processes that is all there is. Within one process, though, the handles on one file (a
//! CLI command beside the daemon's server, tests, the bench's claimers) can wait for each other
//! properly: each write transaction first takes the file's gate, a mutex shared by every handle
//! of this process on that file (a process-wide registry keyed by canonical path, as for
//! [`super::changes`]). A writer that waits on the gate is handed the turn the moment the
//! previous one commits, in the order the writers came, instead of sleeping in SQLite's busy
//! handler while the lock sits free. The time a writer waits in line counts against its budget
//! for waiting on the database ([`super::retry::WRITE_BUDGET`]): it leaves the line when that
//! runs out, and retries only while some is left. Readers never take it (in WAL mode they do not block the
//! writer).
//!
//! **Checkpoints off the writers' path.** A checkpoint copies the WAL back into the database
//! and is the one place where `synchronous=NORMAL` calls fsync (on the WAL, then on the
//! database). SQLite's automatic checkpoint runs inside the commit of the writer that crossed
//! the threshold, while that writer still holds its handle and the gate: every other writer of
//! the process waits for two fsyncs and the copy (tens of milliseconds on a busy disk, which
//! was most of the claims' p99). Here a thread per file and process does it instead, on a
//! connection of its own, woken every [`WAKE_EVERY`] commits of this process (or each second
//! after some): a passive checkpoint that writers do not wait for. A passive checkpoint never
//! catches up with writers that never pause, and SQLite starts the WAL over only once it has,
//! so when the WAL passes [`CATCH_UP_PAGES`] the thread checkpoints once more holding the gate:
//! only the frames written since, and fsyncs with little left to flush. The writers' own
//! automatic checkpoint stays, at a higher mark ([`super::connection`]), for a process whose
//! thread could not open the file.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, channel};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, Weak};
use std::time::{Duration, Instant};

/// Commits of this process on a file between two wake-ups of its checkpointer (a job's claim
/// and completion write about 8 pages each: roughly every 1,000 pages).
const WAKE_EVERY: u64 = 128;

/// WAL pages beyond which the checkpointer takes the gate to catch up (16 MiB).
pub(super) const CATCH_UP_PAGES: i64 = 4_096;

/// How long the checkpointer sleeps when nothing wakes it.
const IDLE: Duration = Duration::from_secs(1);

/// What the handles of this process on one file share.
struct Shared {
    turn: Turn,
    commits: AtomicU64,
    /// Wakes the checkpointer; dropped with the last handle, which ends it.
    wake: Mutex<Sender<()>>,
    /// Alive while the checkpointer thread runs (the tests watch it end).
    #[cfg(test)]
    checkpointer: Mutex<Weak<()>>,
}

/// A handle's place among the handles of this process on its file.
pub(super) struct Gate(Arc<Shared>);

/// The turn to write, handed from one writer to the next in the order they came: a writer
/// that just let it go and comes straight back queues behind those already waiting (with a
/// plain mutex it took the turn again and again while they waited).
#[derive(Default)]
struct Turn {
    state: Mutex<TurnState>,
}

#[derive(Default)]
struct TurnState {
    held: bool,
    line: std::collections::VecDeque<Arc<Waiter>>,
}

/// A writer waiting in line, told when the turn is its.
#[derive(Default)]
struct Waiter {
    go: Mutex<bool>,
    called: std::sync::Condvar,
}

/// Held while a write transaction runs; passes the turn on when dropped.
pub(super) struct Entered<'a> {
    turn: &'a Turn,
}

impl Turn {
    fn enter(&self) -> Entered<'_> {
        let waiter = {
            let mut state = locked(&self.state);
            if !state.held {
                state.held = true;
                return Entered { turn: self };
            }
            let waiter = Arc::new(Waiter::default());
            state.line.push_back(Arc::clone(&waiter));
            waiter
        };
        let mut go = locked(&waiter.go);
        while !*go {
            go = waiter
                .called
                .wait(go)
                .unwrap_or_else(|poisoned| poisoned.into_inner());
        }
        Entered { turn: self }
    }

    /// [`Turn::enter`], waiting no longer than `budget`: `None` if the turn did not come.
    fn enter_within(&self, budget: Duration) -> Option<Entered<'_>> {
        let deadline = Instant::now() + budget;
        let waiter = {
            let mut state = locked(&self.state);
            if !state.held {
                state.held = true;
                return Some(Entered { turn: self });
            }
            let waiter = Arc::new(Waiter::default());
            state.line.push_back(Arc::clone(&waiter));
            waiter
        };
        let mut go = locked(&waiter.go);
        while !*go {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                drop(go);
                let mut state = locked(&self.state);
                if let Some(at) = state.line.iter().position(|w| Arc::ptr_eq(w, &waiter)) {
                    state.line.remove(at);
                    return None;
                }
                // Handed the turn just now (under the state's lock, so it is ours): take it.
                return Some(Entered { turn: self });
            }
            go = waiter
                .called
                .wait_timeout(go, left)
                .map(|(go, _)| go)
                .unwrap_or_else(|poisoned| poisoned.into_inner().0);
        }
        Some(Entered { turn: self })
    }

    /// The turn if it is free now (no writer holds it or waits for it), else `None`.
    fn try_enter(&self) -> Option<Entered<'_>> {
        let mut state = locked(&self.state);
        if state.held {
            return None;
        }
        state.held = true;
        Some(Entered { turn: self })
    }

    #[cfg(test)]
    fn is_held(&self) -> bool {
        locked(&self.state).held
    }
}

impl Drop for Entered<'_> {
    fn drop(&mut self) {
        let mut state = locked(&self.turn.state);
        match state.line.pop_front() {
            // Handed over: the turn stays held, by the next in line.
            Some(next) => {
                *locked(&next.go) = true;
                next.called.notify_one();
            }
            None => state.held = false,
        }
    }
}

fn locked<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // Nothing is guarded but the turn, a sender and the registry: a panic leaves them usable.
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Every open file's shared part, by canonical path.
fn registry() -> &'static Mutex<HashMap<PathBuf, Weak<Shared>>> {
    static FILES: OnceLock<Mutex<HashMap<PathBuf, Weak<Shared>>>> = OnceLock::new();
    FILES.get_or_init(Mutex::default)
}

impl Gate {
    /// The gate of the file at `path` (which exists: it was just opened), starting its
    /// checkpointer if this is the first handle of the process on it. A path that does not
    /// canonicalize (an in-memory database, a URI) gets a gate of its own and no checkpointer.
    pub(super) fn join(path: &Path) -> Gate {
        let Ok(key) = std::fs::canonicalize(path) else {
            let (wake, _) = channel();
            return Gate(Arc::new(Shared::new(wake)));
        };
        let mut files = locked(registry());
        files.retain(|_, shared| shared.strong_count() > 0);
        if let Some(shared) = files.get(&key).and_then(Weak::upgrade) {
            return Gate(shared);
        }
        let (wake, woken) = channel();
        let shared = Arc::new(Shared::new(wake));
        files.insert(key.clone(), Arc::downgrade(&shared));
        let weak = Arc::downgrade(&shared);
        #[cfg(test)]
        let alive = {
            let alive = Arc::new(());
            *locked(&shared.checkpointer) = Arc::downgrade(&alive);
            alive
        };
        let spawned = std::thread::Builder::new()
            .name("gaffer-sqlite-checkpoint".into())
            .spawn(move || {
                #[cfg(test)]
                let _alive = alive;
                checkpointer(&key, &woken, &weak);
            });
        if let Err(e) = spawned {
            tracing::warn!("no checkpointer thread ({e}); writers checkpoint the WAL themselves");
        }
        Gate(shared)
    }

    /// Waits for this process's turn to write the file, for what is left of a write's budget
    /// ([`super::retry::WRITE_BUDGET`]) since it `started`; `None` if it did not come by then.
    pub(super) fn enter_since(&self, started: Instant) -> Option<Entered<'_>> {
        let left = super::retry::WRITE_BUDGET.saturating_sub(started.elapsed());
        self.0.turn.enter_within(left)
    }

    /// This process's turn to write the file if no one holds it or waits for it: a writer
    /// that already had its turn takes another only if it keeps no one waiting.
    pub(super) fn try_enter(&self) -> Option<Entered<'_>> {
        self.0.turn.try_enter()
    }

    /// A write transaction committed: every [`WAKE_EVERY`] of them, the checkpointer is woken.
    pub(super) fn committed(&self) {
        let n = self.0.commits.fetch_add(1, Ordering::Relaxed) + 1;
        if n.is_multiple_of(WAKE_EVERY) {
            // A checkpointer that is gone (it could not start) is no error.
            let _ = locked(&self.0.wake).send(());
        }
    }
}

impl Shared {
    fn new(wake: Sender<()>) -> Shared {
        Shared {
            turn: Turn::default(),
            commits: AtomicU64::new(0),
            wake: Mutex::new(wake),
            #[cfg(test)]
            checkpointer: Mutex::default(),
        }
    }
}

/// The checkpointer of the file at `path`: runs until the last handle of the process on the
/// file is dropped.
fn checkpointer(path: &Path, woken: &Receiver<()>, shared: &Weak<Shared>) {
    let mut conn: Option<rusqlite::Connection> = None;
    let mut seen = 0;
    loop {
        match woken.recv_timeout(IDLE) {
            Ok(()) | Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => return,
        }
        while woken.try_recv().is_ok() {}
        let Some(commits) = shared.upgrade().map(|s| s.commits.load(Ordering::Relaxed)) else {
            return;
        };
        if commits == seen {
            continue;
        }
        seen = commits;
        if conn.is_none() {
            conn = match super::connection::open_for_checkpoints(path) {
                Ok(c) => Some(c),
                Err(e) => {
                    tracing::warn!(path = %path.display(), "the checkpointer cannot open the database: {e:?}");
                    return;
                }
            };
        }
        let Some(c) = &conn else { return };
        match checkpoint(c) {
            Ok(pages) if pages >= CATCH_UP_PAGES => {
                let Some(shared) = shared.upgrade() else {
                    return;
                };
                let _turn = shared.turn.enter();
                if let Err(e) = checkpoint(c) {
                    tracing::debug!("checkpoint: {e}");
                }
            }
            Ok(_) => {}
            Err(e) => tracing::debug!("checkpoint: {e}"),
        }
    }
}

/// A passive checkpoint; the WAL's length in pages before it.
fn checkpoint(conn: &rusqlite::Connection) -> rusqlite::Result<i64> {
    conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| r.get(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handles_on_one_file_share_a_gate_and_other_files_do_not() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a.db"), dir.path().join("b.db"));
        std::fs::write(&a, b"").unwrap();
        std::fs::write(&b, b"").unwrap();
        let (first, second) = (Gate::join(&a), Gate::join(&dir.path().join("./a.db")));
        let other = Gate::join(&b);
        assert!(Arc::ptr_eq(&first.0, &second.0));
        assert!(!Arc::ptr_eq(&first.0, &other.0));
        let turn = first.0.turn.enter();
        assert!(second.0.turn.is_held(), "the second handle waits");
        assert!(!other.0.turn.is_held(), "another file does not");
        drop(turn);
        assert!(!second.0.turn.is_held());
    }

    #[test]
    fn the_checkpointer_ends_when_the_last_handle_of_its_file_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("board.db");
        let store = crate::SqliteStore::open_default(&path).unwrap();
        let other = crate::SqliteStore::open_default(&path).unwrap();
        let alive = locked(&Gate::join(&path).0.checkpointer).clone();
        assert!(
            alive.upgrade().is_some(),
            "a checkpointer runs for the file"
        );
        drop(store);
        std::thread::sleep(Duration::from_millis(50));
        assert!(alive.upgrade().is_some(), "it runs while a handle is open");
        drop(other);
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while alive.upgrade().is_some() {
            assert!(
                std::time::Instant::now() < deadline,
                "the checkpointer outlived the last handle of its file"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    #[test]
    fn a_writer_leaves_the_line_when_its_budget_runs_out_and_the_turn_goes_on() {
        let turn = Arc::new(Turn::default());
        let held = turn.enter();
        assert!(
            turn.enter_within(Duration::from_millis(20)).is_none(),
            "the turn did not come in time"
        );
        let next = {
            let turn = Arc::clone(&turn);
            std::thread::spawn(move || turn.enter_within(Duration::from_secs(10)).is_some())
        };
        while locked(&turn.state).line.is_empty() {
            std::thread::yield_now();
        }
        assert_eq!(
            locked(&turn.state).line.len(),
            1,
            "the writer that gave up left the line"
        );
        drop(held);
        assert!(next.join().unwrap(), "the turn went to the next in line");
        assert!(!turn.is_held());
    }
}
