//! Projects, task creation and reads, and the input checks.

use super::MakeStore;
use super::fixtures::{
    backlog, cleanup_job, fresh, moved, must, must_fail, new_task, project, task, with_status,
};
use crate::{Commit, EventFilter, NewProject, StoreError, TaskFilter};
use gaffer_core::{NewEvent, NewJob, ProjectId, Seq, Status, TaskId, TaskKind, event_kind};

/// `upsert_project` creates once per root and updates name and target; reads find it.
pub fn projects_upsert_and_read(make: &MakeStore) {
    let (_clock, store) = fresh(make);
    let store = store.as_ref();
    let a = project(store, "alpha");
    assert_eq!(a.name, "alpha");
    assert_eq!(a.target, "main");
    assert_eq!(a.created_ms, super::START_MS);
    let again = must(
        store.upsert_project(&NewProject {
            name: "renamed".into(),
            root: a.root.clone(),
            target: "trunk".into(),
        }),
        "second upsert of the same root",
    );
    assert_eq!(again.id, a.id, "same root must be the same project");
    assert_eq!(again.name, "renamed");
    assert_eq!(again.target, "trunk");
    assert_eq!(again.created_ms, a.created_ms);
    let b = project(store, "beta");
    assert_ne!(a.id, b.id);
    assert_eq!(must(store.project(a.id), "project").name, "renamed");
    let all = must(store.projects(), "projects");
    assert_eq!(
        all.iter().map(|p| p.id).collect::<Vec<_>>(),
        vec![a.id, b.id]
    );
    let missing = ProjectId(a.id.0.max(b.id.0) + 100);
    assert!(matches!(
        store.project(missing),
        Err(StoreError::ProjectNotFound(id)) if id == missing
    ));
}

/// `create_task` stores every field, version 1, a branch, and a `task.created` event; `tasks`
/// filters by project, status and parent.
pub fn tasks_create_and_read(make: &MakeStore) {
    let (_clock, store) = fresh(make);
    let store = store.as_ref();
    let p = project(store, "alpha");
    let q = project(store, "beta");
    let dep = task(store, p.id, "Dependency");
    let mut nt = new_task("Add a /health endpoint!");
    nt.kind = TaskKind::Epic;
    nt.priority = 7;
    nt.labels = vec!["api".into(), "gpu".into()];
    nt.blocked_by = vec![dep.id];
    nt.write_scope = vec!["src/api/**".into()];
    nt.read_scope = vec!["docs/**".into()];
    nt.budget_usd = Some(2.5);
    let t = must(store.create_task(p.id, &nt, &backlog()), "create_task");
    assert_eq!(t.project, p.id);
    assert_eq!(t.title, nt.title);
    assert_eq!(t.body, nt.body);
    assert_eq!(t.kind, TaskKind::Epic);
    assert_eq!(t.priority, 7);
    assert_eq!(t.labels, nt.labels);
    assert_eq!(t.blocked_by, vec![dep.id]);
    assert_eq!(t.write_scope, nt.write_scope);
    assert_eq!(t.read_scope, nt.read_scope);
    assert_eq!(t.budget_usd, Some(2.5));
    assert_eq!(t.branch, format!("gaffer/{}-add-a-health-endpoint", t.id));
    assert_eq!(t.plan, None);
    assert_eq!(t.state, backlog());
    assert_eq!(t.version, 1);
    assert_eq!(t.created_ms, super::START_MS);
    assert_eq!(
        must(store.task(t.id), "task"),
        t,
        "read back differs from created"
    );

    let created = must(
        store.events_after(
            Seq(0),
            100,
            &EventFilter {
                task: Some(t.id),
                ..EventFilter::default()
            },
        ),
        "events_after",
    );
    assert_eq!(created.len(), 1, "one task.created event: {created:?}");
    assert_eq!(created[0].kind, event_kind::TASK_CREATED);
    assert_eq!(created[0].project, Some(p.id));
    assert_eq!(created[0].data["title"], nt.title.as_str());

    let child = must(
        store.create_task(
            p.id,
            &gaffer_core::NewTask {
                parent: Some(t.id),
                ..new_task("child")
            },
            &with_status(Status::Ready),
        ),
        "create child",
    );
    let other = task(store, q.id, "elsewhere");
    let ids = |f: TaskFilter| -> Vec<TaskId> {
        must(store.tasks(&f), "tasks")
            .into_iter()
            .map(|t| t.id)
            .collect()
    };
    assert_eq!(
        ids(TaskFilter::default()),
        vec![dep.id, t.id, child.id, other.id]
    );
    assert_eq!(
        ids(TaskFilter {
            project: Some(q.id),
            ..TaskFilter::default()
        }),
        vec![other.id]
    );
    assert_eq!(
        ids(TaskFilter {
            statuses: vec![Status::Ready, Status::Merged],
            ..TaskFilter::default()
        }),
        vec![child.id]
    );
    assert_eq!(
        ids(TaskFilter {
            parent: Some(t.id),
            ..TaskFilter::default()
        }),
        vec![child.id]
    );
    // The status column follows state writes.
    must(
        store.commit(&Commit {
            task: Some(moved(&dep, Status::Merged)),
            ..Commit::default()
        }),
        "commit",
    );
    assert_eq!(
        ids(TaskFilter {
            project: Some(p.id),
            statuses: vec![Status::Merged],
            ..TaskFilter::default()
        }),
        vec![dep.id]
    );
    let missing = TaskId(other.id.0 + 100);
    assert!(matches!(store.task(missing), Err(StoreError::TaskNotFound(id)) if id == missing));
}

