//! Plan review rounds: a planner's plan is sent back by the plan reviewer, planned again,
//! approved; the epic delegates to its subtasks, which merge in dependency order.

use gaffer_core::{NewTask, Role, Status, TaskKind, event_kind};
use gaffer_test_support::{Agent, EngineHarness};

const PLAN_ONE: &str = r#"{"subtasks": [{"title": "Write every letter", "body": "All at once."}]}"#;
const PLAN_TWO: &str = r#"{"subtasks": [
  {"title": "Write alpha", "body": "Create alpha.txt.", "write_scope": ["alpha.txt"]},
  {"title": "Write gamma", "body": "Create gamma.txt; it needs alpha.", "depends_on": [0], "write_scope": ["gamma.txt"]}
]}"#;

const CRITIC: &str = r#"
[[task]]
match = "Greek letters"
[[task.attempt]]
summary = '{"verdict": "request_changes", "findings": [{"text": "one subtask is too big: split it"}]}'
[[task.attempt]]
summary = '{"verdict": "approve"}'
"#;

const CODER: &str = r#"
[[task]]
match = "Write alpha"
[[task.attempt]]
actions = [{ write = "alpha.txt", content = "alpha\n" }]
[[task]]
match = "Write gamma"
[[task.attempt]]
actions = [{ write = "gamma.txt", content = "gamma\n" }]
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plan_sent_back_once_is_planned_again_and_its_subtasks_merge_in_order() {
    let planner = format!(
        "[[task]]\nmatch = \"Greek letters\"\n[[task.attempt]]\nsummary = '''{PLAN_ONE}'''\n\
         [[task.attempt]]\nsummary = '''{PLAN_TWO}'''\n"
    );
    let mut h = EngineHarness::builder()
        .agent("planner", Agent::scripted(&planner))
        .agent("critic", Agent::scripted(CRITIC))
        .agent("coder", Agent::scripted(CODER))
        .set("roles.planner", "planner")
        .set("roles.plan_reviewer", "critic")
        .set("roles.coder", "coder")
        // gamma only with alpha: a dependency landed out of order breaks the target.
        .verify("if [ -e gamma.txt ]; then test -e alpha.txt; fi")
        .build();
    let epic = h.add_task(NewTask {
        title: "Greek letters".into(),
        kind: TaskKind::Epic,
        ..NewTask::default()
    });
    h.settle().await;

    use Status::*;
    assert_eq!(
        h.statuses(epic),
        [
            Ready, Planning, PlanReview, Planning, PlanReview, Delegated, Merged
        ]
    );
    let roles: Vec<Role> = h.runs(epic).iter().map(|r| r.role).collect();
    assert_eq!(
        roles,
        [
            Role::Planner,
            Role::PlanReviewer,
            Role::Planner,
            Role::PlanReviewer
        ]
    );
    let replan = h.prompt(&h.runs(epic)[2]);
    assert!(
        replan.contains("one subtask is too big: split it"),
        "{replan}"
    );
    assert_eq!(h.task(epic).state.plan_rounds, 1);

    let children: Vec<_> = h
        .board()
        .tasks(&[])
        .unwrap()
        .into_iter()
        .filter(|t| t.parent == Some(epic))
        .collect();
    let titles: Vec<&str> = children.iter().map(|t| t.title.as_str()).collect();
    assert_eq!(titles, ["Write alpha", "Write gamma"]);
    let (alpha, gamma) = (children[0].id, children[1].id);
    assert_eq!(children[1].blocked_by, [alpha]);
    let landed = |id| h.events_of(id, event_kind::QUEUE_LANDED)[0].seq;
    let ready = h
        .events_of(gamma, event_kind::TASK_STATUS)
        .into_iter()
        .find(|e| e.data["to"] == "ready")
        .unwrap()
        .seq;
    assert!(ready > landed(alpha), "gamma waited for alpha to merge");
    assert!(landed(gamma) > landed(alpha));
    assert_eq!(h.file_on_target("alpha.txt").as_deref(), Some("alpha\n"));
    assert_eq!(h.file_on_target("gamma.txt").as_deref(), Some("gamma\n"));
}
