//! `gaffer task add | list | show | cancel | retry` on the board, with no daemon running.

use crate::common::{Project, Sandbox, stderr_of, stdout_of};
use serde_json::{Value, json};

#[test]
fn task_add_records_every_option() {
    let project = Project::new();
    let first = project.add_task("Write the notes", &[]);
    let out = project
        .gaffer()
        .args(["task", "add", "Retitle the readme", "--json"])
        .args(["--body", "Make the README's title say what landed."])
        .args(["--label", "docs", "--label", "small"])
        .args(["--dep", &first.to_string()])
        .args(["--scope", "README.md", "--scope", "docs/**"])
        .args(["--priority", "-3", "--risk", "medium"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let added: Value = serde_json::from_slice(&out.stdout).unwrap();
    let id = added["id"].as_i64().unwrap();
    assert_ne!(id, first);

    let task = &project.show(id)["task"];
    assert_eq!(task["title"], "Retitle the readme");
    assert_eq!(task["body"], "Make the README's title say what landed.");
    assert_eq!(task["labels"], json!(["docs", "small"]));
    assert_eq!(task["blocked_by"], json!([first]));
    assert_eq!(task["write_scope"], json!(["README.md", "docs/**"]));
    assert_eq!(task["priority"], -3);
    assert_eq!(task["state"]["risk"], "medium");
    assert_eq!(task["state"]["status"], "backlog");
    assert!(
        task["branch"]
            .as_str()
            .unwrap()
            .starts_with(&format!("gaffer/{id}-")),
        "{task:#}"
    );
}

#[test]
fn task_add_prints_a_line_for_people() {
    let project = Project::new();
    let out = project
        .gaffer()
        .args(["task", "add", "Write the notes"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let stdout = stdout_of(&out);
    assert!(
        stdout.starts_with("added task 1: Write the notes (gaffer/1-"),
        "{stdout}"
    );
}

#[test]
fn task_add_reads_the_body_from_a_file() {
    let project = Project::new();
    project
        .repo
        .write("notes/body.md", "From a file.\nSecond line.\n");
    let id = project.add_task("Write the notes", &["--body-file", "notes/body.md"]);
    assert_eq!(
        project.show(id)["task"]["body"],
        "From a file.\nSecond line.\n"
    );
}

#[test]
fn task_add_body_file_is_relative_to_dash_c() {
    let project = Project::new();
    project.repo.write("body.md", "Relative to -C.\n");
    let out = project
        .gaffer_at(project.path().parent().unwrap())
        .arg("-C")
        .arg(project.path())
        .args([
            "task",
            "add",
            "Write the notes",
            "--body-file",
            "body.md",
            "--json",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let task: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(task["body"], "Relative to -C.\n");
}

#[test]
fn task_add_reads_the_body_from_stdin() {
    let project = Project::new();
    let out = project
        .gaffer()
        .args(["task", "add", "Write the notes", "--body", "-", "--json"])
        .write_stdin("From standard input.\n")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let id = serde_json::from_slice::<Value>(&out.stdout).unwrap()["id"]
        .as_i64()
        .unwrap();
    assert_eq!(project.show(id)["task"]["body"], "From standard input.\n");
}

#[test]
fn task_add_with_a_missing_body_file_fails_with_4() {
    let project = Project::new();
    let out = project
        .gaffer()
        .args([
            "task",
            "add",
            "Write the notes",
            "--body-file",
            "nowhere.md",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4), "{}", stderr_of(&out));
    assert!(
        stderr_of(&out).contains("nowhere.md"),
        "{}",
        stderr_of(&out)
    );
    assert_eq!(project.json(&["task", "list", "--json"]), json!([]));
}

#[test]
fn task_add_rejects_body_and_body_file_together() {
    let project = Project::new();
    project.repo.write("body.md", "x\n");
    let out = project
        .gaffer()
        .args(["task", "add", "T", "--body", "b", "--body-file", "body.md"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr_of(&out));
}

#[test]
fn task_add_with_an_unknown_risk_fails_with_2_and_adds_nothing() {
    let project = Project::new();
    let out = project
        .gaffer()
        .args(["task", "add", "Write the notes", "--risk", "extreme"])
        .output()
        .unwrap();
    let stderr = stderr_of(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("extreme"), "{stderr}");
    assert_eq!(project.json(&["task", "list", "--json"]), json!([]));
}

#[test]
fn task_add_with_an_empty_title_fails_with_2() {
    let project = Project::new();
    let out = project.gaffer().args(["task", "add", ""]).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr_of(&out));
    assert_eq!(project.json(&["task", "list", "--json"]), json!([]));
}

#[test]
fn task_add_with_a_missing_dependency_fails_and_adds_nothing() {
    let project = Project::new();
    let out = project
        .gaffer()
        .args(["task", "add", "Write the notes", "--dep", "999"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(stderr_of(&out).contains("999"), "{}", stderr_of(&out));
    assert_eq!(project.json(&["task", "list", "--json"]), json!([]));
}

#[test]
fn task_list_json_lists_tasks_and_filters_by_status() {
    let project = Project::new();
    let a = project.add_task("Write the notes", &[]);
    let b = project.add_task("Retitle the readme", &[]);
    let out = project
        .gaffer()
        .args(["task", "cancel", &b.to_string()])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));

    let all = project.json(&["task", "list", "--json"]);
    let ids: Vec<i64> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, vec![a, b], "{all:#}");
    let cancelled = project.json(&["task", "list", "--status", "cancelled", "--json"]);
    let ids: Vec<i64> = cancelled
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, vec![b], "{cancelled:#}");
    let both = project.json(&["task", "list", "--status", "backlog,cancelled", "--json"]);
    assert_eq!(both.as_array().unwrap().len(), 2, "{both:#}");

    let out = project
        .gaffer()
        .args(["task", "list", "--status", "sleeping"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr_of(&out));

    let out = project.gaffer().args(["task", "list"]).output().unwrap();
    let table = stdout_of(&out);
    assert!(
        table.contains("Write the notes") && table.contains("cancelled"),
        "{table}"
    );
}

#[test]
fn task_show_json_has_the_task_its_runs_and_events() {
    let project = Project::new();
    let id = project.add_task("Write the notes", &["--body", "the body"]);
    let shown = project.show(id);
    assert_eq!(shown["task"]["id"], id);
    assert_eq!(shown["runs"], json!([]));
    let kinds: Vec<&str> = shown["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert!(kinds.contains(&"task.created"), "{kinds:?}");

    let out = project
        .gaffer()
        .args(["task", "show", &id.to_string()])
        .output()
        .unwrap();
    let text = stdout_of(&out);
    assert!(
        text.contains("Write the notes") && text.contains("the body"),
        "{text}"
    );
}

#[test]
fn task_show_of_a_missing_task_fails_with_4_and_a_hint() {
    let project = Project::new();
    let out = project
        .gaffer()
        .args(["task", "show", "999"])
        .output()
        .unwrap();
    let stderr = stderr_of(&out);
    assert_eq!(out.status.code(), Some(4), "{stderr}");
    assert!(
        stderr.contains("999") && stderr.contains("hint:"),
        "{stderr}"
    );
}

#[test]
fn task_cancel_twice_is_a_conflict_with_a_hint() {
    let project = Project::new();
    let id = project.add_task("Write the notes", &[]).to_string();
    let out = project
        .gaffer()
        .args(["task", "cancel", &id])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert!(stdout_of(&out).contains("cancelled"), "{}", stdout_of(&out));
    assert_eq!(project.status_of(id.parse().unwrap()), "cancelled");

    let out = project
        .gaffer()
        .args(["task", "cancel", &id])
        .output()
        .unwrap();
    let stderr = stderr_of(&out);
    assert_eq!(out.status.code(), Some(5), "{stderr}");
    assert!(stderr.contains("hint:"), "no hint: {stderr}");
    assert!(
        stderr.contains(&format!("gaffer task show {id}")),
        "{stderr}"
    );
}

#[test]
fn task_cancel_of_a_missing_task_fails_with_4() {
    let project = Project::new();
    let out = project
        .gaffer()
        .args(["task", "cancel", "42"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4), "{}", stderr_of(&out));
}

#[test]
fn task_retry_of_a_task_that_did_not_fail_is_a_conflict() {
    let project = Project::new();
    let id = project.add_task("Write the notes", &[]).to_string();
    let out = project
        .gaffer()
        .args(["task", "retry", &id])
        .output()
        .unwrap();
    let stderr = stderr_of(&out);
    assert_eq!(out.status.code(), Some(5), "{stderr}");
    assert!(stderr.contains("retry"), "{stderr}");
    assert_eq!(project.status_of(id.parse().unwrap()), "backlog");
}

#[test]
fn task_commands_outside_a_repository_fail_with_7_and_a_hint() {
    let sandbox = Sandbox::new();
    for args in [
        vec!["task", "list"],
        vec!["task", "add", "x"],
        vec!["status"],
    ] {
        let out = sandbox.gaffer().args(&args).output().unwrap();
        let stderr = stderr_of(&out);
        assert_eq!(out.status.code(), Some(7), "gaffer {args:?}: {stderr}");
        assert!(stderr.contains("not inside a git repository"), "{stderr}");
        assert!(stderr.contains("hint:"), "{stderr}");
    }
}

#[test]
fn unknown_subcommand_is_a_usage_error() {
    let project = Project::new();
    let out = project
        .gaffer()
        .args(["task", "frobnicate"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr_of(&out));
}

/// Regression: `Board::open` keyed the project by the worktree's top level, so gaffer run in a
/// linked worktree of the same repository opened a second, empty project in the shared state
/// directory.
#[test]
fn a_linked_worktree_sees_the_same_board() {
    let project = Project::new();
    let id = project.add_task("Write the notes", &[]);
    let linked = project.repo.scratch("linked");
    project.repo.git(&[
        "worktree",
        "add",
        "-q",
        "-b",
        "side",
        linked.to_str().unwrap(),
    ]);
    let out = project
        .gaffer_at(&linked)
        .args(["task", "list", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let tasks: Value = serde_json::from_slice(&out.stdout).unwrap();
    let ids: Vec<i64> = tasks
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, vec![id], "the linked worktree sees another board");
}

#[test]
fn task_retry_fresh_of_a_task_that_did_not_fail_is_a_conflict() {
    let project = Project::new();
    let id = project.add_task("Write the notes", &[]).to_string();
    let out = project
        .gaffer()
        .args(["task", "retry", &id, "--fresh"])
        .output()
        .unwrap();
    let stderr = stderr_of(&out);
    assert_eq!(out.status.code(), Some(5), "{stderr}");
    assert!(stderr.contains("retry"), "{stderr}");
    let shown = project.show(id.parse().unwrap());
    assert_eq!(shown["task"]["state"]["status"], "backlog");
    assert_eq!(shown["task"]["branch"], "gaffer/1-write-the-notes");
}

/// `--needs` takes labels (repeated or comma-separated) and refuses what no machine could have.
#[test]
fn task_add_needs_takes_machine_labels_and_refuses_others() {
    let project = Project::new();
    let task = project.json(&["task", "add", "gpu work", "--needs", "gpu,cuda", "--json"]);
    let labels: Vec<&str> = task["labels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap())
        .collect();
    assert_eq!(labels, ["needs:gpu", "needs:cuda"]);
    let out = project
        .gaffer()
        .args(["task", "add", "odd", "--needs", "two words"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr_of(&out));
    assert!(
        stderr_of(&out).contains("machine label"),
        "{}",
        stderr_of(&out)
    );
}
