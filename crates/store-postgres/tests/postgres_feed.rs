//! The daemon's event feed (`gaffer_feed`) on PostgreSQL: with several daemons on one board,
//! an event committed through another daemon's store reaches this daemon's streams through
//! LISTEN/NOTIFY, not the feed's tick. Without a server (and outside CI) the test says so on
//! stderr and passes without checking anything.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use gaffer_core::{NewEvent, Seq};
use gaffer_feed::{EventFeed, FeedOptions};
use gaffer_store::{EventFilter, Store, SystemClock};
use gaffer_store_postgres::PgStore;
use gaffer_test_support::postgres::server;
use std::sync::Arc;
use std::time::Duration;

const PATIENCE: Duration = Duration::from_secs(10);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_daemons_commits_reach_the_feed_through_notify() {
    let Some(server) = server() else {
        return;
    };
    let schema = server.fresh_schema();
    let open = || -> Arc<dyn Store> {
        Arc::new(PgStore::open_in_schema(server.url(), &schema, Arc::new(SystemClock)).unwrap())
    };
    let (ours, theirs) = (open(), open());
    assert!(ours.hears_other_processes());
    let feed = EventFeed::with_options(
        Arc::clone(&ours),
        FeedOptions {
            // Only a notification can bring an event within the test's patience.
            tick: Duration::from_secs(3600),
            heard_tick: Duration::from_secs(3600),
            ..FeedOptions::default()
        },
    );
    let mut subscription = feed.subscribe(EventFilter::default(), Seq(0));
    let first = ours
        .append_events(&[NewEvent::new("ours", serde_json::json!({}))])
        .unwrap();
    let got = tokio::time::timeout(PATIENCE, subscription.next())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got.seq, first[0].seq);

    // Live now: another daemon's commits come through the follower, woken by NOTIFY.
    let mut written = Vec::new();
    for i in 0..3 {
        let events = theirs
            .append_events(&[NewEvent::new("theirs", serde_json::json!({ "i": i }))])
            .unwrap();
        written.extend(events.iter().map(|e| e.seq));
    }
    let mut got = Vec::new();
    while got.len() < written.len() {
        let event = tokio::time::timeout(PATIENCE, subscription.next())
            .await
            .expect("the event came through NOTIFY")
            .unwrap();
        got.push(event.seq);
    }
    assert_eq!(got, written);
}
