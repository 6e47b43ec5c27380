//! Claim throughput of the PostgreSQL store, as numbers to compare over time (not a pass/fail
//! test).
//!
//! `cargo bench -p gaffer-store-postgres` prints jobs claimed and completed per second with 1, 8
//! and 32 claimers, each with its own store (one connection) on one fresh schema, as separate
//! worker processes would be; 10,000 jobs per run, with the median and 99th-percentile latency
//! of one claim. Every job must be claimed once and end done after one attempt (checked; a
//! failure is an error, never a timing). The server is the test server
//! (`gaffer_test_support::postgres`: `GAFFER_TEST_PG_URL`, or a throwaway local cluster).

use gaffer_core::{JobSpec, NewJob, ProjectId};
use gaffer_store::{Commit, JobCompletion, JobFilter, JobOutcome, NewProject, Store, SystemClock};
use gaffer_store_postgres::{PgOptions, PgStore};
use gaffer_test_support::postgres::server;
use std::collections::HashSet;
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

const JOBS: usize = 10_000;

type BenchResult<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// A store of its own (one connection) on `schema`.
fn handle(url: &str, schema: &str) -> BenchResult<PgStore> {
    let options = PgOptions {
        schema: schema.to_string(),
        connections: 1,
        ..PgOptions::default()
    };
    Ok(PgStore::open_with(url, &options, Arc::new(SystemClock))?)
}

fn project(store: &dyn Store) -> BenchResult<ProjectId> {
    Ok(store
        .upsert_project(&NewProject {
            name: "bench".into(),
            root: "/srv/bench".into(),
            target: "main".into(),
        })?
        .id)
}

fn drain(url: &str, schema: &str, claimers: usize) -> BenchResult<(f64, Vec<Duration>)> {
    let store = handle(url, schema)?;
    let p = project(&store)?;
    let jobs = (0..JOBS)
        .map(|i| NewJob {
            project: p,
            task: None,
            spec: JobSpec::Cleanup {
                delete_branch: false,
            },
            priority: (i % 5) as i32,
            max_attempts: 3,
            needs: vec![],
        })
        .collect();
    store.commit(&Commit {
        enqueue: jobs,
        ..Commit::default()
    })?;
    let barrier = Arc::new(Barrier::new(claimers + 1));
    let handles: Vec<_> = (0..claimers)
        .map(|i| {
            let (url, schema) = (url.to_string(), schema.to_string());
            let barrier = barrier.clone();
            thread::spawn(move || -> BenchResult<(Vec<i64>, Vec<Duration>)> {
                let store = handle(&url, &schema)?;
                let owner = format!("bench-{i}");
                let (mut done, mut latencies) = (Vec::new(), Vec::new());
                barrier.wait();
                loop {
                    let t0 = Instant::now();
                    let Some(job) = store.claim_job(&owner, &[], 60_000)? else {
                        break;
                    };
                    latencies.push(t0.elapsed());
                    store.commit(&Commit {
                        complete_job: Some(JobCompletion {
                            job: job.id,
                            owner: owner.clone(),
                            outcome: JobOutcome::Done,
                            error: None,
                        }),
                        ..Commit::default()
                    })?;
                    done.push(job.id.0);
                }
                Ok((done, latencies))
            })
        })
        .collect();
    barrier.wait();
    let start = Instant::now();
    let mut all = Vec::with_capacity(JOBS);
    let mut seen = HashSet::with_capacity(JOBS);
    for h in handles {
        let (done, lat) = h.join().map_err(|_| "a claimer panicked")??;
        for id in done {
            if !seen.insert(id) {
                return Err(format!("job {id} was claimed twice").into());
            }
        }
        all.extend(lat);
    }
    let rate = JOBS as f64 / start.elapsed().as_secs_f64();
    if all.len() != JOBS || seen.len() != JOBS {
        return Err(format!("{} jobs claimed, expected {JOBS}", all.len()).into());
    }
    let stored = store.jobs(&JobFilter::default())?;
    if stored.len() != JOBS
        || !stored
            .iter()
            .all(|j| j.status == gaffer_core::JobStatus::Done && j.attempts == 1)
    {
        return Err("not every job ended done after one attempt".into());
    }
    Ok((rate, all))
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let idx = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[idx]
}

fn row(what: &str, rate: f64, mut latencies: Vec<Duration>) {
    latencies.sort();
    println!(
        "{what:<34} {rate:>10.0} {:>12.1} {:>12.1}",
        percentile(&latencies, 0.5).as_secs_f64() * 1e6,
        percentile(&latencies, 0.99).as_secs_f64() * 1e6
    );
}

fn main() -> BenchResult<()> {
    let Some(server) = server() else {
        return Ok(());
    };
    println!(
        "{:<34} {:>10} {:>12} {:>12}",
        "gaffer-store-postgres", "per second", "median µs", "p99 µs"
    );
    println!("{}", "-".repeat(71));
    for claimers in [1, 8, 32] {
        let (rate, lat) = drain(server.url(), &server.fresh_schema(), claimers)?;
        row(
            &format!(
                "claim+complete, {claimers} claimer{}",
                if claimers == 1 { "" } else { "s" }
            ),
            rate,
            lat,
        );
    }
    println!("(latency column: one claim_job call; {JOBS} jobs per row)");
    Ok(())
}
