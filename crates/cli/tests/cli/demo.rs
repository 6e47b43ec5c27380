//! `gaffer demo`: the whole pipeline on a throwaway repository.

use crate::common::{Sandbox, stderr_of, stdout_of};
use gaffer_test_support::git_cmd;
use serde_json::Value;
use std::path::{Path, PathBuf};

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

fn task<'a>(report: &'a Value, title: &str) -> &'a Value {
    report["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["title"] == title)
        .unwrap_or_else(|| panic!("no task {title:?} in {report:#}"))
}

fn failing_verifies(task: &Value) -> usize {
    task["verify"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|v| v["passed"] == false)
        .count()
}

#[test]
fn demo_exits_zero_and_says_every_task_merged() {
    let sandbox = Sandbox::new();
    let out = demo(&sandbox, &[]);
    let stdout = stdout_of(&out);
    assert!(
        out.status.success(),
        "demo failed:\n{stdout}\n{}",
        stderr_of(&out)
    );
    for title in [
        "Add a farewell function",
        "Add a goodbye command",
        "Add an add function",
    ] {
        assert!(
            stdout.contains(&format!("{title} · merged")),
            "demo output does not show {title:?} merged:\n{stdout}"
        );
    }
    assert!(stdout.contains("own tests on main: pass"), "{stdout}");
}

#[test]
fn demo_json_reports_three_merged_tasks_and_the_retry() {
    let sandbox = Sandbox::new();
    let report = demo_json(&sandbox, &["--json"]);
    let tasks = report["tasks"]
        .as_array()
        .unwrap_or_else(|| panic!("no tasks array: {report:#}"));
    assert_eq!(tasks.len(), 3, "{report:#}");
    for t in tasks {
        for field in ["id", "title", "status", "attempts", "landed_commit"] {
            assert!(t.get(field).is_some(), "task without {field}: {t:#}");
        }
        assert_eq!(t["status"], "merged", "{t:#}");
        let commit = t["landed_commit"].as_str().unwrap_or_default();
        assert!(
            commit.len() == 40 && commit.chars().all(|c| c.is_ascii_hexdigit()),
            "landed_commit is not a commit id: {t:#}"
        );
    }
    assert_eq!(report["target_tests_passed"], true, "{report:#}");

    let retried = task(&report, "Add an add function");
    assert_eq!(retried["attempts"], 2, "{retried:#}");
    assert_eq!(failing_verifies(retried), 1, "{retried:#}");
    for title in ["Add a farewell function", "Add a goodbye command"] {
        let t = task(&report, title);
        assert_eq!(t["attempts"], 1, "{t:#}");
        assert_eq!(failing_verifies(t), 0, "{t:#}");
    }

    // Without --keep the throwaway repository is gone.
    let repository = PathBuf::from(report["repository"].as_str().unwrap());
    assert!(
        !repository.exists(),
        "{} was not removed",
        repository.display()
    );
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
fn demo_keep_leaves_a_clean_repository_with_the_landed_work_on_main() {
    let sandbox = Sandbox::new();
    let report = demo_json(&sandbox, &["--keep", "--json"]);
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
    assert!(
        stdout_of(&tests).contains("ok   tests/test_math.sh"),
        "{}",
        stdout_of(&tests)
    );

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
