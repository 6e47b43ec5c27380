//! Following the event log: replay what is stored after a position, then go live, with no gap
//! and no duplicate.
//!
//! The store is the only source: the follower reads `events_after(last_sent)` in batches and
//! remembers the last sequence number it handed out. It reads again whenever the server signals
//! a write of its own and, because other processes (the CLI, the engine's workers) write the same
//! store directly, also on a short poll. Nothing is ever pushed into the stream from memory,
//! so a slow reader can fall behind but cannot lose events, and a reconnecting one resumes
//! exactly where it stopped.
//!
//! This relies on the store making events visible in sequence order (SQLite serializes its
//! writers, so a reader never sees event 11 before event 10 is committed).

use futures::Stream;
use gaffer_core::{Event, Seq};
use gaffer_store::{EventFilter, Store};
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

/// Events read from the store at once.
const BATCH: usize = 500;
/// How often the store is read when nothing signals a write.
const POLL: Duration = Duration::from_millis(100);
/// How long to wait after the store failed before reading it again.
const BACKOFF: Duration = Duration::from_secs(1);

/// The stream of events after `after` that match `filter`, oldest first; it ends when `closing`
/// is cancelled. `changes` is a hint that the store has new events (read them now rather than at
/// the next poll).
pub fn follow(
    store: Arc<dyn Store>,
    filter: EventFilter,
    after: Seq,
    changes: watch::Receiver<u64>,
    closing: CancellationToken,
) -> impl Stream<Item = Event> + Send + 'static {
    let follower = Follower {
        store,
        filter,
        last: after,
        pending: VecDeque::new(),
        changes,
        changes_open: true,
        closing,
    };
    futures::stream::unfold(follower, Follower::next)
}

struct Follower {
    store: Arc<dyn Store>,
    filter: EventFilter,
    /// The last sequence number read from the store (and handed out, once `pending` is empty).
    last: Seq,
    pending: VecDeque<Event>,
    changes: watch::Receiver<u64>,
    /// False once the sender is gone: then only the poll wakes the follower.
    changes_open: bool,
    closing: CancellationToken,
}

impl Follower {
    async fn next(mut self) -> Option<(Event, Follower)> {
        loop {
            if self.closing.is_cancelled() {
                return None;
            }
            if let Some(event) = self.pending.pop_front() {
                return Some((event, self));
            }
            // Mark the current change as seen before reading, so that a write landing during
            // the read wakes the next wait instead of being missed.
            self.changes.borrow_and_update();
            match self.read().await {
                Ok(events) if events.is_empty() => self.wait(POLL).await?,
                Ok(events) => {
                    if let Some(last) = events.last() {
                        self.last = last.seq;
                    }
                    self.pending.extend(events);
                }
                Err(message) => {
                    tracing::warn!("reading events for a stream failed: {message}");
                    self.wait(BACKOFF).await?;
                }
            }
        }
    }

    async fn read(&self) -> Result<Vec<Event>, String> {
        let store = Arc::clone(&self.store);
        let filter = self.filter.clone();
        let after = self.last;
        tokio::task::spawn_blocking(move || store.events_after(after, BATCH, &filter))
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| e.to_string())
    }

    /// Waits for a write signal or `delay`; `None` when the stream should end.
    async fn wait(&mut self, delay: Duration) -> Option<()> {
        let open = self.changes_open;
        tokio::select! {
            _ = self.closing.cancelled() => return None,
            changed = self.changes.changed(), if open => {
                if changed.is_err() {
                    self.changes_open = false;
                }
            }
            _ = tokio::time::sleep(delay) => {}
        }
        Some(())
    }
}
