//! A person takes a task over by hand (`gaffer attach`) and hands it back (`gaffer release`):
//! the agent's run stops without failing, nothing of the engine touches the task meanwhile, and
//! what the person committed and left uncommitted in the worktree lands after verify; a task
//! handed back unchanged goes back to its coder; what cannot be attached or released is
//! refused.

use gaffer_core::{JobStatus, RunStatus, Status, event_kind};
use gaffer_engine::Action;
use gaffer_store::JobFilter;
use gaffer_test_support::{Agent, EngineHarness};
use std::path::PathBuf;

/// The coder works slowly (long enough to be taken over); had it finished, it would write
/// nothing the person's change needs.
const SLOW_CODER: &str = r#"
[[task]]
match = "greeting"
[[task.attempt]]
summary = "Still thinking."
actions = [{ status = "thinking about the greeting" }, { sleep_ms = 120000 }]
[[task.attempt]]
summary = "Wrote the greeting."
actions = [{ write = "greeting.txt", content = "hello\n" }]
"#;

fn attach(h: &EngineHarness, id: gaffer_core::TaskId) -> gaffer_api::Attached {
    h.perform(id, Action::Attach)
        .unwrap_or_else(|e| panic!("cannot attach task {id}: {e}"))
        .attached
        .expect("attach says where the worktree is")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_persons_commit_and_edit_land_after_release() {
    let mut h = EngineHarness::builder()
        .agent("writer", Agent::scripted(SLOW_CODER))
        .set("roles.coder", "writer")
        .verify("grep -q 'by hand' greeting.txt && test -f notes.txt")
        .build();
    h.repo().git(&["config", "user.name", "Pat Person"]);
    h.repo().git(&["config", "user.email", "pat@example.com"]);
    let id = h.add("Write the greeting");
    h.start();
    h.wait_until("the agent to be at work", |h| {
        h.events_of(id, event_kind::RUN_OUTPUT).into_iter().next()
    })
    .await;
    let attached = attach(&h, id);
    assert_eq!(attached.task.status(), Status::Attached);
    // Asked again, it says the same, and changes nothing.
    assert_eq!(attach(&h, id).worktree, attached.worktree);
    assert_eq!(attached.branch, h.task(id).branch);
    assert!(
        attached.resume.is_none(),
        "a scripted agent has no CLI to resume"
    );
    let worktree = PathBuf::from(&attached.worktree);
    assert!(worktree.join(".git").exists(), "{}", worktree.display());
    // The agent's run stops, without failing anything, and nothing else starts.
    h.wait_until("the agent's run to stop", |h| {
        h.runs(id)
            .first()
            .filter(|r| r.status == RunStatus::Cancelled)
            .cloned()
    })
    .await;
    let active = |h: &EngineHarness| {
        h.board()
            .jobs(&JobFilter {
                task: Some(id),
                statuses: vec![JobStatus::Queued, JobStatus::Leased],
            })
            .unwrap()
    };
    h.wait_until("the task's jobs to end", |h| {
        active(h).is_empty().then_some(())
    })
    .await;

    // The person's work: one commit of their own, one edit left uncommitted.
    std::fs::write(worktree.join("greeting.txt"), "hello, by hand\n").unwrap();
    h.repo().git_in(&worktree, &["add", "greeting.txt"]);
    h.repo()
        .git_in(&worktree, &["commit", "-q", "-m", "Greet by hand"]);
    std::fs::write(worktree.join("notes.txt"), "left uncommitted\n").unwrap();
    // Meanwhile the engine leaves the task alone.
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    assert_eq!(h.task(id).status(), Status::Attached);
    assert!(active(&h).is_empty(), "{}", h.describe());
    assert_eq!(h.runs(id).len(), 1);

    h.perform(id, Action::Release).unwrap();
    h.wait_for_status(id, Status::Merged).await;
    h.stop().await;

    assert_eq!(
        h.file_on_target("greeting.txt").as_deref(),
        Some("hello, by hand\n")
    );
    assert_eq!(
        h.file_on_target("notes.txt").as_deref(),
        Some("left uncommitted\n")
    );
    // Their own commit as they made it (the tests' git identity); what they left, committed by
    // gaffer in the name the repository gives them.
    let authors = h.repo().git(&[
        "log",
        "--format=%an <%ae>|%s",
        "gaffer/landed/main^1..gaffer/landed/main^2",
    ]);
    let authors: Vec<&str> = authors.lines().collect();
    assert_eq!(
        authors,
        [
            "Pat Person <pat@example.com>|Write the greeting",
            "Test Author <author@example.com>|Greet by hand"
        ],
        "{}",
        h.describe()
    );
    // The history: taken over from coding, handed back to verify; no agent ran again.
    let statuses = h.statuses(id);
    let at = statuses
        .iter()
        .position(|s| *s == Status::Attached)
        .expect("attached");
    assert_eq!(statuses[at - 1], Status::Coding);
    assert_eq!(statuses[at + 1], Status::Verifying);
    assert_eq!(h.runs(id).len(), 1, "{}", h.describe());
    let task = h.task(id);
    assert_eq!(task.state.total_failures, 0);
    let acts: Vec<String> = h
        .events_of(id, event_kind::TASK_NOTICE)
        .iter()
        .filter_map(|e| e.data["action"].as_str().map(str::to_string))
        .collect();
    assert_eq!(acts, ["attach", "hand_back"]);
}

const QUICK_CODER: &str = r#"
[[task]]
match = "file"
[[task.attempt]]
summary = "Wrote the file."
actions = [{ write = "file.txt", content = "x\n" }]
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handed_back_unchanged_the_coder_goes_on_and_what_cannot_be_attached_is_refused() {
    let mut h = EngineHarness::builder()
        .agent("writer", Agent::scripted(QUICK_CODER))
        .set("roles.coder", "writer")
        .verify("test -f file.txt")
        .build();
    let id = h.add("Write the file");
    // Not attached: nothing to hand back.
    let refused = h.perform(id, Action::Release).unwrap_err();
    assert!(refused.contains("is not attached"), "{refused}");
    // In the backlog it waits for nobody's work yet: the machine refuses it.
    let refused = h.perform(id, Action::Attach).unwrap_err();
    assert!(refused.contains("`attach` is not allowed"), "{refused}");
    h.act(id, gaffer_core::Input::Promote);
    attach(&h, id);
    // Released without a change: the coder goes on, told why.
    h.perform(id, Action::Release).unwrap();
    assert_eq!(h.task(id).status(), Status::Coding);
    h.settle().await;
    assert_eq!(h.task(id).status(), Status::Merged, "{}", h.describe());
    let runs = h.runs(id);
    assert_eq!(runs.len(), 1);
    assert!(
        h.prompt(&runs[0])
            .contains("gave it back without changing the branch")
    );

    let refused = h.perform(id, Action::Attach).unwrap_err();
    assert!(refused.contains("merged"), "{refused}");
    let refused = h.perform(id, Action::Release).unwrap_err();
    assert!(
        refused.contains("is not attached (it is merged)"),
        "{refused}"
    );
}
