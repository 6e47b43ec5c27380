//! Store throughput, as numbers to compare over time (not a pass/fail test).
//!
//! `cargo bench -p gaffer-store` prints:
//! - tasks created per second (`create_task`, 5,000 tasks, one store);
//! - jobs claimed and completed per second with 1, 4 and 8 claimers, 10,000 jobs per run, with
//!   the median and 99th-percentile latency of one claim, in three layouts:
//!   - **one store** shared by every claimer thread: what a daemon does (its job runners share
//!     the board's one `SqliteStore`);
//!   - **a store each** in one process: each claimer thread opens its own `SqliteStore` on the
//!     file (the layout this bench measured before; handles of one process on one file share a
//!     write gate);
//!   - **a process each**: each claimer is a process of its own (this bench run again as a
//!     child), as `gaffer` commands or daemons beside each other are: they meet only in
//!     SQLite's file locks and its busy handler. This is the baseline the daemon's layout is
//!     compared with.
//!
//! Every run checks that every job was claimed exactly once (claims counted per job id) and
//! that none is left; a failure is an error, never a figure.
//!
//! Arguments that are not flags select rows: `cargo bench -p gaffer-store -- "8 claimers, one"`
//! runs only the rows whose name contains one of them (to time or profile one case).

use gaffer_core::{JobId, JobSpec, NewJob, NewTask, ProjectId, Risk, TaskState};
use gaffer_store::{Commit, JobCompletion, JobOutcome, NewProject, SqliteStore, Store};
use std::collections::HashMap;
use std::io::{BufRead, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

const TASKS: usize = 5_000;
const JOBS: usize = 10_000;

/// Set on a child claimer process: `<database path>\t<owner>`.
const CHILD: &str = "GAFFER_STORE_BENCH_CLAIMER";

type BenchResult<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// What one claimer did: the jobs it claimed and how long each claim took.
#[derive(Default)]
struct Claimed {
    jobs: Vec<JobId>,
    latencies: Vec<Duration>,
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

fn create_tasks(path: &Path) -> BenchResult<(f64, Vec<Duration>)> {
    let store = SqliteStore::open_default(path)?;
    let p = project(&store)?;
    let state = TaskState::new(gaffer_core::Flow::default(), Risk::Low, 0);
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

fn enqueue(path: &Path) -> BenchResult<()> {
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
    Ok(())
}

/// Claims and completes as `owner` until the queue is empty.
fn claim_all(store: &dyn Store, owner: &str) -> BenchResult<Claimed> {
    let mut claimed = Claimed::default();
    loop {
        let t0 = Instant::now();
        let Some(job) = store.claim_job(owner, &[], 60_000)? else {
            return Ok(claimed);
        };
        claimed.latencies.push(t0.elapsed());
        claimed.jobs.push(job.id);
        store.commit(&Commit {
            complete_job: Some(JobCompletion {
                job: job.id,
                owner: owner.to_string(),
                outcome: JobOutcome::Done,
                error: None,
            }),
            ..Commit::default()
        })?;
    }
}

#[derive(Clone, Copy)]
enum Layout {
    OneStore,
    StoreEach,
    ProcessEach,
}

impl Layout {
    fn name(self) -> &'static str {
        match self {
            Layout::OneStore => "one store (daemon)",
            Layout::StoreEach => "a store each",
            Layout::ProcessEach => "a process each",
        }
    }
}

/// Threads claiming on one shared store, or each on its own.
fn drain_in_process(path: &Path, claimers: usize, shared: bool) -> BenchResult<(f64, Claimed)> {
    let one = Arc::new(SqliteStore::open_default(path)?);
    let barrier = Arc::new(Barrier::new(claimers + 1));
    let handles: Vec<_> = (0..claimers)
        .map(|i| {
            let (path, barrier, one) = (path.to_path_buf(), barrier.clone(), one.clone());
            thread::spawn(move || -> BenchResult<Claimed> {
                let own = if shared {
                    None
                } else {
                    Some(SqliteStore::open_default(&path)?)
                };
                let store: &dyn Store = match &own {
                    Some(s) => s,
                    None => one.as_ref(),
                };
                barrier.wait();
                claim_all(store, &format!("bench-{i}"))
            })
        })
        .collect();
    barrier.wait();
    let start = Instant::now();
    let mut all = Claimed::default();
    for h in handles {
        let c = h.join().map_err(|_| "a claimer panicked")??;
        all.jobs.extend(c.jobs);
        all.latencies.extend(c.latencies);
    }
    Ok((JOBS as f64 / start.elapsed().as_secs_f64(), all))
}

/// Child processes claiming, each with its own store: each says `ready`, waits for a line on
/// its stdin, then drains and prints one line per claim (`<job id> <latency in ns>`).
fn drain_in_processes(path: &Path, claimers: usize) -> BenchResult<(f64, Claimed)> {
    let exe = std::env::current_exe()?;
    let mut children = Vec::new();
    for i in 0..claimers {
        let mut child = Command::new(&exe)
            .env(CHILD, format!("{}\tbench-{i}", path.display()))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()?;
        let mut out = std::io::BufReader::new(child.stdout.take().ok_or("no stdout")?);
        let mut line = String::new();
        out.read_line(&mut line)?;
        if line.trim() != "ready" {
            return Err(format!("a claimer said {line:?}").into());
        }
        children.push((child, out));
    }
    let start = Instant::now();
    for (child, _) in &mut children {
        writeln!(child.stdin.as_mut().ok_or("no stdin")?, "go")?;
    }
    let mut outputs = Vec::new();
    for (mut child, mut out) in children {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut out, &mut text)?;
        if !child.wait()?.success() {
            return Err("a claimer process failed".into());
        }
        outputs.push(text);
    }
    let rate = JOBS as f64 / start.elapsed().as_secs_f64();
    let mut all = Claimed::default();
    for line in outputs.iter().flat_map(|o| o.lines()) {
        let (id, ns) = line.split_once(' ').ok_or("a claimer's line")?;
        all.jobs.push(JobId(id.parse()?));
        all.latencies.push(Duration::from_nanos(ns.parse()?));
    }
    Ok((rate, all))
}

/// A child claimer (see [`drain_in_processes`]).
fn child(spec: &str) -> BenchResult<()> {
    let (path, owner) = spec.split_once('\t').ok_or("bad claimer spec")?;
    let store = SqliteStore::open_default(Path::new(path))?;
    let stdout = std::io::stdout();
    writeln!(stdout.lock(), "ready")?;
    let mut go = String::new();
    std::io::stdin().read_line(&mut go)?;
    let claimed = claim_all(&store, owner)?;
    let mut out = std::io::BufWriter::new(stdout.lock());
    for (job, latency) in claimed.jobs.iter().zip(&claimed.latencies) {
        writeln!(out, "{} {}", job.0, latency.as_nanos())?;
    }
    Ok(())
}

/// Processor time used so far by this process and its children that ended, when the system
/// says (Linux: `/proc/self/stat`, in clock ticks of 10 ms).
fn cpu_time() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The fields after the command name (which is in parentheses and may hold spaces).
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime, stime, cutime, cstime: fields 14 to 17 of the line, 12 to 15 after the name.
    let ticks: u64 = fields
        .get(11..15)?
        .iter()
        .filter_map(|f| f.parse::<u64>().ok())
        .sum();
    Some(Duration::from_millis(ticks * 10))
}

