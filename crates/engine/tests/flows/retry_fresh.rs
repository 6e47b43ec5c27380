//! A fresh retry (`gaffer task retry N --fresh`): the failed task starts again on a new branch
//! from the target, at the bottom of the ladder, with a fresh session and no handoff; the old
//! branch, runs and events stay.

use gaffer_core::Status;
use gaffer_test_support::{Agent, EngineHarness};

/// Fails while BROKEN exists.
const VERIFY: &str = "test ! -e BROKEN || { echo 'BROKEN is still there'; exit 1; }";

/// Leaves BROKEN twice (on each rung), then, started afresh, writes only the parser.
const CODER: &str = r#"
[[task]]
match = "Fix the parser"
[[task.attempt]]
summary = "Rewrote the parser; the tests may fail."
actions = [{ write = "parser.txt", content = "v1\n" }, { write = "BROKEN", content = "1\n" }]
[[task.attempt]]
summary = "Still broken."
actions = [{ write = "BROKEN", content = "2\n" }]
[[task.attempt]]
summary = "Wrote the parser cleanly."
actions = [{ write = "parser.txt", content = "v2\n" }]
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fresh_retry_lands_from_a_new_branch_without_the_broken_edits() {
    let mut h = EngineHarness::builder()
        .agent("cheap", Agent::scripted(CODER))
        .agent("strong", Agent::scripted(CODER))
        .set("roles.coder", "cheap,strong")
        .set("limits.verify_failures_per_tier", "1")
        .verify(VERIFY)
        .build();
    let id = h.add("Fix the parser");
    h.settle().await;
    let failed = h.task(id);
    assert_eq!(failed.status(), Status::Failed);
    assert_eq!(failed.state.tier, 1, "it failed on the top rung");
    let old_branch = failed.branch.clone();
    let old_head = h.repo().rev_parse(&old_branch);
    let events_before = h.events(id).len();

    h.retry_fresh(id);
    let retried = h.task(id);
    assert_eq!(retried.branch, format!("{old_branch}-attempt-2"));
    assert_eq!((retried.state.tier, retried.state.failures), (0, 0));
    assert!(retried.state.head.is_none());
    h.settle().await;

    let merged = h.task(id);
    assert_eq!(merged.status(), Status::Merged, "{}", h.describe());
    // What landed came from the new branch: the parser, none of the broken edits.
    assert_eq!(h.file_on_target("parser.txt").as_deref(), Some("v2\n"));
    assert_eq!(h.file_on_target("BROKEN"), None);
    // The old attempt is kept: its branch, still at its broken head, its runs and its events.
    assert_eq!(h.repo().rev_parse(&old_branch), old_head);
    assert_eq!(
        h.repo()
            .git(&["show", &format!("{old_branch}:BROKEN")])
            .trim(),
        "2"
    );
    let runs = h.runs(id);
    assert_eq!(runs.len(), 3);
    assert_eq!(
        runs.iter()
            .map(|r| (r.agent.as_str(), r.tier))
            .collect::<Vec<_>>(),
        [("cheap", 0), ("strong", 1), ("cheap", 0)],
        "the fresh start is at the bottom of the ladder"
    );
    assert!(
        runs[..2].iter().all(|r| r.session_id != runs[2].session_id),
        "a fresh session"
    );
    let prompt = h.prompt(&runs[2]);
    assert!(prompt.contains("from scratch"), "{prompt}");
    assert!(!prompt.contains("Still broken."), "no handoff: {prompt}");
    assert!(h.events(id).len() > events_before);
    use Status::*;
    assert_eq!(
        h.statuses(id),
        [
            Ready, Coding, Verifying, Coding, Verifying, Failed, Ready, Coding, Verifying, Queued,
            Merging, Merged
        ]
    );
}
