//! Pipeline benchmarks: figures, not a timed test. See `benches/README.md`.
//!
//! `cargo bench -p gaffer --bench pipeline` runs everything; a trailing `-- add` or `-- engine`
//! runs one part.
//!
//! 1. `gaffer task add`: wall time of one real process (the binary Cargo built for this bench)
//!    over 100 runs, without and with a daemon (`gaffer up --detach --port 0`).
//! 2. The engine's own overhead per task: 200 tasks on a repository of 20,000 files, each with its
//!    own write scope, a scripted agent that writes one file at once and `verify = "true"`, run
//!    in-process with `Engine::run_until_settled` as `gaffer demo` does, once without a worktree
//!    pool (every task a fresh checkout: the old path) and once with a pool of 4. The engine's
//!    own phase timings and the store's event log then say where the time went.
//!
//! Environment: `GAFFER_BENCH_FILES` (files in part 2's repository, default 20000),
//! `GAFFER_BENCH_TASKS` (tasks per engine run, default 200), `GAFFER_BENCH_POOLS` (the pool sizes
//! to run, default `0,4`), `GAFFER_BENCH_BASELINE_TASKS` (tasks of the run without a pool, default
//! the same; fresh checkouts of 100,000 files take seconds each), `GAFFER_BENCH_WATCH` (with a
//! pool: `on`, `off` or `both`, default `both`: the tree watch, `engine.worktree_watch`, on, then
//! off for the baseline of every pass over every file), `GAFFER_BENCH_WARM` (`0`: the pool starts
//! empty and the engine fills it while the first tasks run; by default it is filled before the
//! first task, as a daemon started before the work has it, and the time that took is printed).

use anyhow::{Context as _, Result, bail};
use gaffer_core::{Event, JobSpec, NewTask, Seq, Status, VerifyPurpose, event_kind};
use gaffer_engine::{Board, BoardOptions, Engine, agents_from_settings};
use gaffer_store::{EventFilter, JobFilter};
use gaffer_test_support::{TestRepo, git_cmd};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio_util::sync::CancellationToken;

const GAFFER: &str = env!("CARGO_BIN_EXE_gaffer");

/// Runs of `gaffer task add` per measurement.
const ADD_RUNS: usize = 100;
/// Files in the engine benchmark's repository (`GAFFER_BENCH_FILES`).
const FILES: usize = 20_000;
/// Tasks the engine benchmark runs to merge (`GAFFER_BENCH_TASKS`).
const TASKS: usize = 200;
/// Agents at once in the engine benchmark.
const CONCURRENCY: usize = 4;
/// How long one engine run may take before the bench reports it unfinished.
const ENGINE_DEADLINE: Duration = Duration::from_secs(900);

