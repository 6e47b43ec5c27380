//! Moving a whole board to another store: `export_rows` + `import_rows`, then the event log page
//! by page with `events_after` + `import_events`. Afterwards every read answers the same on
//! both, and the copy goes on with fresh ids and seqs. Imports into a store that is not empty,
//! of rows that are not a board, or of events out of order are refused and change nothing.

use super::board_rich::{self, HOLDER, LONG_LEASE_MS};
use super::fixtures::{ExpectSome, cleanup_job, enqueue, fresh, must, must_fail, project, task};
use super::runs::new_run;
use super::{MakeStore, START_MS};
use crate::{BoardRows, EventFilter, JobFilter, Store, StoreError, TaskFilter, UsageDimension};
use gaffer_core::{Event, JobStatus, NewEvent, ProjectId, Role, Seq, Status};
use serde_json::json;

/// How many events one page of the copy moves.
const PAGE: usize = 50;

/// Copies the board of `from` into the empty `to`, the way `gaffer store copy` does.
fn copy(from: &dyn Store, to: &dyn Store) {
    let rows = must(from.export_rows(), "export_rows");
    must(to.import_rows(&rows), "import_rows");
    let mut after = Seq(0);
    loop {
        let page = must(
            from.events_after(after, PAGE, &EventFilter::default()),
            "events_after",
        );
        let Some(last) = page.last() else { break };
        after = last.seq;
        must(to.import_events(&page), "import_events");
    }
}

/// Every event of `store` that `filter` selects.
fn events(store: &dyn Store, filter: &EventFilter) -> Vec<Event> {
    must(
        store.events_after(Seq(0), 1_000_000, filter),
        "events_after",
    )
}

/// Asserts that `read` answers the same on both stores.
#[track_caller]
fn same<T: PartialEq + std::fmt::Debug>(
    a: &dyn Store,
    b: &dyn Store,
    what: &str,
    read: impl Fn(&dyn Store) -> T,
) {
    let (x, y) = (read(a), read(b));
    assert_eq!(
        x, y,
        "{what}: the copy answers differently from the original"
    );
}

