//! Merge-queue throughput: figures, not a timed test.
//!
//! `cargo bench -p gaffer-engine --bench queue` lands 24 verified branches through the merge
//! queue with a verify that takes `T` seconds (`sleep T && sh tests/run.sh`, T = 1), at failure
//! rates of 0 %, 10 % and 25 % (a failing branch breaks the tests only once merged), in-process
//! with the real engine on a real repository, in two parts:
//!
//! - **One heavy slot** (`host.heavy_slots = 1`, a project whose tests use every core): the
//!   serial queue (`queue.max_candidates = 1`, `queue.batch = 1`) against the batching queue
//!   (`max_candidates = 8`, `batch = "auto"`: several branches tested as one
//!   candidate, bisected when it fails).
//! - **Two heavy slots**: the serial queue, the speculative train of one branch per candidate
//!   (`max_candidates = 8`, `batch = 1`: the queue before batches) and the batching queue.
//!
//! Each run prints the wall time from start until every branch has landed or left the queue,
//! landings per hour, the candidates verified, and the speed-up over the serial queue; and
//! checks that every branch landed or was ejected exactly once (from the `queue.landed` and
//! `queue.ejected` events) and that the target is green at every first-parent commit (no
//! `breaks-*` file in any of their trees). With no failures the train must land at least 1.8
//! times as fast as the serial queue with two slots, and batching at least 4 times with one.
//!
//! Environment: `QUEUE_BENCH_T` (seconds of verify, default 1), `QUEUE_BENCH_BRANCHES` (24),
//! `QUEUE_BENCH_RATES` (`0,10,25`), `QUEUE_BENCH_SLOTS` (`1,2`: which parts to run),
//! `QUEUE_BENCH_GAPS` (set: print each run's `queue.*` and `verify.*` events with their times,
//! to see where the time between verify runs goes).
//! Failing branches fail their candidate twice (a recheck rules out flaky verify) and, with one
//! coder tier and one attempt per tier, fail their task; the rest land.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use anyhow::{Context as _, Result, bail};
use gaffer_config::QueueBatch;
use gaffer_core::payload::QueueEjected;
use gaffer_core::{NewTask, ObjectId, Payload, Risk, Seq, Status, TaskState, VerifiedTree};
use gaffer_engine::{Board, BoardOptions, Engine};
use gaffer_store::EventFilter;
use gaffer_test_support::TestRepo;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

const RUN_TESTS: &str = "#!/bin/sh\nfor f in breaks-*; do\n  if [ -e \"$f\" ]; then echo \"$f breaks the tests\"; exit 1; fi\ndone\nexit 0\n";

/// The speculative train's depth.
const TRAIN: usize = 8;

/// A queue's configuration.
#[derive(Clone, Copy)]
struct Queue {
    name: &'static str,
    max_candidates: usize,
    batch: QueueBatch,
}

const SERIAL: Queue = Queue {
    name: "serial",
    max_candidates: 1,
    batch: QueueBatch::Fixed(1),
};
const TRAIN_ONLY: Queue = Queue {
    name: "train",
    max_candidates: TRAIN,
    batch: QueueBatch::Fixed(1),
};
const BATCHING: Queue = Queue {
    name: "batching",
    max_candidates: TRAIN,
    batch: QueueBatch::Auto,
};

struct Figures {
    wall: Duration,
    landed: usize,
    failed: usize,
    /// Candidate verify runs (rechecks included).
    verifies: usize,
    /// Commits on the target's first-parent line since the start, each checked green.
    first_parent: usize,
}

impl Figures {
    fn per_hour(&self) -> f64 {
        self.landed as f64 * 3600.0 / self.wall.as_secs_f64()
    }
}

fn env_number<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Which of `n` branches break the tests at `rate` percent: evenly spread, none first.
fn bad(n: usize, rate: u32) -> Vec<usize> {
    let count = (n as f64 * f64::from(rate) / 100.0).round() as usize;
    if count == 0 {
        return Vec::new();
    }
    let step = n as f64 / count as f64;
    (0..count)
        .map(|k| ((k as f64 + 0.5) * step) as usize)
        .collect()
}

