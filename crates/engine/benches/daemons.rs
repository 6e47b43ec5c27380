//! Landings per hour with one daemon and with three on one shared board, on the same workload:
//! figures, not a timed test.
//!
//! `cargo bench -p gaffer-engine --bench daemons` runs 12 tasks (an agent that takes 1.5 s,
//! verify `sleep 0.5` plus the project's test) with `engine.concurrency = 2` per daemon, in
//! process with the real engine: once on one daemon, once on three that share one board (one
//! SQLite file, a clone and a state directory each, a bare remote between them, code moving only
//! through it). It prints the wall time until every task merged and the landings per hour, and
//! checks that every task landed exactly once.
//!
//! Environment: `DAEMONS_BENCH_TASKS` (12), `DAEMONS_BENCH_AGENT_MS` (1500).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{coder, env_number};

use gaffer_core::TaskId;
use gaffer_test_support::EngineHarness;
use std::time::{Duration, Instant};

async fn run(daemons: usize, tasks: u64, delay_ms: u64) -> Duration {
    let mut d = EngineHarness::builder()
        .agent("writer", coder(tasks, delay_ms))
        .set("roles.coder", "writer")
        .set("engine.concurrency", "2")
        .set("engine.lease", "10s")
        .set("engine.heartbeat", "1s")
        .verify("sleep 0.5 && for f in *.txt; do test -s \"$f\"; done")
        .daemons(daemons);
    let ids: Vec<TaskId> = (0..tasks)
        .map(|i| d.daemon(0).add(&format!("task {i:02}")))
        .collect();
    let start = Instant::now();
    d.start_all();
    common::landed_once_each(&mut d, &ids, start).await
}

fn main() {
    let tasks = env_number("DAEMONS_BENCH_TASKS", 12);
    let delay_ms = env_number("DAEMONS_BENCH_AGENT_MS", 1500);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    println!("{tasks} tasks, agent {delay_ms} ms, verify 0.5 s, concurrency 2 per daemon:");
    let mut first = None;
    for daemons in [1usize, 3] {
        let wall = runtime.block_on(run(daemons, tasks, delay_ms));
        let per_hour = tasks as f64 * 3600.0 / wall.as_secs_f64();
        let speedup = first.map(|f: f64| per_hour / f).unwrap_or(1.0);
        first.get_or_insert(per_hour);
        println!(
            "  {daemons} daemon(s): all merged in {:>6.1} s, {per_hour:>7.0} landings/hour ({speedup:.2}x)",
            wall.as_secs_f64()
        );
    }
}
