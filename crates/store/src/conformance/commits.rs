//! `commit`: versions, atomicity, cancellation and child tasks.

use super::MakeStore;
use super::fixtures::{
    ExpectSome, backlog, cleanup_job, completion, enqueue, fresh, moved, must, must_fail, new_task,
    project, task,
};
use crate::{Commit, EventFilter, JobFilter, StoreError, TaskFilter};
use gaffer_core::{JobStatus, NewEvent, NewTask, Seq, Status, TaskId, event_kind};
use serde_json::json;

/// Each state write bumps the version by one and is refused with
/// [`StoreError::VersionConflict`] when the task moved on since it was read.
pub fn versions_and_conflicts(make: &MakeStore) {
    let (clock, store) = fresh(make);
    let store = store.as_ref();
    let p = project(store, "alpha");
    let t = task(store, p.id, "T");
    clock.advance(10);
    let mut update = moved(&t, Status::Ready);
    update.plan = Some(json!({"subtasks": []}));
    let events = must(
        store.commit(&Commit {
            task: Some(update),
            events: vec![NewEvent::new(
                event_kind::TASK_STATUS,
                json!({"to": "ready"}),
            )],
            ..Commit::default()
        }),
        "first commit",
    );
    assert_eq!(events.len(), 1);
    assert_eq!(
        events[0].task,
        Some(t.id),
        "event task filled from the update"
    );
    assert_eq!(
        events[0].project,
        Some(p.id),
        "event project filled from the update"
    );
    assert_eq!(events[0].at_ms, super::START_MS + 10);
    let t2 = must(store.task(t.id), "task");
    assert_eq!(t2.version, 2);
    assert_eq!(t2.status(), Status::Ready);
    assert_eq!(t2.plan, Some(json!({"subtasks": []})));
    assert_eq!(t2.updated_ms, super::START_MS + 10);
    assert_eq!(t2.created_ms, super::START_MS);

    // A stale writer (still at version 1) is refused.
    let err = must_fail(
        store.commit(&Commit {
            task: Some(moved(&t, Status::Cancelled)),
            ..Commit::default()
        }),
        "stale commit",
    );
    match err {
        StoreError::VersionConflict {
            task,
            expected,
            found,
        } => {
            assert_eq!((task, expected, found), (t.id, 1, 2));
        }
        other => panic!("stale commit: expected VersionConflict, got {other:?}"),
    }
    // Without a plan the stored plan is kept.
    must(
        store.commit(&Commit {
            task: Some(moved(&t2, Status::Coding)),
            ..Commit::default()
        }),
        "second commit",
    );
    let t3 = must(store.task(t.id), "task");
    assert_eq!((t3.version, t3.status()), (3, Status::Coding));
    assert_eq!(t3.plan, t2.plan);

    let missing = TaskId(t.id.0 + 100);
    let mut ghost = moved(&t3, Status::Ready);
    ghost.task = missing;
    assert!(matches!(
        store.commit(&Commit {
            task: Some(ghost),
            ..Commit::default()
        }),
        Err(StoreError::TaskNotFound(id)) if id == missing
    ));
}

