//! Budgets: a task's budget or the day's, spent, stops the next run before it starts; the task
//! waits with the reason until a person lets one more run go or raises the budget, which starts
//! exactly the run that was held.

use gaffer_core::{RunStatus, Status, TaskId, event_kind};
use gaffer_test_support::{Agent, EngineHarness, HarnessBuilder};

/// A scripted agent books a quarter of its prompt's length as input tokens; at $1 a token every
/// run costs dollars.
const PRICEY: &str = "[prices.pricey]\ninput = 1000000.0\noutput = 0.0\n";

const VERIFY: &str = "test ! -e BROKEN || { echo 'BROKEN is still there'; exit 1; }";

const CODER: &str = r#"
[[task]]
match = "Fix the parser"
[[task.attempt]]
summary = "Rewrote the parser; the tests still fail."
actions = [{ write = "parser.txt", content = "v1\n" }, { write = "BROKEN", content = "1\n" }]
[[task.attempt]]
summary = "Finished the parser."
actions = [{ delete = "BROKEN" }, { write = "parser.txt", content = "v2\n" }]
[[task]]
match = "Write the notes"
[[task.attempt]]
summary = "Wrote the notes."
actions = [{ write = "notes.txt", content = "notes\n" }]
"#;

fn harness() -> HarnessBuilder {
    EngineHarness::builder()
        .agent("writer", Agent::scripted(CODER).with("model = \"pricey\""))
        .toml(PRICEY)
        .set("roles.coder", "writer")
        .set("limits.verify_failures_per_tier", "3")
        .verify(VERIFY)
}

fn cost(h: &EngineHarness, id: TaskId) -> f64 {
    h.runs(id).iter().map(|r| r.usage.cost_usd).sum()
}

/// The first run spends the budget; the run after its failed verify is held.
async fn held_after_one_run(h: &mut EngineHarness, id: TaskId, spent_on: &str) {
    h.settle().await;
    let task = h.task(id);
    assert_eq!(task.status(), Status::AwaitingApproval);
    let note = task.state.note.clone().unwrap_or_default();
    assert!(note.starts_with(spent_on), "{note}");
    assert_eq!(h.runs(id).len(), 1, "no run started past the budget");
    assert!(cost(h, id) >= 1.0, "the first run cost {}", cost(h, id));
    let stops = h.notices(id, "budget_stop");
    assert_eq!(stops.len(), 1);
    assert_eq!(stops[0].data["reason"], note.as_str());
    // The held run is kept exactly: the coder resuming after the failed verify.
    let held = serde_json::to_value(task.state.held.as_ref().unwrap()).unwrap();
    assert_eq!(held["status"], "coding");
    assert_eq!(held["run"]["reason"], "verify_failed");
    assert_eq!(held["run"]["session"], "resume");
}

/// The held run went, resumed with the failed verify's output, and the task merged.
fn merged_with_the_held_run(h: &EngineHarness, id: TaskId) {
    use Status::*;
    assert_eq!(
        h.statuses(id),
        [
            Ready,
            Coding,
            Verifying,
            Coding,
            AwaitingApproval,
            Coding,
            Verifying,
            Queued,
            Merging,
            Merged
        ]
    );
    let runs = h.runs(id);
    assert_eq!(runs.len(), 2);
    assert!(runs.iter().all(|r| r.status == RunStatus::Succeeded));
    assert_eq!(runs[1].session_id, runs[0].session_id);
    assert!(h.prompt(&runs[1]).contains("BROKEN is still there"));
    assert_eq!(h.file_on_target("parser.txt").as_deref(), Some("v2\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spent_task_budget_holds_the_next_run_until_a_person_approves_one_more() {
    let mut h = harness().set("budget.task_usd", "1.0").build();
    let id = h.add("Fix the parser");
    held_after_one_run(&mut h, id, &format!("budget: task #{id} has spent $")).await;
    assert!(
        h.task(id)
            .state
            .note
            .unwrap()
            .contains("of its $1.0000 budget")
    );

    h.approve(id);
    h.settle().await;
    merged_with_the_held_run(&h, id);
    assert!(!h.task(id).state.budget_approved, "used up by the run");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn raising_the_budget_releases_exactly_the_held_run() {
    let mut h = harness().set("budget.task_usd", "1.0").build();
    let id = h.add("Fix the parser");
    held_after_one_run(&mut h, id, &format!("budget: task #{id} has spent $")).await;

    h.set_budget(id, Some(1_000_000.0));
    h.settle().await;
    merged_with_the_held_run(&h, id);
    assert_eq!(h.events_of(id, "budget.released").len(), 1);
    assert_eq!(h.task(id).budget_usd, Some(1_000_000.0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spent_day_budget_starts_no_new_task_and_says_why_once() {
    let mut h = harness().set("budget.day_usd", "1.0").build();
    let parser = h.add("Fix the parser");
    held_after_one_run(&mut h, parser, "budget: the project has spent $").await;

    let before = h.all_events().len();
    let notes = h.add("Write the notes");
    h.settle().await;
    assert_eq!(h.task(notes).status(), Status::Ready);
    assert!(h.runs(notes).is_empty());
    // Each engine says it once (what it remembers of the budgets is in memory).
    let stops: Vec<_> = h
        .all_events()
        .into_iter()
        .skip(before)
        .filter(|e| e.kind == "budget.day_stop")
        .collect();
    assert_eq!(stops.len(), 1, "said once");
    assert!(
        stops[0].data["reason"]
            .as_str()
            .is_some_and(|r| r.contains("budget for today")),
        "{:?}",
        stops[0].data
    );

    // A person lets the held run go past the day's budget; the new task still waits.
    h.approve(parser);
    h.settle().await;
    merged_with_the_held_run(&h, parser);
    assert_eq!(h.task(notes).status(), Status::Ready);
    assert!(h.runs(notes).is_empty());
    assert_eq!(h.events_of(notes, event_kind::TASK_STATUS).len(), 1);
}
