//! [`crate::Store::subscribe`] for SQLite: SQLite tells no one about commits, so the handles of
//! this process on one file share a hub (a process-wide registry keyed by the file's canonical
//! path), and each handle announces its own commits to the hub after they are durable. Other
//! processes are not heard; their waiters fall back to polling.

use crate::{Change, Listener};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, Weak};

/// What one committed transaction changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Touched {
    pub events: bool,
    pub jobs: bool,
}

impl Touched {
    pub const NONE: Touched = Touched {
        events: false,
        jobs: false,
    };
    pub const EVENTS: Touched = Touched {
        events: true,
        jobs: false,
    };
    pub const BOTH: Touched = Touched {
        events: true,
        jobs: true,
    };
}

/// The listeners of one handle.
type Listeners = Mutex<Vec<Listener>>;

/// The handles open on one file, each seen through its listeners (gone with the handle).
type Hub = Mutex<Vec<Weak<Listeners>>>;

/// One handle's place in its file's hub.
pub(super) struct Changes {
    own: Arc<Listeners>,
    hub: Arc<Hub>,
}

fn locked<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // The lists stay valid whatever panicked while one was held.
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Every open file's hub, by canonical path.
fn hubs() -> &'static Mutex<HashMap<PathBuf, Weak<Hub>>> {
    static HUBS: OnceLock<Mutex<HashMap<PathBuf, Weak<Hub>>>> = OnceLock::new();
    HUBS.get_or_init(Mutex::default)
}

impl Changes {
    /// Joins the hub of the file at `path` (which exists: it was just opened). A path that does
    /// not canonicalize (an in-memory database, a URI) gets a hub of its own.
    pub(super) fn join(path: &Path) -> Changes {
        let own = Arc::new(Listeners::default());
        let hub = match std::fs::canonicalize(path) {
            Ok(key) => {
                let mut hubs = locked(hubs());
                hubs.retain(|_, hub| hub.strong_count() > 0);
                match hubs.get(&key).and_then(Weak::upgrade) {
                    Some(hub) => hub,
                    None => {
                        let hub = Arc::new(Hub::default());
                        hubs.insert(key, Arc::downgrade(&hub));
                        hub
                    }
                }
            }
            Err(_) => Arc::new(Hub::default()),
        };
        {
            let mut handles = locked(&hub);
            handles.retain(|h| h.strong_count() > 0);
            handles.push(Arc::downgrade(&own));
        }
        Changes { own, hub }
    }

    pub(super) fn subscribe(&self, listener: Listener) {
        locked(&self.own).push(listener);
    }

    /// Tells every listener on this file what a committed transaction changed.
    pub(super) fn publish(&self, touched: Touched) {
        if touched == Touched::NONE {
            return;
        }
        // Copied out first: no lock is held while listeners run.
        let listeners: Vec<Listener> = locked(&self.hub)
            .iter()
            .filter_map(Weak::upgrade)
            .flat_map(|handle| locked(&handle).clone())
            .collect();
        for change in [
            (touched.events, Change::Events),
            (touched.jobs, Change::Jobs),
        ]
        .into_iter()
        .filter_map(|(on, change)| on.then_some(change))
        {
            for listener in &listeners {
                // The write has committed: a listener that panics must not make it look failed.
                let call = std::panic::AssertUnwindSafe(|| listener(change));
                if std::panic::catch_unwind(call).is_err() {
                    tracing::warn!(?change, "a store change listener panicked");
                }
            }
        }
    }
}
