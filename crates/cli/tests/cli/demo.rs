//! `gaffer demo`: the whole pipeline and its crew on a throwaway repository. A planner splits a
//! goal into subtasks, a reviewer of another family asks for one change, a coder asks a
//! question the demo answers, a first attempt fails verify; everything merges and the tests
//! pass. `--serve` keeps the board up as a daemon until SIGTERM.

use crate::common::{ChildGuard, Sandbox, stderr_of, stdout_of, wait_for_exit};
use gaffer_test_support::git_cmd;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Runs `gaffer demo` with `args` in a sandbox; returns the output.
fn demo(sandbox: &Sandbox, args: &[&str]) -> std::process::Output {
    sandbox.gaffer().arg("demo").args(args).output().unwrap()
}

fn demo_json(sandbox: &Sandbox, args: &[&str]) -> Value {
    let out = demo(sandbox, args);
    assert!(
        out.status.success(),
        "gaffer demo {args:?} failed ({}):\n{}\n{}",
        out.status,
        stdout_of(&out),
        stderr_of(&out)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "demo --json is not one JSON document ({e}):\n{}",
            stdout_of(&out)
        )
    })
}

fn tasks(report: &Value) -> &Vec<Value> {
    report["tasks"]
        .as_array()
        .unwrap_or_else(|| panic!("no tasks array: {report:#}"))
}

fn task<'a>(report: &'a Value, title: &str) -> &'a Value {
    tasks(report)
        .iter()
        .find(|t| t["title"] == title)
        .unwrap_or_else(|| panic!("no task {title:?} in {report:#}"))
}

fn by_id(report: &Value, id: &Value) -> Value {
    tasks(report)
        .iter()
        .find(|t| &t["id"] == id)
        .cloned()
        .unwrap_or_else(|| panic!("no task {id} in {report:#}"))
}

fn list<'a>(value: &'a Value, field: &str) -> &'a Vec<Value> {
    value[field]
        .as_array()
        .unwrap_or_else(|| panic!("no {field} array: {value:#}"))
}

fn failing_verifies(task: &Value) -> Vec<&Value> {
    list(task, "verify")
        .iter()
        .filter(|v| v["passed"] == false)
        .collect()
}

/// The family of each agent of the crew.
fn family_of<'a>(report: &'a Value, agent: &Value) -> &'a str {
    list(report, "crew")
        .iter()
        .find(|m| &m["agent"] == agent)
        .and_then(|m| m["family"].as_str())
        .unwrap_or_else(|| panic!("{agent} is not in the crew: {:#}", report["crew"]))
}

#[test]
fn demo_exits_zero_and_tells_the_crews_story() {
    let sandbox = Sandbox::new();
    let started = Instant::now();
    let out = demo(&sandbox, &[]);
    let took = started.elapsed();
    let stdout = stdout_of(&out);
    assert!(
        out.status.success(),
        "demo failed:\n{stdout}\n{}",
        stderr_of(&out)
    );
    for merged in [
        "epic 1 · Teach the greeter to say goodbye · merged",
        "Add a farewell function · merged · subtask 1 of epic 1",
        "Add a goodbye command · merged · subtask 2 of epic 1, after task",
        "Add an add function · merged",
    ] {
        assert!(stdout.contains(merged), "no {merged:?} in:\n{stdout}");
    }
    for told in [
        "demo-planner split it into 2 subtasks:",
        "plan approved by demo-reviewer (anthropic family)",
        "changes requested by demo-reviewer (anthropic family)",
        "lib/farewell.sh:1 [low] echo treats backslashes",
        "demo-coder fixed it, in the same session: farewell() prints with printf",
        "demo-coder asked: Should bin/goodbye.sh greet",
        "demo answered: Greet first",
        "demo-coder went on with it, in the same session",
        "add 2 3 gave: -1",
        "demo-coder fixed it, in the same session: Fixed add()",
        "own tests on main: pass",
    ] {
        assert!(stdout.contains(told), "no {told:?} in:\n{stdout}");
    }
    // It says what happened as it happened, too.
    assert!(
        stdout.contains("asks a person: Should bin/goodbye.sh greet"),
        "{stdout}"
    );
    // Still a quick first command (a generous bound: the machine may be busy).
    assert!(took < Duration::from_secs(60), "the demo took {took:?}");
    // Without --keep the throwaway repository is gone.
    let repository = stdout
        .lines()
        .find_map(|l| l.strip_suffix("'s own tests on main: pass"))
        .map(PathBuf::from)
        .unwrap_or_else(|| panic!("no repository named in:\n{stdout}"));
    assert!(
        !repository.exists(),
        "{} was not removed",
        repository.display()
    );
}

