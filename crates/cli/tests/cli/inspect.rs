//! `gaffer log` and `gaffer diff` on tasks that have not run, or do not exist.

use crate::common::{Project, stderr_of, stdout_of};
use serde_json::json;

#[test]
fn log_and_diff_of_a_task_that_has_not_run() {
    let project = Project::new();
    let id = project.add_task("Write the notes", &[]).to_string();
    let out = project.gaffer().args(["log", &id]).output().unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert!(
        stdout_of(&out).contains("no runs yet"),
        "{}",
        stdout_of(&out)
    );
    assert_eq!(project.json(&["log", &id, "--json"]), json!([]));
    let out = project.gaffer().args(["diff", &id]).output().unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert!(
        stdout_of(&out).contains("no change yet"),
        "{}",
        stdout_of(&out)
    );
}

#[test]
fn log_of_a_run_the_task_does_not_have_fails_with_4() {
    let project = Project::new();
    let id = project.add_task("Write the notes", &[]).to_string();
    let out = project
        .gaffer()
        .args(["log", &id, "--run", "99"])
        .output()
        .unwrap();
    let stderr = stderr_of(&out);
    assert_eq!(out.status.code(), Some(4), "{stderr}");
    assert!(
        stderr.contains("99") && stderr.contains("hint:"),
        "{stderr}"
    );
}

#[test]
fn log_and_diff_of_a_missing_task_fail_with_4() {
    let project = Project::new();
    for args in [["log", "999"], ["diff", "999"]] {
        let out = project.gaffer().args(args).output().unwrap();
        let stderr = stderr_of(&out);
        assert_eq!(out.status.code(), Some(4), "gaffer {args:?}: {stderr}");
        assert!(stderr.contains("hint:"), "{stderr}");
    }
}
