//! The seam between a subscription's backlog and the broadcast, by property: whatever the
//! interleaving of appends, subscriptions joining from any position and reads, each
//! subscription gets exactly the stored events after its position that match its filter, in
//! order, each once, with a broadcast small enough that subscriptions fall behind.

use super::*;
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Op {
    /// `n` events of kind `KINDS[kind]` in one commit.
    Append { kind: usize, n: usize },
    /// A subscription from `back` events before the end of the log, with `FILTERS[filter]`.
    Subscribe { back: i64, filter: usize },
    /// Up to `k` events from subscription `sub` (modulo their number), as many as are stored.
    Read { sub: usize, k: usize },
}

const KINDS: [&str; 3] = ["a.one", "a.two", "b.one"];

fn filter(i: usize) -> EventFilter {
    let prefix = ["", "a.", "b.one"][i];
    EventFilter {
        kind_prefix: (!prefix.is_empty()).then(|| prefix.to_string()),
        ..EventFilter::default()
    }
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0..3usize, 1..6usize).prop_map(|(kind, n)| Op::Append { kind, n }),
        (0..12i64, 0..3usize).prop_map(|(back, filter)| Op::Subscribe { back, filter }),
        (0..8usize, 0..7usize).prop_map(|(sub, k)| Op::Read { sub, k }),
    ]
}

struct Reader {
    subscription: Subscription,
    filter: EventFilter,
    after: Seq,
    got: Vec<Seq>,
}

async fn run(ops: Vec<Op>) {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir.path().join("gaffer.db"));
    let feed = EventFeed::with_options(
        Arc::clone(&store),
        FeedOptions {
            capacity: 3,
            batch: 4,
            ..FeedOptions::default()
        },
    );
    let mut readers: Vec<Reader> = Vec::new();
    for op in ops {
        match op {
            Op::Append { kind, n } => {
                append(&store, KINDS[kind], n);
            }
            Op::Subscribe { back, filter: f } => {
                let end = store.last_seq().unwrap();
                let after = Seq((end.0 - back).max(0));
                readers.push(Reader {
                    subscription: feed.subscribe(filter(f), after),
                    filter: filter(f),
                    after,
                    got: Vec::new(),
                });
            }
            Op::Read { sub, k } => {
                if readers.is_empty() {
                    continue;
                }
                let n = readers.len();
                let reader = &mut readers[sub % n];
                let position = reader.subscription.position();
                let available = stored(&store, position, &reader.filter).len();
                for _ in 0..k.min(available) {
                    let event = next(&mut reader.subscription).await;
                    reader.got.push(event.seq);
                }
            }
        }
    }
    for mut reader in readers {
        let expected = stored(&store, reader.after, &reader.filter);
        if let Some(last) = expected.last() {
            let rest = until(&mut reader.subscription, *last).await;
            reader.got.extend(rest);
        }
        assert_eq!(
            reader.got, expected,
            "after {:?} with {:?}",
            reader.after, reader.filter
        );
        if let Ok(extra) =
            tokio::time::timeout(Duration::from_millis(20), reader.subscription.next()).await
        {
            panic!("an event beyond the log: {extra:?}");
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn every_subscription_gets_each_matching_event_once(ops in prop::collection::vec(op(), 1..40)) {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(run(ops));
    }
}
