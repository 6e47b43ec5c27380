//! The event log, followed once per daemon and pushed to every stream.
//!
//! A daemon has many readers of the event log: every SSE client of the dashboard, `gaffer feed
//! -f` and the shell (through SSE), the notifier. Each used to read the store on its own, on a
//! poll: one query per reader per tick, and a delivery as late as the tick. An [`EventFeed`]
//! reads the log **once** for the whole daemon and hands each new event to every
//! [`Subscription`]:
//!
//! - **The follower** (one tokio task per feed, started by the first subscription) reads
//!   `events_after(last)` whenever the store says a transaction appended events
//!   ([`gaffer_store::Store::subscribe`]: at once for this process's writes on SQLite, and for
//!   every process's and host's on PostgreSQL through LISTEN/NOTIFY), and on a short tick
//!   ([`FeedOptions::tick`]) for what the store cannot tell it of: other processes writing the
//!   same SQLite file (`gaffer task add` while the daemon runs). One query per commit, or per
//!   tick when nothing happens, whatever the number of readers. It broadcasts each event, in
//!   sequence order, as an `Arc<Event>` (`tokio::sync::broadcast`, [`FeedOptions::capacity`]).
//! - **A subscription** starts at any position. It joins the broadcast *first*, then reads
//!   its backlog from the store (`events_after(position)`, page by page), then takes the
//!   broadcast, dropping whatever it already had (a sequence number not above its position):
//!   an event committed before the store read is in the backlog, one committed after it is
//!   broadcast after the subscription joined, so none is lost at the seam and none repeats.
//!   A subscription that falls more than the capacity behind (a slow client) is told so by
//!   the broadcast; it leaves it and does the same again from its position: it reads what it
//!   missed from the store. It never loses an event, never gets one twice, and never holds up
//!   the follower or the other subscriptions (the broadcast never waits for a reader).
//! - **Filters** (project, task, run, kind prefix: [`gaffer_store::EventFilter`]) apply per
//!   subscription, to its store reads and, with [`gaffer_store::EventFilter::matches`], to
//!   what it takes from the broadcast.
//!
//! This relies on the store making events visible in sequence order (SQLite serializes its
//! writers; PostgreSQL's seq counter makes its writers commit in seq order), so that reading
//! "after the last one read" never skips one.

mod follower;
mod subscription;

#[cfg(test)]
mod tests;

pub use subscription::Subscription;

use gaffer_core::{Event, Seq};
use gaffer_store::{Change, EventFilter, Store};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::sync::{Notify, broadcast, watch};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// How often the follower reads the store when nothing told it of a write, on a store that
/// does not hear other processes (SQLite), while events come (for [`FAST_FOR`] after the last
/// event or wake): the longest another process's event waits then.
pub const DEFAULT_TICK: Duration = Duration::from_millis(10);
/// How long the follower keeps its fast tick after the last event it read or the last wake;
/// after that its tick doubles up to [`IDLE_TICK`].
pub const FAST_FOR: Duration = Duration::from_secs(2);
/// The longest tick of an idle follower on a store that does not hear other processes (or
/// the fast tick, when that is longer).
pub const IDLE_TICK: Duration = Duration::from_millis(500);
/// The tick on a store that hears every writer (PostgreSQL): a safety net, and the only path
/// while the store's listener is down.
pub const DEFAULT_HEARD_TICK: Duration = Duration::from_millis(250);
/// Events the broadcast holds for subscriptions that are behind; one further behind reads
/// from the store.
pub const DEFAULT_CAPACITY: usize = 1024;
/// The bounds of [`FeedOptions::capacity`].
pub const CAPACITY_RANGE: std::ops::RangeInclusive<usize> = 16..=65_536;
/// Events read from the store at once.
pub const DEFAULT_BATCH: usize = 500;
/// The bounds of [`FeedOptions::batch`].
pub const BATCH_RANGE: std::ops::RangeInclusive<usize> = 1..=10_000;
/// The shortest tick: a zero tick must not spin.
pub const MIN_TICK: Duration = Duration::from_millis(1);
/// How long to wait after the store failed before reading it again.
const BACKOFF: Duration = Duration::from_secs(1);

/// How a feed reads the store and how much it keeps in memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FeedOptions {
    /// The follower's tick when the store does not hear other processes
    /// ([`gaffer_store::Store::hears_other_processes`]).
    pub tick: Duration,
    /// The follower's tick when it does.
    pub heard_tick: Duration,
    /// Events held for subscriptions that are behind (within [`CAPACITY_RANGE`]).
    pub capacity: usize,
    /// Events read from the store at once (within [`BATCH_RANGE`]).
    pub batch: usize,
}

impl FeedOptions {
    /// The options brought within their bounds: ticks of at least [`MIN_TICK`], capacity in
    /// [`CAPACITY_RANGE`], batch in [`BATCH_RANGE`].
    pub fn clamped(self) -> FeedOptions {
        FeedOptions {
            tick: self.tick.max(MIN_TICK),
            heard_tick: self.heard_tick.max(MIN_TICK),
            capacity: self
                .capacity
                .clamp(*CAPACITY_RANGE.start(), *CAPACITY_RANGE.end()),
            batch: self.batch.clamp(*BATCH_RANGE.start(), *BATCH_RANGE.end()),
        }
    }
}

impl Default for FeedOptions {
    fn default() -> Self {
        FeedOptions {
            tick: DEFAULT_TICK,
            heard_tick: DEFAULT_HEARD_TICK,
            capacity: DEFAULT_CAPACITY,
            batch: DEFAULT_BATCH,
        }
    }
}

