//! The follower: the one reader of the event log in a daemon.

use crate::{BACKOFF, Shared, pause, read};
use gaffer_store::EventFilter;
use std::sync::{Arc, Weak};

/// Reads every new event once and broadcasts it, until the feed is closed or gone.
///
/// It holds the feed only weakly, so that dropping the last handle and subscription ends it
/// (at its next wake or tick).
pub(crate) async fn follow(feed: Weak<Shared>) {
    let Some((store, wake, closing, options, tick, resumed)) = feed.upgrade().map(|shared| {
        (
            Arc::clone(&shared.store),
            Arc::clone(&shared.wake),
            shared.closing.clone(),
            shared.options,
            shared.tick(),
            *shared.head.borrow(),
        )
    }) else {
        return;
    };
    // Where the log ends now: what comes after is broadcast. A follower started again (its
    // runtime went away) goes on from where it was.
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
        // A write announced while reading left a permit: the wait returns at once then.
        tokio::select! {
            () = closing.cancelled() => return,
            () = wake.notified() => {}
            () = tokio::time::sleep(tick) => {
                if feed.strong_count() == 0 {
                    return;
                }
            }
        }
    }
}
