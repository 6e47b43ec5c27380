//! What only a person decides: approvals (`pending`, `approve`, `reject`) and questions
//! (`answer`), through a running daemon.

use crate::common::{Project, stderr_of, stdout_of};

fn pending_ids(project: &Project) -> Vec<i64> {
    let pending = project.json(&["pending", "--json"]);
    pending
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_i64().unwrap())
        .collect()
}

fn act(project: &Project, args: &[&str]) -> std::process::Output {
    project.gaffer().args(args).output().unwrap()
}

#[test]
fn a_high_risk_task_waits_for_approval_then_merges() {
    let project = Project::new();
    let _daemon = project.start_daemon();
    let id = project.add_task("Write the notes", &["--risk", "high"]);
    let sid = id.to_string();
    project.wait_for_status(id, "awaiting_approval");
    assert_eq!(pending_ids(&project), vec![id]);
    let out = act(&project, &["pending"]);
    assert!(
        stdout_of(&out).contains(&format!("gaffer approve {id}")),
        "{}",
        stdout_of(&out)
    );

    // Not a question: answering it is a conflict, and it still waits.
    let out = act(&project, &["answer", &sid, "yes"]);
    assert_eq!(out.status.code(), Some(5), "{}", stderr_of(&out));
    assert_eq!(project.status_of(id), "awaiting_approval");
    assert!(
        project
            .repo
            .git(&["branch", "--list", "gaffer/landed/main"])
            .is_empty(),
        "something landed before approval"
    );

    let out = act(&project, &["approve", &sid]);
    assert!(out.status.success(), "{}", stderr_of(&out));
    project.wait_for_status(id, "merged");
    assert_eq!(
        project.repo.git(&["show", "gaffer/landed/main:notes.txt"]),
        "landed notes"
    );
    assert_eq!(pending_ids(&project), Vec::<i64>::new());

    let out = act(&project, &["approve", "999"]);
    assert_eq!(out.status.code(), Some(4), "{}", stderr_of(&out));
}

#[test]
fn rejecting_with_cancel_cancels_the_task() {
    let project = Project::new();
    let _daemon = project.start_daemon();
    let id = project.add_task("Write the notes", &["--risk", "critical"]);
    project.wait_for_status(id, "awaiting_approval");
    let out = act(
        &project,
        &["reject", &id.to_string(), "--reason", "not now", "--cancel"],
    );
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert_eq!(project.status_of(id), "cancelled");
    let out = act(&project, &["reject", &id.to_string()]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "--reason is required: {}",
        stderr_of(&out)
    );
}

#[test]
fn a_question_waits_for_an_answer_and_the_agent_resumes() {
    let project = Project::new();
    let _daemon = project.start_daemon();
    let id = project.add_task("A question", &[]);
    let sid = id.to_string();
    let waiting = project.wait_for_status(id, "needs_input");
    let note = waiting["task"]["state"]["note"]
        .as_str()
        .unwrap_or_default();
    assert!(note.contains("Which greeting?"), "{waiting:#}");
    let pending = project.json(&["pending", "--json"]);
    assert_eq!(pending.as_array().unwrap().len(), 1, "{pending:#}");

    let out = act(&project, &["approve", &sid]);
    assert_eq!(out.status.code(), Some(5), "{}", stderr_of(&out));

    let out = act(&project, &["answer", &sid, "Hello"]);
    assert!(out.status.success(), "{}", stderr_of(&out));
    let merged = project.wait_for_status(id, "merged");
    assert_eq!(
        project
            .repo
            .git(&["show", "gaffer/landed/main:greeting.txt"]),
        "Hello"
    );
    let runs = merged["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 2, "{runs:#?}");
    // The second run's prompt carries the answer.
    let second = runs[1]["id"].as_i64().unwrap().to_string();
    let out = act(&project, &["log", &sid, "--run", &second, "--raw"]);
    assert!(out.status.success(), "{}", stderr_of(&out));
    let raw = stdout_of(&out);
    assert!(raw.contains("prompt.md:") && raw.contains("Hello"), "{raw}");
    assert!(
        !raw.contains(&format!("run {} ", runs[0]["id"])),
        "--run showed another run: {raw}"
    );
}