/// One run: a fresh repository with `n` queued branches, the engine until the queue is empty.
fn run(n: usize, rate: u32, t: f64, queue: Queue, slots: usize) -> Result<Figures> {
    let repo = TestRepo::new();
    repo.write("tests/run.sh", RUN_TESTS);
    let base = repo.commit_all("tests");
    let bad = bad(n, rate);
    let mut heads = Vec::with_capacity(n);
    for i in 0..n {
        repo.git(&["checkout", "-q", "-b", &format!("bench/{i}"), &base]);
        repo.write(&format!("src/f{i}.txt"), format!("change {i}\n"));
        if bad.contains(&i) {
            repo.write(&format!("breaks-{i}"), "");
        }
        let head = repo.commit_all(&format!("change {i}"));
        let tree = repo.rev_parse(&format!("{head}^{{tree}}"));
        heads.push((head, tree));
    }
    // Nobody has main checked out: it is the landing branch itself.
    repo.git(&["checkout", "-q", "--detach", &base]);

    let mut settings = gaffer_config::default_settings();
    settings.verify.command = Some(format!("sleep {t} && sh tests/run.sh"));
    settings.roles.coder = vec!["scripted".into()];
    settings.engine.worktree_pool = 0;
    settings.limits.verify_failures_per_tier = 1;
    settings.queue.max_candidates = queue.max_candidates;
    settings.queue.batch = queue.batch;
    settings.host.heavy_slots = slots;
    settings.host.max_load = None;
    settings.host.min_free_memory = None;
    let board = Arc::new(Board::open(
        repo.path(),
        settings,
        BoardOptions {
            git_env: repo.env(),
            clock: None,
            ..BoardOptions::default()
        },
    )?);
    // Branches that passed the coders' verify gate and wait in the queue, in order.
    for (i, (head, tree)) in heads.iter().enumerate() {
        let new = NewTask {
            title: format!("change {i}"),
            ..NewTask::default()
        };
        let mut state = TaskState::new(board.flow_for(&new), Risk::Low, 0);
        state.status = Status::Queued;
        state.code_runs = 1;
        state.head = Some(ObjectId::new(head.clone()));
        state.verified = Some(VerifiedTree {
            commit: ObjectId::new(head.clone()),
            tree: ObjectId::new(tree.clone()),
        });
        let task = board
            .store()
            .create_task(board.project().id, &new, &state)?;
        repo.git(&["branch", &task.branch, head]);
        // Arrival order is queue order.
        std::thread::sleep(Duration::from_millis(2));
    }

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let engine = Engine::new(Arc::clone(&board), gaffer_agents::Registry::new());
    let started = Instant::now();
    runtime.block_on(async {
        tokio::time::timeout(
            Duration::from_secs(3600),
            engine.run_until_settled(CancellationToken::new()),
        )
        .await
        .context("the queue did not drain within an hour")?
        .context("the engine failed")
    })?;
    let wall = started.elapsed();
    let tasks = board.tasks(&[])?;
    let landed = tasks
        .iter()
        .filter(|t| t.status() == Status::Merged)
        .count();
    let failed = tasks
        .iter()
        .filter(|t| t.status() == Status::Failed)
        .count();
    if landed + failed != n || failed != bad.len() {
        bail!(
            "expected {} landed and {} failed, got {landed} and {failed}: {:?}",
            n - bad.len(),
            bad.len(),
            tasks
                .iter()
                .map(|t| (t.id.0, t.status(), t.state.note.clone()))
                .collect::<Vec<_>>()
        );
    }
    let (verifies, first_parent) = check(&repo, &board, &base, &tasks)?;
    Ok(Figures {
        wall,
        landed,
        failed,
        verifies,
        first_parent,
    })
}

