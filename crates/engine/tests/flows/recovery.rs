//! Recovery: an engine dropped mid-work (a crash: its leases stay, its runs stay `running`) or
//! stopped, and another started on the same state. The next one's recovery releases the dead
//! one's jobs, marks its runs lost, and every task still merges exactly once.

use std::path::{Path, PathBuf};

use gaffer_core::{Event, JobStatus, RunStatus, Status, TaskId, event_kind};
use gaffer_store::JobFilter;
use gaffer_test_support::{Agent, EngineHarness};

/// A shell loop that waits until `gate` exists: work that cannot finish before the test lets it.
fn wait_for(gate: &Path) -> String {
    format!("while [ ! -e '{}' ]; do sleep 0.05; done", gate.display())
}

fn open(gate: &Path) {
    std::fs::write(gate, "").unwrap();
}

fn recoveries(h: &EngineHarness) -> Vec<Event> {
    h.all_events()
        .into_iter()
        .filter(|e| e.kind == event_kind::RECOVERY)
        .collect()
}

fn jobs(h: &EngineHarness, id: TaskId, status: JobStatus) -> Vec<gaffer_core::Job> {
    h.board()
        .jobs(&JobFilter {
            task: Some(id),
            statuses: vec![status],
        })
        .unwrap()
}

const CODER: &str = r#"
[[task]]
match = "notes"
[[task.attempt]]
summary = "Wrote the notes."
actions = [{ write = "notes.txt", content = "notes\n" }]
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_during_verify_releases_its_job_and_the_task_merges_once() {
    let gate_dir = tempfile::tempdir().unwrap();
    let gate = gate_dir.path().join("gate");
    let mut h = EngineHarness::builder()
        .agent("writer", Agent::scripted(CODER))
        .set("roles.coder", "writer")
        .verify(&format!("{}; test -f notes.txt", wait_for(&gate)))
        .build();
    let id = h.add("Write the notes");
    h.start();
    h.wait_for_event(id, event_kind::VERIFY_STARTED).await;
    h.crash().await;
    // What the crash left: the task verifying, its verify job leased to the dead engine.
    assert_eq!(h.task(id).status(), Status::Verifying);
    let leased = jobs(&h, id, JobStatus::Leased);
    assert_eq!(leased.len(), 1, "{leased:?}");

    // A verify cut off leaves what it kept on the side (the clean copy of the config a
    // confined verify sees): recovery clears it.
    let left = h
        .board()
        .paths()
        .command_scratch("verify-999")
        .with_extension("gitconfig");
    std::fs::create_dir_all(left.parent().unwrap()).unwrap();
    std::fs::write(&left, "[core]\n").unwrap();
    open(&gate);
    h.restart();
    h.wait_for_status(id, Status::Merged).await;
    h.stop().await;
    assert!(!left.exists(), "recovery cleared the scratch of dead runs");

    let recoveries = recoveries(&h);
    assert_eq!(recoveries.len(), 2);
    assert_eq!(
        recoveries[1].data["jobs_released"], 1,
        "{:?}",
        recoveries[1]
    );
    assert_eq!(recoveries[1].data["runs_lost"], 0);
    let branch = |kind: &str| -> Vec<gaffer_core::Event> {
        h.events_of(id, kind)
            .into_iter()
            .filter(|e| e.data["purpose"] == "branch")
            .collect()
    };
    assert_eq!(branch(event_kind::VERIFY_STARTED).len(), 2);
    let finished = branch(event_kind::VERIFY_FINISHED);
    assert_eq!(finished.len(), 1);
    assert_eq!(finished[0].data["passed"], true);
    assert_eq!(h.runs(id).len(), 1, "the agent's work was kept");
    assert_eq!(h.events_of(id, event_kind::QUEUE_LANDED).len(), 1);
    assert_eq!(h.file_on_target("notes.txt").as_deref(), Some("notes\n"));
}

/// A `command` agent that logs its start and end, and in between waits for the gate.
fn gated_agent(dir: &Path, gate: &Path) -> (Agent, PathBuf) {
    let log = dir.join("agent.log");
    let script = dir.join("agent.sh");
    std::fs::write(
        &script,
        format!(
            "echo \"start $$\" >> '{log}'\n{wait}\necho notes > notes.txt\n\
             echo \"end $$\" >> '{log}'\necho 'Wrote the notes.'\n",
            log = log.display(),
            wait = wait_for(gate),
        ),
    )
    .unwrap();
    (
        Agent::command(&format!("sh '{}' {{prompt_file}}", script.display())),
        log,
    )
}

