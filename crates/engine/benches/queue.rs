//! Merge-queue throughput: figures, not a timed test.
//!
//! `cargo bench -p gaffer-engine --bench queue` lands 24 verified branches through the merge
//! queue with a verify that takes `T` seconds (`sleep T && sh tests/run.sh`, T = 1), at failure
//! rates of 0 %, 10 % and 25 % (a failing branch breaks the tests only once merged), twice each:
//! as a serial queue (`queue.max_candidates = 1`: one candidate built, verified and landed at a
//! time) and as the speculative train (`queue.max_candidates = 8`), both with two heavy slots
//! (`host.heavy_slots = 2`), in-process with the real engine on a real repository. It prints
//! the wall time from start until every branch has landed or left the queue, and landings per
//! hour, and checks that with no failures the train lands at least 1.8 times as fast.
//!
//! Environment: `QUEUE_BENCH_T` (seconds of verify, default 1), `QUEUE_BENCH_BRANCHES` (24).
//! Failing branches fail their candidate twice (a recheck rules out flaky verify) and, with one
//! coder tier and one attempt per tier, fail their task; the rest land.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use anyhow::{Context as _, Result, bail};
use gaffer_core::{NewTask, ObjectId, Risk, Status, TaskState, VerifiedTree};
use gaffer_engine::{Board, BoardOptions, Engine};
use gaffer_test_support::TestRepo;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

const RUN_TESTS: &str = "#!/bin/sh\nfor f in breaks-*; do\n  if [ -e \"$f\" ]; then echo \"$f breaks the tests\"; exit 1; fi\ndone\nexit 0\n";

/// The speculative train's depth.
const TRAIN: usize = 8;
/// Heavy slots (verify runs at once) for both queues.
const SLOTS: usize = 2;
/// Failure rates, in percent.
const RATES: [u32; 3] = [0, 10, 25];

struct Figures {
    wall: Duration,
    landed: usize,
    failed: usize,
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
fn run(n: usize, rate: u32, t: f64, depth: usize) -> Result<Figures> {
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
    settings.queue.max_candidates = depth;
    settings.host.heavy_slots = SLOTS;
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
    Ok(Figures {
        wall,
        landed,
        failed,
    })
}

fn main() -> Result<()> {
    let t: f64 = env_number("QUEUE_BENCH_T", 1.0);
    let n: usize = env_number("QUEUE_BENCH_BRANCHES", 24);
    println!("gaffer merge-queue benchmark");
    println!(
        "  {n} queued branches, verify = `sleep {t} && sh tests/run.sh`, {SLOTS} heavy slots, \
         {} CPU(s)",
        std::thread::available_parallelism().map_or(0, |c| c.get())
    );
    println!("  serial: queue.max_candidates = 1; train: queue.max_candidates = {TRAIN}");
    println!();
    println!(
        "  {:>8}  {:<8} {:>9} {:>7} {:>7} {:>11} {:>9}",
        "failures", "queue", "wall", "landed", "failed", "landings/h", "speed-up"
    );
    let mut zero_speedup = None;
    for rate in RATES {
        let serial = run(n, rate, t, 1)?;
        let train = run(n, rate, t, TRAIN)?;
        let speedup = serial.wall.as_secs_f64() / train.wall.as_secs_f64();
        for (name, f, s) in [("serial", &serial, None), ("train", &train, Some(speedup))] {
            println!(
                "  {:>7}%  {:<8} {:>8.1}s {:>7} {:>7} {:>11.0} {:>9}",
                rate,
                name,
                f.wall.as_secs_f64(),
                f.landed,
                f.failed,
                f.per_hour(),
                s.map(|s| format!("{s:.2}x")).unwrap_or_default()
            );
        }
        if rate == 0 {
            zero_speedup = Some(speedup);
        }
    }
    println!();
    match zero_speedup {
        Some(s) if s >= 1.8 => {
            println!(
                "  with no failures the train lands {s:.2}x as fast as the serial queue (>= 1.8x)"
            );
            Ok(())
        }
        Some(s) => bail!("with no failures the train lands only {s:.2}x as fast (needs 1.8x)"),
        None => Ok(()),
    }
}