/// Every branch landed or was ejected exactly once, and the target is green at every
/// first-parent commit since `base`: returns the candidates verified and those commits.
fn check(
    repo: &TestRepo,
    board: &Board,
    base: &str,
    tasks: &[gaffer_core::Task],
) -> Result<(usize, usize)> {
    let events = board.store().events_after(
        Seq(0),
        1_000_000,
        &EventFilter {
            project: Some(board.project().id),
            kind_prefix: Some("queue.".into()),
            ..EventFilter::default()
        },
    )?;
    let mut landed: HashMap<i64, usize> = HashMap::new();
    let mut ejected: HashMap<i64, usize> = HashMap::new();
    let mut verifies = 0;
    for e in &events {
        match e.payload() {
            Ok(Payload::QueueLanded(_)) => {
                *landed.entry(e.task.map_or(0, |t| t.0)).or_default() += 1;
            }
            Ok(Payload::QueueEjected(QueueEjected::VerifyFailed { .. })) => {
                *ejected.entry(e.task.map_or(0, |t| t.0)).or_default() += 1;
            }
            Ok(Payload::QueueVerified(_)) => verifies += 1,
            _ => {}
        }
    }
    for task in tasks {
        let (l, j) = (
            landed.get(&task.id.0).copied().unwrap_or(0),
            ejected.get(&task.id.0).copied().unwrap_or(0),
        );
        let expected = match task.status() {
            Status::Merged => (1, 0),
            _ => (0, 1),
        };
        if (l, j) != expected {
            bail!(
                "task {} ({}) landed {l} and was ejected {j} times",
                task.id,
                task.status()
            );
        }
    }
    if std::env::var("QUEUE_BENCH_GAPS").is_ok() {
        let all = board.store().events_after(
            Seq(0),
            1_000_000,
            &EventFilter {
                project: Some(board.project().id),
                ..EventFilter::default()
            },
        )?;
        let start = all.first().map_or(0, |e| e.at_ms);
        for e in &all {
            if e.kind.starts_with("queue.") || e.kind.starts_with("verify.") {
                eprintln!(
                    "{:>6} {:<22} {:?}",
                    e.at_ms - start,
                    e.kind,
                    e.task.map(|t| t.0)
                );
            }
        }
    }
    let line = repo.git(&["rev-list", "--first-parent", &format!("{base}..main")]);
    let commits: Vec<&str> = line.lines().filter(|l| !l.is_empty()).collect();
    for commit in &commits {
        let files = repo.git(&["ls-tree", "--name-only", commit]);
        if let Some(bad) = files.lines().find(|f| f.starts_with("breaks-")) {
            bail!("main is red at first-parent commit {commit}: it holds {bad}");
        }
    }
    Ok((verifies, commits.len()))
}

fn main() -> Result<()> {
    let t: f64 = env_number("QUEUE_BENCH_T", 1.0);
    let n: usize = env_number("QUEUE_BENCH_BRANCHES", 24);
    let list = |name: &str, default: &str| -> Vec<u32> {
        std::env::var(name)
            .unwrap_or_else(|_| default.to_string())
            .split(',')
            .filter_map(|v| v.trim().parse().ok())
            .collect()
    };
    let rates = list("QUEUE_BENCH_RATES", "0,10,25");
    let parts = list("QUEUE_BENCH_SLOTS", "1,2");
    println!("gaffer merge-queue benchmark");
    println!(
        "  {n} queued branches, verify = `sleep {t} && sh tests/run.sh`, {} CPU(s)",
        std::thread::available_parallelism().map_or(0, |c| c.get())
    );
    println!(
        "  serial: max_candidates = 1, batch = 1; train: max_candidates = {TRAIN}, batch = 1; \
         batching: max_candidates = {TRAIN}, batch = \"auto\""
    );
    let mut failures = Vec::new();
    for slots in parts {
        let queues: &[Queue] = if slots == 1 {
            &[SERIAL, BATCHING]
        } else {
            &[SERIAL, TRAIN_ONLY, BATCHING]
        };
        println!();
        println!("  host.heavy_slots = {slots}");
        println!(
            "  {:>8}  {:<9} {:>9} {:>7} {:>7} {:>8} {:>8} {:>11} {:>9}",
            "failures",
            "queue",
            "wall",
            "landed",
            "failed",
            "verifies",
            "commits",
            "landings/h",
            "speed-up"
        );
        for &rate in &rates {
            let mut serial_wall = None;
            for queue in queues {
                let f = run(n, rate, t, *queue, slots as usize)?;
                let speedup = serial_wall.map(|s: Duration| s.as_secs_f64() / f.wall.as_secs_f64());
                if queue.name == "serial" {
                    serial_wall = Some(f.wall);
                }
                println!(
                    "  {:>7}%  {:<9} {:>8.1}s {:>7} {:>7} {:>8} {:>8} {:>11.0} {:>9}",
                    rate,
                    queue.name,
                    f.wall.as_secs_f64(),
                    f.landed,
                    f.failed,
                    f.verifies,
                    f.first_parent,
                    f.per_hour(),
                    speedup.map(|s| format!("{s:.2}x")).unwrap_or_default()
                );
                let goal = match (slots, queue.name, rate) {
                    (1, "batching", 0) => Some(4.0),
                    (2, "train", 0) => Some(1.8),
                    _ => None,
                };
                if let (Some(goal), Some(s)) = (goal, speedup)
                    && s < goal
                {
                    failures.push(format!(
                        "{} with {slots} heavy slot(s) and no failures: {s:.2}x (needs {goal}x)",
                        queue.name
                    ));
                }
            }
        }
    }
    println!();
    println!(
        "  main was green at every first-parent commit of every run, and every branch landed or was ejected exactly once"
    );
    if failures.is_empty() {
        Ok(())
    } else {
        bail!("too slow: {}", failures.join("; "))
    }
}