/// A commit whose lease check fails writes nothing: no state, no event, no job, no child, no
/// cancellation, no run end.
pub fn commit_is_all_or_nothing(make: &MakeStore) {
    let (clock, store) = fresh(make);
    let store = store.as_ref();
    let p = project(store, "alpha");
    let t = task(store, p.id, "T");
    let jobs = enqueue(
        store,
        vec![
            cleanup_job(p.id, Some(t.id), 0),
            cleanup_job(p.id, Some(t.id), 0),
        ],
    );
    let held = must(store.claim_job("w1", &[], 1_000), "claim").expect_some("a job to claim");
    let run = must(
        store.start_run(&gaffer_core::NewRun {
            task: t.id,
            job: Some(held.id),
            role: gaffer_core::Role::Coder,
            tier: 0,
            agent: "a".into(),
            backend: "b".into(),
            model: "m".into(),
            worktree: "/w".into(),
        }),
        "start_run",
    );
    let seq = must(store.last_seq(), "last_seq");
    let jobs_before = must(store.jobs(&JobFilter::default()), "jobs");

    let doomed = |owner: &str| Commit {
        task: Some(moved(&t, Status::Coding)),
        events: vec![NewEvent::new(event_kind::TASK_STATUS, json!({}))],
        enqueue: vec![cleanup_job(p.id, Some(t.id), 5)],
        complete_job: Some(completion(&held, owner)),
        cancel_jobs_of: Some(t.id),
        finish_run: Some(crate::RunFinish {
            run: run.id,
            status: gaffer_core::RunStatus::Succeeded,
            outcome: Some("ok".into()),
            usage: gaffer_core::Usage::default(),
            session_id: None,
        }),
        children: vec![(new_task("child"), backlog())],
    };
    let check_untouched = |what: &str| {
        assert_eq!(
            must(store.task(t.id), "task"),
            t,
            "{what}: task state changed"
        );
        assert_eq!(
            must(store.last_seq(), "last_seq"),
            seq,
            "{what}: events written"
        );
        assert_eq!(
            must(store.jobs(&JobFilter::default()), "jobs"),
            jobs_before,
            "{what}: jobs changed"
        );
        assert_eq!(
            must(store.tasks(&TaskFilter::default()), "tasks").len(),
            1,
            "{what}: child"
        );
        assert_eq!(must(store.run(run.id), "run"), run, "{what}: run changed");
    };

    assert!(matches!(
        store.commit(&doomed("intruder")),
        Err(StoreError::LeaseLost { job, .. }) if job == held.id
    ));
    check_untouched("commit by a non-holder");

    // The same commit from the holder after its lease expired.
    clock.advance(1_001);
    assert!(matches!(
        store.commit(&doomed("w1")),
        Err(StoreError::LeaseLost { .. })
    ));
    check_untouched("commit after the lease expired");

    // A failure in a late part (a child with an unknown dependency) undoes the early parts.
    clock.set(super::START_MS);
    let mut late = doomed("w1");
    late.children[0].0.blocked_by = vec![TaskId(t.id.0 + 999)];
    assert!(matches!(store.commit(&late), Err(StoreError::Invalid(_))));
    check_untouched("commit with an invalid child");

    // And the whole thing, valid, goes through.
    must(store.commit(&doomed("w1")), "valid commit");
    assert_eq!(must(store.job(held.id), "job").status, JobStatus::Done);
    let other = jobs
        .iter()
        .find(|j| j.id != held.id)
        .expect_some("the other job");
    assert_eq!(
        must(store.job(other.id), "job").status,
        JobStatus::Cancelled
    );
}

/// `cancel_jobs_of` cancels the task's queued and leased jobs, but not the job being completed,
/// nor the jobs the same commit enqueues, nor other tasks' jobs.
pub fn cancel_jobs_of_task(make: &MakeStore) {
    let (_clock, store) = fresh(make);
    let store = store.as_ref();
    let p = project(store, "alpha");
    let t = task(store, p.id, "T");
    let u = task(store, p.id, "U");
    let jobs = enqueue(
        store,
        vec![
            cleanup_job(p.id, Some(t.id), 9), // claimed and completed by the commit
            cleanup_job(p.id, Some(t.id), 8), // claimed by someone else
            cleanup_job(p.id, Some(t.id), 0), // queued
            cleanup_job(p.id, Some(u.id), 0), // another task's
        ],
    );
    let mine = must(store.claim_job("me", &[], 60_000), "claim").expect_some("job");
    let theirs = must(store.claim_job("them", &[], 60_000), "claim").expect_some("job");
    assert_eq!((mine.id, theirs.id), (jobs[0].id, jobs[1].id));
    must(
        store.commit(&Commit {
            task: Some(moved(&t, Status::Cancelled)),
            complete_job: Some(completion(&mine, "me")),
            cancel_jobs_of: Some(t.id),
            enqueue: vec![cleanup_job(p.id, Some(t.id), 0)],
            ..Commit::default()
        }),
        "cancelling commit",
    );
    let status = |i: usize| must(store.job(jobs[i].id), "job").status;
    assert_eq!(status(0), JobStatus::Done, "the completed job");
    assert_eq!(status(1), JobStatus::Cancelled, "the leased job");
    assert_eq!(status(2), JobStatus::Cancelled, "the queued job");
    assert_eq!(status(3), JobStatus::Queued, "another task's job");
    let fresh_jobs = must(
        store.jobs(&JobFilter {
            task: Some(t.id),
            statuses: vec![JobStatus::Queued],
        }),
        "jobs",
    );
    assert_eq!(
        fresh_jobs.len(),
        1,
        "the job enqueued by the same commit survives"
    );
    assert!(!must(
        store.heartbeat(theirs.id, "them", 1_000),
        "heartbeat"
    ));
    assert!(matches!(
        super::fixtures::complete(store, &theirs, "them"),
        Err(StoreError::LeaseLost { .. })
    ));
}

