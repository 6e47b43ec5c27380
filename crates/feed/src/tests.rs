#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;
use gaffer_core::{Flow, NewEvent, NewTask, Risk, TaskId, TaskState};
use gaffer_store::{NewProject, SqliteStore};
use std::path::Path;
use std::time::Instant;

mod recovery;
mod rigged;
mod seam;

/// How long a test waits for an event before failing.
const PATIENCE: Duration = Duration::from_secs(10);

fn open(path: &Path) -> Arc<dyn Store> {
    Arc::new(SqliteStore::open_default(path).unwrap())
}

fn append(store: &Arc<dyn Store>, kind: &str, n: usize) -> Vec<Seq> {
    let events: Vec<NewEvent> = (0..n)
        .map(|i| NewEvent::new(kind, serde_json::json!({ "i": i })))
        .collect();
    store
        .append_events(&events)
        .unwrap()
        .iter()
        .map(|e| e.seq)
        .collect()
}

/// Every stored event after `after` that matches `filter`.
fn stored(store: &Arc<dyn Store>, after: Seq, filter: &EventFilter) -> Vec<Seq> {
    store
        .events_after(after, 1_000_000, filter)
        .unwrap()
        .iter()
        .map(|e| e.seq)
        .collect()
}

async fn next(subscription: &mut Subscription) -> Arc<Event> {
    tokio::time::timeout(PATIENCE, subscription.next())
        .await
        .unwrap_or_else(|_| panic!("no event within {PATIENCE:?}"))
        .expect("the feed closed")
}

/// Takes events until one at or after `last` arrived.
async fn until(subscription: &mut Subscription, last: Seq) -> Vec<Seq> {
    let mut got = Vec::new();
    while subscription.position() < last {
        got.push(next(subscription).await.seq);
    }
    got
}

/// Asserts that nothing more arrives for a while.
async fn quiet(subscription: &mut Subscription) {
    if let Ok(event) = tokio::time::timeout(Duration::from_millis(100), subscription.next()).await {
        panic!("unexpected event: {event:?}");
    }
}

/// Reads the subscription's backlog (none expected) so that it takes the broadcast next.
async fn go_live(subscription: &mut Subscription) {
    if let Ok(event) = tokio::time::timeout(Duration::from_millis(50), subscription.next()).await {
        panic!("unexpected event: {event:?}");
    }
}

