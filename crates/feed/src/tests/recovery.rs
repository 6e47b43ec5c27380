//! The follower's pace, and what the feed does when the store fails or the follower dies.

use super::rigged::Rigged;
use super::*;
use crate::follower::Pace;
use std::sync::atomic::Ordering;

#[test]
fn the_tick_is_fast_after_activity_and_backs_off_when_idle() {
    let options = FeedOptions::default();
    let start = Instant::now();
    let mut pace = Pace::new(&options, start);
    // Fast for a while after the last activity.
    assert_eq!(pace.tick(false, start), DEFAULT_TICK);
    assert_eq!(
        pace.tick(false, start + FAST_FOR - Duration::from_millis(1)),
        DEFAULT_TICK
    );
    // Then doubling at each tick, up to the idle tick.
    let mut now = start + FAST_FOR;
    let mut ticks = Vec::new();
    for _ in 0..8 {
        let tick = pace.tick(false, now);
        ticks.push(tick);
        now += tick;
    }
    assert_eq!(ticks[0], DEFAULT_TICK * 2);
    assert!(ticks.windows(2).all(|w| w[1] >= w[0]), "{ticks:?}");
    assert_eq!(*ticks.last().unwrap(), IDLE_TICK);
    // An event or a wake: fast again.
    pace.stir(now);
    assert_eq!(pace.tick(false, now), DEFAULT_TICK);
    assert_eq!(
        pace.tick(false, now + Duration::from_millis(500)),
        DEFAULT_TICK
    );
}

#[test]
fn the_fast_tick_is_only_for_stores_that_do_not_hear_other_processes() {
    let options = FeedOptions::default();
    let start = Instant::now();
    let mut pace = Pace::new(&options, start);
    assert_eq!(pace.tick(true, start), DEFAULT_HEARD_TICK);
    assert_eq!(pace.tick(true, start + FAST_FOR * 10), DEFAULT_HEARD_TICK);
    assert_eq!(DEFAULT_HEARD_TICK, Duration::from_millis(250));
    // A slow configured tick is not made faster when idle.
    let slow = FeedOptions {
        tick: Duration::from_secs(3600),
        ..options
    };
    let mut pace = Pace::new(&slow, start);
    assert_eq!(pace.tick(false, start + FAST_FOR * 10), slow.tick);
}

#[test]
fn options_are_clamped() {
    let clamped = FeedOptions {
        tick: Duration::ZERO,
        heard_tick: Duration::ZERO,
        capacity: 0,
        batch: 0,
    }
    .clamped();
    assert_eq!(clamped.tick, MIN_TICK);
    assert_eq!(clamped.heard_tick, MIN_TICK);
    assert_eq!(clamped.capacity, *CAPACITY_RANGE.start());
    assert_eq!(clamped.batch, 1);
    let huge = FeedOptions {
        capacity: usize::MAX,
        batch: usize::MAX,
        ..FeedOptions::default()
    }
    .clamped();
    assert_eq!(huge.capacity, *CAPACITY_RANGE.end());
    assert_eq!(huge.batch, *BATCH_RANGE.end());
    assert_eq!(FeedOptions::default().clamped(), FeedOptions::default());
}

#[tokio::test]
async fn an_idle_feed_without_subscriptions_reads_nothing_until_one_joins() {
    let dir = tempfile::tempdir().unwrap();
    let (store, rig) = Rigged::around(open(&dir.path().join("gaffer.db")));
    let feed = EventFeed::new(Arc::clone(&store));
    let mut subscription = feed.subscribe(EventFilter::default(), Seq(0));
    let written = append(&store, "x", 1);
    assert_eq!(next(&mut subscription).await.seq, written[0]);
    drop(subscription);
    tokio::time::sleep(Duration::from_millis(100)).await;
    let before = rig.reads.load(Ordering::Acquire);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        rig.reads.load(Ordering::Acquire),
        before,
        "no read of the store with nobody to tell"
    );
    assert!(feed.is_following());

    // A write through the store still wakes it; a new subscription gets what came since.
    let more = append(&store, "x", 2);
    let mut subscription = feed.subscribe(EventFilter::default(), written[0]);
    assert_eq!(until(&mut subscription, more[1]).await, more);
    // Live again: the follower ticks while someone takes the broadcast.
    let live = rig.reads.load(Ordering::Acquire);
    quiet(&mut subscription).await;
    assert!(
        rig.reads.load(Ordering::Acquire) > live + 2,
        "the follower ticks again"
    );
}

#[tokio::test]
async fn failed_reads_are_retried_and_every_event_arrives_once() {
    let dir = tempfile::tempdir().unwrap();
    let (store, rig) = Rigged::around(open(&dir.path().join("gaffer.db")));
    let feed = EventFeed::new(Arc::clone(&store));
    let mut subscription = feed.subscribe(EventFilter::default(), Seq(0));
    go_live(&mut subscription).await;
    rig.fail_reads.store(2, Ordering::Release);
    let mut written = Vec::new();
    for _ in 0..5 {
        written.extend(append(&store, "x", 1));
    }
    assert_eq!(until(&mut subscription, written[4]).await, written);
    assert_eq!(
        rig.fail_reads.load(Ordering::Acquire),
        0,
        "the reads failed"
    );
    quiet(&mut subscription).await;
    // And a new subscription reads its backlog through failures too.
    rig.fail_reads.store(1, Ordering::Release);
    let mut late = feed.subscribe(EventFilter::default(), Seq(0));
    assert_eq!(until(&mut late, written[4]).await, written);
}