fn assert_invalid(r: crate::Result<impl std::fmt::Debug>, what: &str, needle: &str) {
    match must_fail(r, what) {
        StoreError::Invalid(msg) => assert!(
            msg.contains(needle),
            "{what}: message `{msg}` should mention `{needle}`"
        ),
        other => panic!("{what}: expected Invalid, got {other:?}"),
    }
}

/// Bad input is refused with [`StoreError::Invalid`] and a message saying why, and leaves no
/// trace.
pub fn invalid_input_is_refused(make: &MakeStore) {
    let (_clock, store) = fresh(make);
    let store = store.as_ref();
    let p = project(store, "alpha");
    let q = project(store, "beta");
    let a = task(store, p.id, "A");
    let foreign = task(store, q.id, "foreign");
    let before_seq = must(store.last_seq(), "last_seq");
    let before_tasks = must(store.tasks(&TaskFilter::default()), "tasks").len();

    assert_invalid(
        store.create_task(p.id, &new_task("   "), &backlog()),
        "blank title",
        "title",
    );
    assert_invalid(
        store.create_task(p.id, &new_task(""), &backlog()),
        "empty title",
        "title",
    );
    let unknown = TaskId(foreign.id.0 + 1000);
    assert_invalid(
        store.create_task(
            p.id,
            &gaffer_core::NewTask {
                blocked_by: vec![a.id, unknown],
                ..new_task("x")
            },
            &backlog(),
        ),
        "unknown dependency",
        &unknown.to_string(),
    );
    assert_invalid(
        store.create_task(
            p.id,
            &gaffer_core::NewTask {
                blocked_by: vec![foreign.id],
                ..new_task("x")
            },
            &backlog(),
        ),
        "dependency in another project",
        "project",
    );
    assert_invalid(
        store.create_task(
            p.id,
            &gaffer_core::NewTask {
                parent: Some(unknown),
                ..new_task("x")
            },
            &backlog(),
        ),
        "unknown parent",
        "parent",
    );
    assert_invalid(
        store.create_task(
            p.id,
            &gaffer_core::NewTask {
                parent: Some(a.id),
                blocked_by: vec![a.id],
                ..new_task("x")
            },
            &backlog(),
        ),
        "dependency on the parent",
        "parent",
    );
    // A child referring to itself: `TaskId(-n)` names the n-th child of the commit.
    assert_invalid(
        store.commit(&Commit {
            task: Some(super::fixtures::moved(&a, Status::Delegated)),
            children: vec![(
                gaffer_core::NewTask {
                    blocked_by: vec![TaskId(-1)],
                    ..new_task("self")
                },
                backlog(),
            )],
            ..Commit::default()
        }),
        "child depending on itself",
        "itself",
    );
    assert_invalid(
        store.commit(&Commit {
            children: vec![(new_task("orphan"), backlog())],
            ..Commit::default()
        }),
        "children without a task update",
        "parent",
    );
    assert_invalid(
        store.commit(&Commit {
            enqueue: vec![NewJob {
                max_attempts: 0,
                needs: vec![],
                ..cleanup_job(p.id, Some(a.id), 0)
            }],
            ..Commit::default()
        }),
        "job that may never run",
        "max_attempts",
    );
    assert_invalid(
        store.append_events(&[NewEvent::new("", serde_json::json!({}))]),
        "event without kind",
        "kind",
    );
    assert_invalid(
        store.claim_job("", &[], 1000),
        "claim without owner",
        "owner",
    );
    assert_invalid(store.claim_job("w", &[], 0), "claim with no lease", "lease");
    assert!(matches!(
        store.create_task(ProjectId(q.id.0 + 100), &new_task("x"), &backlog()),
        Err(StoreError::ProjectNotFound(_))
    ));
    let enqueue = |job: NewJob| {
        store.commit(&Commit {
            enqueue: vec![cleanup_job(p.id, None, 0), job],
            ..Commit::default()
        })
    };
    assert!(matches!(
        enqueue(cleanup_job(ProjectId(q.id.0 + 100), None, 0)),
        Err(StoreError::ProjectNotFound(_))
    ));
    assert!(matches!(
        enqueue(cleanup_job(p.id, Some(unknown), 0)),
        Err(StoreError::TaskNotFound(id)) if id == unknown
    ));
    assert_invalid(
        enqueue(cleanup_job(p.id, Some(foreign.id), 0)),
        "job naming another project's task",
        "project",
    );
    assert!(
        must(store.jobs(&crate::JobFilter::default()), "jobs").is_empty(),
        "a refused commit enqueued jobs"
    );

    assert_eq!(
        must(store.last_seq(), "last_seq"),
        before_seq,
        "a refused call wrote events"
    );
    assert_eq!(
        must(store.tasks(&TaskFilter::default()), "tasks").len(),
        before_tasks,
        "a refused call created tasks"
    );
    assert_eq!(
        must(store.task(a.id), "task").version,
        1,
        "a refused commit wrote state"
    );
}

