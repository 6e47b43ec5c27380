//! What the daemon runs when: dependencies merge first, overlapping write scopes never run at
//! once. Checked on the event log (`gaffer feed --json`).

use crate::common::Project;
use serde_json::Value;

/// Every event, in order.
fn events(project: &Project) -> Vec<Value> {
    let out = project
        .gaffer()
        .args(["feed", "--json", "--after", "0"])
        .output()
        .unwrap();
    assert!(out.status.success());
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// The sequence number of the first event of `task` matching `what`.
fn seq_of(events: &[Value], task: i64, what: impl Fn(&Value) -> bool) -> i64 {
    events
        .iter()
        .find(|e| e["task"] == task && what(e))
        .and_then(|e| e["seq"].as_i64())
        .unwrap_or_else(|| panic!("no such event for task {task}"))
}

fn landed(e: &Value) -> bool {
    e["kind"] == "queue.landed"
}

fn started_coding(e: &Value) -> bool {
    e["kind"] == "task.status" && e["data"]["to"] == "coding"
}

#[test]
fn a_dependent_task_starts_only_after_its_dependency_merged() {
    let project = Project::new();
    let _daemon = project.start_daemon();
    let first = project.add_task("Some leisurely work", &[]);
    let second = project.add_task("Write the notes", &["--dep", &first.to_string()]);
    project.wait_for_status(second, "merged");
    assert_eq!(project.status_of(first), "merged");
    let events = events(&project);
    assert!(
        seq_of(&events, first, landed) < seq_of(&events, second, started_coding),
        "task {second} started before task {first} landed"
    );
}

#[test]
fn tasks_with_overlapping_write_scopes_do_not_run_at_once() {
    let project = Project::new();
    let _daemon = project.start_daemon();
    let first = project.add_task("Some leisurely work", &["--scope", "*.txt"]);
    project.wait_for_status(first, "coding");
    let second = project.add_task("Write the notes", &["--scope", "notes.txt"]);
    project.wait_for_status(second, "merged");
    project.wait_for_status(first, "merged");
    let events = events(&project);
    assert!(
        seq_of(&events, first, landed) < seq_of(&events, second, started_coding),
        "task {second} coded while task {first}, which may write the same files, was in flight"
    );
}

/// Regression: a task whose dependency was cancelled stayed in `backlog` for ever; it is now
/// cancelled with the reason.
#[test]
fn a_task_whose_dependency_was_cancelled_does_not_wait_for_ever() {
    let project = Project::new();
    let _daemon = project.start_daemon();
    let first = project.add_task("A slow change", &[]);
    let second = project.add_task("Write the notes", &["--dep", &first.to_string()]);
    let out = project
        .gaffer()
        .args(["task", "cancel", &first.to_string()])
        .output()
        .unwrap();
    assert!(out.status.success());
    crate::common::wait_until(
        "the dependent task to leave backlog",
        std::time::Duration::from_secs(30),
        || {
            let status = project.status_of(second);
            ["cancelled", "failed", "needs_input"]
                .contains(&status.as_str())
                .then_some(())
        },
    );
}