/// Every read of the trait, over every id and filter the board has.
fn assert_same_board(a: &dyn Store, b: &dyn Store) {
    same(a, b, "export_rows", |s| {
        must(s.export_rows(), "export_rows")
    });
    let rows = must(a.export_rows(), "export_rows");
    let projects: Vec<Option<ProjectId>> = std::iter::once(None)
        .chain(rows.projects.iter().map(|p| Some(p.id)))
        .collect();

    same(a, b, "projects", |s| must(s.projects(), "projects"));
    for p in &rows.projects {
        same(a, b, "project", |s| must(s.project(p.id), "project"));
        same(a, b, "worker tokens", |s| {
            must(s.worker_tokens(p.id), "worker_tokens")
        });
    }

    let mut statuses: Vec<Status> = Vec::new();
    for t in &rows.tasks {
        if !statuses.contains(&t.status()) {
            statuses.push(t.status());
        }
    }
    for project in &projects {
        same(a, b, "tasks of a project", |s| {
            must(
                s.tasks(&TaskFilter {
                    project: *project,
                    ..TaskFilter::default()
                }),
                "tasks",
            )
        });
    }
    for &status in &statuses {
        same(a, b, "tasks by status", |s| {
            must(
                s.tasks(&TaskFilter {
                    statuses: vec![status, Status::Cancelled],
                    ..TaskFilter::default()
                }),
                "tasks",
            )
        });
    }
    for t in &rows.tasks {
        same(a, b, "task", |s| must(s.task(t.id), "task"));
        same(a, b, "children", |s| {
            must(
                s.tasks(&TaskFilter {
                    parent: Some(t.id),
                    ..TaskFilter::default()
                }),
                "tasks",
            )
        });
        same(a, b, "runs of a task", |s| must(s.runs(t.id), "runs"));
        same(a, b, "jobs of a task", |s| {
            must(
                s.jobs(&JobFilter {
                    task: Some(t.id),
                    ..JobFilter::default()
                }),
                "jobs",
            )
        });
        same(a, b, "events of a task", |s| {
            events(
                s,
                &EventFilter {
                    task: Some(t.id),
                    ..EventFilter::default()
                },
            )
        });
    }
    for r in &rows.runs {
        same(a, b, "run", |s| must(s.run(r.run.id), "run"));
        same(a, b, "events of a run", |s| {
            events(
                s,
                &EventFilter {
                    run: Some(r.run.id),
                    ..EventFilter::default()
                },
            )
        });
    }

    same(a, b, "jobs", |s| {
        must(s.jobs(&JobFilter::default()), "jobs")
    });
    for status in [
        JobStatus::Queued,
        JobStatus::Leased,
        JobStatus::Done,
        JobStatus::Failed,
        JobStatus::Cancelled,
    ] {
        same(a, b, "jobs by status", |s| {
            must(
                s.jobs(&JobFilter {
                    statuses: vec![status],
                    ..JobFilter::default()
                }),
                "jobs",
            )
        });
    }
    for j in &rows.jobs {
        same(a, b, "job", |s| must(s.job(j.job.id), "job"));
    }
    same(a, b, "exhausted_jobs", |s| {
        must(s.exhausted_jobs(), "exhausted_jobs")
    });

    same(a, b, "last_seq", |s| must(s.last_seq(), "last_seq"));
    same(a, b, "events", |s| events(s, &EventFilter::default()));
    let last = must(a.last_seq(), "last_seq").0;
    for after in [0, 1, last / 3, last / 2, last - 1, last] {
        same(a, b, "a page of events", |s| {
            must(
                s.events_after(Seq(after), 7, &EventFilter::default()),
                "events_after",
            )
        });
    }
    for prefix in [
        "task.",
        "run.",
        "job.",
        "agent.",
        "progress.",
        "plan.",
        "nothing.",
    ] {
        same(a, b, "events by kind", |s| {
            events(
                s,
                &EventFilter {
                    kind_prefix: Some(prefix.into()),
                    ..EventFilter::default()
                },
            )
        });
    }

    for project in &projects {
        same(a, b, "events of a project", |s| {
            events(
                s,
                &EventFilter {
                    project: *project,
                    ..EventFilter::default()
                },
            )
        });
        same(a, b, "usage_totals", |s| {
            must(s.usage_totals(*project), "usage_totals")
        });
        for since in [i64::MIN, START_MS, START_MS + 86_400_000, i64::MAX] {
            same(a, b, "usage_since", |s| {
                must(s.usage_since(*project, since), "usage_since")
            });
        }
        for by in UsageDimension::ALL {
            same(a, b, "usage_breakdown", |s| {
                must(s.usage_breakdown(*project, by), "usage_breakdown")
            });
        }
    }
}