/// What `--json` reports: every task merged, the plan and its subtasks, one review round, the
/// answered question, the retry.
fn check_report(report: &Value) {
    assert_eq!(tasks(report).len(), 4, "{report:#}");
    for t in tasks(report) {
        assert_eq!(t["status"], "merged", "{t:#}");
        if t["kind"] == "task" {
            let commit = t["landed_commit"].as_str().unwrap_or_default();
            assert!(
                commit.len() == 40 && commit.chars().all(|c| c.is_ascii_hexdigit()),
                "landed_commit is not a commit id: {t:#}"
            );
        }
    }
    assert_eq!(report["target_tests_passed"], true, "{report:#}");

    // The planner split the goal into two subtasks, the second after the first, each with its
    // write scope; the engine made them, and a plan reviewer of another family approved.
    let epic = task(report, "Teach the greeter to say goodbye");
    assert_eq!(epic["kind"], "epic");
    let subtasks = list(&epic["plan"], "subtasks");
    assert_eq!(subtasks.len(), 2, "{epic:#}");
    let first = by_id(report, &subtasks[0]["task"]);
    let second = by_id(report, &subtasks[1]["task"]);
    for (sub, made) in subtasks.iter().zip([&first, &second]) {
        assert_eq!(made["parent"], epic["id"], "{made:#}");
        assert_eq!(made["title"], sub["title"]);
        assert!(!list(sub, "write_scope").is_empty(), "{sub:#}");
    }
    assert_eq!(subtasks[1]["depends_on"], serde_json::json!([0]));
    assert_eq!(second["blocked_by"], serde_json::json!([first["id"]]));
    let plan_reviews = list(epic, "reviews");
    assert_eq!(plan_reviews.len(), 1, "{epic:#}");
    assert_eq!(plan_reviews[0]["role"], "plan_reviewer");
    assert_eq!(plan_reviews[0]["approved"], true);
    assert_ne!(
        family_of(report, &plan_reviews[0]["agent"]),
        family_of(report, &epic["plan"]["by"]),
        "the plan was reviewed within its planner's family"
    );

    // Every change was reviewed by a reviewer of another family than its coder's.
    for t in tasks(report).iter().filter(|t| t["kind"] == "task") {
        let runs = list(t, "runs");
        let coders: Vec<&Value> = runs.iter().filter(|r| r["role"] == "coder").collect();
        let reviewers: Vec<&Value> = runs.iter().filter(|r| r["role"] == "reviewer").collect();
        assert!(!coders.is_empty() && !reviewers.is_empty(), "{t:#}");
        for (c, r) in coders.iter().zip(&reviewers) {
            assert_ne!(c["family"], r["family"], "{t:#}");
        }
    }

    // One review round: changes requested once (one finding), fixed in the same session,
    // approved the second time.
    let farewell = task(report, "Add a farewell function");
    let reviews = list(farewell, "reviews");
    assert_eq!(reviews.len(), 2, "{farewell:#}");
    assert_eq!(reviews[0]["approved"], false);
    assert_eq!(list(&reviews[0], "findings").len(), 1, "{farewell:#}");
    assert_eq!(reviews[0]["fix"]["same_session"], true, "{farewell:#}");
    assert_eq!(reviews[1]["approved"], true);
    let requested: usize = tasks(report)
        .iter()
        .flat_map(|t| list(t, "reviews"))
        .filter(|r| r["approved"] == false)
        .count();
    assert_eq!(requested, 1, "{report:#}");

    // One question, answered by the demo; the coder went on with it in the same session.
    let goodbye = task(report, "Add a goodbye command");
    let questions = list(goodbye, "questions");
    assert_eq!(questions.len(), 1, "{goodbye:#}");
    let q = &questions[0];
    assert!(q["question"].as_str().unwrap().contains("greet"), "{q:#}");
    assert!(
        !q["answer"].as_str().unwrap_or_default().is_empty(),
        "{q:#}"
    );
    assert_eq!(q["answered_by"], "demo");
    assert_eq!(q["resumed"]["same_session"], true, "{q:#}");
    let statuses: Vec<&str> = list(goodbye, "states")
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    assert!(statuses.contains(&"needs_input"), "{statuses:?}");

    // The add task's first attempt failed verify; the retry fixed it.
    let retried = task(report, "Add an add function");
    assert_eq!(retried["attempts"], 2, "{retried:#}");
    let failed = failing_verifies(retried);
    assert_eq!(failed.len(), 1, "{retried:#}");
    assert!(
        failed[0]["output"]
            .as_str()
            .unwrap_or_default()
            .contains("add 2 3 gave: -1"),
        "{retried:#}"
    );
    assert_eq!(failed[0]["fix"]["same_session"], true, "{retried:#}");
    for t in [farewell, goodbye] {
        assert!(failing_verifies(t).is_empty(), "{t:#}");
    }
}