#[tokio::test]
async fn a_read_that_panics_is_retried() {
    let dir = tempfile::tempdir().unwrap();
    let (store, rig) = Rigged::around(open(&dir.path().join("gaffer.db")));
    let feed = EventFeed::new(Arc::clone(&store));
    let mut subscription = feed.subscribe(EventFilter::default(), Seq(0));
    go_live(&mut subscription).await;
    rig.panic_reads.store(1, Ordering::Release);
    let first = append(&store, "x", 1);
    let second = append(&store, "x", 1);
    assert_eq!(
        until(&mut subscription, second[0]).await,
        vec![first[0], second[0]]
    );
    assert_eq!(rig.panic_reads.load(Ordering::Acquire), 0);
}

/// The follower panics on its own task (not in a store read on the blocking pool): it starts
/// again, and a subscription waiting on the broadcast still gets every event.
#[tokio::test]
async fn a_follower_that_panics_starts_again() {
    let dir = tempfile::tempdir().unwrap();
    let (store, rig) = Rigged::around(open(&dir.path().join("gaffer.db")));
    let feed = EventFeed::new(Arc::clone(&store));
    let mut subscription = feed.subscribe(EventFilter::default(), Seq(0));
    go_live(&mut subscription).await;
    rig.panic_hears.store(1, Ordering::Release);
    let waiting = tokio::spawn(async move {
        let event = next(&mut subscription).await;
        (event.seq, subscription)
    });
    // The panic comes at the follower's next tick.
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(rig.panic_hears.load(Ordering::Acquire), 0, "it panicked");
    let written = append(&store, "x", 1);
    let (seq, mut subscription) = tokio::time::timeout(PATIENCE, waiting)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(seq, written[0]);
    let more = append(&store, "x", 2);
    assert_eq!(until(&mut subscription, more[1]).await, more);
    assert!(feed.is_following());
}

/// The follower ran on a runtime that went away: a subscription waiting on the broadcast on
/// another runtime starts it again there.
#[tokio::test]
async fn a_follower_whose_runtime_went_away_is_started_again() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir.path().join("gaffer.db"));
    let feed = EventFeed::new(Arc::clone(&store));
    let (started, on_other) = std::sync::mpsc::channel();
    let (stop, stopping) = std::sync::mpsc::channel::<()>();
    let other = {
        let feed = feed.clone();
        let store = Arc::clone(&store);
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async {
                let mut subscription = feed.subscribe(EventFilter::default(), Seq(0));
                let written = append(&store, "x", 1);
                assert_eq!(next(&mut subscription).await.seq, written[0]);
            });
            started.send(()).unwrap();
            // The runtime stays (idle: its follower does not run) until told.
            stopping.recv().unwrap();
            drop(runtime);
        })
    };
    on_other.recv().unwrap();
    assert!(feed.is_following());
    let mut subscription = feed.subscribe(EventFilter::default(), store.last_seq().unwrap());
    go_live(&mut subscription).await;
    let waiting = tokio::spawn(async move {
        let event = next(&mut subscription).await;
        (event.seq, subscription)
    });
    tokio::time::sleep(Duration::from_millis(20)).await;
    stop.send(()).unwrap();
    other.join().unwrap();
    let written = append(&store, "x", 1);
    let (seq, _subscription) = tokio::time::timeout(PATIENCE, waiting)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(seq, written[0]);
}

/// A subscription joins the broadcast before it reads its backlog: an event committed (and
/// broadcast) after the read looked at the log, before the read returned, comes through the
/// broadcast.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_committed_during_the_backlog_read_is_not_lost() {
    let dir = tempfile::tempdir().unwrap();
    let (store, rig) = Rigged::around(open(&dir.path().join("gaffer.db")));
    let feed = EventFeed::new(Arc::clone(&store));
    let old = append(&store, "x", 3);
    // The follower knows where the log ends before the subscription reads.
    let mut warm = feed.subscribe(EventFilter::default(), old[2]);
    go_live(&mut warm).await;
    wait_for_head(&feed, old[2]).await;
    let (sneaked, sneak) = std::sync::mpsc::channel();
    {
        let feed = feed.clone();
        *rig.hook.lock().unwrap() = Some(Box::new(move |inner, after, limit, filter| {
            let read = inner.events_after(after, limit, filter);
            let event = inner
                .append_events(&[NewEvent::new("x", serde_json::json!({}))])
                .unwrap()
                .remove(0);
            let start = Instant::now();
            while feed.head().is_none_or(|head| head < event.seq) {
                assert!(start.elapsed() < PATIENCE, "the follower did not read it");
                std::thread::sleep(Duration::from_millis(2));
            }
            sneaked.send(event.seq).unwrap();
            read
        }));
    }
    let mut subscription = feed.subscribe(
        EventFilter {
            kind_prefix: Some("x".into()),
            ..EventFilter::default()
        },
        Seq(0),
    );
    let mut got = until(&mut subscription, old[2]).await;
    assert_eq!(got, old);
    let sneaked = sneak.recv_timeout(PATIENCE).unwrap();
    got.extend(until(&mut subscription, sneaked).await);
    assert_eq!(got, [old.clone(), vec![sneaked]].concat());
    quiet(&mut subscription).await;
}
