//! Questions: an agent's question stops the task in `needs_input`; the answer resumes the same
//! session with the answer in the prompt.

use gaffer_core::{Status, event_kind};
use gaffer_test_support::{Agent, EngineHarness};

const CODER: &str = r#"
[[task]]
match = "Greeting"
[[task.attempt]]
actions = [{ status = "reading the task" }, { question = "Which greeting: Hello or Hi?" }]
[[task.attempt]]
summary = "Wrote the greeting I was told."
actions = [{ write = "greeting.txt", content = "Hello\n" }]
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_question_waits_for_an_answer_and_the_coder_resumes_with_it() {
    let mut h = EngineHarness::builder()
        .agent("writer", Agent::scripted(CODER))
        .set("roles.coder", "writer")
        .build();
    let id = h.add("Greeting");
    h.settle().await;

    let waiting = h.task(id);
    assert_eq!(waiting.status(), Status::NeedsInput);
    assert!(
        waiting
            .state
            .note
            .as_deref()
            .is_some_and(|n| n.contains("Which greeting: Hello or Hi?")),
        "{:?}",
        waiting.state.note
    );
    assert_eq!(h.notices(id, "needs_input").len(), 1);
    // Not an approval: refused, and it still waits.
    assert!(h.try_act(id, gaffer_core::Input::Approve).is_err());
    assert_eq!(h.task(id).status(), Status::NeedsInput);

    h.answer(id, "Hello, with a capital H");
    h.settle().await;
    use Status::*;
    assert_eq!(
        h.statuses(id),
        [
            Ready, Coding, NeedsInput, Coding, Verifying, Queued, Merging, Merged
        ]
    );
    let runs = h.runs(id);
    assert_eq!(runs.len(), 2);
    assert_eq!(runs[1].session_id, runs[0].session_id, "resumed");
    let resumed = h.prompt(&runs[1]);
    assert!(resumed.contains("Hello, with a capital H"), "{resumed}");
    assert_eq!(h.events_of(id, event_kind::QUEUE_LANDED).len(), 1);
    assert_eq!(h.file_on_target("greeting.txt").as_deref(), Some("Hello\n"));
}