fn git(dir: &Path, home: &Path, args: &[&str]) -> String {
    let out = git_cmd(dir, &gaffer_test_support::hermetic_git_env(home))
        .args(args)
        .output()
        .unwrap();
    assert!(out.status.success(), "git {args:?}: {}", stderr_of(&out));
    stdout_of(&out).trim_end().to_string()
}

#[test]
fn demo_json_reports_the_crew_and_keep_leaves_a_clean_repository_with_the_work_on_main() {
    let sandbox = Sandbox::new();
    let report = demo_json(&sandbox, &["--keep", "--json"]);
    check_report(&report);
    let repo = PathBuf::from(report["repository"].as_str().unwrap());
    assert!(
        repo.join(".git").is_dir(),
        "{} was not kept",
        repo.display()
    );
    assert!(
        repo.starts_with(sandbox.tmp()),
        "the demo did not use TMPDIR ({}) for {}",
        sandbox.tmp().display(),
        repo.display()
    );
    let home = repo.parent().unwrap().join("home");

    let files = git(&repo, &home, &["ls-tree", "-r", "--name-only", "main"]);
    for file in [
        "lib/farewell.sh",
        "tests/test_farewell.sh",
        "bin/goodbye.sh",
        "tests/test_goodbye.sh",
        "lib/math.sh",
        "tests/test_math.sh",
    ] {
        assert!(
            files.lines().any(|l| l == file),
            "main lacks {file}:\n{files}"
        );
        assert!(repo.join(file).is_file(), "the checkout lacks {file}");
    }
    // The change the reviewer asked for is what landed.
    let farewell = std::fs::read_to_string(repo.join("lib/farewell.sh")).unwrap();
    assert!(
        farewell.contains("printf") && !farewell.contains("echo"),
        "{farewell}"
    );
    assert_eq!(
        git(&repo, &home, &["rev-parse", "main"]),
        git(&repo, &home, &["rev-parse", "gaffer/landed/main"]),
        "main was not brought up to the landed work"
    );
    assert_eq!(
        git(&repo, &home, &["status", "--porcelain"]),
        "",
        "the checkout is not clean"
    );

    let tests = std::process::Command::new("sh")
        .arg("tests/run.sh")
        .current_dir(&repo)
        .output()
        .unwrap();
    assert!(
        tests.status.success(),
        "tests/run.sh failed:\n{}",
        stdout_of(&tests)
    );
    for test in ["tests/test_math.sh", "tests/test_goodbye.sh"] {
        assert!(
            stdout_of(&tests).contains(&format!("ok   {test}")),
            "{}",
            stdout_of(&tests)
        );
    }

    let worktrees = git(&repo, &home, &["worktree", "list", "--porcelain"]);
    let listed: Vec<&str> = worktrees
        .lines()
        .filter(|l| l.starts_with("worktree "))
        .collect();
    assert_eq!(
        listed,
        vec![format!("worktree {}", repo.display()).as_str()],
        "{worktrees}"
    );
    let branches = git(
        &repo,
        &home,
        &["branch", "--list", "gaffer/*", "--format=%(refname:short)"],
    );
    assert_eq!(
        branches, "gaffer/landed/main",
        "task branches were left behind"
    );
}