/// Children are created with the updated task as parent, in its project, each with a
/// `task.created` event; `TaskId(-n)` in a child's `blocked_by` names the n-th child.
pub fn children_are_created(make: &MakeStore) {
    let (_clock, store) = fresh(make);
    let store = store.as_ref();
    let p = project(store, "alpha");
    let epic = task(store, p.id, "Epic");
    let outside = task(store, p.id, "Outside");
    let seq = must(store.last_seq(), "last_seq");
    let written = must(
        store.commit(&Commit {
            task: Some(moved(&epic, Status::Delegated)),
            events: vec![NewEvent::new(
                event_kind::TASK_STATUS,
                json!({"to": "delegated"}),
            )],
            children: vec![
                (new_task("first"), backlog()),
                (
                    NewTask {
                        blocked_by: vec![TaskId(-1), outside.id],
                        ..new_task("second")
                    },
                    backlog(),
                ),
            ],
            ..Commit::default()
        }),
        "commit with children",
    );
    assert_eq!(
        written.len(),
        3,
        "status event + two task.created: {written:?}"
    );
    assert!(written.iter().all(|e| e.seq > seq));
    let kids = must(
        store.tasks(&TaskFilter {
            parent: Some(epic.id),
            ..TaskFilter::default()
        }),
        "tasks",
    );
    assert_eq!(kids.len(), 2);
    assert_eq!(kids[0].title, "first");
    assert_eq!(kids[1].blocked_by, vec![kids[0].id, outside.id]);
    for (kid, event) in kids.iter().zip(&written[1..]) {
        assert_eq!(kid.parent, Some(epic.id));
        assert_eq!(kid.project, p.id);
        assert_eq!(kid.version, 1);
        assert_eq!(event.kind, event_kind::TASK_CREATED);
        assert_eq!(event.task, Some(kid.id));
        assert_eq!(event.project, Some(p.id));
    }
    let created = must(
        store.events_after(
            seq,
            100,
            &EventFilter {
                kind_prefix: Some("task.created".into()),
                ..EventFilter::default()
            },
        ),
        "events_after",
    );
    assert_eq!(created.len(), 2);
    assert!(created.iter().all(|e| e.seq > Seq(0)));

    // Children may refer to later siblings; cycles and missing siblings are refused.
    let epic = must(store.task(epic.id), "task");
    let plan = |deps: [Vec<TaskId>; 3]| Commit {
        task: Some(moved(&epic, Status::Delegated)),
        children: deps
            .into_iter()
            .enumerate()
            .map(|(i, blocked_by)| {
                (
                    NewTask {
                        blocked_by,
                        ..new_task(&format!("step {i}"))
                    },
                    backlog(),
                )
            })
            .collect(),
        ..Commit::default()
    };
    let refused = |deps: [Vec<TaskId>; 3], what: &str| {
        assert!(
            matches!(store.commit(&plan(deps)), Err(StoreError::Invalid(_))),
            "{what} should be refused"
        );
    };
    refused(
        [vec![TaskId(-2)], vec![TaskId(-3)], vec![TaskId(-1)]],
        "a cycle",
    );
    refused([vec![], vec![TaskId(-4)], vec![]], "a missing sibling");
    refused([vec![], vec![TaskId(-2)], vec![]], "a child on itself");
    let before = must(store.tasks(&TaskFilter::default()), "tasks").len();
    let written = must(
        store.commit(&plan([
            vec![TaskId(-3), TaskId(-2)],
            vec![TaskId(-3)],
            vec![],
        ])),
        "children with forward references",
    );
    let kids = must(store.tasks(&TaskFilter::default()), "tasks");
    assert_eq!(kids.len(), before + 3);
    let kids = &kids[before..];
    assert!(
        kids[0].id < kids[1].id && kids[1].id < kids[2].id,
        "ids follow the list"
    );
    assert_eq!(
        kids[0].blocked_by,
        vec![kids[2].id, kids[1].id],
        "order kept"
    );
    assert_eq!(kids[1].blocked_by, vec![kids[2].id]);
    assert!(kids[2].blocked_by.is_empty());
    assert_eq!(
        written[0].data["blocked_by"],
        json!([kids[2].id, kids[1].id])
    );
    assert_eq!(
        must(store.task(kids[0].id), "task"),
        kids[0],
        "stored as returned"
    );
}
