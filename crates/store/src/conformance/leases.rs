//! Leases: heartbeats, expiry, release, exhaustion, dead owners.

use super::MakeStore;
use super::fixtures::{
    ExpectSome, cleanup_job, complete, enqueue, fresh, must, process, project, task,
};
use crate::{Commit, EventFilter, JobCompletion, JobOutcome, StoreError};
use gaffer_core::{JobId, JobStatus, NewJob, event_kind};
use serde_json::json;

/// A heartbeat extends the holder's lease; an expired lease is lost (heartbeat `false`, commit
/// [`StoreError::LeaseLost`]) and the job goes to the next claimer, counting an attempt.
pub fn heartbeat_and_expiry(make: &MakeStore) {
    let (clock, store) = fresh(make);
    let store = store.as_ref();
    let p = project(store, "alpha");
    enqueue(store, vec![cleanup_job(p.id, None, 0)]);
    let job = must(store.claim_job("w1", &[], 1_000), "claim").expect_some("job");
    clock.advance(500);
    assert!(must(
        store.heartbeat(job.id, "w1", 1_000),
        "heartbeat by holder"
    ));
    assert_eq!(
        must(store.job(job.id), "job").lease_expires_ms,
        Some(super::START_MS + 1_500)
    );
    assert!(!must(
        store.heartbeat(job.id, "w2", 1_000),
        "heartbeat by another owner"
    ));
    clock.advance(999); // 1 ms before expiry
    assert!(
        must(store.claim_job("w2", &[], 1_000), "claim").is_none(),
        "a live lease is not claimable"
    );
    clock.advance(2); // 1 ms after expiry
    assert!(
        !must(
            store.heartbeat(job.id, "w1", 1_000),
            "heartbeat after expiry"
        ),
        "an expired lease cannot be renewed"
    );
    let again = must(store.claim_job("w2", &[], 1_000), "claim").expect_some("the expired job");
    assert_eq!(again.id, job.id);
    assert_eq!(again.lease_owner.as_deref(), Some("w2"));
    assert_eq!(again.attempts, 2, "an expired lease counts as an attempt");
    assert!(!must(
        store.heartbeat(job.id, "w1", 1_000),
        "old holder heartbeat"
    ));
    assert!(!must(store.release_job(job.id, "w1"), "old holder release"));
    assert!(matches!(
        complete(store, &job, "w1"),
        Err(StoreError::LeaseLost { job: j, owner }) if j == job.id && owner == "w1"
    ));
    must(
        complete(store, &again, "w2"),
        "completion by the new holder",
    );
    assert_eq!(must(store.job(job.id), "job").status, JobStatus::Done);
    assert!(
        matches!(
            complete(store, &again, "w2"),
            Err(StoreError::LeaseLost { .. })
        ),
        "a job completes once"
    );
    assert!(!must(
        store.heartbeat(job.id, "w2", 1_000),
        "heartbeat on a done job"
    ));
    let ghost = JobId(job.id.0 + 100);
    assert!(matches!(
        store.heartbeat(ghost, "w2", 1_000),
        Err(StoreError::JobNotFound(_))
    ));
}

/// `release_job` gives the job back without counting the attempt, only for its holder.
pub fn release_returns_job_to_queue(make: &MakeStore) {
    let (_clock, store) = fresh(make);
    let store = store.as_ref();
    let p = project(store, "alpha");
    let t = task(store, p.id, "T");
    enqueue(store, vec![cleanup_job(p.id, Some(t.id), 0)]);
    let job = must(store.claim_job("w1", &[], 1_000), "claim").expect_some("job");
    must(
        store.set_job_process(job.id, "w1", &process(1)),
        "set process",
    );
    let seq = must(store.last_seq(), "last_seq");
    assert!(!must(
        store.release_job(job.id, "w2"),
        "release by a non-holder"
    ));
    assert!(must(
        store.release_job(job.id, "w1"),
        "release by the holder"
    ));
    let released = must(store.job(job.id), "job");
    assert_eq!(released.status, JobStatus::Queued);
    assert_eq!(released.lease_owner, None);
    assert_eq!(released.lease_expires_ms, None);
    assert_eq!(released.process, None);
    assert_eq!(released.attempts, 0, "a released attempt does not count");
    let events = must(
        store.events_after(seq, 10, &EventFilter::default()),
        "events",
    );
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].kind, event_kind::JOB_RELEASED);
    assert_eq!(events[0].task, Some(t.id));
    assert!(!must(store.release_job(job.id, "w1"), "second release"));
    let again = must(store.claim_job("w2", &[], 1_000), "claim").expect_some("job");
    assert_eq!((again.id, again.attempts), (job.id, 1));
}