async fn wait_for_head(feed: &EventFeed, seq: Seq) {
    let start = Instant::now();
    while feed.head().is_none_or(|head| head < seq) {
        assert!(
            start.elapsed() < PATIENCE,
            "the follower did not read {seq:?}"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

/// Every subscription of one filter has read through the last event that matches it.
type Targets = tokio::sync::watch::Receiver<Option<Vec<Seq>>>;

/// Reads `subscription` as it goes, until the targets are known and reached.
async fn read_along(
    mut subscription: Subscription,
    which: usize,
    mut targets: Targets,
) -> Vec<Seq> {
    let mut got = Vec::new();
    loop {
        let target = targets.borrow().as_ref().map(|t| t[which]);
        if target.is_some_and(|t| subscription.position() >= t) {
            return got;
        }
        tokio::select! {
            event = subscription.next() => got.push(event.expect("the feed closed").seq),
            changed = targets.changed() => changed.unwrap(),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscriptions_get_every_event_once_while_others_are_appended() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir.path().join("gaffer.db"));
    append(&store, "before", 30);
    let feed = EventFeed::with_options(
        Arc::clone(&store),
        FeedOptions {
            batch: 7,
            capacity: 16,
            ..FeedOptions::default()
        },
    );
    let filters = [
        EventFilter::default(),
        EventFilter {
            kind_prefix: Some("a.".into()),
            ..EventFilter::default()
        },
        EventFilter {
            kind_prefix: Some("b".into()),
            ..EventFilter::default()
        },
    ];
    let writer = {
        let store = Arc::clone(&store);
        std::thread::spawn(move || {
            for round in 0..200 {
                let kind = if round % 3 == 0 { "b.kind" } else { "a.kind" };
                append(&store, kind, 1 + round % 4);
                if round % 10 == 0 {
                    std::thread::sleep(Duration::from_millis(1));
                }
            }
        })
    };
    // Subscriptions join at different moments of the writing, from different positions, and
    // read as the events come.
    let (set_targets, targets) = tokio::sync::watch::channel(None);
    let mut readers = Vec::new();
    for i in 0..12usize {
        tokio::time::sleep(Duration::from_millis(3)).await;
        let which = i % 3;
        let after = Seq(i64::try_from(i).unwrap() * 5);
        let subscription = feed.subscribe(filters[which].clone(), after);
        let reading = tokio::spawn(read_along(subscription, which, targets.clone()));
        readers.push((reading, which, after));
    }
    writer.join().unwrap();
    let last_of = |f: &EventFilter| *stored(&store, Seq(0), f).last().unwrap();
    set_targets.send_replace(Some(filters.iter().map(last_of).collect()));
    for (reading, which, after) in readers {
        let got = tokio::time::timeout(PATIENCE, reading)
            .await
            .unwrap()
            .unwrap();
        let expected = stored(&store, after, &filters[which]);
        assert_eq!(got, expected, "after {after:?} with {:?}", filters[which]);
    }
}

#[tokio::test]
async fn a_subscription_that_falls_behind_reads_the_store_and_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir.path().join("gaffer.db"));
    let feed = EventFeed::with_options(
        Arc::clone(&store),
        FeedOptions {
            capacity: 4,
            ..FeedOptions::default()
        },
    );
    let mut slow = feed.subscribe(EventFilter::default(), Seq(0));
    let mut keen = feed.subscribe(EventFilter::default(), Seq(0));
    let first = append(&store, "x", 1);
    assert_eq!(next(&mut slow).await.seq, first[0]);
    assert_eq!(next(&mut keen).await.seq, first[0]);
    // Many more than the broadcast holds while the slow one does not read; each its own
    // commit, so that the follower reads (and broadcasts) them as they come.
    let mut written = Vec::new();
    for _ in 0..40 {
        written.extend(append(&store, "x", 1));
        if written.len() % 4 == 0 {
            // The keen one keeps up.
            assert_eq!(until(&mut keen, *written.last().unwrap()).await.len(), 4);
        }
    }
    wait_for_head(&feed, *written.last().unwrap()).await;
    assert_eq!(until(&mut slow, *written.last().unwrap()).await, written);
    assert!(slow.lagged() >= 1, "it fell behind the broadcast");
    assert_eq!(keen.lagged(), 0);
    quiet(&mut slow).await;

    // Live again afterwards.
    let more = append(&store, "x", 2);
    assert_eq!(until(&mut slow, more[1]).await, more);
}

#[tokio::test]
async fn commits_through_another_handle_on_the_file_arrive() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("gaffer.db");
    let store = open(&path);
    let feed = EventFeed::with_options(
        Arc::clone(&store),
        FeedOptions {
            // Only the store's announcement can bring it within the test's patience.
            tick: Duration::from_secs(3600),
            ..FeedOptions::default()
        },
    );
    let mut subscription = feed.subscribe(EventFilter::default(), Seq(0));
    let first = append(&store, "x", 1);
    assert_eq!(next(&mut subscription).await.seq, first[0]);
    // Live now: what follows comes through the follower, told by the store.
    let other = open(&path);
    let written = append(&other, "x", 3);
    assert_eq!(until(&mut subscription, written[2]).await, written);
}

/// Set in the process `commits_by_another_process_arrive_on_the_tick` starts: the file it
/// writes to.
const WRITER_DB: &str = "GAFFER_FEED_TEST_WRITER_DB";

/// Another process writing the same SQLite file, as `gaffer task add` does while the daemon
/// runs: nothing announces it; the follower's tick finds it.
#[tokio::test]
async fn commits_by_another_process_arrive_on_the_tick() {
    // Started again by itself in a process of its own, it is the other process: it writes.
    if let Some(path) = std::env::var_os(WRITER_DB) {
        let store = open(Path::new(&path));
        for _ in 0..5 {
            append(&store, "theirs", 1);
        }
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("gaffer.db");
    let store = open(&path);
    let feed = EventFeed::new(Arc::clone(&store));
    let mut subscription = feed.subscribe(EventFilter::default(), Seq(0));
    let before = append(&store, "mine", 1);
    assert_eq!(next(&mut subscription).await.seq, before[0]);

    let status = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "tests::commits_by_another_process_arrive_on_the_tick",
            "--quiet",
        ])
        .env(WRITER_DB, &path)
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    let written = stored(&store, before[0], &EventFilter::default());
    assert_eq!(written.len(), 5, "the other process wrote five events");
    let start = Instant::now();
    assert_eq!(until(&mut subscription, written[4]).await, written);
    // Within a few ticks (not a timing assertion: generous for a loaded machine).
    assert!(start.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn closing_the_feed_ends_its_follower_and_subscriptions() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir.path().join("gaffer.db"));
    let feed = EventFeed::new(Arc::clone(&store));
    let mut subscription = feed.subscribe(EventFilter::default(), Seq(0));
    let written = append(&store, "x", 1);
    assert_eq!(next(&mut subscription).await.seq, written[0]);
    assert!(feed.is_following());

    let waiting = tokio::spawn(async move {
        let end = subscription.next().await;
        (end.is_none(), subscription)
    });
    tokio::time::sleep(Duration::from_millis(20)).await;
    feed.close();
    let (ended, _) = tokio::time::timeout(PATIENCE, waiting)
        .await
        .unwrap()
        .unwrap();
    assert!(ended, "a waiting subscription ends");
    let start = Instant::now();
    while feed.is_following() {
        assert!(start.elapsed() < PATIENCE, "the follower did not stop");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    // A new subscription ends at once too.
    assert!(
        feed.subscribe(EventFilter::default(), Seq(0))
            .next()
            .await
            .is_none()
    );
}

#[tokio::test]
async fn the_follower_ends_when_the_feed_is_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir.path().join("gaffer.db"));
    let feed = EventFeed::new(Arc::clone(&store));
    let weak = Arc::downgrade(&feed.shared);
    let mut subscription = feed.subscribe(EventFilter::default(), Seq(0));
    let written = append(&store, "x", 1);
    assert_eq!(next(&mut subscription).await.seq, written[0]);
    let follower = locked(&feed.shared.follower).take().unwrap();
    drop(subscription);
    drop(feed);
    tokio::time::timeout(PATIENCE, follower)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(weak.strong_count(), 0);
}

