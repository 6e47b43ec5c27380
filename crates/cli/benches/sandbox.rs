//! The sandbox's cost per run: figures, not a timed test.
//!
//! `cargo bench -p gaffer --bench sandbox` runs the same tasks through the real engine twice:
//! with `[sandbox] mode = "none"` and with bubblewrap (`"bwrap"`). Each task's coder is a
//! `command` agent (a real process: `sh` printing a status line, then a summary) and verify is
//! `true`, one task at a time so the runs do not compete. From the event log it prints, per
//! mode, the median and p90 of: the time from a run's start (`run.started`) to its first
//! event (the agent's first line, so everything before the agent's own work: the run's git
//! directory, the sandbox, the private network, the process), and verify's wall time.

use anyhow::{Result, bail};
use gaffer_core::{NewTask, Seq, Status, event_kind};
use gaffer_engine::{Board, BoardOptions, Engine, agents_from_settings};
use gaffer_store::EventFilter;
use gaffer_test_support::TestRepo;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

const TASKS: usize = 20;

fn config(mode: &str) -> String {
    format!(
        r#"[project]
name = "bench-sandbox"
target = "main"
[verify]
command = "true"
timeout = "60s"
[engine]
concurrency = 1
worktree_pool = 2
[agents.cmd]
backend = "command"
command = "echo 'STATUS: started'; echo done > \"out-$GAFFER_TASK.txt\"; echo 'wrote it' # {{prompt_file}}"
[roles]
coder = ["cmd"]
[sandbox]
mode = "{mode}"
"#
    )
}

fn main() -> Result<()> {
    println!("gaffer sandbox benchmark: {TASKS} tasks, one at a time");
    for mode in ["none", "bwrap"] {
        run(mode)?;
    }
    Ok(())
}

fn run(mode: &str) -> Result<()> {
    let repo = TestRepo::new();
    let file = repo.scratch("gaffer.toml");
    std::fs::write(&file, config(mode))?;
    let settings = gaffer_config::load(
        Some(&file),
        &gaffer_config::Overrides::default(),
        &gaffer_config::Overrides::default(),
    )?;
    let agents = agents_from_settings(&settings, repo.root())?;
    let board = Arc::new(Board::open(
        repo.path(),
        settings,
        BoardOptions {
            git_env: repo.env(),
            clock: None,
            ..BoardOptions::default()
        },
    )?);
    println!(
        "\n[sandbox] mode = \"{mode}\": {}",
        gaffer_engine::describe_confinement(board.settings())
    );
    for i in 0..TASKS {
        board.add_task(NewTask {
            title: format!("bench task {i}"),
            ..NewTask::default()
        })?;
    }
    let engine = Engine::new(Arc::clone(&board), agents);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(engine.run_until_settled(CancellationToken::new()))?;
    let tasks = board.tasks(&[])?;
    let merged = tasks
        .iter()
        .filter(|t| t.status() == Status::Merged)
        .count();
    if merged != TASKS {
        bail!("only {merged} of {TASKS} tasks merged with mode {mode}");
    }
    let events = board.events_after(Seq(0), 1_000_000, &EventFilter::default())?;
    let mut started: BTreeMap<i64, i64> = BTreeMap::new();
    let mut first: Vec<Duration> = Vec::new();
    let mut verify: Vec<Duration> = Vec::new();
    for e in &events {
        let run = e.run.map(|r| r.0);
        match e.kind.as_str() {
            k if k == event_kind::RUN_STARTED => {
                if let Some(run) = run {
                    started.insert(run, e.at_ms);
                }
            }
            k if k == event_kind::RUN_OUTPUT => {
                if let Some(at) = run.and_then(|r| started.remove(&r)) {
                    first.push(Duration::from_millis((e.at_ms - at).max(0) as u64));
                }
            }
            k if k == event_kind::VERIFY_FINISHED => {
                if let Some(ms) = e.data["duration_ms"].as_u64() {
                    verify.push(Duration::from_millis(ms));
                }
            }
            _ => {}
        }
    }
    report("start of run to first agent event", &mut first);
    report("verify wall time (`true`)", &mut verify);
    Ok(())
}

fn report(what: &str, samples: &mut [Duration]) {
    samples.sort();
    if samples.is_empty() {
        println!("  {what}: no samples");
        return;
    }
    let at = |p: usize| samples[(samples.len() * p / 100).min(samples.len() - 1)];
    println!(
        "  {what}: median {} ms, p90 {} ms, {} samples",
        at(50).as_millis(),
        at(90).as_millis(),
        samples.len()
    );
}
