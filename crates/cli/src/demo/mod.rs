//! `gaffer demo`: the whole pipeline and its crew on a throwaway repository, with no account
//! and no network.
//!
//! It creates a small project with its own tests and gives the real engine a goal and a task.
//! A planner splits the goal into two subtasks, one after the other, and a plan reviewer of
//! another family approves the plan; coders work on the subtasks and the task at once. The
//! reviewer asks for one change, which the coder makes in the same session; a coder asks a
//! question, which the demo answers itself as a person would; the task's first attempt fails
//! the tests and is fixed on its retry. Every agent is gaffer's own agent loop talking HTTP
//! (the OpenAI API for the planner and the coder, the Anthropic API for the reviewer) to an
//! in-process scripted model server. The demo then brings the landed work into the
//! repository's checkout with `gaffer pull`'s code path, runs the project's tests there, and
//! prints what happened, read back from the board. With `--serve` the board then stays up as a
//! daemon, with its dashboard, until Ctrl-C.

mod crew;
mod print;
mod project;
mod serve;
mod story;
mod summary;

use crate::cli::DemoArgs;
use crate::commands::runtime;
use crate::error::{CliError, CliResult, Kind};
use gaffer_core::Status;
use std::path::Path;
use std::process::Command;

/// Git as the demo uses it: no system or user configuration (no hooks, no signing), a fixed
/// identity. The throwaway repository must behave the same on every machine.
fn demo_git_env(home: &Path) -> Vec<(String, String)> {
    [
        ("GIT_CONFIG_NOSYSTEM", "1".to_string()),
        ("GIT_CONFIG_GLOBAL", "/dev/null".to_string()),
        ("HOME", home.display().to_string()),
        ("GIT_AUTHOR_NAME", "gaffer demo".to_string()),
        ("GIT_AUTHOR_EMAIL", "demo@gaffer.invalid".to_string()),
        ("GIT_COMMITTER_NAME", "gaffer demo".to_string()),
        ("GIT_COMMITTER_EMAIL", "demo@gaffer.invalid".to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

fn git(dir: &Path, env: &[(String, String)], args: &[&str]) -> CliResult<String> {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .output()?;
    if !out.status.success() {
        return Err(CliError::new(
            Kind::Git,
            format!(
                "git {} failed: {}",
                args.join(" "),
                String::from_utf8_lossy(&out.stderr).trim()
            ),
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// The demo's project: the greeter's files, committed on `main`.
fn create_project(repo: &std::path::Path, env: &[(String, String)]) -> CliResult<()> {
    git(repo, env, &["init", "-q", "-b", "main"])?;
    for (path, content) in project::FILES {
        let file = repo.join(path);
        if let Some(dir) = file.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(file, content)?;
    }
    git(repo, env, &["add", "-A"])?;
    git(
        repo,
        env,
        &["commit", "-q", "-m", "greeter: greet() and its tests"],
    )?;
    Ok(())
}

pub fn run(args: &DemoArgs) -> CliResult<()> {
    let temp = tempfile::Builder::new().prefix("gaffer-demo-").tempdir()?;
    let home = temp.path().join("home");
    let repo = temp.path().join("greeter");
    std::fs::create_dir_all(&home)?;
    std::fs::create_dir_all(&repo)?;
    let env = demo_git_env(&home);

    create_project(&repo, &env)?;

    let rt = runtime()?;
    let crew = rt.block_on(crew::Crew::start(&repo, env.clone()))?;
    crew.add_work(args.json)?;
    if !args.json {
        outln!(
            "running the pipeline (every agent is gaffer's own loop against a scripted model at {}; verify = `sh tests/run.sh`)…",
            crew.model_server.base_url()
        )?;
    }
    rt.block_on(crew.work(args.json))?;

    // Bring the landed work into the checkout, as `gaffer pull` does.
    let landing = crew.board.landing()?;
    if landing.is_redirected() {
        gaffer_git::pull_into_checkout(&repo, &landing.target, &landing.refname(), &env)?;
    }
    let tests = Command::new("sh")
        .arg("tests/run.sh")
        .current_dir(&repo)
        .output()?;
    let ids = crew.task_ids()?;
    let report =
        summary::Summary::collect(&crew.board, &ids, &repo, &landing, tests.status.success())?;
    // Kept before anything is printed: a reader that went away must not cost the repository.
    let kept = if args.keep { Some(temp.keep()) } else { None };
    if args.json {
        crate::output::json(&report)?;
    } else {
        report.print()?;
        crate::output::raw(&String::from_utf8_lossy(&tests.stdout))?;
    }
    let all_merged = report.tasks.iter().all(|t| t.status == Status::Merged);
    if args.serve {
        serve::serve(&rt, &crew, &repo, args.port, args.json)?;
    }
    let _ = rt.block_on(crew.model_server.shutdown());
    if let Some(kept) = kept
        && !args.json
    {
        outln!(
            "kept the repository: {} (try `gaffer -C {} status`, `log 3`, `diff 3`)",
            kept.join("greeter").display(),
            kept.join("greeter").display()
        )?;
    }
    if !all_merged || !report.target_tests_passed {
        return Err(CliError::new(
            Kind::Unfinished,
            "the demo did not end with every task merged and the tests passing",
        )
        .hint("run `gaffer demo --keep` and look at `gaffer -C <repo> status`"));
    }
    Ok(())
}
