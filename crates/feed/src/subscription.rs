//! One reader's view of the feed: its backlog from the store, then the broadcast.

use crate::{BACKOFF, Shared, pause, read};
use futures::Stream;
use gaffer_core::{Event, Seq};
use gaffer_store::EventFilter;
use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use tokio::sync::broadcast::{self, error::RecvError, error::TryRecvError};
use tokio_util::sync::CancellationToken;

/// The events after a position that match a filter, oldest first, each once: what the store
/// holds, then what the follower reads as it is committed (see the crate's documentation for
/// the seam). Made by [`crate::EventFeed::subscribe`].
pub struct Subscription {
    shared: Arc<Shared>,
    filter: EventFilter,
    /// Every event up to here has been handed out or does not match.
    position: Seq,
    /// Read from the store, not handed out yet.
    backlog: VecDeque<Event>,
    /// The broadcast, once the backlog was read up to the end of the log; `None` while the
    /// subscription must read the store (at first, after a full page, after falling behind).
    live: Option<broadcast::Receiver<Arc<Event>>>,
    /// How many times it fell behind the broadcast and read the store instead.
    lagged: u64,
}

impl Subscription {
    pub(crate) fn new(shared: Arc<Shared>, filter: EventFilter, after: Seq) -> Subscription {
        Subscription {
            shared,
            filter,
            position: after,
            backlog: VecDeque::new(),
            live: None,
            lagged: 0,
        }
    }

    /// The last event handed out (or passed over as not matching): a new subscription after
    /// it goes on exactly from here.
    pub fn position(&self) -> Seq {
        self.position
    }

    /// How many times this subscription fell more than the broadcast's capacity behind and
    /// read what it missed from the store.
    pub fn lagged(&self) -> u64 {
        self.lagged
    }

    /// The next event; `None` once the feed is closed ([`crate::EventFeed::close`]).
    ///
    /// Cancel safe: dropping the future loses nothing (a store read it was waiting on is
    /// done again).
    pub async fn next(&mut self) -> Option<Arc<Event>> {
        loop {
            self.shared.ensure_following();
            if let Some(event) = self.try_next() {
                return Some(event);
            }
            if self.shared.closing.is_cancelled() {
                return None;
            }
            let Some(live) = self.live.as_mut() else {
                self.catch_up().await?;
                continue;
            };
            let shared = &self.shared;
            // Registered before the check, so that a follower ending after it still wakes
            // this wait: then the loop starts it again.
            let stopped = shared.stopped.notified();
            if shared.running.load(Ordering::Acquire) == 0 {
                continue;
            }
            let received = tokio::select! {
                () = shared.closing.cancelled() => return None,
                () = stopped => continue,
                received = live.recv() => received,
            };
            match received {
                Ok(event) => {
                    if let Some(event) = self.take(event) {
                        return Some(event);
                    }
                }
                Err(RecvError::Lagged(_)) => self.fell_behind(),
                // The sender lives as long as the feed, which this subscription holds.
                Err(RecvError::Closed) => return None,
            }
        }
    }

    /// The next event if one is at hand, without waiting and without reading the store.
    pub fn try_next(&mut self) -> Option<Arc<Event>> {
        if let Some(event) = self.backlog.pop_front() {
            self.position = event.seq;
            return Some(Arc::new(event));
        }
        loop {
            let received = self.live.as_mut()?.try_recv();
            match received {
                Ok(event) => {
                    if let Some(event) = self.take(event) {
                        return Some(event);
                    }
                }
                Err(TryRecvError::Lagged(_)) => {
                    self.fell_behind();
                    return None;
                }
                Err(TryRecvError::Empty | TryRecvError::Closed) => return None,
            }
        }
    }

    /// The subscription as a stream, which also ends when `until` is cancelled.
    pub fn into_stream(
        self,
        until: CancellationToken,
    ) -> impl Stream<Item = Arc<Event>> + Send + 'static {
        futures::stream::unfold((self, until), |(mut subscription, until)| async move {
            let event = tokio::select! {
                () = until.cancelled() => None,
                event = subscription.next() => event,
            }?;
            Some((event, (subscription, until)))
        })
    }

    /// A broadcast event, if it is new to this subscription and matches. Only called with the
    /// backlog empty: then every event up to the one broadcast is handed out or passed over, so
    /// the position moves to it even when it does not match.
    fn take(&mut self, event: Arc<Event>) -> Option<Arc<Event>> {
        if event.seq <= self.position {
            // Had from the store already (the seam).
            return None;
        }
        self.position = event.seq;
        self.filter.matches(&event).then_some(event)
    }

    fn fell_behind(&mut self) {
        self.live = None;
        self.lagged += 1;
    }

    /// Joins the broadcast, then reads a page of the store after the position; goes live when
    /// the page reaches the end of the log. `None` when the feed closed meanwhile.
    async fn catch_up(&mut self) -> Option<()> {
        let closing = self.shared.closing.clone();
        // The follower must know where the log ended when it started, or it could skip what
        // was committed between this read and its start.
        let mut head = self.shared.head.subscribe();
        let known = async { head.wait_for(Option::is_some).await.map(|_| ()) };
        tokio::select! {
            () = closing.cancelled() => return None,
            known = known => known.ok()?,
        }
        let receiver = self.shared.sender.subscribe();
        // An idle follower does not tick while nobody takes the broadcast: it must read from
        // now on, for what the store does not announce.
        self.shared.wake.notify_one();
        let (after, batch, filter) = (
            self.position,
            self.shared.options.batch,
            self.filter.clone(),
        );
        match read(&self.shared.store, move |s| {
            s.events_after(after, batch, &filter)
        })
        .await
        {
            Ok(events) => {
                let full = events.len() >= batch;
                self.backlog.extend(events);
                if !full {
                    self.live = Some(receiver);
                }
                Some(())
            }
            Err(message) => {
                tracing::warn!("an event stream cannot read the event log: {message}");
                pause(&closing, BACKOFF).await.then_some(())
            }
        }
    }
}
