//! Conflicts: a branch that no longer applies on the target goes to a resolver, which sees the
//! conflict markers; the resolved branch is verified again and lands with both changes.

use gaffer_core::{NewTask, Risk, Role, Status, TaskId, event_kind};
use gaffer_test_support::{Agent, EngineHarness};

/// Both tasks change the README's first line; each task's second run (of the coder and
/// resolver line) is its resolution.
const CODER: &str = r##"
[[task]]
match = "readme title"
[[task.attempt]]
summary = "Retitled the README."
actions = [{ replace = "README.md", from = "# test repository", to = "# the project" }]
[[task]]
match = "readme rename"
[[task.attempt]]
summary = "Renamed the project in the README."
actions = [{ replace = "README.md", from = "# test repository", to = "# renamed repository" }]
[[task.attempt]]
summary = "Resolved the README conflict."
actions = [{ write = "README.md", content = "# the project, renamed\n" }]
[[task]]
match = "asked rename"
[[task.attempt]]
actions = [{ question = "Which name?" }]
[[task.attempt]]
summary = "Renamed the project in the README."
actions = [{ replace = "README.md", from = "# test repository", to = "# renamed repository" }]
[[task.attempt]]
summary = "Resolved the README conflict."
actions = [{ write = "README.md", content = "# the project, renamed\n" }]
"##;

/// Conflict markers fail verify.
const VERIFY: &str = "! grep -q '^<<<<<<<' README.md";

fn harness() -> EngineHarness {
    EngineHarness::builder()
        .agent("writer", Agent::scripted(CODER))
        .set("roles.coder", "writer")
        .set("risk.approval_at", "high")
        .verify(VERIFY)
        .build()
}

/// The rename is coded from the first commit and held by the approval gate while the retitle
/// lands.
fn add_rename(h: &EngineHarness) -> TaskId {
    h.add_task(NewTask {
        title: "readme rename".into(),
        risk: Risk::High,
        ..NewTask::default()
    })
}

/// The last run resolved the conflict it was shown, and both changes landed.
fn resolved(h: &EngineHarness, rename: TaskId, roles: &[Role]) {
    let runs = h.runs(rename);
    assert_eq!(runs.iter().map(|r| r.role).collect::<Vec<_>>(), roles);
    let prompt = h.prompt(runs.last().unwrap());
    assert!(
        prompt.contains("README.md") && prompt.contains("<<<<<<<"),
        "the resolver saw the conflict: {prompt}"
    );
    assert_eq!(h.task(rename).state.merge_attempts, 1);
    assert_eq!(h.events_of(rename, event_kind::QUEUE_LANDED).len(), 1);
    assert_eq!(
        h.file_on_target("README.md").as_deref(),
        Some("# the project, renamed\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_branch_conflicting_in_the_train_goes_to_a_resolver_and_lands() {
    let mut h = harness();
    let rename = add_rename(&h);
    h.settle().await;
    assert_eq!(h.task(rename).status(), Status::AwaitingApproval);
    let title = h.add("readme title");
    h.settle().await;
    assert_eq!(h.task(title).status(), Status::Merged);
    assert_eq!(
        h.file_on_target("README.md").as_deref(),
        Some("# the project\n")
    );

    h.approve(rename);
    h.settle().await;
    // The resolution is a new head: the gate asks again.
    assert_eq!(h.task(rename).status(), Status::AwaitingApproval);
    h.approve(rename);
    h.settle().await;
    use Status::*;
    assert_eq!(
        h.statuses(rename),
        [
            Ready,
            Coding,
            Verifying,
            AwaitingApproval,
            Queued,
            Merging,
            Coding,
            Verifying,
            AwaitingApproval,
            Queued,
            Merging,
            Merged
        ]
    );
    let ejected = h.events_of(rename, event_kind::QUEUE_EJECTED);
    assert_eq!(ejected.len(), 1);
    assert_eq!(ejected[0].data["reason"], "conflict");
    assert_eq!(ejected[0].data["files"], serde_json::json!(["README.md"]));
    resolved(&h, rename, &[Role::Coder, Role::Resolver]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_conflict_predicted_at_verify_goes_to_a_resolver_before_the_queue() {
    let mut h = harness();
    let rename = h.add("asked rename");
    h.settle().await;
    assert_eq!(h.task(rename).status(), Status::NeedsInput);
    let title = h.add("readme title");
    h.settle().await;
    assert_eq!(h.task(title).status(), Status::Merged);

    // Resumed in its worktree on the first commit, it now conflicts with the target.
    h.answer(rename, "renamed");
    h.settle().await;
    use Status::*;
    assert_eq!(
        h.statuses(rename),
        [
            Ready, Coding, NeedsInput, Coding, Verifying, Coding, Verifying, Queued, Merging,
            Merged
        ]
    );
    let predicted = h.events_of(rename, event_kind::QUEUE_CONFLICT);
    assert_eq!(predicted.len(), 1);
    assert!(h.events_of(rename, event_kind::QUEUE_EJECTED).is_empty());
    resolved(&h, rename, &[Role::Coder, Role::Coder, Role::Resolver]);
}
