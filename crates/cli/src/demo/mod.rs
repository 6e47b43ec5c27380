//! `gaffer demo`: the whole pipeline on a throwaway repository, with no account and no network.
//!
//! It creates a small project with its own tests, adds three tasks (one depending on another,
//! one whose first attempt fails verify), runs the real engine on them until they merge (the
//! agent is gaffer's own agent loop talking HTTP to an in-process scripted model server), brings
//! the landed work into the repository's checkout with `gaffer pull`'s code path, runs the
//! project's tests there, and prints what happened.

mod project;
mod summary;

use crate::cli::DemoArgs;
use crate::commands::runtime;
use crate::error::{CliError, CliResult, Kind};
use gaffer_core::{NewTask, Status};
use gaffer_engine::{Board, BoardOptions, Engine, agents_from_settings};
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// How long the demo may take before it gives up.
const DEADLINE: Duration = Duration::from_secs(300);

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

    // The agent is gaffer's own loop speaking the OpenAI API over HTTP, to a scripted model
    // server in this process: the path users run, with no account and no network.
    let rt = runtime()?;
    let script = gaffer_mock_llm::Script::from_toml_str(project::SCRIPT)
        .map_err(|e| CliError::new(Kind::Internal, format!("the demo's script: {e}")))?;
    let model_server = rt
        .block_on(gaffer_mock_llm::MockServer::start(script))
        .map_err(|e| CliError::new(Kind::Internal, format!("the scripted model server: {e}")))?;
    let base_url = format!(
        "agents.demo-agent.base_url={}",
        model_server.openai_base_url()
    );
    let settings = gaffer_config::load(
        Some(&repo.join("gaffer.toml")),
        &gaffer_config::Overrides::default(),
        &gaffer_config::Overrides::from_flags([base_url])?,
    )?;
    let agents = agents_from_settings(&settings, &repo)?;
    let board = Arc::new(Board::open(
        &repo,
        settings,
        BoardOptions {
            git_env: env.clone(),
            clock: None,
            ..BoardOptions::default()
        },
    )?);
    let mut ids = Vec::new();
    for (title, body, scope, dep) in project::TASKS {
        let task = board.add_task(NewTask {
            title: title.to_string(),
            body: body.to_string(),
            write_scope: scope.iter().map(|s| s.to_string()).collect(),
            blocked_by: dep.iter().map(|i| ids[*i]).collect(),
            ..NewTask::default()
        })?;
        if !args.json {
            outln!("added task {}: {}", task.id, task.title)?;
        }
        ids.push(task.id);
    }

    if !args.json {
        outln!(
            "running the pipeline (agent: gaffer's own loop against a scripted model at {}; verify = `sh tests/run.sh`)…",
            model_server.base_url()
        )?;
    }
    let engine = Engine::new(Arc::clone(&board), agents);
    let finished = rt.block_on(async {
        tokio::time::timeout(DEADLINE, engine.run_until_settled(CancellationToken::new())).await
    });
    match finished {
        Ok(result) => result?,
        Err(_) => {
            return Err(CliError::new(
                Kind::Unfinished,
                format!("the demo did not finish within {}s", DEADLINE.as_secs()),
            ));
        }
    }

    let _ = rt.block_on(model_server.shutdown());

    // Bring the landed work into the checkout, as `gaffer pull` does.
    let landing = board.landing()?;
    if landing.is_redirected() {
        gaffer_git::pull_into_checkout(&repo, &landing.target, &landing.refname(), &env)?;
    }
    let tests = Command::new("sh")
        .arg("tests/run.sh")
        .current_dir(&repo)
        .output()?;
    let report = summary::Summary::collect(&board, &ids, &repo, &landing, tests.status.success())?;
    // Kept before anything is printed: a reader that went away must not cost the repository.
    let kept = if args.keep { Some(temp.keep()) } else { None };
    if args.json {
        crate::output::json(&report)?;
    } else {
        report.print()?;
        crate::output::raw(&String::from_utf8_lossy(&tests.stdout))?;
    }
    let all_merged = report.tasks.iter().all(|t| t.status == Status::Merged);
    if let Some(kept) = kept
        && !args.json
    {
        outln!(
            "kept the repository: {} (try `gaffer -C {} status`)",
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
