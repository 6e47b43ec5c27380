//! Many handles, one database: 8 threads, each with its own store handle (as separate processes
//! would have), drain 10,000 jobs. Every job must be completed exactly once, none may be left,
//! and no call may fail (for SQLite in particular: never "database is locked").

use super::Connect;
use super::fixtures::{must, project};
use crate::{Commit, JobCompletion, JobFilter, JobOutcome, StoreError};
use gaffer_core::{JobId, JobSpec, JobStatus, NewJob};
use std::collections::HashSet;

const THREADS: usize = 8;
const JOBS: usize = 10_000;

fn enqueue_all(connect: &Connect) {
    let store = connect();
    let p = project(store.as_ref(), "load");
    let jobs = (0..JOBS)
        .map(|i| NewJob {
            project: p.id,
            task: None,
            spec: JobSpec::Cleanup {
                delete_branch: false,
            },
            priority: i32::try_from(i % 7).unwrap_or(0),
            max_attempts: 3,
            needs: vec![],
        })
        .collect();
    must(
        store.commit(&Commit {
            enqueue: jobs,
            ..Commit::default()
        }),
        "enqueue",
    );
}

/// Claims and completes through a handle of its own until the queue is empty.
fn drain(connect: &Connect, owner: &str) -> Result<Vec<JobId>, StoreError> {
    drain_through(connect().as_ref(), owner)
}

/// Claims and completes through `store` until the queue is empty; returns the jobs it
/// completed, or the first error any call returned.
fn drain_through(store: &dyn crate::Store, owner: &str) -> Result<Vec<JobId>, StoreError> {
    let mut done = Vec::new();
    while let Some(job) = store.claim_job(owner, &[], 60_000)? {
        store.commit(&Commit {
            complete_job: Some(JobCompletion {
                job: job.id,
                owner: owner.to_string(),
                outcome: JobOutcome::Done,
                error: None,
            }),
            ..Commit::default()
        })?;
        done.push(job.id);
    }
    Ok(done)
}

/// Eight claimers, each on its own handle from `connect`, drain 10,000 jobs: each is completed
/// exactly once, after one attempt, by no call that failed, and more than one claimer got work.
pub fn eight_connections_drain_ten_thousand_jobs_exactly_once(connect: &Connect) {
    drain_with(connect, 0);
}

/// [`eight_connections_drain_ten_thousand_jobs_exactly_once`] with the first `sharing`
/// claimers on one handle (as a daemon's job runners share its store) and the others each on
/// its own.
fn drain_with(connect: &Connect, sharing: usize) {
    enqueue_all(connect);
    let shared = connect();
    let shared = shared.as_ref();
    let results: Vec<Result<Vec<JobId>, StoreError>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..THREADS)
            .map(|i| {
                let owner = format!("worker-{i}");
                if i < sharing {
                    scope.spawn(move || drain_through(shared, &owner))
                } else {
                    scope.spawn(move || drain(connect, &owner))
                }
            })
            .collect();
        handles
            .into_iter()
            .map(|h| match h.join() {
                Ok(result) => result,
                Err(panic) => std::panic::resume_unwind(panic),
            })
            .collect()
    });
    let mut seen = HashSet::new();
    let mut per_thread = Vec::new();
    for result in results {
        let done = match result {
            Ok(done) => done,
            Err(e) => panic!("an error reached a caller: {e}"),
        };
        per_thread.push(done.len());
        for id in done {
            assert!(seen.insert(id), "job {id} completed twice");
        }
    }
    assert_eq!(seen.len(), JOBS, "every job completed once");

    let store = connect();
    let jobs = must(store.jobs(&JobFilter::default()), "jobs");
    assert_eq!(jobs.len(), JOBS);
    assert!(
        jobs.iter()
            .all(|j| j.status == JobStatus::Done && j.attempts == 1)
    );
    assert!(
        per_thread.iter().filter(|&&n| n > 0).count() > 1,
        "work was shared: {per_thread:?}"
    );
}

/// Eight claimers drain 10,000 jobs exactly once, four of them sharing one handle (a daemon's
/// job runners) and four on handles of their own (other processes).
pub fn claimers_sharing_a_handle_and_not_drain_every_job_once(connect: &Connect) {
    drain_with(connect, THREADS / 2);
}
