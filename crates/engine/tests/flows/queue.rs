//! Queue ejection: a branch that passes its own verify but breaks the target's tests once
//! merged fails as a candidate, is rechecked on the same tree, and is ejected back to its coder
//! with the output; nobody else is blamed, and the target only passes through green trees.

use gaffer_core::{Role, Status, event_kind};
use gaffer_test_support::{Agent, EngineHarness};

/// The unit part runs everywhere; the integration part (which an `integration-breaker-*` file
/// fails) only in the merge queue, as projects do with a slow suite.
const TESTS: &str = r#"#!/bin/sh
test ! -e BROKEN || { echo "unit: BROKEN exists"; exit 1; }
if [ "$GAFFER_VERIFY_PURPOSE" = "branch" ]; then exit 0; fi
for f in integration-breaker-*; do
  if [ -e "$f" ]; then echo "integration test failed: $f breaks the API"; exit 1; fi
done
"#;

/// The breaker asks first, so that it is coded on the first commit and reaches the queue once
/// the features have landed: its candidate is a tree its own verify never saw.
const CODER: &str = r#"
[[task]]
match = "breaker"
[[task.attempt]]
actions = [{ question = "May I change the API?" }]
[[task.attempt]]
summary = "Changed the API."
actions = [{ write = "integration-breaker-1", content = "old API\n" }]
[[task.attempt]]
summary = "Changed the API without breaking its users."
actions = [{ delete = "integration-breaker-1" }, { write = "api.txt", content = "v2\n" }]
[[task]]
match = "feature one"
[[task.attempt]]
actions = [{ write = "features/one.txt", content = "one\n" }]
[[task]]
match = "feature two"
[[task.attempt]]
actions = [{ write = "features/two.txt", content = "two\n" }]
[[task]]
match = "feature three"
[[task.attempt]]
actions = [{ write = "features/three.txt", content = "three\n" }]
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_branch_that_breaks_the_target_is_ejected_with_the_evidence_and_fixed() {
    let mut h = EngineHarness::builder()
        .agent("writer", Agent::scripted(CODER))
        .set("roles.coder", "writer")
        .set("limits.verify_failures_per_tier", "3")
        .file("tests/run.sh", TESTS)
        .verify("sh tests/run.sh")
        .build();
    let base = h.repo().head();
    let breaker = h.add("breaker");
    let mut features = vec![h.add("feature one"), h.add("feature two")];
    h.settle().await;
    assert_eq!(h.task(breaker).status(), Status::NeedsInput);
    h.answer(breaker, "yes");
    // Another branch may join the train behind it meanwhile: it must not be blamed.
    features.push(h.add("feature three"));
    h.settle().await;

    for id in features.iter().chain([&breaker]) {
        assert_eq!(h.task(*id).status(), Status::Merged, "{}", h.describe());
        assert_eq!(h.events_of(*id, event_kind::QUEUE_LANDED).len(), 1);
    }
    // The guilty branch: rechecked, then ejected once with the output, then fixed.
    assert!(!h.events_of(breaker, event_kind::QUEUE_RECHECK).is_empty());
    let ejected = h.events_of(breaker, event_kind::QUEUE_EJECTED);
    assert_eq!(ejected.len(), 1);
    assert_eq!(ejected[0].data["reason"], "verify_failed");
    let evidence = ejected[0].data["summary"].as_str().unwrap_or_default();
    assert!(evidence.contains("integration test failed"), "{evidence}");
    use Status::*;
    assert_eq!(
        h.statuses(breaker),
        [
            Ready, Coding, NeedsInput, Coding, Verifying, Queued, Merging, Coding, Verifying,
            Queued, Merging, Merged
        ]
    );
    let runs = h.runs(breaker);
    assert_eq!(runs.len(), 3);
    assert!(h.prompt(&runs[2]).contains("integration test failed"));
    // The innocent: never ejected, coded once.
    for id in &features {
        assert!(h.events_of(*id, event_kind::QUEUE_EJECTED).is_empty());
        let coders = h.runs(*id).iter().filter(|r| r.role == Role::Coder).count();
        assert_eq!(coders, 1);
    }
    // Every commit the target passed through is green: no breaker in any of them.
    let landing = h.board().landing().unwrap().refname();
    let history = h
        .repo()
        .git(&["rev-list", "--first-parent", &format!("{base}..{landing}")]);
    assert_eq!(history.lines().count(), 4, "one merge commit per task");
    for commit in history.lines() {
        let files = h.repo().git(&["ls-tree", "-r", "--name-only", commit]);
        assert!(!files.contains("integration-breaker"), "{commit}: {files}");
    }
    assert_eq!(h.file_on_target("api.txt").as_deref(), Some("v2\n"));
    for (file, text) in [("one", "one\n"), ("two", "two\n"), ("three", "three\n")] {
        let path = format!("features/{file}.txt");
        assert_eq!(h.file_on_target(&path).as_deref(), Some(text));
    }
}
