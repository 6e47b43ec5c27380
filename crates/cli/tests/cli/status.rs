//! `gaffer status`, and `gaffer` with no arguments outside a terminal.

use crate::common::{Project, stderr_of, stdout_of};
use serde_json::json;

#[test]
fn no_arguments_outside_a_terminal_prints_the_status() {
    let project = Project::new();
    project.add_task("Write the notes", &[]);
    // assert_cmd gives the process pipes, not a terminal.
    let out = project.gaffer().output().unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let stdout = stdout_of(&out);
    assert!(stdout.starts_with("project fixture ("), "{stdout}");
    assert!(stdout.contains("daemon  not running"), "{stdout}");
    assert!(
        stdout.contains("landing on gaffer/landed/main because main is checked out"),
        "{stdout}"
    );
    assert!(stdout.contains("tasks   1 backlog"), "{stdout}");
    assert!(stdout.contains("Write the notes"), "{stdout}");
    let explicit = project.gaffer().arg("status").output().unwrap();
    assert_eq!(stdout_of(&explicit), stdout);
}

#[test]
fn status_json_without_a_daemon() {
    let project = Project::new();
    let id = project.add_task("Write the notes", &[]);
    let status = project.json(&["status", "--json"]);
    assert_eq!(status["daemon"], serde_json::Value::Null);
    assert_eq!(status["status"]["project"]["name"], "fixture");
    assert_eq!(status["status"]["counts"], json!([["backlog", 1]]));
    assert_eq!(status["status"]["tasks"][0]["id"], id);
    assert_eq!(status["status"]["landing"]["target"], "main");
}

#[test]
fn status_of_an_empty_board() {
    let project = Project::new();
    let out = project.gaffer().arg("status").output().unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert!(stdout_of(&out).contains("no tasks"), "{}", stdout_of(&out));
}
