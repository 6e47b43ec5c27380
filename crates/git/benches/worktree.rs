//! Is the worktree pool worth it? Times `Worktrees::checkout` + `release` on a repository of
//! 20,000 files, without a pool (fresh `git worktree add` / `remove` each time) and with a
//! pool of 2 (move a clean slot in, switch branch, clean, move it back).
//!
//! Between runs `main` gains a commit touching a few files, as it would while tasks land, so
//! pooled slots have a small diff to apply rather than none.
//!
//! Run with `cargo bench -p gaffer-git --bench worktree`. Environment: `GAFFER_BENCH_FILES`
//! (default 20000) and `GAFFER_BENCH_RUNS` (default 10).

use std::error::Error;
use std::fs;
use std::time::{Duration, Instant};

use gaffer_git::{Git, Oid, Worktrees};
use gaffer_test_support::TestRepo;

/// Median of `samples` (which it sorts).
fn median(samples: &mut [Duration]) -> Duration {
    samples.sort();
    samples.get(samples.len() / 2).copied().unwrap_or_default()
}

fn env_usize(key: &str, default: usize) -> usize {
    std::env::var(key)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

struct Timings {
    checkout: Vec<Duration>,
    release: Vec<Duration>,
    total: Vec<Duration>,
}

fn measure(
    repo: &TestRepo,
    git: &Git,
    pool_size: usize,
    runs: usize,
) -> Result<Timings, Box<dyn Error>> {
    let wts = Worktrees::new(
        git.clone(),
        repo.scratch(&format!("wt-pool-{pool_size}")),
        pool_size,
    );
    let mut timings = Timings {
        checkout: Vec::new(),
        release: Vec::new(),
        total: Vec::new(),
    };
    // One unmeasured cycle first, so the pool (if any) is warm, as in a running daemon.
    for i in 0..=runs {
        // main moves on between tasks.
        repo.write(
            &format!("src/d0/s0/file{i}.txt"),
            format!("changed in round {i} with pool size {pool_size}\n"),
        );
        let start: Oid = repo.commit_all(&format!("round {i}")).parse()?;

        let name = format!("t{pool_size}-{i}");
        let branch = format!("gaffer/{name}");
        let t0 = Instant::now();
        let path = wts.checkout(&name, &branch, &start)?;
        let t1 = Instant::now();
        // A little agent work: an edit and an untracked file.
        fs::write(path.join("README.md"), "edited by the agent\n")?;
        fs::write(path.join("scratch.txt"), "untracked\n")?;
        let t2 = Instant::now();
        wts.release(&name, &branch, true)?;
        let t3 = Instant::now();
        if i > 0 {
            timings.checkout.push(t1 - t0);
            timings.release.push(t3 - t2);
            timings.total.push((t1 - t0) + (t3 - t2));
        }
    }
    wts.drain_pool()?;
    Ok(timings)
}

fn main() -> Result<(), Box<dyn Error>> {
    let files = env_usize("GAFFER_BENCH_FILES", 20_000);
    let runs = env_usize("GAFFER_BENCH_RUNS", 10).max(1);

    let t = Instant::now();
    let repo = TestRepo::with_files(files);
    println!("created a {files}-file repository in {:.2?}", t.elapsed());
    let git = Git::open_with_env(repo.path(), repo.env())?;

    println!("median of {runs} runs:");
    println!(
        "{:>10} {:>12} {:>12} {:>12}",
        "pool", "checkout", "release", "total"
    );
    for pool_size in [0, 2] {
        let mut t = measure(&repo, &git, pool_size, runs)?;
        println!(
            "{:>10} {:>12.1?} {:>12.1?} {:>12.1?}",
            pool_size,
            median(&mut t.checkout),
            median(&mut t.release),
            median(&mut t.total)
        );
    }
    Ok(())
}