/// Drains the queue in `layout`; the rate, the claims' latencies and the processor time used
/// per job (by every claimer: what the machine spent, whatever else ran on it).
fn drain(
    path: &Path,
    layout: Layout,
    claimers: usize,
) -> BenchResult<(f64, Vec<Duration>, Option<Duration>)> {
    enqueue(path)?;
    let cpu_before = cpu_time();
    let (rate, claimed) = match layout {
        Layout::OneStore => drain_in_process(path, claimers, true)?,
        Layout::StoreEach => drain_in_process(path, claimers, false)?,
        Layout::ProcessEach => drain_in_processes(path, claimers)?,
    };
    let cpu = cpu_time()
        .zip(cpu_before)
        .map(|(after, before)| after.saturating_sub(before) / JOBS as u32);
    exactly_once(path, &claimed.jobs)?;
    Ok((rate, claimed.latencies, cpu))
}

/// Every job of the queue claimed once, none twice, none left.
fn exactly_once(path: &Path, claimed: &[JobId]) -> BenchResult<()> {
    let mut claims: HashMap<JobId, usize> = HashMap::new();
    for job in claimed {
        *claims.entry(*job).or_default() += 1;
    }
    if let Some((job, n)) = claims.iter().find(|&(_, &n)| n != 1) {
        return Err(format!("job {job} was claimed {n} times").into());
    }
    let store = SqliteStore::open_default(path)?;
    let jobs = store.jobs(&gaffer_store::JobFilter::default())?;
    let all_done = jobs.iter().all(|j| {
        j.status == gaffer_core::JobStatus::Done && j.attempts == 1 && claims.contains_key(&j.id)
    });
    if jobs.len() != JOBS || claims.len() != JOBS || !all_done {
        return Err(format!(
            "{} jobs, {} claimed once; all done after one attempt: {all_done}",
            jobs.len(),
            claims.len()
        )
        .into());
    }
    Ok(())
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let idx = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[idx]
}

fn row(what: &str, rate: f64, mut latencies: Vec<Duration>, cpu: Option<Duration>) {
    latencies.sort();
    let cpu = cpu.map_or("-".to_string(), |c| format!("{:.1}", c.as_secs_f64() * 1e6));
    println!(
        "{what:<46} {rate:>10.0} {:>10.1} {:>10.1} {cpu:>10}",
        percentile(&latencies, 0.5).as_secs_f64() * 1e6,
        percentile(&latencies, 0.99).as_secs_f64() * 1e6
    );
}

fn main() -> BenchResult<()> {
    if let Ok(spec) = std::env::var(CHILD) {
        return child(&spec);
    }
    // Rows to run: those containing one of the arguments that are not flags (all without any).
    let only: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let wanted = |name: &str| only.is_empty() || only.iter().any(|o| name.contains(o.as_str()));
    let dir = tempfile::tempdir()?;
    println!(
        "{:<46} {:>10} {:>10} {:>10} {:>10}",
        "gaffer-store (SQLite, WAL)", "per second", "p50 µs", "p99 µs", "cpu µs/job"
    );
    println!("{}", "-".repeat(90));
    let name = format!("create_task ({TASKS} tasks)");
    if wanted(&name) {
        let (rate, lat) = create_tasks(&dir.path().join("tasks.db"))?;
        row(&name, rate, lat, None);
    }
    for layout in [Layout::OneStore, Layout::StoreEach, Layout::ProcessEach] {
        for claimers in [1, 4, 8] {
            let name = format!(
                "claim+complete, {claimers} claimer{}, {}",
                if claimers == 1 { "" } else { "s" },
                layout.name()
            );
            if !wanted(&name) {
                continue;
            }
            let path = dir
                .path()
                .join(format!("jobs-{}-{claimers}.db", layout as u8));
            let (rate, lat, cpu) = drain(&path, layout, claimers)?;
            row(&name, rate, lat, cpu);
        }
    }
    println!(
        "(latency: one create_task call; one claim_job call. cpu: processor time of all the \
         claimers per job claimed and completed. Every job claimed exactly once, checked. \
         Baseline: a process each)"
    );
    Ok(())
}