fn main() -> Result<()> {
    // Cargo passes `--bench`; anything else not starting with `-` selects parts.
    let parts: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let wants = |part: &str| parts.is_empty() || parts.iter().any(|p| p == part);

    println!("gaffer pipeline benchmark");
    println!("  {}", git_version()?);
    println!(
        "  {} CPU(s) available",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    println!("  gaffer binary: {GAFFER}");
    if wants("add") {
        bench_task_add()?;
    }
    if wants("engine") {
        let files = env_usize("GAFFER_BENCH_FILES", FILES);
        let tasks = env_usize("GAFFER_BENCH_TASKS", TASKS);
        let baseline_tasks = env_usize("GAFFER_BENCH_BASELINE_TASKS", tasks);
        let pools = std::env::var("GAFFER_BENCH_POOLS").unwrap_or_else(|_| "0,4".into());
        let watches: &[bool] = match std::env::var("GAFFER_BENCH_WATCH").as_deref() {
            Ok("on") => &[true],
            Ok("off") => &[false],
            _ => &[true, false],
        };
        let mut summary = Vec::new();
        for pool in pools
            .split(',')
            .filter_map(|p| p.trim().parse::<usize>().ok())
        {
            // Without a pool every task is a fresh checkout: the watch changes little there.
            let watches = if pool == 0 { &[true][..] } else { watches };
            for &watch in watches {
                let tasks = if pool == 0 { baseline_tasks } else { tasks };
                summary.push((
                    pool,
                    watch,
                    bench_engine(Sizes { files, tasks }, pool, watch)?,
                ));
            }
        }
        println!();
        println!(
            "engine overhead per task, {files} files (first add_task -> all merged, amortized):"
        );
        for (pool, watch, figures) in summary {
            let what = match (pool, watch) {
                (0, _) => "no pool: a fresh checkout per task (the old path)",
                (_, true) => "pooled worktrees, tree watch on: passes on the changed paths",
                (_, false) => "pooled worktrees, tree watch off: passes over every file",
            };
            println!(
                "  worktree_pool {pool}: {:>7.1} ms wall per task, {:>7.1} ms CPU per task ({} tasks; {what})",
                figures.wall_ms_per_task, figures.cpu_ms_per_task, figures.tasks
            );
        }
    }
    Ok(())
}

fn env_usize(key: &str, default: usize) -> usize {
    std::env::var(key)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

/// The size of one engine run.
#[derive(Clone, Copy)]
struct Sizes {
    files: usize,
    tasks: usize,
}

/// The headline figures of one engine run.
struct Figures {
    tasks: usize,
    wall_ms_per_task: f64,
    cpu_ms_per_task: f64,
}

/// CPU time of this process and of the children it waited for (git, verify), from
/// `/proc/self/stat`; zero where that does not exist.
fn cpu_time() -> Duration {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return Duration::ZERO;
    };
    // Fields after the command name (which may hold spaces), from field 3 on.
    let Some((_, rest)) = stat.rsplit_once(')') else {
        return Duration::ZERO;
    };
    let fields: Vec<u64> = rest
        .split_whitespace()
        .map(|f| f.parse().unwrap_or(0))
        .collect();
    // utime, stime, cutime, cstime are fields 14..=17, i.e. indices 11..=14 here.
    let ticks: u64 = fields.get(11..15).map_or(0, |f| f.iter().sum());
    // USER_HZ is 100 on every Linux this runs on.
    Duration::from_millis(ticks * 10)
}

fn git_version() -> Result<String> {
    let out = Command::new("git")
        .arg("--version")
        .output()
        .context("running git --version")?;
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

// ---------------------------------------------------------------------------------------------
// 1. `gaffer task add`
// ---------------------------------------------------------------------------------------------

/// The add benchmark's configuration. The one agent sleeps for an hour on any task, and every
/// task shares one write scope, so a running daemon holds exactly one task in `coding` and is
/// otherwise idle: the figure is the cost of the add itself, not of work it starts.
fn add_config(script: &Path) -> String {
    format!(
        r#"[project]
name = "bench-add"
target = "main"

[verify]
command = "true"

[agents.sleeper]
backend = "scripted"
script = "{}"

[roles]
coder = ["sleeper"]
"#,
        script.display()
    )
}

const SLEEPER_SCRIPT: &str = r#"
[[task]]
match = "bench add"
[[task.attempt]]
delay_ms = 3600000
"#;

/// A repository with a gaffer.toml, ready for `gaffer task add`.
fn add_repo() -> Result<TestRepo> {
    let repo = TestRepo::new();
    let script = repo.scratch("sleeper.toml");
    std::fs::write(&script, SLEEPER_SCRIPT)?;
    repo.write("gaffer.toml", add_config(&script));
    repo.commit_all("gaffer.toml");
    Ok(repo)
}

/// `gaffer <args>` in the repository, under the hermetic git environment and without any
/// `GAFFER_*` setting from the caller's environment.
fn gaffer(repo: &TestRepo, args: &[&str]) -> Command {
    let mut cmd = Command::new(GAFFER);
    cmd.arg("-C")
        .arg(repo.path())
        .args(args)
        .current_dir(repo.path())
        .stdin(Stdio::null());
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("GAFFER_") {
            cmd.env_remove(&key);
        }
    }
    cmd.envs(repo.env());
    cmd
}

fn run_ok(mut cmd: Command, what: &str) -> Result<()> {
    let out = cmd.output().with_context(|| format!("running {what}"))?;
    if !out.status.success() {
        bail!(
            "{what} failed ({}):\n{}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(())
}

/// Times `runs` processes of `gaffer task add`, after one untimed first run.
fn time_adds(repo: &TestRepo, label: &str, runs: usize) -> Result<(Duration, Vec<Duration>)> {
    let add = |i: usize| -> Result<Duration> {
        let title = format!("bench add {label} {i:03}");
        let cmd = gaffer(repo, &["task", "add", &title, "--scope", "bench/**"]);
        let start = Instant::now();
        run_ok(cmd, "gaffer task add")?;
        Ok(start.elapsed())
    };
    let first = add(0)?;
    let samples = (1..=runs).map(add).collect::<Result<Vec<_>>>()?;
    Ok((first, samples))
}

fn bench_task_add() -> Result<()> {
    println!();
    println!("1. one `gaffer task add` process ({ADD_RUNS} runs each)");

    let repo = add_repo()?;
    let (first, samples) = time_adds(&repo, "cold", ADD_RUNS)?;
    report_adds("no daemon", first, &samples, "opens the store itself");

    let repo = add_repo()?;
    let up = Instant::now();
    run_ok(
        gaffer(&repo, &["up", "--detach", "--port", "0"]),
        "gaffer up --detach --port 0",
    )?;
    let up = up.elapsed();
    let timed = time_adds(&repo, "daemon", ADD_RUNS);
    let down = Instant::now();
    let stopped = run_ok(gaffer(&repo, &["down"]), "gaffer down");
    let down = down.elapsed();
    let (first, samples) = timed?;
    stopped?;
    report_adds(
        "daemon running",
        first,
        &samples,
        "posts to the daemon's API",
    );
    println!(
        "  (`gaffer up --detach` took {}, `gaffer down` {})",
        ms(up),
        ms(down)
    );
    Ok(())
}

fn report_adds(label: &str, first: Duration, samples: &[Duration], how: &str) {
    let mut sorted = samples.to_vec();
    sorted.sort();
    println!(
        "  {label:<15} median {:>9}  p90 {:>9}  min {:>9}  max {:>9}   (first run {}; {how})",
        ms(median(&sorted)),
        ms(percentile(&sorted, 90)),
        ms(sorted.first().copied().unwrap_or_default()),
        ms(sorted.last().copied().unwrap_or_default()),
        ms(first),
    );
}

fn median(sorted: &[Duration]) -> Duration {
    match sorted.len() {
        0 => Duration::ZERO,
        n if n % 2 == 1 => sorted[n / 2],
        n => (sorted[n / 2 - 1] + sorted[n / 2]) / 2,
    }
}

/// Nearest-rank percentile of sorted samples.
fn percentile(sorted: &[Duration], p: usize) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = (p * sorted.len()).div_ceil(100).clamp(1, sorted.len());
    sorted[rank - 1]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

// ---------------------------------------------------------------------------------------------
// 2. The engine's overhead per task
// ---------------------------------------------------------------------------------------------

fn title(i: usize) -> String {
    format!("bench task {i:03}")
}

/// One entry per task: the title is unique, the agent writes `bench/NNN.txt` at once.
fn engine_script(tasks: usize) -> String {
    let mut s = String::new();
    for i in 0..tasks {
        let _ = write!(
            s,
            "[[task]]\nmatch = \"{t}\"\n[[task.attempt]]\nsummary = \"wrote bench/{i:03}.txt\"\n\
             actions = [{{ write = \"bench/{i:03}.txt\", content = \"{t}\\n\" }}]\n\n",
            t = title(i)
        );
    }
    s
}

fn engine_config(script: &Path, pool: usize, watch: bool) -> String {
    format!(
        r#"[project]
name = "bench-engine"
target = "main"

[verify]
command = "true"
timeout = "60s"

[engine]
concurrency = {CONCURRENCY}
worktree_pool = {pool}
worktree_watch = {watch}

[agents.bench]
backend = "scripted"
script = "{}"

[roles]
coder = ["bench"]
"#,
        script.display()
    )
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// Times one `git` command in the repository (a reference figure for the engine's steps).
fn time_git(repo: &TestRepo, args: &[&str]) -> Result<Duration> {
    let start = Instant::now();
    let out = git_cmd(repo.path(), &repo.env())
        .args(args)
        .output()
        .context("running git")?;
    if !out.status.success() {
        bail!(
            "git {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(start.elapsed())
}

fn bench_engine(sizes: Sizes, pool: usize, watch: bool) -> Result<Figures> {
    let Sizes {
        files,
        tasks: task_count,
    } = sizes;
    println!();
    println!(
        "2. engine overhead: {task_count} tasks on {files} files, concurrency {CONCURRENCY}, \
         worktree_pool {pool}, worktree_watch {watch}"
    );
    let made = Instant::now();
    let repo = TestRepo::with_files(files);
    println!(
        "  repository created in {:.1} s",
        made.elapsed().as_secs_f64()
    );
    // Write back what creating it (and deleting the previous run's) left dirty, so that the
    // figures below do not pay for it.
    let synced = Instant::now();
    let _ = Command::new("sync").status();
    println!(
        "  sync before measuring: {:.1} s",
        synced.elapsed().as_secs_f64()
    );

    // Reference: what one fresh worktree of this repository costs in git alone.
    let probe = repo.scratch("probe-worktree");
    let probe_str = probe.display().to_string();
    let add = time_git(
        &repo,
        &["worktree", "add", "-q", "--detach", &probe_str, "main"],
    )?;
    let status = time_git(&repo, &["-C", &probe_str, "status", "--porcelain"])?;
    let remove = time_git(&repo, &["worktree", "remove", "--force", &probe_str])?;
    println!(
        "  git alone, for reference: worktree add {}, status {}, worktree remove {}",
        ms(add),
        ms(status),
        ms(remove)
    );

    let script = repo.scratch("script.toml");
    std::fs::write(&script, engine_script(task_count))?;
    let config = repo.scratch("gaffer.toml");
    std::fs::write(&config, engine_config(&script, pool, watch))?;
    let settings = gaffer_config::load(
        Some(&config),
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
        "  defaults in effect: queue.max_candidates {}, host.heavy_slots {}, review off",
        board.settings().queue.max_candidates,
        board.settings().host.heavy_slots
    );

    if pool > 0 && std::env::var("GAFFER_BENCH_WARM").as_deref() != Ok("0") {
        let warming = Instant::now();
        let cpu_before = cpu_time();
        let made = board.warm_worktree_pool()?;
        println!(
            "  pool filled before the first task (as a daemon started earlier has it): {made} \
             fresh checkouts in {:.1} s, {:.1} s CPU (not counted below; GAFFER_BENCH_WARM=0 \
             counts them)",
            warming.elapsed().as_secs_f64(),
            cpu_time().saturating_sub(cpu_before).as_secs_f64()
        );
    }
    let start_ms = now_ms();
    let start = Instant::now();
    let cpu_before = cpu_time();
    for i in 0..task_count {
        board.add_task(NewTask {
            title: title(i),
            body: format!("Write bench/{i:03}.txt."),
            write_scope: vec![format!("bench/{i:03}.txt")],
            ..NewTask::default()
        })?;
    }
    let added = start.elapsed();
    let engine = Engine::new(Arc::clone(&board), agents);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    // At the deadline the engine is stopped the way `gaffer down` stops it (running work is
    // interrupted), so the figures below cover what finished.
    let stop = CancellationToken::new();
    let result = rt.block_on(async {
        let deadline = {
            let stop = stop.clone();
            tokio::spawn(async move {
                tokio::time::sleep(ENGINE_DEADLINE).await;
                stop.cancel();
            })
        };
        let result = engine.run_until_settled(stop.clone()).await;
        deadline.abort();
        result
    });
    let settled = start.elapsed();
    let cpu = cpu_time().saturating_sub(cpu_before);
    result?;
    if stop.is_cancelled() {
        println!(
            "  NOT SETTLED within {} s: stopped there; the figures below are for what finished",
            ENGINE_DEADLINE.as_secs()
        );
    }

    let tasks = board.tasks(&[])?;
    let merged = tasks
        .iter()
        .filter(|t| t.status() == Status::Merged)
        .count();
    if merged != task_count {
        let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
        for t in &tasks {
            *counts.entry(t.status().as_str()).or_default() += 1;
        }
        println!("  NOT ALL MERGED: {counts:?}");
        for t in tasks
            .iter()
            .filter(|t| t.status() == Status::Failed)
            .take(3)
        {
            println!("    task {} failed: {:?}", t.id, t.state.note);
        }
    }
    let landing = board.landing()?;
    let landed_files = repo
        .git(&["ls-tree", "-r", "--name-only", &landing.branch, "bench/"])
        .lines()
        .count();

    let events = board.events_after(
        Seq(0),
        usize::MAX / 2,
        &EventFilter {
            project: Some(board.project().id),
            ..EventFilter::default()
        },
    )?;
    let last_merge_ms = events
        .iter()
        .filter(|e| e.kind == event_kind::TASK_STATUS && e.data["to"] == "merged")
        .map(|e| e.at_ms)
        .max()
        .unwrap_or(start_ms);
    let to_merged = Duration::from_millis((last_merge_ms - start_ms).max(0) as u64);
    let secs = to_merged.as_secs_f64();
    println!(
        "  {merged}/{task_count} merged ({landed_files} bench files on {}); {task_count} add_task calls took {}",
        landing.branch,
        ms(added)
    );
    println!(
        "  first add_task -> all merged: {secs:.1} s = {:.2} tasks/s = {:.0} ms per task",
        merged as f64 / secs.max(f64::EPSILON),
        secs * 1000.0 / (merged.max(1) as f64)
    );
    println!(
        "  first add_task -> settled (last worktrees cleaned up): {:.1} s",
        settled.as_secs_f64()
    );
    println!(
        "  CPU time of the whole process and its children (git, verify) until settled: {:.1} s = \
         {:.1} ms per task",
        cpu.as_secs_f64(),
        cpu.as_secs_f64() * 1000.0 / (merged.max(1) as f64)
    );
    let made = board.worktree_checkouts();
    println!(
        "  worktrees handed out: {} fresh checkouts, {} pool slots reused ({} moved to the \
         task's start on its path, the others reset to it on release; {} fresh checkouts \
         stopped for a slot released meanwhile)",
        made.fresh, made.reused, made.advanced, made.given_up
    );
    let watched = board.worktree_watch_counts();
    println!(
        "  passes over a worktree (staging after a run, a candidate's untracked files, a released \
         slot's reset): {} on the changed \
         paths only (the tree watch), {} over every file",
        watched.narrow, watched.whole
    );
    println!(
        "  hard links refused to the processes in the worktrees (the sandbox's filter; then no \
         pass looks at every tracked file): {}",
        if board.worktree_links_refused() {
            "yes"
        } else {
            "no"
        }
    );
    print_phases(&board, merged);
    print_breakdown(&board, &events, start_ms, to_merged)?;
    Ok(Figures {
        tasks: merged,
        wall_ms_per_task: secs * 1000.0 / (merged.max(1) as f64),
        cpu_ms_per_task: cpu.as_secs_f64() * 1000.0 / (merged.max(1) as f64),
    })
}

/// The engine's own timings by phase (`Board::phase_times`), amortized over the merged tasks:
/// wall time summed over jobs (jobs run concurrently, so the sum may exceed the elapsed time).
fn print_phases(board: &Board, tasks: usize) {
    let per_task = |d: Duration| d.as_secs_f64() * 1000.0 / (tasks.max(1) as f64);
    println!(
        "  engine phases, amortized per task (wall time summed over concurrent jobs; n = times run):"
    );
    let phases = board.phase_times();
    let mut total = Duration::ZERO;
    for p in &phases {
        if p.phase != gaffer_engine::Phase::Agent && p.phase != gaffer_engine::Phase::VerifyCommand
        {
            total += p.total;
        }
        let mean = if p.count == 0 {
            0.0
        } else {
            p.total.as_secs_f64() * 1000.0 / p.count as f64
        };
        println!(
            "    {:<18} {:>8.1} ms per task   n={:<5} mean {:>7.1} ms",
            p.phase.name(),
            per_task(p.total),
            p.count,
            mean
        );
    }
    println!(
        "    {:<18} {:>8.1} ms per task   (every phase but the agent and the verify command)",
        "engine's own",
        per_task(total)
    );
}

/// Where the time went, from the store: the time each task spent in each status (from its
/// `task.status` events), how long each kind of job took from enqueue to completion, agent run
/// and verify durations.
fn print_breakdown(board: &Board, events: &[Event], start_ms: i64, wall: Duration) -> Result<()> {
    // Time in each status, summed over tasks.
    let tasks = board.tasks(&[])?;
    // (sum over tasks, tasks that were in it); a status may be re-entered (a task stays in
    // `merging` across several inputs), so the count is of tasks, not of visits.
    let mut in_status: BTreeMap<String, (i64, usize)> = BTreeMap::new();
    // Intervals during which a task was merging (for the merge queue's busy time).
    let mut merging: Vec<(i64, i64)> = Vec::new();
    for task in &tasks {
        let mut mine: BTreeMap<String, i64> = BTreeMap::new();
        let mut since = task.created_ms;
        let mut status = "backlog".to_string();
        let mut merging_since = None;
        for e in events
            .iter()
            .filter(|e| e.task == Some(task.id) && e.kind == event_kind::TASK_STATUS)
        {
            *mine.entry(status.clone()).or_default() += e.at_ms - since;
            since = e.at_ms;
            status = e.data["to"].as_str().unwrap_or("?").to_string();
            match (status == "merging", merging_since) {
                (true, None) => merging_since = Some(e.at_ms),
                (false, Some(from)) => {
                    merging.push((from, e.at_ms));
                    merging_since = None;
                }
                _ => {}
            }
        }
        for (name, ms) in mine {
            let entry = in_status.entry(name).or_default();
            entry.0 += ms;
            entry.1 += 1;
        }
    }
    let wall_ms = wall.as_millis().max(1) as f64;
    println!("  time per status (mean per task; sum over tasks as a share of the wall time):");
    let order = [
        "backlog",
        "ready",
        "coding",
        "verifying",
        "queued",
        "merging",
    ];
    for name in order.iter().map(|s| s.to_string()).chain(
        in_status
            .keys()
            .filter(|k| !order.contains(&k.as_str()))
            .cloned(),
    ) {
        let Some((sum, n)) = in_status.get(&name) else {
            continue;
        };
        println!(
            "    {name:<10} {:>8.0} ms mean   {:>7.1} task-s = {:>5.0}% of wall",
            *sum as f64 / (*n).max(1) as f64,
            *sum as f64 / 1000.0,
            *sum as f64 * 100.0 / wall_ms
        );
    }

    // Jobs: enqueue to completion.
    let jobs = board.jobs(&JobFilter::default())?;
    let mut by_kind: BTreeMap<&str, Vec<i64>> = BTreeMap::new();
    for job in &jobs {
        by_kind
            .entry(job.spec.kind().as_str())
            .or_default()
            .push(job.updated_ms - job.created_ms);
    }
    println!("  jobs, enqueue -> done (waiting for a slot included):");
    for (kind, mut d) in by_kind {
        d.sort_unstable();
        let sum: i64 = d.iter().sum();
        println!(
            "    {kind:<18} n={:<4} mean {:>6.0} ms  median {:>6} ms  max {:>6} ms  sum {:>6.1} s",
            d.len(),
            sum as f64 / d.len().max(1) as f64,
            d[d.len() / 2],
            d.last().copied().unwrap_or(0),
            sum as f64 / 1000.0
        );
    }

    // Agent runs: the run record starts after the worktree is ready and ends when the engine
    // has committed the agent's work and recorded the result.
    let mut run_ms = Vec::new();
    let mut prep_ms = Vec::new();
    for task in &tasks {
        for run in board.runs(task.id)? {
            if let Some(end) = run.ended_ms {
                run_ms.push(end - run.started_ms);
            }
            if let Some(job) = jobs.iter().find(|j| Some(j.id) == run.job) {
                prep_ms.push(run.started_ms - job.created_ms);
            }
        }
    }
    println!(
        "  coder runs: enqueue -> run started (slot + worktree checkout) mean {:.0} ms; \
         run started -> recorded (agent + engine commit) mean {:.0} ms",
        mean(&prep_ms),
        mean(&run_ms)
    );

    // Verify, per purpose: before the command (slot, worktree lock, checkout of the commit),
    // the command itself, and after it (checkout back to the branch, recording the result).
    let mut verify: BTreeMap<&str, [Vec<i64>; 3]> = BTreeMap::new();
    for job in &jobs {
        let JobSpec::Verify { commit, purpose } = &job.spec else {
            continue;
        };
        let purpose = match purpose {
            VerifyPurpose::Branch => "branch",
            VerifyPurpose::Candidate => "candidate",
        };
        let find = |kind: &str| {
            events.iter().find(|e| {
                e.kind == kind
                    && e.task == job.task
                    && e.at_ms >= job.created_ms
                    && e.data["commit"].as_str() == Some(commit.as_str())
            })
        };
        let (Some(started), Some(finished)) = (
            find(event_kind::VERIFY_STARTED),
            find(event_kind::VERIFY_FINISHED),
        ) else {
            continue;
        };
        let command = finished.data["duration_ms"].as_i64().unwrap_or(0);
        let parts = verify.entry(purpose).or_default();
        parts[0].push(started.at_ms - job.created_ms);
        parts[1].push(command);
        parts[2].push(job.updated_ms - started.at_ms - command);
    }
    for (purpose, [before, command, after]) in &verify {
        println!(
            "  verify ({purpose}, n={}): enqueue -> command mean {:.0} ms; command mean {:.0} ms; \
             after the command mean {:.0} ms",
            command.len(),
            mean(before),
            mean(command),
            mean(after)
        );
    }

    // The merge queue: from the first task queued to the last merge, how long per merge, and
    // for how much of that window at least one task was merging. Near 100% means the merge
    // path bounds throughput.
    let at = |to: &str| -> Vec<i64> {
        events
            .iter()
            .filter(|e| e.kind == event_kind::TASK_STATUS && e.data["to"] == to)
            .map(|e| e.at_ms)
            .collect()
    };
    let (queued, merged) = (at("queued"), at("merged"));
    if let (Some(first), Some(last)) = (queued.iter().min(), merged.iter().max()) {
        let window = (last - first).max(1);
        merging.sort_unstable();
        let mut busy = 0;
        let mut covered_to = i64::MIN;
        for (from, to) in merging {
            let from = from.max(covered_to);
            if to > from {
                busy += to - from;
                covered_to = to;
            }
        }
        println!(
            "  merge queue (max_candidates {}): first task queued at {:.1} s, last merged at \
             {:.1} s; {} merges in {:.1} s = {:.0} ms per merge; some task was merging {:.0}% \
             of that window",
            board.settings().queue.max_candidates,
            (first - start_ms) as f64 / 1000.0,
            (last - start_ms) as f64 / 1000.0,
            merged.len(),
            window as f64 / 1000.0,
            window as f64 / merged.len().max(1) as f64,
            busy as f64 * 100.0 / window as f64
        );
    }
    Ok(())
}

fn mean(values: &[i64]) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    values.iter().sum::<i64>() as f64 / values.len() as f64
}
