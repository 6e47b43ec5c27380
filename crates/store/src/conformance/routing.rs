//! Machine labels: a job that needs labels goes only to a claimer that has them all, and the
//! machines that take jobs are recorded with their labels and load.

use super::MakeStore;
use super::fixtures::{ExpectSome, cleanup_job, enqueue, fresh, must, must_fail, project};
use crate::StoreError;
use gaffer_core::{JobKind, NewJob};

fn labels(names: &[&str]) -> Vec<String> {
    names.iter().map(|n| n.to_string()).collect()
}

/// A job that needs `gpu` is skipped by claimers without it (they get the next job in claim
/// order), handed to one with `gpu` (and more), stored with its needs sorted; `claim_job`
/// claims as a machine without labels.
pub fn labelled_jobs_go_to_machines_with_the_labels(make: &MakeStore) {
    let (_clock, store) = fresh(make);
    let store = store.as_ref();
    let p = project(store, "alpha");
    let jobs = enqueue(
        store,
        vec![
            NewJob {
                needs: labels(&["gpu"]),
                ..cleanup_job(p.id, None, 9)
            },
            NewJob {
                needs: labels(&["gtk", "gpu", "gtk"]),
                ..cleanup_job(p.id, None, 8)
            },
            cleanup_job(p.id, None, 1),
        ],
    );
    assert_eq!(jobs[0].needs, labels(&["gpu"]));
    assert_eq!(jobs[1].needs, labels(&["gpu", "gtk"]), "sorted, no repeats");
    assert!(jobs[2].needs.is_empty());

    let plain = must(store.claim_job("w", &[], 1_000), "claim").expect_some("a job");
    assert_eq!(
        plain.id, jobs[2].id,
        "a machine without labels skips both labelled jobs"
    );
    assert!(
        must(
            store.claim_job_for("w", &[], &labels(&["gtk"]), 1_000),
            "claim"
        )
        .is_none(),
        "gtk alone fits neither"
    );
    let gpu = must(
        store.claim_job_for("g", &[JobKind::Cleanup], &labels(&["gpu"]), 1_000),
        "claim",
    )
    .expect_some("the gpu job");
    assert_eq!(gpu.id, jobs[0].id);
    assert_eq!(gpu.needs, labels(&["gpu"]));
    let both = must(
        store.claim_job_for("b", &[], &labels(&["x", "gtk", "gpu"]), 1_000),
        "claim",
    )
    .expect_some("the gpu+gtk job");
    assert_eq!(both.id, jobs[1].id);
    let stored = must(store.job(jobs[1].id), "job");
    assert_eq!(stored.needs, labels(&["gpu", "gtk"]));

    let bad = must_fail(
        store.commit(&crate::Commit {
            enqueue: vec![NewJob {
                needs: labels(&["two words"]),
                ..cleanup_job(p.id, None, 0)
            }],
            ..crate::Commit::default()
        }),
        "a label with a space",
    );
    assert!(matches!(bad, StoreError::Invalid(_)), "{bad:?}");
}

/// Machines announce themselves (created, then replaced), with labels sorted and the slots they
/// have, when they say; `hosts` reads them back by name with the store's time.
pub fn hosts_are_announced_and_read_back(make: &MakeStore) {
    let (clock, store) = fresh(make);
    let store = store.as_ref();
    assert!(must(store.hosts(), "hosts").is_empty());
    must(
        store.announce_host("daemon:b:", &labels(&["gtk", "gpu"]), 2, Some(4), Some(0.5)),
        "announce",
    );
    must(
        store.announce_host("daemon:a:", &[], 0, None, None),
        "announce",
    );
    let hosts = must(store.hosts(), "hosts");
    let names: Vec<&str> = hosts.iter().map(|h| h.name.as_str()).collect();
    assert_eq!(names, ["daemon:a:", "daemon:b:"]);
    assert_eq!(hosts[1].labels, labels(&["gpu", "gtk"]));
    assert_eq!(hosts[1].running, 2);
    assert_eq!(hosts[1].load, Some(0.5));
    assert_eq!(hosts[1].slots, Some(4));
    assert_eq!(hosts[0].slots, None);
    assert_eq!(hosts[1].seen_ms, super::START_MS);
    assert_eq!(hosts[0].load, None);

    clock.advance(5_000);
    must(
        store.announce_host("daemon:b:", &labels(&["gpu"]), 0, Some(1), None),
        "again",
    );
    let hosts = must(store.hosts(), "hosts");
    assert_eq!(hosts.len(), 2);
    assert_eq!(hosts[1].labels, labels(&["gpu"]));
    assert_eq!(hosts[1].seen_ms, super::START_MS + 5_000);
    assert_eq!(hosts[1].slots, Some(1));
    assert!(matches!(
        must_fail(store.announce_host(" ", &[], 0, None, None), "no name"),
        StoreError::Invalid(_)
    ));
}