/// A board built through the trait, copied into a fresh store of the same kind, reads the same
/// through every method (rows, leases, processes, exhaustion, usage, worker tokens, the event log
/// with its seqs and times). The copy then goes on: the same job is claimed next on both, the
/// held lease is still held, a live worker token is still found by its hash, and new projects,
/// tasks, jobs, runs, worker tokens and events get ids and seqs above every imported one. Importing into a store that holds anything is refused and changes nothing.
pub fn board_is_copied_without_loss(make: &MakeStore) {
    let (clock, source) = fresh(make);
    let source = source.as_ref();
    board_rich::build(source, &clock);
    let target = make(clock.clone());
    let target = target.as_ref();
    copy(source, target);
    assert_same_board(source, target);

    let rows = must(source.export_rows(), "export_rows");
    assert!(rows.projects.len() >= 3 && rows.tasks.len() >= 7 && rows.runs.len() >= 5);
    assert!(
        rows.jobs.iter().any(|j| j.exhausted && j.acknowledged)
            && rows.jobs.iter().any(|j| j.exhausted && !j.acknowledged)
            && rows.jobs.iter().any(|j| j.job.process.is_some()),
        "the board has exhausted jobs and a recorded process"
    );
    let last = must(source.last_seq(), "last_seq");
    assert!(
        usize::try_from(last.0).unwrap_or(0) > 2 * PAGE,
        "several pages"
    );
    assert!(
        rows.worker_tokens.len() >= 3
            && rows
                .worker_tokens
                .iter()
                .any(|w| w.token.revoked_ms.is_some())
            && rows
                .worker_tokens
                .iter()
                .any(|w| w.token.last_used_ms.is_some()),
        "the board has worker tokens, used and revoked"
    );

    refused_into_a_store_that_holds_something(target, &rows);
    assert_same_board(source, target);

    // The copy goes on where the original would.
    same(source, target, "claim_job", |s| {
        must(s.claim_job("host-z:1:w", &[], 60_000), "claim_job")
    });
    let held = rows
        .jobs
        .iter()
        .find(|j| j.job.lease_owner.as_deref() == Some(HOLDER) && j.job.status == JobStatus::Leased)
        .expect_some("the held job");
    assert!(
        must(
            target.heartbeat(held.job.id, HOLDER, LONG_LEASE_MS),
            "heartbeat"
        ),
        "the imported lease is still held"
    );

    // New rows get ids above the imported ones; new events seqs above the imported ones.
    let max = |ids: Vec<i64>| ids.into_iter().max().unwrap_or(0);
    let p = project(target, "delta");
    assert!(p.id.0 > max(rows.projects.iter().map(|p| p.id.0).collect()));
    let t = task(target, p.id, "After the copy");
    assert!(t.id.0 > max(rows.tasks.iter().map(|t| t.id.0).collect()));
    let job = enqueue(target, vec![cleanup_job(p.id, Some(t.id), 0)]).remove(0);
    assert!(job.id.0 > max(rows.jobs.iter().map(|j| j.job.id.0).collect()));
    let run = must(target.start_run(&new_run(t.id, Role::Coder)), "start_run");
    assert!(run.id.0 > max(rows.runs.iter().map(|r| r.run.id.0).collect()));
    // Workers go on with their tokens; a new token gets an id above the imported ones.
    let live = must(
        target.worker_token_by_hash(board_rich::LIVE_TOKEN_HASH),
        "by hash",
    )
    .expect_some("the live worker token");
    assert_eq!(live.name, "w-live");
    let token = must(
        target.create_worker_token(&crate::NewWorkerToken {
            project: p.id,
            name: "after the copy".into(),
            labels: vec![],
            hash: "4".repeat(64),
        }),
        "create_worker_token",
    );
    assert!(token.id > max(rows.worker_tokens.iter().map(|w| w.token.id).collect()));
    let appended = must(
        target.append_events(&[NewEvent::new("progress.note", json!({"after": "copy"}))]),
        "append_events",
    );
    let created = events(
        target,
        &EventFilter {
            task: Some(t.id),
            ..EventFilter::default()
        },
    );
    assert!(
        created.iter().chain(&appended).all(|e| e.seq > last),
        "new events come after the imported ones: {created:?} {appended:?}"
    );
}

/// Into `target` (which holds `rows` already), and into stores that hold only a project or only
/// an event: refused with NotEmpty, nothing changed.
fn refused_into_a_store_that_holds_something(target: &dyn Store, rows: &BoardRows) {
    let before = must(target.export_rows(), "export_rows");
    let last = must(target.last_seq(), "last_seq");
    match must_fail(target.import_rows(rows), "import into a full store") {
        StoreError::NotEmpty(_) => {}
        other => panic!("import into a full store: expected NotEmpty, got {other:?}"),
    }
    assert_eq!(must(target.export_rows(), "export_rows"), before);
    assert_eq!(must(target.last_seq(), "last_seq"), last);
}

