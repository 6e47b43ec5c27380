//! The follower: the one reader of the event log in a daemon.

use crate::{BACKOFF, FAST_FOR, FeedOptions, IDLE_TICK, Shared, pause, read};
use futures::FutureExt;
use gaffer_store::EventFilter;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

/// How often a follower with no subscription on the broadcast checks that its feed is still
/// there. It reads nothing then: a new subscription wakes it.
const IDLE_CHECK: Duration = Duration::from_secs(1);

/// The follower's tick: fast while events come, slower and slower when nothing happens.
#[derive(Debug)]
pub(crate) struct Pace {
    fast: Duration,
    slowest: Duration,
    heard: Duration,
    /// The last event read or wake.
    active_at: Instant,
    /// The last idle tick, doubled at each further one.
    idle: Duration,
}

impl Pace {
    pub(crate) fn new(options: &FeedOptions, now: Instant) -> Pace {
        Pace {
            fast: options.tick,
            slowest: IDLE_TICK.max(options.tick),
            heard: options.heard_tick,
            active_at: now,
            idle: options.tick,
        }
    }

    /// An event was read, or a write announced, or a subscription joined: the fast tick again.
    pub(crate) fn stir(&mut self, now: Instant) {
        self.active_at = now;
        self.idle = self.fast;
    }

    /// How long to wait for a wake before reading the store again. A store that hears every
    /// writer keeps its safety-net tick; one that does not keeps the fast tick for
    /// [`FAST_FOR`] after the last activity, then doubles it at each tick up to [`IDLE_TICK`].
    pub(crate) fn tick(&mut self, hears_others: bool, now: Instant) -> Duration {
        if hears_others {
            return self.heard;
        }
        if now.saturating_duration_since(self.active_at) < FAST_FOR {
            self.idle = self.fast;
            return self.fast;
        }
        self.idle = (self.idle * 2).min(self.slowest);
        self.idle
    }
}

/// Clears the feed's running mark when the follower ends, however it ends (returned, panicked
/// past its recovery, or dropped with its runtime), and tells the waiting subscriptions, so
/// that they start it again.
struct Running {
    feed: Weak<Shared>,
    generation: u64,
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(shared) = self.feed.upgrade() {
            let _ = shared.running.compare_exchange(
                self.generation,
                0,
                Ordering::AcqRel,
                Ordering::Acquire,
            );
            shared.stopped.notify_waiters();
        }
    }
}

/// Reads every new event once and broadcasts it, until the feed is closed or gone. A panic
/// while following is logged and the follower goes on from the last event it broadcast.
///
/// It holds the feed only weakly, so that dropping the last handle and subscription ends it.
pub(crate) async fn follow(feed: Weak<Shared>, generation: u64) {
    let _running = Running {
        feed: feed.clone(),
        generation,
    };
    loop {
        match AssertUnwindSafe(follow_once(&feed)).catch_unwind().await {
            Ok(()) => return,
            Err(_) => {
                tracing::error!("the event feed's follower panicked; it starts again");
                let Some(closing) = feed.upgrade().map(|shared| shared.closing.clone()) else {
                    return;
                };
                if !pause(&closing, Duration::from_millis(50)).await {
                    return;
                }
            }
        }
    }
}

async fn follow_once(feed: &Weak<Shared>) {
    let Some((store, wake, closing, options, resumed)) = feed.upgrade().map(|shared| {
        (
            Arc::clone(&shared.store),
            Arc::clone(&shared.wake),
            shared.closing.clone(),
            shared.options,
            *shared.head.borrow(),
        )
    }) else {
        return;
    };
    // Where the log ends now: what comes after is broadcast. A follower started again (it
    // panicked, or its runtime went away) goes on from where it was.
    let mut last = loop {
        if let Some(seq) = resumed {
            break seq;
        }
        match read(&store, |s| s.last_seq()).await {
            Ok(seq) => {
                let Some(shared) = feed.upgrade() else { return };
                shared.head.send_replace(Some(seq));
                break seq;
            }
            Err(message) => {
                tracing::warn!("the event feed cannot read where the log ends: {message}");
                if !pause(&closing, BACKOFF).await {
                    return;
                }
            }
        }
    };
    let all = EventFilter::default();
    let mut pace = Pace::new(&options, Instant::now());
    loop {
        if closing.is_cancelled() {
            return;
        }
        let after = last;
        let filter = all.clone();
        let batch = options.batch;
        match read(&store, move |s| s.events_after(after, batch, &filter)).await {
            Ok(events) => {
                let full = events.len() >= batch;
                let Some(shared) = feed.upgrade() else { return };
                if let Some(newest) = events.last() {
                    last = newest.seq;
                    pace.stir(Instant::now());
                }
                for event in events {
                    // No subscriber is no error: the event is in the store for later ones.
                    let _ = shared.sender.send(Arc::new(event));
                }
                if last != after {
                    shared.head.send_replace(Some(last));
                }
                drop(shared);
                if full {
                    continue;
                }
            }
            Err(message) => {
                tracing::warn!("the event feed cannot read the event log: {message}");
                if !pause(&closing, BACKOFF).await {
                    return;
                }
                continue;
            }
        }
        // Waits for a wake, or for the tick while a subscription takes the broadcast. With
        // none, it reads nothing until woken (a write through the store, a subscription
        // joining). A write announced while reading left a permit: the wait returns at once.
        loop {
            let tick = {
                let Some(shared) = feed.upgrade() else { return };
                (shared.sender.receiver_count() > 0)
                    .then(|| pace.tick(store.hears_other_processes(), Instant::now()))
            };
            tokio::select! {
                () = closing.cancelled() => return,
                () = wake.notified() => {
                    pace.stir(Instant::now());
                    break;
                }
                () = tokio::time::sleep(tick.unwrap_or(IDLE_CHECK)) => {
                    if feed.strong_count() == 0 {
                        return;
                    }
                    if tick.is_some() {
                        break;
                    }
                }
            }
        }
    }
}