#[tokio::test]
async fn filters_apply_per_subscription() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir.path().join("gaffer.db"));
    let project = store
        .upsert_project(&NewProject {
            name: "p".into(),
            root: "/p".into(),
            target: "main".into(),
        })
        .unwrap();
    let task = |title: &str| {
        store
            .create_task(
                project.id,
                &NewTask {
                    title: title.into(),
                    ..NewTask::default()
                },
                &TaskState::new(Flow::default(), Risk::Low, 0),
            )
            .unwrap()
            .id
    };
    let (mine, other) = (task("mine"), task("other"));
    let feed = EventFeed::new(Arc::clone(&store));
    let by_task = |t: TaskId| EventFilter {
        task: Some(t),
        ..EventFilter::default()
    };
    let after = store.last_seq().unwrap();
    let mut of_mine = feed.subscribe(by_task(mine), after);
    let mut of_project = feed.subscribe(
        EventFilter {
            project: Some(project.id),
            kind_prefix: Some("said".into()),
            ..EventFilter::default()
        },
        after,
    );
    // Both live before anything is written: the events come through the follower.
    go_live(&mut of_mine).await;
    go_live(&mut of_project).await;
    let written = store
        .append_events(&[
            NewEvent::new("said", serde_json::json!({})).task(other),
            NewEvent::new("said", serde_json::json!({})).task(mine),
            NewEvent::new("done", serde_json::json!({})).task(mine),
            NewEvent::new("other", serde_json::json!({})),
        ])
        .unwrap();
    let got: Vec<Seq> = until(&mut of_mine, written[2].seq).await;
    assert_eq!(got, vec![written[1].seq, written[2].seq]);
    let got: Vec<Seq> = until(&mut of_project, written[1].seq).await;
    assert_eq!(got, vec![written[0].seq, written[1].seq]);
    quiet(&mut of_mine).await;
    quiet(&mut of_project).await;
}