/// A job whose leases keep expiring is marked failed once its attempts reach the maximum
/// instead of being handed out again; the claim moves on to the next job. It is listed by
/// `exhausted_jobs` until someone acknowledges it through `commit`.
pub fn max_attempts_exhaustion(make: &MakeStore) {
    let (clock, store) = fresh(make);
    let store = store.as_ref();
    let p = project(store, "alpha");
    let t = task(store, p.id, "T");
    let jobs = enqueue(
        store,
        vec![
            NewJob {
                max_attempts: 2,
                needs: vec![],
                ..cleanup_job(p.id, Some(t.id), 1)
            },
            cleanup_job(p.id, None, 0),
        ],
    );
    let (doomed, next) = (&jobs[0], &jobs[1]);
    for (n, owner) in ["w1", "w2"].into_iter().enumerate() {
        let got = must(store.claim_job(owner, &[], 1_000), "claim").expect_some("job");
        assert_eq!((got.id, got.attempts as usize), (doomed.id, n + 1));
        clock.advance(1_001);
    }
    assert!(must(store.exhausted_jobs(), "exhausted_jobs").is_empty());
    let got = must(store.claim_job("w3", &[], 1_000), "claim").expect_some("the next job");
    assert_eq!(got.id, next.id, "the exhausted job is skipped");
    let failed = must(store.job(doomed.id), "job");
    assert_eq!(failed.status, JobStatus::Failed);
    assert_eq!(failed.attempts, 2);
    let error = failed.error.clone().unwrap_or_default();
    assert!(error.contains("gave up after 2 attempts"), "error: {error}");
    assert_eq!(
        must(store.exhausted_jobs(), "exhausted_jobs"),
        vec![failed.clone()]
    );
    assert!(!must(
        store.heartbeat(doomed.id, "w2", 1_000),
        "last holder heartbeat"
    ));
    assert!(must(store.claim_job("w4", &[], 1_000), "claim").is_none());

    // Any owner acknowledges it, once, together with whatever else the commit writes.
    let ack = JobCompletion {
        job: doomed.id,
        owner: "engine".into(),
        outcome: JobOutcome::Failed,
        error: None,
    };
    let ack_commit = Commit {
        complete_job: Some(ack),
        events: vec![gaffer_core::NewEvent::new(event_kind::TASK_NOTICE, json!({})).task(t.id)],
        ..Commit::default()
    };
    must(store.commit(&ack_commit), "acknowledgement");
    assert!(must(store.exhausted_jobs(), "exhausted_jobs").is_empty());
    assert_eq!(must(store.job(doomed.id), "job").status, JobStatus::Failed);
    assert!(
        matches!(store.commit(&ack_commit), Err(StoreError::LeaseLost { .. })),
        "an exhaustion is acknowledged once"
    );

    // A job its holder failed is not "exhausted".
    must(
        store.commit(&Commit {
            complete_job: Some(JobCompletion {
                job: got.id,
                owner: "w3".into(),
                outcome: JobOutcome::Failed,
                error: Some("verify crashed".into()),
            }),
            ..Commit::default()
        }),
        "failure by the holder",
    );
    let failed = must(store.job(got.id), "job");
    assert_eq!(failed.status, JobStatus::Failed);
    assert_eq!(failed.error.as_deref(), Some("verify crashed"));
    assert!(must(store.exhausted_jobs(), "exhausted_jobs").is_empty());
}

/// `release_jobs_of_dead_owners` requeues the jobs of owners matching the prefix except
/// `keep_owner`, without counting their attempt, returns them as they were (with their
/// process), and writes a `job.released` event each.
pub fn dead_owner_release(make: &MakeStore) {
    let (clock, store) = fresh(make);
    let store = store.as_ref();
    let p = project(store, "alpha");
    let t = task(store, p.id, "T");
    let jobs = enqueue(
        store,
        vec![
            cleanup_job(p.id, Some(t.id), 4),
            cleanup_job(p.id, None, 3),
            cleanup_job(p.id, None, 2),
            cleanup_job(p.id, None, 1),
            cleanup_job(p.id, None, 0),
        ],
    );
    let owners = ["host-a:1", "host-a:1", "host-a:2", "host-b:1"];
    for (job, owner) in jobs.iter().zip(owners) {
        let got = must(store.claim_job(owner, &[], 1_000), "claim").expect_some("job");
        assert_eq!(got.id, job.id);
    }
    let proc = process(77);
    assert!(must(
        store.set_job_process(jobs[0].id, "host-a:1", &proc),
        "set_job_process"
    ));
    clock.advance(2_000); // expired leases of dead owners are released too
    let seq = must(store.last_seq(), "last_seq");
    let released = must(
        store.release_jobs_of_dead_owners("host-a:", "host-a:2"),
        "release_jobs_of_dead_owners",
    );
    assert_eq!(
        released.iter().map(|j| j.id).collect::<Vec<_>>(),
        vec![jobs[0].id, jobs[1].id]
    );
    assert_eq!(released[0].process, Some(proc), "returned as they were");
    assert!(released.iter().all(|j| j.status == JobStatus::Leased));
    assert!(
        released
            .iter()
            .all(|j| j.lease_owner.as_deref() == Some("host-a:1"))
    );
    for j in &released {
        let now = must(store.job(j.id), "job");
        assert_eq!(now.status, JobStatus::Queued);
        assert_eq!(now.lease_owner, None);
        assert_eq!(now.process, None);
        assert_eq!(now.attempts, 0, "a daemon crash is not the job's fault");
    }
    let events = must(
        store.events_after(
            seq,
            10,
            &EventFilter {
                kind_prefix: Some(event_kind::JOB_RELEASED.into()),
                ..EventFilter::default()
            },
        ),
        "events",
    );
    assert_eq!(events.len(), 2);
    assert_eq!(events[0].task, Some(t.id));
    assert_eq!(events[0].project, Some(p.id));
    assert!(events.iter().all(|e| e.seq > seq));
    assert_eq!(
        must(store.job(jobs[2].id), "job").status,
        JobStatus::Leased,
        "kept owner"
    );
    assert_eq!(
        must(store.job(jobs[3].id), "job").status,
        JobStatus::Leased,
        "other host"
    );
    assert!(
        must(
            store.release_jobs_of_dead_owners("host-a:", "host-a:2"),
            "again"
        )
        .is_empty()
    );
    assert!(!must(
        store.heartbeat(jobs[0].id, "host-a:1", 1_000),
        "dead owner heartbeat"
    ));
    let again = must(store.claim_job("host-a:2", &[], 1_000), "claim").expect_some("job");
    assert_eq!((again.id, again.attempts), (jobs[0].id, 1));
}
