//! `subscribe`: listeners hear of committed events and claimable jobs, once per transaction and
//! kind, never of reads or of transactions that rolled back, and (on one database) of writes made
//! through other handles.
//!
//! A backend may call listeners from its own thread, later than the write returns (PostgreSQL's
//! LISTEN): what is expected is awaited, for a few seconds. That nothing more came is checked
//! after the next expected notification arrived; for a backend that calls listeners before the
//! write returns (SQLite) that is exact.

use super::fixtures::{
    ExpectSome, cleanup_job, complete, enqueue, fresh, moved, must, must_fail, process, project,
    task,
};
use super::runs::new_run;
use super::{Connect, MakeStore};
use crate::{Change, Commit, EventFilter, JobFilter, Store, TaskEdit, TaskFilter, UsageDimension};
use gaffer_core::{NewEvent, Role, Seq, Status};
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// How long an expected notification may take.
const WAIT: Duration = Duration::from_secs(5);

/// How many times a listener was called with each change.
#[derive(Default)]
struct Heard {
    events: AtomicUsize,
    jobs: AtomicUsize,
}

impl Heard {
    fn now(&self) -> (usize, usize) {
        (
            self.events.load(Ordering::SeqCst),
            self.jobs.load(Ordering::SeqCst),
        )
    }
}

fn listen(store: &dyn Store) -> Arc<Heard> {
    let heard = Arc::new(Heard::default());
    let counter = heard.clone();
    store.subscribe(Arc::new(move |change| {
        match change {
            Change::Events => &counter.events,
            Change::Jobs => &counter.jobs,
        }
        .fetch_add(1, Ordering::SeqCst);
    }));
    heard
}

/// Waits until `heard` counts `(events, jobs)` calls, then checks it counts no more.
#[track_caller]
fn expect(heard: &Heard, expected: (usize, usize), after: &str) {
    let deadline = Instant::now() + WAIT;
    while {
        let (e, j) = heard.now();
        (e < expected.0 || j < expected.1) && Instant::now() < deadline
    } {
        std::thread::sleep(Duration::from_millis(2));
    }
    assert_eq!(
        heard.now(),
        expected,
        "after {after}: (events, jobs) notifications heard"
    );
}

/// Every read of the trait once.
fn read_everything(store: &dyn Store) {
    let tasks = must(store.tasks(&TaskFilter::default()), "tasks");
    for t in &tasks {
        must(store.task(t.id), "task");
        for r in must(store.runs(t.id), "runs") {
            must(store.run(r.id), "run");
        }
    }
    for p in must(store.projects(), "projects") {
        must(store.project(p.id), "project");
    }
    for j in must(store.jobs(&JobFilter::default()), "jobs") {
        must(store.job(j.id), "job");
    }
    must(store.exhausted_jobs(), "exhausted_jobs");
    must(
        store.events_after(Seq(0), 100, &EventFilter::default()),
        "events_after",
    );
    must(store.last_seq(), "last_seq");
    must(store.usage_totals(None), "usage_totals");
    must(store.usage_since(None, 0), "usage_since");
    must(
        store.usage_breakdown(None, UsageDimension::Day),
        "usage_breakdown",
    );
    must(store.export_rows(), "export_rows");
}

fn note(n: i64) -> NewEvent {
    NewEvent::new("progress.note", json!({ "n": n }))
}