/// Import refuses what it cannot take, whole: rows into a store holding a project or only
/// events, rows that are not a board on their own, events that do not follow the last seq in
/// increasing order. Imported events keep their seqs and gaps; appends follow the last of them.
pub fn imports_are_checked(make: &MakeStore) {
    let (clock, source) = fresh(make);
    let source = source.as_ref();
    board_rich::build(source, &clock);
    let rows = must(source.export_rows(), "export_rows");

    let (_, holds_project) = fresh(make);
    let holds_project = holds_project.as_ref();
    project(holds_project, "already");
    refused_into_a_store_that_holds_something(holds_project, &rows);

    let (_, holds_events) = fresh(make);
    let holds_events = holds_events.as_ref();
    must(
        holds_events.append_events(&[NewEvent::new("daemon.tick", json!(1))]),
        "append_events",
    );
    refused_into_a_store_that_holds_something(holds_events, &rows);
    assert!(must(holds_events.projects(), "projects").is_empty());

    // Rows that are not a board by themselves: a task without its project, a duplicate id.
    let (_, empty) = fresh(make);
    let empty = empty.as_ref();
    let mut orphan = rows.clone();
    orphan.projects.retain(|p| p.id != rows.tasks[0].project);
    let mut twice = rows.clone();
    twice.runs.push(twice.runs[0].clone());
    let mut same_hash = rows.clone();
    let mut copied = same_hash.worker_tokens[0].clone();
    copied.token.id = 999_999;
    same_hash.worker_tokens.push(copied);
    for (bad, what) in [
        (orphan, "a task without its project"),
        (twice, "a run twice"),
        (same_hash, "two worker tokens with one hash"),
    ] {
        match must_fail(empty.import_rows(&bad), what) {
            StoreError::Invalid(_) => {}
            other => panic!("{what}: expected Invalid, got {other:?}"),
        }
        assert_eq!(
            must(empty.export_rows(), "export_rows"),
            BoardRows::default(),
            "{what}: nothing written"
        );
    }

    // Events: seqs kept with their gaps, in order, after the last; the counter follows them.
    let all = events(source, &EventFilter::default());
    let picked: Vec<Event> = all.iter().step_by(3).cloned().collect();
    must(empty.import_events(&picked[..4]), "import_events");
    must(empty.import_events(&[]), "import nothing");
    assert_eq!(events(empty, &EventFilter::default()), picked[..4].to_vec());
    assert_eq!(must(empty.last_seq(), "last_seq"), picked[3].seq);
    for (bad, what) in [
        (vec![picked[3].clone()], "the last seq again"),
        (vec![picked[2].clone()], "an older seq"),
        (
            vec![picked[5].clone(), picked[4].clone()],
            "seqs decreasing",
        ),
        (vec![picked[4].clone(), picked[4].clone()], "a seq twice"),
    ] {
        match must_fail(empty.import_events(&bad), what) {
            StoreError::SeqOutOfOrder { .. } => {}
            other => panic!("{what}: expected SeqOutOfOrder, got {other:?}"),
        }
        assert_eq!(
            events(empty, &EventFilter::default()),
            picked[..4].to_vec(),
            "{what}: nothing written"
        );
    }
    let next = must(
        empty.append_events(&[NewEvent::new("daemon.tick", json!(2))]),
        "append_events",
    );
    assert!(
        next[0].seq > picked[3].seq,
        "appends follow the imported seqs"
    );
    match must_fail(
        empty.import_events(&next),
        "an import of the last appended seq",
    ) {
        StoreError::SeqOutOfOrder { seq, after } => {
            assert_eq!((seq, after), (next[0].seq, next[0].seq));
        }
        other => {
            panic!("an import of the last appended seq: expected SeqOutOfOrder, got {other:?}")
        }
    }
}
