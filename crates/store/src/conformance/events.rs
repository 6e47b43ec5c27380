//! The event log: order, cursors and filters.

use super::MakeStore;
use super::fixtures::{fresh, moved, must, project, task};
use crate::{Commit, EventFilter, StoreError};
use gaffer_core::{NewEvent, NewRun, Role, Seq, Status, TaskId, event_kind};
use serde_json::json;

/// Sequence numbers strictly increase across appends and commits; `events_after` pages through
/// them oldest first and filters by project, task, run and kind prefix; `last_seq` is the newest.
pub fn events_are_ordered_and_filtered(make: &MakeStore) {
    let (clock, store) = fresh(make);
    let store = store.as_ref();
    assert_eq!(
        must(store.last_seq(), "last_seq"),
        Seq(0),
        "an empty log starts at 0"
    );
    let p = project(store, "alpha");
    let q = project(store, "beta");
    let t = task(store, p.id, "T");
    let u = task(store, q.id, "U");
    let run = must(
        store.start_run(&NewRun {
            task: t.id,
            job: None,
            role: Role::Coder,
            tier: 0,
            agent: "claude".into(),
            backend: "claude".into(),
            model: "m".into(),
            worktree: "/w".into(),
        }),
        "start_run",
    );
    clock.advance(5);
    let appended = must(
        store.append_events(&[
            NewEvent::new(
                event_kind::RUN_OUTPUT,
                json!({"type": "text", "text": "hi"}),
            )
            .run(run.id),
            NewEvent::new(event_kind::TASK_NOTICE, json!({"n": 1})).task(u.id),
            NewEvent::new("engine.started", json!(null)),
            NewEvent::new("custom_kind%", json!([1, 2])),
        ]),
        "append_events",
    );
    assert_eq!(appended.len(), 4);
    assert_eq!(appended[0].task, Some(t.id), "task filled from the run");
    assert_eq!(
        appended[0].project,
        Some(p.id),
        "project filled from the task"
    );
    assert_eq!(appended[1].project, Some(q.id));
    assert_eq!(appended[2].project, None);
    assert!(appended.iter().all(|e| e.at_ms == super::START_MS + 5));
    let committed = must(
        store.commit(&Commit {
            task: Some(moved(&t, Status::Ready)),
            events: vec![
                NewEvent::new(event_kind::TASK_STATUS, json!({"to": "ready"})),
                NewEvent::new(event_kind::TASK_NOTICE, json!({})),
            ],
            ..Commit::default()
        }),
        "commit",
    );
    let more = must(
        store.append_events(&[NewEvent::new(event_kind::RUN_OUTPUT, json!({})).run(run.id)]),
        "append_events",
    );

    let all = must(
        store.events_after(Seq(0), 1_000, &EventFilter::default()),
        "events_after",
    );
    for pair in all.windows(2) {
        assert!(
            pair[0].seq < pair[1].seq,
            "not strictly increasing: {pair:?}"
        );
    }
    let tail: Vec<_> = appended
        .iter()
        .chain(&committed)
        .chain(&more)
        .cloned()
        .collect();
    assert_eq!(
        &all[all.len() - tail.len()..],
        tail.as_slice(),
        "stored differs from returned"
    );
    assert_eq!(must(store.last_seq(), "last_seq"), more[0].seq);

    // Paging with a cursor sees every event exactly once.
    let mut cursor = Seq(0);
    let mut paged = Vec::new();
    loop {
        let page = must(
            store.events_after(cursor, 3, &EventFilter::default()),
            "page",
        );
        assert!(page.len() <= 3);
        let Some(last) = page.last() else { break };
        cursor = last.seq;
        paged.extend(page);
    }
    assert_eq!(paged, all);
    assert!(
        must(
            store.events_after(cursor, 10, &EventFilter::default()),
            "after end"
        )
        .is_empty()
    );

    let filtered = |f: EventFilter| -> Vec<Seq> {
        let read: Vec<Seq> = must(store.events_after(Seq(0), 1_000, &f), "events_after")
            .into_iter()
            .map(|e| e.seq)
            .collect();
        // Those who filter events in memory (the daemon's fan-out) agree with the store.
        let matched: Vec<Seq> = all.iter().filter(|e| f.matches(e)).map(|e| e.seq).collect();
        assert_eq!(
            read, matched,
            "EventFilter::matches agrees with the store on {f:?}"
        );
        read
    };
    let expect = |pred: &dyn Fn(&gaffer_core::Event) -> bool| -> Vec<Seq> {
        all.iter().filter(|e| pred(e)).map(|e| e.seq).collect()
    };
    let by_run = filtered(EventFilter {
        run: Some(run.id),
        ..EventFilter::default()
    });
    assert_eq!(by_run.len(), 3, "run.started and two outputs");
    assert_eq!(by_run, expect(&|e| e.run == Some(run.id)));
    assert_eq!(
        filtered(EventFilter {
            task: Some(t.id),
            ..EventFilter::default()
        }),
        expect(&|e| e.task == Some(t.id))
    );
    let by_project = filtered(EventFilter {
        project: Some(q.id),
        ..EventFilter::default()
    });
    assert_eq!(by_project, expect(&|e| e.project == Some(q.id)));
    assert_eq!(by_project.len(), 2, "task.created and the notice of U");
    assert_eq!(
        filtered(EventFilter {
            kind_prefix: Some("run.".into()),
            ..EventFilter::default()
        }),
        expect(&|e| e.kind.starts_with("run."))
    );
    assert_eq!(
        filtered(EventFilter {
            kind_prefix: Some("custom_kind%".into()),
            ..EventFilter::default()
        }),
        vec![appended[3].seq],
        "kind prefixes match literally"
    );
    assert_eq!(
        filtered(EventFilter {
            kind_prefix: Some("custom_".into()),
            ..EventFilter::default()
        }),
        vec![appended[3].seq]
    );
    assert!(
        filtered(EventFilter {
            kind_prefix: Some("custom-".into()),
            ..EventFilter::default()
        })
        .is_empty(),
        "`_` is not a wildcard"
    );
    assert_eq!(
        filtered(EventFilter {
            project: Some(p.id),
            task: Some(t.id),
            run: Some(run.id),
            kind_prefix: Some("run.output".into()),
        }),
        vec![appended[0].seq, more[0].seq]
    );

    let ghost = TaskId(u.id.0 + 100);
    assert!(matches!(
        store.append_events(&[NewEvent::new("x", json!({})).task(ghost)]),
        Err(StoreError::TaskNotFound(id)) if id == ghost
    ));
    assert_eq!(
        must(store.last_seq(), "last_seq"),
        more[0].seq,
        "a refused append wrote"
    );
}
