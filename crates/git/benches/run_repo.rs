//! What does confining a run's refs cost? Times `RunRepo::prepare` and `RunRepo::bring_back`
//! on a repository of 20,000 files, and, for scale, the run's first `git status` through the
//! run repository (as fast as one in the worktree itself only if the copied index is right)
//! and the engine's `commit_all` afterwards (which re-stages against the stale index).
//!
//! Each round the "agent" edits a few files and commits them through the run repository, as
//! an agent inside the sandbox would.
//!
//! Run with `cargo bench -p gaffer-git --bench run_repo`. Environment: `GAFFER_BENCH_FILES`
//! (default 20000) and `GAFFER_BENCH_RUNS` (default 10).

use std::error::Error;
use std::fs;
use std::path::Path;
use std::time::{Duration, Instant};

use gaffer_git::{BranchChange, Git, Oid, RunRepo, Worktrees, commit_all};
use gaffer_test_support::{TestRepo, git_cmd};

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

/// git in `worktree` through the run repository, as inside the sandbox.
fn run_git(repo: &TestRepo, run: &RunRepo, worktree: &Path, args: &[&str]) -> Result<(), String> {
    let mut env = repo.env();
    env.push(("GIT_DIR".into(), run.dir().display().to_string()));
    let out = git_cmd(worktree, &env)
        .args(args)
        .output()
        .map_err(|e| e.to_string())?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

#[derive(Default)]
struct Timings {
    prepare: Vec<Duration>,
    status: Vec<Duration>,
    status_outside: Vec<Duration>,
    bring_back: Vec<Duration>,
    unchanged: Vec<Duration>,
    commit_all: Vec<Duration>,
}

fn main() -> Result<(), Box<dyn Error>> {
    let files = env_usize("GAFFER_BENCH_FILES", 20_000);
    let runs = env_usize("GAFFER_BENCH_RUNS", 10).max(1);

    let t = Instant::now();
    let repo = TestRepo::with_files(files);
    println!("created a {files}-file repository in {:.2?}", t.elapsed());
    let git = Git::open_with_env(repo.path(), repo.env())?;
    let state = git.common_dir().join("gaffer");
    let start: Oid = repo.head().parse()?;
    let worktrees = Worktrees::new(git.clone(), state.join("worktrees"), 0);
    let worktree = worktrees.checkout("t1", "gaffer/t1", &start)?;
    let main = [("refs/heads/main".to_owned(), start)];
    let mut t = Timings::default();

    // One unmeasured round first, so caches are warm as in a running daemon.
    for i in 0..=runs {
        let scratch = state.join(format!("runs/{i}/agent"));
        fs::create_dir_all(&scratch)?;

        let before = Instant::now();
        let out = git_cmd(&worktree, &repo.env())
            .args(["status", "--porcelain"])
            .output()?;
        if !out.status.success() {
            return Err("git status in the worktree failed".into());
        }
        let status_outside = before.elapsed();

        let t0 = Instant::now();
        let run = RunRepo::prepare(&git, &worktree, "gaffer/t1", &main, &scratch)?;
        let t1 = Instant::now();
        run_git(&repo, &run, &worktree, &["status", "--porcelain"])?;
        let t2 = Instant::now();
        for f in 0..3 {
            let rel = format!("src/d0/s{f}/file{}.txt", f * 100 + i);
            fs::write(worktree.join(rel), format!("round {i}\n"))?;
        }
        run_git(&repo, &run, &worktree, &["commit", "-qam", "agent"])?;
        let t3 = Instant::now();
        let back = run.bring_back()?;
        let t4 = Instant::now();
        if !matches!(back.branch, BranchChange::Moved { .. }) {
            return Err(format!("round {i}: the branch did not move: {back:?}").into());
        }
        fs::write(worktree.join("left.txt"), format!("left in round {i}\n"))?;
        let t5 = Instant::now();
        commit_all(&worktree, "rest", "Agent <a@b>", &repo.env())?;
        let t6 = Instant::now();

        // A run that committed nothing.
        let idle = RunRepo::prepare(&git, &worktree, "gaffer/t1", &main, &scratch)?;
        let t7 = Instant::now();
        idle.bring_back()?;
        let t8 = Instant::now();
        idle.remove()?;
        if i > 0 {
            t.prepare.push(t1 - t0);
            t.status.push(t2 - t1);
            t.status_outside.push(status_outside);
            t.bring_back.push(t4 - t3);
            t.commit_all.push(t6 - t5);
            t.unchanged.push(t8 - t7);
        }
    }

    println!("median of {runs} runs:");
    for (what, samples) in [
        ("prepare", &mut t.prepare),
        ("first git status inside", &mut t.status),
        ("git status outside (baseline)", &mut t.status_outside),
        ("bring_back (3 files committed)", &mut t.bring_back),
        ("bring_back (nothing committed)", &mut t.unchanged),
        ("commit_all afterwards", &mut t.commit_all),
    ] {
        println!("{what:>32} {:>10.1?}", median(samples));
    }
    Ok(())
}
