//! Named leases (`hold_lease`, `release_lease`, `lease_holder`): one holder at a time, handed
//! over when it expires or is released; and several handles racing for one.

use super::fixtures::{fresh, must, must_fail};
use super::{Connect, MakeStore, START_MS};
use crate::{LeaseHolder, StoreError};
use std::collections::HashSet;
use std::sync::Barrier;

const QUEUE: &str = "queue:1";

/// A lease is taken when free, extended by its holder, refused to others while it lasts (to
/// the millisecond, as a job's lease), taken over once it expired, and released only by its
/// holder. Leases of different names are independent.
pub fn named_leases(make: &MakeStore) {
    let (clock, store) = fresh(make);
    let store = store.as_ref();
    assert_eq!(must(store.lease_holder(QUEUE), "holder"), None);
    assert!(must(store.hold_lease(QUEUE, "a", 1_000), "a takes it"));
    assert_eq!(
        must(store.lease_holder(QUEUE), "holder"),
        Some(LeaseHolder {
            owner: "a".into(),
            expires_ms: START_MS + 1_000
        })
    );
    assert!(!must(
        store.hold_lease(QUEUE, "b", 1_000),
        "b while a holds it"
    ));
    assert!(
        must(store.hold_lease("queue:2", "b", 1_000), "another name"),
        "leases of different names are independent"
    );
    clock.advance(600);
    assert!(must(store.hold_lease(QUEUE, "a", 1_000), "a extends it"));
    assert_eq!(
        must(store.lease_holder(QUEUE), "holder").map(|h| h.expires_ms),
        Some(START_MS + 1_600)
    );
    clock.advance(1_000); // exactly at expiry: still held
    assert!(!must(
        store.hold_lease(QUEUE, "b", 1_000),
        "b at the last ms"
    ));
    clock.advance(1);
    assert!(
        must(store.hold_lease(QUEUE, "b", 1_000), "b after expiry"),
        "an expired lease goes to the next who asks"
    );
    assert_eq!(
        must(store.lease_holder(QUEUE), "holder").map(|h| h.owner),
        Some("b".to_string())
    );
    assert!(!must(store.hold_lease(QUEUE, "a", 1_000), "a lost it"));
    assert!(!must(
        store.release_lease(QUEUE, "a"),
        "a cannot release b's lease"
    ));
    assert!(must(store.release_lease(QUEUE, "b"), "b releases it"));
    assert!(!must(store.release_lease(QUEUE, "b"), "released once"));
    assert_eq!(must(store.lease_holder(QUEUE), "holder"), None);
    assert!(
        must(store.hold_lease(QUEUE, "a", 1_000), "a after the release"),
        "a released lease is free at once"
    );
    for (name, owner, ms) in [("", "a", 1_000), (QUEUE, " ", 1_000), (QUEUE, "a", 0)] {
        assert!(
            matches!(
                must_fail(store.hold_lease(name, owner, ms), "invalid lease"),
                StoreError::Invalid(_)
            ),
            "hold_lease({name:?}, {owner:?}, {ms}) must be refused"
        );
    }
}

const RACERS: usize = 8;
const ROUNDS: usize = 20;

/// Eight handles (each its own connection, as separate daemons have) ask for one lease at the
/// same instant, round after round: exactly one holds it at a time. Its holder keeps it while
/// it extends it; once it releases it, the next round has exactly one new holder.
pub fn handles_race_for_a_lease(connect: &Connect) {
    let barrier = Barrier::new(RACERS);
    let wins: Vec<Vec<(usize, bool)>> = std::thread::scope(|scope| {
        let racers: Vec<_> = (0..RACERS)
            .map(|i| {
                let barrier = &barrier;
                scope.spawn(move || {
                    let store = connect();
                    let owner = format!("daemon-{i}");
                    let mut got = Vec::new();
                    for round in 0..ROUNDS {
                        barrier.wait();
                        let held = must(store.hold_lease(QUEUE, &owner, 60_000), "hold");
                        got.push((round, held));
                        barrier.wait();
                        // Every other round the holder lets go, so a new race happens.
                        if held && round % 2 == 1 {
                            assert!(must(store.release_lease(QUEUE, &owner), "release"));
                        }
                        barrier.wait();
                    }
                    got
                })
            })
            .collect();
        racers
            .into_iter()
            .map(|r| match r.join() {
                Ok(got) => got,
                Err(_) => panic!("a racer panicked"),
            })
            .collect()
    });
    let mut holders_seen = HashSet::new();
    for round in 0..ROUNDS {
        let holders: Vec<usize> = (0..RACERS)
            .filter(|&i| wins[i][round] == (round, true))
            .collect();
        assert_eq!(
            holders.len(),
            1,
            "round {round}: exactly one handle holds the lease, got {holders:?}"
        );
        if round % 2 == 1 {
            let before: Vec<usize> = (0..RACERS)
                .filter(|&i| wins[i][round - 1] == (round - 1, true))
                .collect();
            assert_eq!(before, holders, "round {round}: the holder keeps its lease");
        }
        holders_seen.insert(holders[0]);
    }
    assert!(!holders_seen.is_empty());
}