/// `edit_task` changes only the fields it is given, at the expected version only, keeps the
/// branch, bumps the version, and writes one `task.edited` event naming what changed.
pub fn tasks_are_edited(make: &MakeStore) {
    let (clock, store) = fresh(make);
    let store = store.as_ref();
    let p = project(store, "alpha");
    let t = task(store, p.id, "Old title");
    clock.advance(5);
    let edit = crate::TaskEdit {
        title: Some("  New title ".into()),
        priority: Some(3),
        labels: Some(vec!["ui".into()]),
        ..crate::TaskEdit::default()
    };
    let edited = must(store.edit_task(t.id, t.version, &edit), "edit_task");
    assert_eq!(edited.title, "New title");
    assert_eq!(edited.priority, 3);
    assert_eq!(edited.labels, vec!["ui".to_string()]);
    assert_eq!(edited.body, t.body, "the body was not asked to change");
    assert_eq!(edited.branch, t.branch, "the branch keeps its name");
    assert_eq!(edited.version, t.version + 1);
    assert_eq!(edited.updated_ms, super::START_MS + 5);
    assert_eq!(must(store.task(t.id), "task"), edited, "read back differs");
    let events = must(
        store.events_after(
            Seq(0),
            100,
            &EventFilter {
                task: Some(t.id),
                kind_prefix: Some(event_kind::TASK_EDITED.into()),
                ..EventFilter::default()
            },
        ),
        "events",
    );
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0].project, Some(p.id));
    assert_eq!(
        events[0].data["changed"],
        serde_json::json!(["labels", "priority", "title"])
    );
    assert_eq!(events[0].data["title"], "New title");

    // A stale version is refused and changes nothing.
    let err = must_fail(store.edit_task(t.id, t.version, &edit), "stale edit");
    assert!(
        matches!(err, StoreError::VersionConflict { found, .. } if found == edited.version),
        "{err}"
    );
    // An edit that changes nothing writes nothing.
    let same = must(store.edit_task(t.id, edited.version, &edit), "no-op edit");
    assert_eq!(same, edited);
    // A blank title is refused; an unknown task is not found.
    let blank = crate::TaskEdit {
        title: Some(" ".into()),
        ..crate::TaskEdit::default()
    };
    assert!(matches!(
        must_fail(store.edit_task(t.id, edited.version, &blank), "blank title"),
        StoreError::Invalid(_)
    ));
    // A proposal a person accepts becomes a task; a budget is set, changed and removed.
    let accept = crate::TaskEdit {
        kind: Some(gaffer_core::TaskKind::Proposal),
        budget_usd: Some(Some(2.5)),
        ..crate::TaskEdit::default()
    };
    let proposed = must(
        store.edit_task(t.id, edited.version, &accept),
        "kind and budget",
    );
    assert_eq!(
        (proposed.kind, proposed.budget_usd),
        (gaffer_core::TaskKind::Proposal, Some(2.5))
    );
    assert_eq!(
        must(store.task(t.id), "task"),
        proposed,
        "read back differs"
    );
    let unbudgeted = crate::TaskEdit {
        budget_usd: Some(None),
        ..crate::TaskEdit::default()
    };
    let proposed = must(
        store.edit_task(t.id, proposed.version, &unbudgeted),
        "remove the budget",
    );
    assert_eq!(proposed.budget_usd, None);
    let negative = crate::TaskEdit {
        budget_usd: Some(Some(-1.0)),
        ..crate::TaskEdit::default()
    };
    assert!(matches!(
        must_fail(
            store.edit_task(t.id, proposed.version, &negative),
            "negative budget"
        ),
        StoreError::Invalid(_)
    ));
    let missing = TaskId(t.id.0 + 100);
    assert!(matches!(
        must_fail(store.edit_task(missing, 1, &edit), "missing task"),
        StoreError::TaskNotFound(id) if id == missing
    ));
}
