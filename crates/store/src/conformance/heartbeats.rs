//! Heartbeats in batches: one call renews the leases an engine still holds and names the ones
//! it lost, each judged on its own.

use super::MakeStore;
use super::fixtures::{
    ExpectSome, cleanup_job, complete, enqueue, fresh, must, must_fail, project,
};
use crate::{HeldLease, StoreError};
use gaffer_core::{JobId, JobStatus};

fn held(job: JobId, owner: &str) -> HeldLease {
    HeldLease {
        job,
        owner: owner.to_string(),
    }
}

/// [`crate::Store::heartbeat_jobs`] extends exactly the leases still held by the owner named
/// beside each job, and returns every other job of the batch, in the order given: one held by
/// another owner, one whose lease ran out, one still queued, one done, one that does not exist.
/// Those stay as they were; nothing is written to the event log; an empty batch does nothing;
/// a lease that lasts no time is refused.
pub fn heartbeats_renew_only_held_leases(make: &MakeStore) {
    let (clock, store) = fresh(make);
    let store = store.as_ref();
    let p = project(store, "alpha");
    enqueue(
        store,
        (0..6).map(|i| cleanup_job(p.id, None, 10 - i)).collect(),
    );
    let claim = |owner: &str, lease_ms: i64| {
        must(store.claim_job(owner, &[], lease_ms), "claim").expect_some("a queued job")
    };
    let mine_1 = claim("engine/1", 1_000);
    let mine_2 = claim("engine/2", 1_000);
    let theirs = claim("other/1", 1_000);
    let short = claim("engine/3", 100);
    let done = claim("engine/4", 1_000);
    must(complete(store, &done, "engine/4"), "complete");
    let queued = must(
        store.jobs(&crate::JobFilter {
            task: None,
            statuses: vec![JobStatus::Queued],
        }),
        "jobs",
    );
    assert_eq!(queued.len(), 1, "one job left in the queue");
    let queued = &queued[0];
    let ghost = JobId(queued.id.0 + 1_000);
    let seq = must(store.last_seq(), "last_seq");

    clock.advance(500);
    let not_held = vec![
        held(theirs.id, "engine/9"),
        held(short.id, "engine/3"),
        held(queued.id, "engine/5"),
        held(done.id, "engine/4"),
        held(ghost, "engine/6"),
    ];
    let batch = [
        vec![held(mine_1.id, "engine/1")],
        not_held[..2].to_vec(),
        vec![held(mine_2.id, "engine/2")],
        not_held[2..].to_vec(),
    ]
    .concat();
    let lost = must(store.heartbeat_jobs(&batch, 1_000), "heartbeat_jobs");
    assert_eq!(lost, not_held, "the leases not held, in the order given");
    let job = |id: JobId| must(store.job(id), "job");
    let renewed = Some(super::START_MS + 1_500);
    assert_eq!(job(mine_1.id).lease_expires_ms, renewed);
    assert_eq!(job(mine_2.id).lease_expires_ms, renewed);
    let theirs_now = job(theirs.id);
    assert_eq!(theirs_now.lease_owner.as_deref(), Some("other/1"));
    assert_eq!(
        theirs_now.lease_expires_ms,
        Some(super::START_MS + 1_000),
        "another owner's lease is not renewed"
    );
    assert_eq!(
        job(short.id).lease_expires_ms,
        Some(super::START_MS + 100),
        "an expired lease is not renewed"
    );
    assert_eq!(job(queued.id).status, JobStatus::Queued);
    assert_eq!(job(queued.id).lease_owner, None);
    assert_eq!(job(done.id).status, JobStatus::Done);
    assert_eq!(
        must(store.last_seq(), "last_seq"),
        seq,
        "heartbeats write no event"
    );
    let again = claim("engine/7", 1_000);
    assert_eq!(
        (again.id, again.attempts),
        (short.id, 2),
        "the expired lease goes to the next claimer"
    );

    assert_eq!(
        must(store.heartbeat_jobs(&[], 1_000), "an empty batch"),
        Vec::<HeldLease>::new()
    );
    assert!(matches!(
        must_fail(
            store.heartbeat_jobs(&[held(mine_1.id, "engine/1")], 0),
            "a lease of no time"
        ),
        StoreError::Invalid(_)
    ));
    clock.advance(1_000);
    let lost = must(
        store.heartbeat_jobs(
            &[
                held(mine_1.id, "engine/0"),
                held(mine_1.id, "engine/1"),
                held(mine_2.id, "engine/2"),
            ],
            1_000,
        ),
        "heartbeat_jobs at the last held millisecond",
    );
    assert_eq!(
        lost,
        vec![held(mine_1.id, "engine/0")],
        "a renewed lease is held until its new expiry, by its owner only"
    );
    assert_eq!(
        job(mine_1.id).lease_expires_ms,
        Some(super::START_MS + 2_500)
    );
}