/// Lines of the agent's log starting with `word`.
fn logged(log: &Path, word: &str) -> usize {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .filter(|l| l.starts_with(word))
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_during_an_agent_run_loses_that_run_and_runs_it_again() {
    let dir = tempfile::tempdir().unwrap();
    let gate = dir.path().join("gate");
    let (agent, log) = gated_agent(dir.path(), &gate);
    let mut h = EngineHarness::builder()
        .agent("writer", agent)
        .set("roles.coder", "writer")
        .verify("test -f notes.txt")
        .build();
    let id = h.add("Write the notes");
    h.start();
    // The agent runs, and the engine recorded its process.
    h.wait_until("the agent's process to be recorded", |h| {
        let leased = jobs(h, id, JobStatus::Leased);
        (logged(&log, "start") == 1 && leased.iter().any(|j| j.process.is_some())).then_some(())
    })
    .await;
    h.crash().await;
    assert_eq!(h.runs(id)[0].status, RunStatus::Running);

    h.restart();
    h.wait_until("the restarted engine's recovery", |h| {
        (recoveries(h).len() == 2).then_some(())
    })
    .await;
    open(&gate);
    h.wait_for_status(id, Status::Merged).await;
    h.stop().await;

    let recovery = &recoveries(&h)[1];
    assert_eq!(recovery.data["jobs_released"], 1, "{recovery:?}");
    assert_eq!(recovery.data["runs_lost"], 1, "{recovery:?}");
    let runs = h.runs(id);
    let statuses: Vec<RunStatus> = runs.iter().map(|r| r.status).collect();
    assert_eq!(statuses, [RunStatus::Lost, RunStatus::Succeeded]);
    assert_eq!(h.events_of(id, event_kind::RUN_LOST).len(), 1);
    // The crashed run's process never finished: only the second run's did.
    assert_eq!((logged(&log, "start"), logged(&log, "end")), (2, 1));
    assert_eq!(h.events_of(id, event_kind::QUEUE_LANDED).len(), 1);
    assert_eq!(h.file_on_target("notes.txt").as_deref(), Some("notes\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stop_mid_run_gives_the_job_back_and_the_next_engine_finishes_it() {
    let dir = tempfile::tempdir().unwrap();
    let gate = dir.path().join("gate");
    let (agent, log) = gated_agent(dir.path(), &gate);
    let mut h = EngineHarness::builder()
        .agent("writer", agent)
        .set("roles.coder", "writer")
        .verify("test -f notes.txt")
        .build();
    let id = h.add("Write the notes");
    h.start();
    h.wait_until("the agent to start", |_| {
        (logged(&log, "start") == 1).then_some(())
    })
    .await;
    h.stop().await;
    // Stopped, not crashed: nothing is left leased.
    assert!(jobs(&h, id, JobStatus::Leased).is_empty());
    assert_eq!(jobs(&h, id, JobStatus::Queued).len(), 1);

    open(&gate);
    h.reopen();
    h.settle().await;
    assert_eq!(h.task(id).status(), Status::Merged);
    let recovery = &recoveries(&h)[1];
    assert_eq!(recovery.data["jobs_released"], 0, "{recovery:?}");
    let runs = h.runs(id);
    // The interrupted run is recorded as such, not as a failure of the agent.
    let outcomes: Vec<(RunStatus, Option<&str>)> = runs
        .iter()
        .map(|r| (r.status, r.outcome.as_deref()))
        .collect();
    assert_eq!(
        outcomes,
        [
            (RunStatus::Cancelled, Some("interrupted")),
            (RunStatus::Succeeded, Some("Wrote the notes."))
        ]
    );
    assert_eq!(h.task(id).state.total_failures, 0);
    assert_eq!((logged(&log, "start"), logged(&log, "end")), (2, 1));
    assert_eq!(h.events_of(id, event_kind::QUEUE_LANDED).len(), 1);
    assert_eq!(h.file_on_target("notes.txt").as_deref(), Some("notes\n"));
}
