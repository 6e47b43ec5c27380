//! What history tells: the engine's commit of a run names the task, the run and the agent with
//! its model, so `git log` on the target says who wrote what.

use gaffer_core::Status;
use gaffer_test_support::{Agent, EngineHarness};

const CODER: &str = r#"
[[task]]
match = "greeting"
[[task.attempt]]
summary = "Wrote the greeting."
actions = [{ write = "hello.txt", content = "hello\n" }]
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_commit_of_a_run_names_task_run_agent_and_model() {
    let mut h = EngineHarness::builder()
        .agent("writer", Agent::scripted(CODER))
        .set("roles.coder", "writer")
        .build();
    let id = h.add("greeting");
    h.settle().await;
    assert_eq!(h.task(id).status(), Status::Merged, "{}", h.describe());
    let run = h.runs(id).into_iter().next().unwrap();
    let landing = h.board().landing().unwrap();
    let log = h
        .repo()
        .git(&["log", "--format=%B%x00", &landing.refname()]);
    let message = log
        .split('\0')
        .find(|m| m.contains("Wrote the greeting."))
        .unwrap_or_else(|| panic!("no commit of the run in:\n{log}"));
    assert!(message.trim_start().starts_with("greeting\n"), "{message}");
    assert!(
        message.contains(&format!("Gaffer-Task: #{id}\n")),
        "{message}"
    );
    assert!(
        message.contains(&format!("Gaffer-Run: {} (coder)", run.id)),
        "{message}"
    );
    let model = if run.model.is_empty() {
        "default model".to_string()
    } else {
        run.model.clone()
    };
    assert!(
        message.contains(&format!(
            "Co-authored-by: writer ({model}) <writer@agents.gaffer.invalid>"
        )),
        "{message}"
    );
    // git reads the trailers as trailers.
    let trailers = h.repo().git(&[
        "log",
        "-1",
        "--format=%(trailers:key=Co-authored-by,valueonly)",
        &format!("{}^2", landing.refname()),
    ]);
    assert!(trailers.contains("writer ("), "{trailers}");
    // The landing names the task and its author too.
    let landing_message = h
        .repo()
        .git(&["log", "-1", "--format=%B", &landing.refname()]);
    assert!(
        landing_message.contains(&format!("Gaffer-Task: #{id}")),
        "{landing_message}"
    );
    assert!(
        landing_message.contains("Co-authored-by: writer ("),
        "{landing_message}"
    );
}
