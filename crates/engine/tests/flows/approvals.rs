//! Approvals: a task at or above `risk.approval_at` waits for a person after verify; approved it
//! merges, rejected it goes back to its coder with the reason (or is cancelled).

use gaffer_core::{NewTask, Risk, Status, TaskId};
use gaffer_test_support::{Agent, EngineHarness};

const CODER: &str = r#"
[[task]]
match = "Orders table"
[[task.attempt]]
summary = "Added the orders table."
actions = [{ write = "migrations/002_orders.sql", content = "create table orders (id int);\n" }]
[[task.attempt]]
summary = "Indexed customer_id."
actions = [{ append = "migrations/002_orders.sql", content = "create index orders_customer on orders (customer_id);\n" }]
"#;

fn harness() -> EngineHarness {
    EngineHarness::builder()
        .agent("writer", Agent::scripted(CODER))
        .set("roles.coder", "writer")
        .set("risk.approval_at", "high")
        .build()
}

fn add_risky(h: &EngineHarness) -> TaskId {
    h.add_task(NewTask {
        title: "Orders table".into(),
        risk: Risk::High,
        ..NewTask::default()
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_high_risk_task_waits_for_approval_then_merges() {
    let mut h = harness();
    let id = add_risky(&h);
    h.settle().await;
    assert_eq!(h.task(id).status(), Status::AwaitingApproval);
    assert_eq!(h.notices(id, "needs_approval").len(), 1);
    assert_eq!(h.file_on_target("migrations/002_orders.sql"), None);
    // Not a question: an answer is refused.
    assert!(
        h.try_act(id, gaffer_core::Input::Answer { text: "yes".into() })
            .is_err()
    );

    h.approve(id);
    h.settle().await;
    use Status::*;
    assert_eq!(
        h.statuses(id),
        [
            Ready,
            Coding,
            Verifying,
            AwaitingApproval,
            Queued,
            Merging,
            Merged
        ]
    );
    assert_eq!(h.runs(id).len(), 1);
    assert_eq!(
        h.file_on_target("migrations/002_orders.sql").as_deref(),
        Some("create table orders (id int);\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejection_sends_it_back_to_its_coder_with_the_reason() {
    let mut h = harness();
    let id = add_risky(&h);
    h.settle().await;
    h.reject(id, "index customer_id", false);
    h.settle().await;
    assert_eq!(h.task(id).status(), Status::AwaitingApproval, "waits again");
    let runs = h.runs(id);
    assert_eq!(runs.len(), 2);
    assert_eq!(runs[1].session_id, runs[0].session_id);
    let again = h.prompt(&runs[1]);
    assert!(
        again.contains("A person rejected the change at the approval gate")
            && again.contains("index customer_id"),
        "{again}"
    );

    h.approve(id);
    h.settle().await;
    use Status::*;
    assert_eq!(
        h.statuses(id),
        [
            Ready,
            Coding,
            Verifying,
            AwaitingApproval,
            Coding,
            Verifying,
            AwaitingApproval,
            Queued,
            Merging,
            Merged
        ]
    );
    let landed = h.file_on_target("migrations/002_orders.sql").unwrap();
    assert!(landed.contains("create index orders_customer"), "{landed}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejection_with_cancel_cancels_it_and_nothing_lands() {
    let mut h = harness();
    let id = add_risky(&h);
    h.settle().await;
    h.reject(id, "not now", true);
    h.settle().await;
    let task = h.task(id);
    assert_eq!(task.status(), Status::Cancelled);
    assert_eq!(h.runs(id).len(), 1);
    assert_eq!(h.file_on_target("migrations/002_orders.sql"), None);
    assert!(
        h.repo().git(&["branch", "--list", &task.branch]).is_empty(),
        "the cancelled task's branch is cleaned up"
    );
}
