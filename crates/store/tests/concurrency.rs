//! Many connections, one file: 8 threads, each with its own [`SqliteStore`] (as separate
//! processes would have), drain 10,000 jobs. Every job must be completed exactly once, none may
//! be left, and no call may fail (in particular, never "database is locked").

#![allow(clippy::unwrap_used, clippy::expect_used)]

use gaffer_core::{JobId, JobSpec, JobStatus, NewJob};
use gaffer_store::{
    Commit, JobCompletion, JobFilter, JobOutcome, NewProject, SqliteStore, Store, StoreError,
};
use std::collections::HashSet;
use std::path::Path;
use std::sync::Arc;
use std::thread;

const THREADS: usize = 8;
const JOBS: usize = 10_000;

fn enqueue_all(path: &Path) {
    let store = SqliteStore::open_default(path).unwrap();
    let project = store
        .upsert_project(&NewProject {
            name: "load".into(),
            root: "/srv/load".into(),
            target: "main".into(),
        })
        .unwrap();
    let jobs = (0..JOBS)
        .map(|i| NewJob {
            project: project.id,
            task: None,
            spec: JobSpec::Cleanup {
                delete_branch: false,
            },
            priority: (i % 7) as i32,
            max_attempts: 3,
        })
        .collect();
    store
        .commit(&Commit {
            enqueue: jobs,
            ..Commit::default()
        })
        .unwrap();
}

/// Claims and completes until the queue is empty; returns the jobs it completed, or the first
/// error any call returned.
fn drain(path: &Path, owner: String) -> Result<Vec<JobId>, StoreError> {
    let store = SqliteStore::open_default(path)?;
    let mut done = Vec::new();
    while let Some(job) = store.claim_job(&owner, &[], 60_000)? {
        store.commit(&Commit {
            complete_job: Some(JobCompletion {
                job: job.id,
                owner: owner.clone(),
                outcome: JobOutcome::Done,
                error: None,
            }),
            ..Commit::default()
        })?;
        done.push(job.id);
    }
    Ok(done)
}

#[test]
fn eight_connections_drain_ten_thousand_jobs_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let path: Arc<Path> = dir.path().join("board.db").into();
    enqueue_all(&path);

    let handles: Vec<_> = (0..THREADS)
        .map(|i| {
            let path = path.clone();
            thread::spawn(move || drain(&path, format!("worker-{i}")))
        })
        .collect();
    let mut seen = HashSet::new();
    let mut per_thread = Vec::new();
    for h in handles {
        let done = match h.join().unwrap() {
            Ok(done) => done,
            Err(e) => panic!("an error reached a caller: {e}"),
        };
        per_thread.push(done.len());
        for id in done {
            assert!(seen.insert(id), "job {id} completed twice");
        }
    }
    assert_eq!(seen.len(), JOBS, "every job completed once");

    let store = SqliteStore::open_default(&path).unwrap();
    let jobs = store.jobs(&JobFilter::default()).unwrap();
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