/// Listeners hear `Events` after create_task, append_events (once for several events),
/// commits with events, an edit, start_run, mark_runs_lost and import_events; `Jobs` after a
/// commit enqueueing jobs, release_job and release_jobs_of_dead_owners (each with `Events` for
/// its `job.released`) and import_rows of a queued job. Reads, a claim, a heartbeat, a recorded process, a completion without events, an
/// empty append, an edit that changes nothing, and commits refused (a version conflict, a lost
/// lease) are heard as nothing.
pub fn changes_wake_listeners(make: &MakeStore) {
    let (clock, store) = fresh(make);
    let store = store.as_ref();
    let heard = listen(store);
    let p = project(store, "alpha");
    let t = task(store, p.id, "T");
    expect(&heard, (1, 0), "create_task");
    must(store.append_events(&[note(1), note(2)]), "append_events");
    expect(&heard, (2, 0), "append_events of two events");
    must(
        store.commit(&Commit {
            task: Some(moved(&t, Status::Ready)),
            events: vec![note(3)],
            ..Commit::default()
        }),
        "commit",
    );
    expect(&heard, (3, 0), "a commit with an event");
    enqueue(store, vec![cleanup_job(p.id, Some(t.id), 0)]);
    expect(&heard, (3, 1), "a commit enqueueing a job");
    must(
        store.commit(&Commit {
            events: vec![note(4)],
            enqueue: vec![cleanup_job(p.id, None, 1), cleanup_job(p.id, None, 2)],
            ..Commit::default()
        }),
        "commit",
    );
    expect(&heard, (4, 2), "a commit with an event and two jobs");

    // Nothing claimable or logged changes here.
    let job = must(store.claim_job("w", &[], 60_000), "claim").expect_some("job");
    assert!(must(store.heartbeat(job.id, "w", 60_000), "heartbeat"));
    assert!(must(
        store.set_job_process(job.id, "w", &process(7)),
        "process"
    ));
    must(store.append_events(&[]), "append nothing");
    let t = must(store.task(t.id), "task");
    must(
        store.edit_task(t.id, t.version, &TaskEdit::default()),
        "edit",
    );
    read_everything(store);
    // A state change without events is no change to wake on; the same change again is refused
    // as stale, with an event and a job that must not be announced.
    let stale = moved(&t, Status::Coding);
    must(
        store.commit(&Commit {
            task: Some(stale.clone()),
            ..Commit::default()
        }),
        "commit without events",
    );
    must_fail(
        store.commit(&Commit {
            task: Some(stale),
            events: vec![note(5)],
            enqueue: vec![cleanup_job(p.id, None, 3)],
            ..Commit::default()
        }),
        "a stale commit",
    );
    must_fail(
        complete(store, &job, "someone else"),
        "a completion without the lease",
    );
    must(store.append_events(&[note(6)]), "append_events");
    expect(
        &heard,
        (5, 2),
        "claims, reads, a commit without events and refused commits, then one append",
    );

    assert!(must(store.release_job(job.id, "w"), "release"));
    expect(&heard, (6, 3), "release_job");
    let t = must(store.task(t.id), "task");
    let edit = TaskEdit {
        title: Some("T, renamed".into()),
        ..TaskEdit::default()
    };
    must(store.edit_task(t.id, t.version, &edit), "edit");
    expect(&heard, (7, 3), "an edit that changed the title");
    must(store.claim_job("host-a:1:w", &[], 60_000), "claim").expect_some("job");
    let gone = must(
        store.release_jobs_of_dead_owners("host-a:", "host-a:2:w"),
        "release_jobs_of_dead_owners",
    );
    assert_eq!(gone.len(), 1);
    expect(&heard, (8, 4), "release_jobs_of_dead_owners");
    let run = must(store.start_run(&new_run(t.id, Role::Coder)), "start_run");
    expect(&heard, (9, 4), "start_run");
    clock.advance(10);
    must(
        store.mark_runs_lost(Some(run.task), "gone"),
        "mark_runs_lost",
    );
    expect(&heard, (10, 4), "mark_runs_lost");
    must(store.mark_runs_lost(None, "none running"), "mark_runs_lost");
    must(store.append_events(&[note(7)]), "append_events");
    expect(&heard, (11, 4), "losing no run, then one append");

    // Imports into a fresh store: rows with queued jobs are `Jobs`, events are `Events`.
    let copy = make(clock.clone());
    let copy = copy.as_ref();
    let heard_copy = listen(copy);
    must(
        copy.import_rows(&must(store.export_rows(), "export")),
        "import_rows",
    );
    expect(&heard_copy, (0, 1), "import_rows with queued jobs");
    let log = must(
        store.events_after(Seq(0), 1_000, &EventFilter::default()),
        "events_after",
    );
    must(copy.import_events(&log), "import_events");
    expect(&heard_copy, (1, 1), "import_events");
    expect(&heard, (11, 4), "writes to another store");
}

/// On one database, a write through one handle is heard by listeners on every handle, the
/// writer's included; a refused commit by none.
pub fn changes_reach_other_handles(connect: &Connect) {
    let a = connect();
    let b = connect();
    let (a, b) = (a.as_ref(), b.as_ref());
    let heard_a = listen(a);
    let heard_b = listen(b);
    let p = project(b, "shared");
    let t = task(b, p.id, "T");
    expect(&heard_a, (1, 0), "create_task through the other handle");
    expect(&heard_b, (1, 0), "create_task through this handle");
    enqueue(a, vec![cleanup_job(p.id, Some(t.id), 0)]);
    expect(&heard_b, (1, 1), "a job enqueued through the other handle");
    expect(&heard_a, (1, 1), "a job enqueued through this handle");
    must(
        a.commit(&Commit {
            task: Some(moved(&t, Status::Ready)),
            ..Commit::default()
        }),
        "commit",
    );
    must_fail(
        b.commit(&Commit {
            task: Some(moved(&t, Status::Coding)),
            events: vec![note(1)],
            enqueue: vec![cleanup_job(p.id, None, 1)],
            ..Commit::default()
        }),
        "a stale commit",
    );
    // The commit to ready wrote no event of its own and enqueued nothing.
    must(b.append_events(&[note(2)]), "append_events");
    expect(
        &heard_a,
        (2, 1),
        "a refused commit, then an append through the other handle",
    );
    expect(
        &heard_b,
        (2, 1),
        "a refused commit, then an append through this handle",
    );
}
