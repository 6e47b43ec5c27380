//! Review rounds: a reviewer of another family reads the change; requested changes go back to
//! the coder in the same session with the findings; after `limits.review_rounds` a person
//! decides.

use gaffer_core::{Role, Status};
use gaffer_test_support::{Agent, EngineHarness};

const CODER: &str = r#"
[[task]]
match = "Greeting"
[[task.attempt]]
summary = "Wrote greeting.txt."
actions = [{ write = "greeting.txt", content = "helo\n" }]
[[task.attempt]]
summary = "Fixed the typo."
actions = [{ replace = "greeting.txt", from = "helo", to = "hello" }]
"#;

const CRITIC: &str = r#"
[[task]]
match = "Greeting"
[[task.attempt]]
summary = '{"verdict": "request_changes", "findings": [{"file": "greeting.txt", "line": 1, "severity": "medium", "text": "typo: helo"}]}'
[[task.attempt]]
summary = '{"verdict": "approve"}'
"#;

/// Never satisfied.
const PEDANT: &str = r#"
[[task]]
match = "Greeting"
[[task.attempt]]
summary = '{"verdict": "request_changes", "findings": [{"text": "say it warmer"}]}'
"#;

fn harness(critic: &str) -> gaffer_test_support::HarnessBuilder {
    EngineHarness::builder()
        .agent("writer", Agent::scripted(CODER))
        .agent("critic", Agent::scripted(critic))
        .set("roles.coder", "writer")
        .set("roles.reviewer", "critic")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requested_changes_go_back_to_the_coder_in_the_same_session() {
    let mut h = harness(CRITIC).build();
    let id = h.add("Greeting");
    h.settle().await;

    use Status::*;
    assert_eq!(
        h.statuses(id),
        [
            Ready, Coding, Verifying, Reviewing, Coding, Verifying, Reviewing, Queued, Merging,
            Merged
        ]
    );
    let runs = h.runs(id);
    let who: Vec<(Role, &str)> = runs.iter().map(|r| (r.role, r.agent.as_str())).collect();
    assert_eq!(
        who,
        [
            (Role::Coder, "writer"),
            (Role::Reviewer, "critic"),
            (Role::Coder, "writer"),
            (Role::Reviewer, "critic")
        ]
    );
    assert_eq!(runs[2].session_id, runs[0].session_id);
    let review = h.prompt(&runs[1]);
    assert!(
        review.contains("+helo"),
        "the reviewer saw the diff: {review}"
    );
    let fix = h.prompt(&runs[2]);
    assert!(
        fix.contains("The reviewer requested changes")
            && fix.contains("greeting.txt:1 [medium] typo: helo"),
        "{fix}"
    );
    assert_eq!(h.task(id).state.review_rounds, 1);
    assert_eq!(h.file_on_target("greeting.txt").as_deref(), Some("hello\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_the_last_review_round_a_person_decides() {
    let mut h = harness(PEDANT).set("limits.review_rounds", "2").build();
    let id = h.add("Greeting");
    h.settle().await;

    let task = h.task(id);
    assert_eq!(task.status(), Status::AwaitingApproval);
    let note = task.state.note.clone().unwrap_or_default();
    assert!(
        note.contains("still requests changes after 2 rounds") && note.contains("say it warmer"),
        "{note}"
    );
    let reviews = h
        .runs(id)
        .iter()
        .filter(|r| r.role == Role::Reviewer)
        .count();
    assert_eq!(reviews, 2);
    assert_eq!(h.file_on_target("greeting.txt"), None, "nothing landed yet");

    h.approve(id);
    h.settle().await;
    assert_eq!(h.task(id).status(), Status::Merged);
    assert_eq!(h.file_on_target("greeting.txt").as_deref(), Some("hello\n"));
}
