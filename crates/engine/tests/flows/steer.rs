//! A person talks to a task's agent (`gaffer say`): a message mid-run reaches a run that listens at
//! its next turn (`run.heard`), and stops any other run without
//! failing it, and the job's next run resumes the same session with the message first in its
//! prompt; a message while no run goes on is carried by the task's next run; neither is given
//! twice; a task no agent will work on again refuses it.

use gaffer_core::{RunStatus, Status, event_kind};
use gaffer_engine::Action;
use gaffer_test_support::{Agent, EngineHarness};

/// The first run works slowly (long enough to be told something), the second writes notes that
/// verify refuses, the third writes them as asked.
const SLOW_CODER: &str = r#"
[[task]]
match = "notes"
[[task.attempt]]
summary = "Still thinking."
actions = [{ status = "thinking about the notes" }, { sleep_ms = 120000 }]
[[task.attempt]]
summary = "Wrote the notes, in English."
actions = [{ write = "notes.txt", content = "hello\n" }]
[[task.attempt]]
summary = "Wrote the notes in French."
actions = [{ write = "notes.txt", content = "bonjour\n" }]
"#;

const MESSAGE: &str = "Write the notes in French.";

/// Each run's status and outcome, in order.
fn seen(runs: &[gaffer_core::Run]) -> Vec<(RunStatus, Option<&str>)> {
    runs.iter()
        .map(|r| (r.status, r.outcome.as_deref()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_mid_run_stops_it_and_the_same_session_goes_on_with_it() {
    let mut h = EngineHarness::builder()
        .agent("writer", Agent::scripted(SLOW_CODER))
        .set("roles.coder", "writer")
        .verify("grep -q bonjour notes.txt")
        .set("limits.verify_failures_per_tier", "3")
        .build();
    let id = h.add("Write the notes");
    h.start();
    // The agent is at work: its session is recorded, it has said something.
    h.wait_until("the agent to be at work", |h| {
        h.events_of(id, event_kind::RUN_OUTPUT)
            .into_iter()
            .next()
            .filter(|_| h.runs(id).first().is_some_and(|r| r.session_id.is_some()))
    })
    .await;
    h.say(id, MESSAGE);
    h.wait_for_status(id, Status::Merged).await;
    h.stop().await;

    let runs = h.runs(id);
    assert_eq!(
        seen(&runs),
        [
            (RunStatus::Cancelled, Some("interrupted")),
            (RunStatus::Succeeded, Some("Wrote the notes, in English.")),
            (RunStatus::Succeeded, Some("Wrote the notes in French.")),
        ],
        "{}",
        h.describe()
    );
    // The stopped run's session goes on, in the run after it (and, on verify's failure, the one
    // after that, as always).
    let session = runs[0].session_id.clone().expect("the first run's session");
    assert!(runs.iter().all(|r| r.session_id.as_ref() == Some(&session)));
    // The message is first in the next run's prompt, and only there.
    let resumed = h.prompt(&runs[1]);
    assert!(
        resumed.starts_with("## A message from a person"),
        "{resumed}"
    );
    assert!(resumed.contains(&format!("> {MESSAGE}")), "{resumed}");
    assert!(
        resumed.contains("which gaffer ended to give it to you"),
        "{resumed}"
    );
    assert!(resumed.contains("# Task #"), "the task follows: {resumed}");
    assert!(!h.prompt(&runs[0]).contains(MESSAGE));
    assert!(
        !h.prompt(&runs[2]).contains(MESSAGE),
        "said once, given once"
    );
    // Stopping it was not a failed attempt: only verify's refusal counts.
    let task = h.task(id);
    assert_eq!(task.state.total_failures, 1, "{:?}", task.state);
    assert_eq!(task.state.tier, 0);
    // The board says who said what, and the run that got it says so.
    let said = h.events_of(id, event_kind::TASK_SAID);
    assert_eq!(said.len(), 1);
    assert_eq!(said[0].data["text"], MESSAGE);
    assert_eq!(said[0].data["by"], "test");
    let told = h
        .events_of(id, event_kind::RUN_OUTPUT)
        .into_iter()
        .filter(|e| e.run == Some(runs[1].id))
        .any(|e| {
            e.data["text"]
                .as_str()
                .is_some_and(|t| t.contains("a person's message is first in this run's prompt"))
        });
    assert!(told, "{}", h.describe());
    assert_eq!(h.file_on_target("notes.txt").as_deref(), Some("bonjour\n"));
}

/// The first run asks a question; the second answers what the person said meanwhile.
const ASKING_CODER: &str = r#"
[[task]]
match = "greeting"
[[task.attempt]]
actions = [{ question = "Which greeting?" }]
[[task.attempt]]
summary = "Wrote the greeting."
actions = [{ write = "greeting.txt", content = "hello\n" }]
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_while_no_run_goes_on_reach_the_next_run() {
    let mut h = EngineHarness::builder()
        .agent("writer", Agent::scripted(ASKING_CODER))
        .set("roles.coder", "writer")
        .verify("test -f greeting.txt")
        .build();
    let id = h.add("Write the greeting");
    // Said before any run: the first run starts with it.
    h.say(id, "Keep it short.");
    h.settle().await;
    assert_eq!(h.task(id).status(), Status::NeedsInput);
    // Said while the task waits for an answer: the run that resumes with the answer has it too.
    h.say(id, "Say hello, nothing more.");
    h.say(id, "And end with a newline.");
    h.answer(id, "A plain hello.");
    h.settle().await;
    assert_eq!(h.task(id).status(), Status::Merged, "{}", h.describe());

    let runs = h.runs(id);
    assert_eq!(runs.len(), 2, "{}", h.describe());
    let first = h.prompt(&runs[0]);
    assert!(first.starts_with("## A message from a person"), "{first}");
    assert!(first.contains("> Keep it short."), "{first}");
    assert!(
        !first.contains("which gaffer ended to give it to you"),
        "{first}"
    );
    let second = h.prompt(&runs[1]);
    assert!(second.starts_with("## Messages from people"), "{second}");
    let (a, b) = (
        second
            .find("> Say hello, nothing more.")
            .expect("the first message"),
        second
            .find("> And end with a newline.")
            .expect("the second message"),
    );
    assert!(a < b, "oldest first: {second}");
    assert!(!second.contains("Keep it short."), "given once: {second}");
    assert!(
        second.contains("A plain hello."),
        "the answer too: {second}"
    );
}

const QUICK_CODER: &str = r#"
[[task]]
match = "file"
[[task.attempt]]
summary = "Wrote it."
actions = [{ write = "file.txt", content = "x\n" }]
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn empty_messages_and_tasks_no_agent_works_on_are_refused() {
    let mut h = EngineHarness::builder()
        .agent("writer", Agent::scripted(QUICK_CODER))
        .set("roles.coder", "writer")
        .verify("test -f file.txt")
        .build();
    let id = h.add("Write the file");
    let say = |h: &EngineHarness, text: &str| {
        h.perform(
            id,
            Action::Say {
                text: text.to_string(),
            },
        )
        .map(|_| ())
    };
    let empty = say(&h, "  \n ").unwrap_err();
    assert!(empty.contains("needs text"), "{empty}");
    h.settle().await;
    assert_eq!(h.task(id).status(), Status::Merged);
    let merged = say(&h, "one more thing").unwrap_err();
    assert!(merged.contains("is merged"), "{merged}");

    let cancelled = h.add("Another file");
    h.perform(cancelled, Action::Cancel { reason: None })
        .unwrap();
    let refused = h
        .perform(
            cancelled,
            Action::Say {
                text: "hello".into(),
            },
        )
        .unwrap_err();
    assert!(refused.contains("is cancelled"), "{refused}");
    assert!(h.events_of(id, event_kind::TASK_SAID).is_empty());
}

/// The agent listens at its next turn (its backend takes messages while it runs), then writes
/// notes verify refuses; the next run writes them as verify wants.
const LISTENING_CODER: &str = r#"
[[task]]
match = "notes"
[[task.attempt]]
summary = "Wrote the notes."
actions = [{ status = "thinking about the notes" }, { listen_ms = 60000 }, { write = "notes.txt", content = "hello\n" }]
[[task.attempt]]
summary = "Wrote the notes in French."
actions = [{ write = "notes.txt", content = "bonjour\n" }]
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_reaches_a_run_that_listens_at_its_next_turn_without_a_stop() {
    let mut h = EngineHarness::builder()
        .agent("writer", Agent::scripted(LISTENING_CODER))
        .set("roles.coder", "writer")
        .verify("grep -q bonjour notes.txt")
        .set("limits.verify_failures_per_tier", "3")
        .build();
    let id = h.add("Write the notes");
    h.start();
    h.wait_until("the agent to be at work", |h| {
        h.events_of(id, event_kind::RUN_OUTPUT).into_iter().next()
    })
    .await;
    h.say(id, MESSAGE);
    h.wait_for_status(id, Status::Merged).await;
    h.stop().await;

    // The first run was never stopped: the message reached it where it was. The run after
    // verify's refusal is not given it again.
    let runs = h.runs(id);
    assert_eq!(
        seen(&runs),
        [
            (RunStatus::Succeeded, Some("Wrote the notes.")),
            (RunStatus::Succeeded, Some("Wrote the notes in French.")),
        ],
        "{}",
        h.describe()
    );
    assert!(!h.prompt(&runs[0]).contains(MESSAGE));
    assert!(
        !h.prompt(&runs[1]).contains(MESSAGE),
        "heard once, given once"
    );
    // The log says it was heard, by which run, and which message.
    let said = h.events_of(id, event_kind::TASK_SAID);
    let heard = h.events_of(id, event_kind::RUN_HEARD);
    assert_eq!(heard.len(), 1, "{}", h.describe());
    assert_eq!(heard[0].run, Some(runs[0].id));
    assert_eq!(heard[0].data["said"], said[0].seq.0);
    assert_eq!(heard[0].data["text"], MESSAGE);
    // Only verify's refusal counts as a failure.
    assert_eq!(h.task(id).state.total_failures, 1);
}

/// The agent listens only as it starts; a message handed to it later is never heard before the
/// run ends. The next run resumes its session with it.
const DEAF_LATE_CODER: &str = r#"
[[task]]
match = "notes"
[[task.attempt]]
summary = "Wrote the notes, in English."
actions = [{ listen_ms = 0 }, { status = "thinking about the notes" }, { sleep_ms = 3000 }, { status = "done thinking" }, { write = "notes.txt", content = "hello\n" }]
[[task.attempt]]
summary = "Wrote the notes in French."
actions = [{ write = "notes.txt", content = "bonjour\n" }]
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_a_run_never_heard_goes_to_the_next_run_in_its_session() {
    let mut h = EngineHarness::builder()
        .agent("writer", Agent::scripted(DEAF_LATE_CODER))
        .set("roles.coder", "writer")
        .verify("grep -q bonjour notes.txt")
        .build();
    let id = h.add("Write the notes");
    h.start();
    h.wait_until("the agent to be at work", |h| {
        h.events_of(id, event_kind::RUN_OUTPUT)
            .into_iter()
            .find(|e| e.data["text"] == "thinking about the notes")
    })
    .await;
    h.say(id, MESSAGE);
    h.wait_for_status(id, Status::Merged).await;
    h.stop().await;

    let runs = h.runs(id);
    assert_eq!(
        seen(&runs),
        [
            (RunStatus::Cancelled, Some("interrupted")),
            (RunStatus::Succeeded, Some("Wrote the notes in French.")),
        ],
        "{}",
        h.describe()
    );
    assert_eq!(runs[1].session_id, runs[0].session_id, "the same session");
    assert!(h.events_of(id, event_kind::RUN_HEARD).is_empty());
    // The first run was handed the message and went on to its end (it was not stopped).
    let went_on = h
        .events_of(id, event_kind::RUN_OUTPUT)
        .into_iter()
        .any(|e| e.run == Some(runs[0].id) && e.data["text"] == "done thinking");
    assert!(went_on, "{}", h.describe());
    let resumed = h.prompt(&runs[1]);
    assert!(resumed.contains(&format!("> {MESSAGE}")), "{resumed}");
    // Not a failed attempt.
    assert_eq!(h.task(id).state.total_failures, 0);
    assert_eq!(h.file_on_target("notes.txt").as_deref(), Some("bonjour\n"));
}