/// `GET url` with the API's token; the status and the JSON body.
fn get(url: &str, token: Option<&str>) -> (u16, Value) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(30)))
        .http_status_as_error(false)
        .proxy(None)
        .build()
        .into();
    let mut request = agent.get(url);
    if let Some(token) = token {
        request = request.header("Authorization", &format!("Bearer {token}"));
    }
    let mut response = request.call().unwrap();
    let status = response.status().as_u16();
    let body = response.body_mut().read_json().unwrap_or(Value::Null);
    (status, body)
}

#[test]
fn demo_serve_keeps_the_board_up_with_its_api_until_sigterm() {
    let sandbox = Sandbox::new();
    let mut cmd = sandbox.std_gaffer();
    cmd.args(["demo", "--serve", "--port", "0"])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = ChildGuard(cmd.spawn().unwrap());
    let stdout = child.0.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel::<String>();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut seen = Vec::new();
    let link = loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let line = rx
            .recv_timeout(left)
            .unwrap_or_else(|e| panic!("no dashboard link ({e}); saw:\n{}", seen.join("\n")));
        if let Some(link) = line.strip_prefix("dashboard: ") {
            break link.to_string();
        }
        seen.push(line);
    };
    assert!(
        seen.iter().any(|l| l.contains("own tests on main: pass")),
        "the summary came first: {seen:#?}"
    );
    let (base, token) = link
        .split_once("/?token=")
        .unwrap_or_else(|| panic!("no token in the link {link}"));
    assert!(base.starts_with("http://127.0.0.1:"), "{link}");

    // The API answers with the token only, and shows the demo's work merged.
    let (status, _) = get(&format!("{base}/api/tasks"), None);
    assert_eq!(status, 401);
    let (status, tasks) = get(&format!("{base}/api/tasks"), Some(token));
    assert_eq!(status, 200, "{tasks:#}");
    let tasks = tasks.as_array().unwrap_or_else(|| panic!("{tasks:#}"));
    assert_eq!(tasks.len(), 4, "{tasks:#?}");
    for t in tasks {
        assert_eq!(t["state"]["status"], "merged", "{t:#}");
    }
    let (status, _) = get(&format!("{base}/"), None);
    assert_eq!(status, 200, "the dashboard's page is not served");

    // The CLI finds the daemon it names.
    let repo_line = rx.recv_timeout(Duration::from_secs(30)).unwrap();
    let repo = PathBuf::from(
        repo_line
            .rsplit_once("gaffer -C ")
            .and_then(|(_, rest)| rest.strip_suffix(" status"))
            .unwrap_or_else(|| panic!("no repository in {repo_line:?}")),
    );
    assert!(repo.join(".git").is_dir(), "{}", repo.display());

    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(i32::try_from(child.0.id()).unwrap()),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    let exit = wait_for_exit(&mut child.0, Duration::from_secs(60));
    let mut rest = Vec::new();
    while let Ok(line) = rx.recv_timeout(Duration::from_secs(10)) {
        rest.push(line);
    }
    let mut stderr = String::new();
    if let Some(mut err) = child.0.stderr.take() {
        use std::io::Read;
        let _ = err.read_to_string(&mut stderr);
    }
    assert!(exit.success(), "demo --serve ended with {exit}: {stderr}");
    assert!(
        rest.iter().any(|l| l == "stopped serving the demo's board"),
        "{rest:#?}"
    );
    assert!(
        !repo.exists(),
        "{} was not removed after serving",
        repo.display()
    );
}
