//! Escalation: failed attempts resume the same session up to `verify_failures_per_tier`, then
//! move one rung up the coder ladder with a fresh session and the handoff; the last rung failing
//! fails the task with the evidence.

use gaffer_core::{RunStatus, Status, event_kind};
use gaffer_test_support::{Agent, EngineHarness};

const VERIFY: &str = "test ! -e BROKEN || { echo 'BROKEN is still there'; exit 1; }";

const CHEAP: &str = r#"
[[task]]
match = "Fix the parser"
[[task.attempt]]
summary = "Rewrote the parser; the tests may still fail."
actions = [{ write = "parser.txt", content = "v1\n" }, { write = "BROKEN", content = "1\n" }]
[[task.attempt]]
summary = "Tried again: the parser is half done."
actions = [{ write = "BROKEN", content = "2\n" }]
"#;

const STRONG: &str = r#"
[[task]]
match = "Fix the parser"
[[task.attempt]]
summary = "Finished the parser and removed BROKEN."
actions = [{ delete = "BROKEN" }, { write = "parser.txt", content = "v2\n" }]
"#;

/// Never gets it right (each rung changes something, so that each attempt reaches verify).
fn hopeless(who: &str) -> String {
    format!(
        "[[task]]\nmatch = \"Fix the parser\"\n[[task.attempt]]\n\
         summary = \"Could not finish the parser.\"\n\
         actions = [{{ write = \"BROKEN\", content = \"{who}\" }}]\n"
    )
}

fn tiers(h: &EngineHarness, id: gaffer_core::TaskId) -> Vec<(String, u32)> {
    h.runs(id).into_iter().map(|r| (r.agent, r.tier)).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_failed_verifies_escalate_one_tier_which_passes() {
    let mut h = EngineHarness::builder()
        .agent("cheap", Agent::scripted(CHEAP))
        .agent("strong", Agent::scripted(STRONG))
        .set("roles.coder", "cheap,strong")
        .set("limits.verify_failures_per_tier", "2")
        .verify(VERIFY)
        .build();
    let id = h.add("Fix the parser");
    h.settle().await;

    use Status::*;
    assert_eq!(
        h.statuses(id),
        [
            Ready, Coding, Verifying, Coding, Verifying, Coding, Verifying, Queued, Merging, Merged
        ]
    );
    assert_eq!(
        tiers(&h, id),
        [
            ("cheap".into(), 0),
            ("cheap".into(), 0),
            ("strong".into(), 1)
        ]
    );
    let runs = h.runs(id);
    assert_eq!(runs[1].session_id, runs[0].session_id, "same tier: resumed");
    assert_ne!(runs[2].session_id, runs[0].session_id, "new tier: afresh");
    let passed: Vec<bool> = h
        .events_of(id, event_kind::VERIFY_FINISHED)
        .iter()
        .filter(|e| e.data["purpose"] == "branch")
        .map(|e| e.data["passed"].as_bool().unwrap())
        .collect();
    assert_eq!(passed, [false, false, true]);
    let escalated = h.notices(id, "escalated");
    assert_eq!(escalated.len(), 1);
    assert_eq!(escalated[0].data["tier"], 1);
    // The new tier starts from the last run's handoff and the failing output.
    let fresh = h.prompt(&runs[2]);
    assert!(
        fresh.contains("Tried again: the parser is half done.")
            && fresh.contains("BROKEN is still there"),
        "{fresh}"
    );
    let task = h.task(id);
    assert_eq!((task.state.tier, task.state.total_failures), (1, 2));
    assert_eq!(h.file_on_target("parser.txt").as_deref(), Some("v2\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn when_the_last_tier_fails_too_the_task_fails_with_the_evidence() {
    let mut h = EngineHarness::builder()
        .agent("cheap", Agent::scripted(&hopeless("cheap")))
        .agent("strong", Agent::scripted(&hopeless("strong")))
        .set("roles.coder", "cheap,strong")
        .set("limits.verify_failures_per_tier", "1")
        .verify(VERIFY)
        .build();
    let id = h.add("Fix the parser");
    h.settle().await;

    use Status::*;
    assert_eq!(
        h.statuses(id),
        [Ready, Coding, Verifying, Coding, Verifying, Failed]
    );
    assert_eq!(tiers(&h, id), [("cheap".into(), 0), ("strong".into(), 1)]);
    assert!(h.runs(id).iter().all(|r| r.status == RunStatus::Succeeded));
    let task = h.task(id);
    let note = task.state.note.clone().unwrap_or_default();
    assert!(note.contains("BROKEN is still there"), "{note}");
    assert_eq!(h.notices(id, "failed").len(), 1);
    assert_eq!(h.file_on_target("parser.txt"), None);
}
