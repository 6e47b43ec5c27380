//! Retry: a failed verify goes back to the same coder in the same session with the output, and
//! a failed task that a person retries starts again with the handoff.

use gaffer_core::{RunStatus, Status};
use gaffer_test_support::{Agent, EngineHarness};

/// Fails while BROKEN exists.
const VERIFY: &str = "test ! -e BROKEN || { echo 'BROKEN is still there'; exit 1; }";

const CODER: &str = r#"
[[task]]
match = "Fix the parser"
[[task.attempt]]
summary = "Rewrote the parser; the tests may fail."
actions = [{ write = "parser.txt", content = "v1\n" }, { write = "BROKEN", content = "1\n" }]
[[task.attempt]]
summary = "Finished the parser."
actions = [{ delete = "BROKEN" }, { write = "parser.txt", content = "v2\n" }]
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_verify_resumes_the_same_session_with_the_output_and_then_merges() {
    let mut h = EngineHarness::builder()
        .agent("writer", Agent::scripted(CODER))
        .set("roles.coder", "writer")
        .verify(VERIFY)
        .build();
    let id = h.add("Fix the parser");
    h.settle().await;

    use Status::*;
    assert_eq!(
        h.statuses(id),
        [
            Ready, Coding, Verifying, Coding, Verifying, Queued, Merging, Merged
        ]
    );
    let runs = h.runs(id);
    assert_eq!(runs.len(), 2);
    assert!(
        runs.iter()
            .all(|r| r.status == RunStatus::Succeeded && r.tier == 0)
    );
    assert!(runs[0].session_id.is_some());
    assert_eq!(
        runs[1].session_id, runs[0].session_id,
        "resumed, not afresh"
    );
    let again = h.prompt(&runs[1]);
    assert!(again.contains("BROKEN is still there"), "{again}");
    let task = h.task(id);
    assert_eq!((task.state.total_failures, task.state.tier), (1, 0));
    assert_eq!(h.file_on_target("parser.txt").as_deref(), Some("v2\n"));
    assert_eq!(h.file_on_target("BROKEN"), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_retries_a_failed_task_and_it_merges() {
    let mut h = EngineHarness::builder()
        .agent("writer", Agent::scripted(CODER))
        .set("roles.coder", "writer")
        .set("limits.verify_failures_per_tier", "1")
        .verify(VERIFY)
        .build();
    let id = h.add("Fix the parser");
    h.settle().await;
    let failed = h.task(id);
    assert_eq!(failed.status(), Status::Failed);
    assert_eq!(h.notices(id, "failed").len(), 1);
    assert_eq!(h.file_on_target("parser.txt"), None, "nothing landed");

    h.retry(id);
    h.settle().await;
    use Status::*;
    assert_eq!(
        h.statuses(id),
        [
            Ready, Coding, Verifying, Failed, Ready, Coding, Verifying, Queued, Merging, Merged
        ]
    );
    let runs = h.runs(id);
    assert_eq!(runs.len(), 2);
    // A person's retry starts a fresh session, handed what the last run left.
    assert_ne!(runs[1].session_id, runs[0].session_id);
    let again = h.prompt(&runs[1]);
    assert!(
        again.contains("Rewrote the parser; the tests may fail."),
        "the handoff: {again}"
    );
    assert_eq!(h.file_on_target("parser.txt").as_deref(), Some("v2\n"));
}
