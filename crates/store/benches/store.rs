//! Store throughput, as numbers to compare over time (not a pass/fail test).
//!
//! `cargo bench -p gaffer-store` prints:
//! - tasks created per second (`create_task`, 5,000 tasks, one store);
//! - jobs claimed and completed per second with 1, 4 and 8 claimers, each with its own store
//!   on one shared file (as separate worker processes would be), 10,000 jobs per run, with the
//!   median and 99th-percentile latency of one claim.

use gaffer_core::{Flow, JobSpec, NewJob, NewTask, ProjectId, Risk, TaskState};
use gaffer_store::{Commit, JobCompletion, JobOutcome, NewProject, SqliteStore, Store};
use std::path::Path;
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

const TASKS: usize = 5_000;
const JOBS: usize = 10_000;

type BenchResult<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

fn project(store: &dyn Store) -> BenchResult<ProjectId> {
    Ok(store
        .upsert_project(&NewProject {
            name: "bench".into(),
            root: "/srv/bench".into(),
            target: "main".into(),
        })?
        .id)
}

fn create_tasks(path: &Path) -> BenchResult<(f64, Vec<Duration>)> {
    let store = SqliteStore::open_default(path)?;
    let p = project(&store)?;
    let state = TaskState::new(Flow::default(), Risk::Low, 0);
    let mut latencies = Vec::with_capacity(TASKS);
    let start = Instant::now();
    for i in 0..TASKS {
        let t0 = Instant::now();
        store.create_task(
            p,
            &NewTask {
                title: format!("Task number {i}"),
                body: "Make the thing do the other thing.".into(),
                labels: vec!["bench".into()],
                write_scope: vec![format!("src/m{}/**", i % 50)],
                ..NewTask::default()
            },
            &state,
        )?;
        latencies.push(t0.elapsed());
    }
    Ok((TASKS as f64 / start.elapsed().as_secs_f64(), latencies))
}

fn drain(path: &Path, claimers: usize) -> BenchResult<(f64, Vec<Duration>)> {
    {
        let store = SqliteStore::open_default(path)?;
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
    }
    let barrier = Arc::new(Barrier::new(claimers + 1));
    let handles: Vec<_> = (0..claimers)
        .map(|i| {
            let path = path.to_path_buf();
            let barrier = barrier.clone();
            thread::spawn(move || -> BenchResult<Vec<Duration>> {
                let store = SqliteStore::open_default(&path)?;
                let owner = format!("bench-{i}");
                let mut latencies = Vec::new();
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
                }
                Ok(latencies)
            })
        })
        .collect();
    barrier.wait();
    let start = Instant::now();
    let mut all = Vec::with_capacity(JOBS);
    for h in handles {
        let lat = h.join().map_err(|_| "a claimer panicked")??;
        all.extend(lat);
    }
    let rate = JOBS as f64 / start.elapsed().as_secs_f64();
    if all.len() != JOBS {
        return Err(format!("{} jobs claimed, expected {JOBS}", all.len()).into());
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
    let dir = tempfile::tempdir()?;
    println!(
        "{:<34} {:>10} {:>12} {:>12}",
        "gaffer-store (SQLite, WAL)", "per second", "median µs", "p99 µs"
    );
    println!("{}", "-".repeat(71));
    let (rate, lat) = create_tasks(&dir.path().join("tasks.db"))?;
    row(&format!("create_task ({TASKS} tasks)"), rate, lat);
    for claimers in [1, 4, 8] {
        let (rate, lat) = drain(&dir.path().join(format!("jobs-{claimers}.db")), claimers)?;
        row(
            &format!(
                "claim+complete, {claimers} claimer{}",
                if claimers == 1 { "" } else { "s" }
            ),
            rate,
            lat,
        );
    }
    println!("(latency columns: one create_task call; one claim_job call)");
    Ok(())
}
