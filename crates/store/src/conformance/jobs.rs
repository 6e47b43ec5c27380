//! Claiming jobs, and reading them back.

use super::MakeStore;
use super::fixtures::{
    ExpectSome, cleanup_job, complete, enqueue, fresh, must, prepare_job, process, project, task,
};
use crate::{JobFilter, StoreError};
use gaffer_core::{JobId, JobKind, JobSpec, JobStatus};

/// Claims go highest priority first, then oldest first, only to the kinds asked for (all when
/// none are named), and set the lease: owner, expiry, attempts.
pub fn claim_order_and_kinds(make: &MakeStore) {
    let (_clock, store) = fresh(make);
    let store = store.as_ref();
    assert!(must(store.claim_job("w", &[], 1_000), "claim on empty").is_none());
    let p = project(store, "alpha");
    let t = task(store, p.id, "T");
    let jobs = enqueue(
        store,
        vec![
            cleanup_job(p.id, Some(t.id), 0), // 0
            prepare_job(p.id, None, 5),       // 1
            cleanup_job(p.id, None, 5),       // 2
            prepare_job(p.id, Some(t.id), 9), // 3
            cleanup_job(p.id, None, -3),      // 4
        ],
    );
    assert!(
        jobs.iter()
            .all(|j| j.status == JobStatus::Queued && j.attempts == 0)
    );
    assert!(
        jobs.iter()
            .all(|j| j.lease_owner.is_none() && j.lease_expires_ms.is_none())
    );
    assert_eq!(jobs[3].spec, JobSpec::PrepareCandidate);
    assert!(
        must(
            store.claim_job("w", &[JobKind::Land, JobKind::Verify], 1_000),
            "no such kind"
        )
        .is_none()
    );

    let first =
        must(store.claim_job("w", &[JobKind::Cleanup], 1_000), "claim").expect_some("a job");
    assert_eq!(first.id, jobs[2].id, "highest-priority cleanup job");
    assert_eq!(first.status, JobStatus::Leased);
    assert_eq!(first.lease_owner.as_deref(), Some("w"));
    assert_eq!(first.lease_expires_ms, Some(super::START_MS + 1_000));
    assert_eq!(first.attempts, 1);

    let order: Vec<JobId> = std::iter::from_fn(|| {
        must(
            store.claim_job("w", &[JobKind::PrepareCandidate, JobKind::Cleanup], 1_000),
            "claim",
        )
    })
    .map(|j| j.id)
    .collect();
    assert_eq!(order, vec![jobs[3].id, jobs[1].id, jobs[0].id, jobs[4].id]);
    assert!(
        must(store.claim_job("w", &[], 1_000), "claim").is_none(),
        "all leased"
    );

    // With no kinds named, any kind is claimable.
    let more = enqueue(
        store,
        vec![prepare_job(p.id, None, 0), cleanup_job(p.id, None, 1)],
    );
    let any = must(store.claim_job("v", &[], 1_000), "claim").expect_some("a job");
    assert_eq!(any.id, more[1].id);
    // Done jobs are never handed out again.
    must(complete(store, &any, "v"), "complete");
    let last = must(store.claim_job("v", &[], 1_000), "claim").expect_some("a job");
    assert_eq!(last.id, more[0].id);
    assert!(must(store.claim_job("v", &[], 1_000), "claim").is_none());
}

/// `job` and `jobs` read jobs back, filtered by task and status; unknown ids are
/// [`StoreError::JobNotFound`].
pub fn jobs_lookup_and_filters(make: &MakeStore) {
    let (_clock, store) = fresh(make);
    let store = store.as_ref();
    let p = project(store, "alpha");
    let t = task(store, p.id, "T");
    let jobs = enqueue(
        store,
        vec![
            cleanup_job(p.id, Some(t.id), 0),
            cleanup_job(p.id, Some(t.id), 1),
            cleanup_job(p.id, None, 0),
        ],
    );
    assert_eq!(jobs[0].task, Some(t.id));
    assert_eq!(jobs[0].project, p.id);
    assert_eq!(jobs[0].max_attempts, 3);
    assert_eq!(jobs[0].created_ms, super::START_MS);
    let claimed = must(store.claim_job("w", &[], 1_000), "claim").expect_some("job");
    assert_eq!(claimed.id, jobs[1].id);
    assert_eq!(must(store.job(claimed.id), "job"), claimed);
    let ids = |f: JobFilter| -> Vec<JobId> {
        must(store.jobs(&f), "jobs")
            .into_iter()
            .map(|j| j.id)
            .collect()
    };
    assert_eq!(
        ids(JobFilter {
            task: Some(t.id),
            statuses: vec![],
        }),
        vec![jobs[0].id, jobs[1].id]
    );
    assert_eq!(
        ids(JobFilter {
            task: None,
            statuses: vec![JobStatus::Leased, JobStatus::Done],
        }),
        vec![jobs[1].id]
    );
    assert_eq!(
        ids(JobFilter {
            task: Some(t.id),
            statuses: vec![JobStatus::Queued],
        }),
        vec![jobs[0].id]
    );
    let ghost = JobId(jobs[2].id.0 + 100);
    assert!(matches!(store.job(ghost), Err(StoreError::JobNotFound(id)) if id == ghost));
    assert!(matches!(
        complete(
            store,
            &gaffer_core::Job {
                id: ghost,
                ..claimed
            },
            "w"
        ),
        Err(StoreError::JobNotFound(_))
    ));
}

/// The process running a job is recorded by its holder only, and is shown on the job.
pub fn job_process_is_recorded(make: &MakeStore) {
    let (clock, store) = fresh(make);
    let store = store.as_ref();
    let p = project(store, "alpha");
    enqueue(store, vec![cleanup_job(p.id, None, 0)]);
    let job = must(store.claim_job("w", &[], 1_000), "claim").expect_some("job");
    assert_eq!(job.process, None);
    let proc = process(4242);
    assert!(!must(
        store.set_job_process(job.id, "other", &proc),
        "set by non-holder"
    ));
    assert!(must(
        store.set_job_process(job.id, "w", &proc),
        "set by holder"
    ));
    assert_eq!(must(store.job(job.id), "job").process, Some(proc.clone()));
    clock.advance(1_001);
    assert!(
        !must(
            store.set_job_process(job.id, "w", &process(1)),
            "set after expiry"
        ),
        "an expired lease does not hold the job"
    );
    assert_eq!(must(store.job(job.id), "job").process, Some(proc));
}