/// The event log of one store, followed once and fanned out. Cheap to clone: clones share the
/// follower. The follower starts with the first [`Subscription::next`] (on that task's tokio
/// runtime) and ends when [`EventFeed::close`] is called or every clone and subscription is
/// gone.
#[derive(Clone)]
pub struct EventFeed {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for EventFeed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventFeed")
            .field("options", &self.shared.options)
            .field("head", &*self.shared.head.borrow())
            .finish_non_exhaustive()
    }
}

/// What the feed's handles, its subscriptions and its follower share.
pub(crate) struct Shared {
    store: Arc<dyn Store>,
    options: FeedOptions,
    /// Every event the follower read, once, in sequence order.
    sender: broadcast::Sender<Arc<Event>>,
    /// The last sequence number the follower read (and broadcast); `None` until it has read
    /// where the log ends. Subscriptions read their backlog only after that, so the follower
    /// broadcasts everything their backlog does not hold.
    head: watch::Sender<Option<Seq>>,
    /// Poked by the store's listener and by [`EventFeed::wake`]: read now.
    wake: Arc<Notify>,
    closing: CancellationToken,
    follower: Mutex<Option<JoinHandle<()>>>,
    /// The generation of the running follower, 0 when none runs: checked without the lock on
    /// every `next`. The follower clears it when it ends, however it ends (a drop guard: its
    /// runtime went away, or it panicked past its own recovery).
    running: AtomicU64,
    /// The last generation started (under the `follower` lock).
    generation: AtomicU64,
    /// Poked when the follower ends: subscriptions waiting on the broadcast start it again.
    stopped: Notify,
}

impl Drop for Shared {
    fn drop(&mut self) {
        // The follower holds the feed only weakly; it ends at once rather than at its tick.
        self.closing.cancel();
    }
}

fn locked<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A join handle stays valid whatever panicked while it was held.
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl EventFeed {
    /// The feed of `store`, with the default options.
    pub fn new(store: Arc<dyn Store>) -> EventFeed {
        EventFeed::with_options(store, FeedOptions::default())
    }

    /// The feed of `store`. It registers a listener on the store (for as long as the store
    /// lives; it holds nothing of the feed but a weak reference).
    pub fn with_options(store: Arc<dyn Store>, options: FeedOptions) -> EventFeed {
        let options = options.clamped();
        let wake = Arc::new(Notify::new());
        let weak = Arc::downgrade(&wake);
        store.subscribe(Arc::new(move |change: Change| {
            if change == Change::Events
                && let Some(wake) = weak.upgrade()
            {
                wake.notify_one();
            }
        }));
        let (sender, _) = broadcast::channel(options.capacity);
        let (head, _) = watch::channel(None);
        EventFeed {
            shared: Arc::new(Shared {
                store,
                options,
                sender,
                head,
                wake,
                closing: CancellationToken::new(),
                follower: Mutex::new(None),
                running: AtomicU64::new(0),
                generation: AtomicU64::new(0),
                stopped: Notify::new(),
            }),
        }
    }

    /// The store the feed follows.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.shared.store
    }

    /// The events after `after` that match `filter`, oldest first: the stored ones, then the
    /// new ones as they are committed.
    pub fn subscribe(&self, filter: EventFilter, after: Seq) -> Subscription {
        Subscription::new(Arc::clone(&self.shared), filter, after)
    }

    /// Tells the follower to read now: for a write the store does not announce. Writes through
    /// the store are announced already.
    pub fn wake(&self) {
        self.shared.wake.notify_one();
    }

    /// The last sequence number the follower has read; `None` before it read the log's end.
    pub fn head(&self) -> Option<Seq> {
        *self.shared.head.borrow()
    }

    /// Stops the follower; every subscription ends (its `next` returns `None`).
    pub fn close(&self) {
        self.shared.closing.cancel();
    }

    /// Whether the follower is running now.
    pub fn is_following(&self) -> bool {
        self.shared.running.load(Ordering::Acquire) != 0
    }
}

impl Shared {
    /// Starts the follower on the current runtime unless it runs, or the feed is closed. A
    /// follower that ended (its runtime went away) is started again, from where it was.
    fn ensure_following(self: &Arc<Self>) {
        if self.running.load(Ordering::Acquire) != 0 || self.closing.is_cancelled() {
            return;
        }
        let mut follower = locked(&self.follower);
        if self.running.load(Ordering::Acquire) != 0 {
            return;
        }
        // Subscriptions call this from their async `next`, so there is a runtime.
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let generation = self.generation.fetch_add(1, Ordering::AcqRel) + 1;
            self.running.store(generation, Ordering::Release);
            *follower = Some(runtime.spawn(follower::follow(Arc::downgrade(self), generation)));
        }
    }
}

/// Runs a store read on the blocking pool: the store is synchronous.
async fn read<T, F>(store: &Arc<dyn Store>, work: F) -> Result<T, String>
where
    F: FnOnce(&dyn Store) -> gaffer_store::Result<T> + Send + 'static,
    T: Send + 'static,
{
    let store = Arc::clone(store);
    tokio::task::spawn_blocking(move || work(store.as_ref()))
        .await
        .map_err(|e| format!("the store read stopped: {e}"))?
        .map_err(|e| e.to_string())
}

/// Sleeps `delay`; false when `closing` was cancelled meanwhile.
async fn pause(closing: &CancellationToken, delay: Duration) -> bool {
    tokio::select! {
        () = closing.cancelled() => false,
        () = tokio::time::sleep(delay) => true,
    }
}
