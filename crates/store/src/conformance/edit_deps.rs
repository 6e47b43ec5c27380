//! `edit_task` with dependencies and scopes: a task's dependencies are replaced whole, checked in
//! the edit's transaction (tasks of its project, never itself, its parent or a cycle), and its
//! scopes are replaced; the `task.edited` event says what changed.

use super::MakeStore;
use super::fixtures::{backlog, fresh, must, must_fail, new_task, project, task};
use crate::{EventFilter, StoreError, TaskEdit};
use gaffer_core::{NewTask, Payload, TaskId};

fn deps(ids: &[i64]) -> TaskEdit {
    TaskEdit {
        blocked_by: Some(ids.iter().map(|i| TaskId(*i)).collect()),
        ..TaskEdit::default()
    }
}

#[track_caller]
fn refused(e: StoreError, needle: &str) {
    match &e {
        StoreError::Invalid(message) if message.contains(needle) => {}
        other => panic!("expected an invalid-input error mentioning {needle:?}, got {other:?}"),
    }
}

/// Dependencies are replaced whole and read back (task and list); unknown tasks, tasks of
/// another project, the task itself, its parent and cycles are refused and change nothing;
/// scopes are replaced; each edit's event names the fields and their new values.
pub fn dependencies_and_scopes_are_edited(make: &MakeStore) {
    let (_clock, store) = fresh(make);
    let store = store.as_ref();
    let p = project(store, "alpha");
    let other = project(store, "beta");
    let one = task(store, p.id, "one");
    let two = must(
        store.create_task(
            p.id,
            &NewTask {
                blocked_by: vec![one.id],
                ..new_task("two")
            },
            &backlog(),
        ),
        "create two",
    );
    let three = task(store, p.id, "three");
    let foreign = task(store, other.id, "foreign");

    // Three waits for one and two (a repeat is kept once).
    let three = must(
        store.edit_task(
            three.id,
            three.version,
            &deps(&[one.id.0, two.id.0, one.id.0]),
        ),
        "add dependencies",
    );
    assert_eq!(three.blocked_by, vec![one.id, two.id]);
    assert_eq!(
        must(store.task(three.id), "read back").blocked_by,
        three.blocked_by
    );

    // One may not wait for three (three waits for one), nor for itself, an unknown task or
    // another project's.
    refused(
        must_fail(
            store.edit_task(one.id, one.version, &deps(&[three.id.0])),
            "a cycle",
        ),
        "wait for itself",
    );
    refused(
        must_fail(
            store.edit_task(one.id, one.version, &deps(&[one.id.0])),
            "itself",
        ),
        "itself",
    );
    refused(
        must_fail(
            store.edit_task(one.id, one.version, &deps(&[9_999])),
            "unknown",
        ),
        "does not exist",
    );
    refused(
        must_fail(
            store.edit_task(one.id, one.version, &deps(&[foreign.id.0])),
            "another project",
        ),
        "belongs to project",
    );
    let unchanged = must(store.task(one.id), "one after refusals");
    assert_eq!(
        unchanged.version, one.version,
        "a refused edit wrote something"
    );
    assert!(unchanged.blocked_by.is_empty());

    // A child may not wait for its parent.
    let child = must(
        store.create_task(
            p.id,
            &NewTask {
                parent: Some(one.id),
                ..new_task("child")
            },
            &backlog(),
        ),
        "create child",
    );
    refused(
        must_fail(
            store.edit_task(child.id, child.version, &deps(&[one.id.0])),
            "its parent",
        ),
        "parent",
    );

    // Dependencies removed, scopes set: the event says what changed.
    let after = must(store.last_seq(), "last_seq");
    let edit = TaskEdit {
        blocked_by: Some(vec![two.id]),
        write_scope: Some(vec!["src/**".into()]),
        read_scope: Some(vec!["docs/**".into()]),
        ..TaskEdit::default()
    };
    let three = must(
        store.edit_task(three.id, three.version, &edit),
        "edit three",
    );
    assert_eq!(three.blocked_by, vec![two.id]);
    assert_eq!(three.write_scope, vec!["src/**".to_string()]);
    assert_eq!(three.read_scope, vec!["docs/**".to_string()]);
    assert_eq!(must(store.task(three.id), "read back"), three);
    let events = must(
        store.events_after(
            after,
            100,
            &EventFilter {
                task: Some(three.id),
                ..EventFilter::default()
            },
        ),
        "events",
    );
    let edited = events.iter().find_map(|e| match e.payload() {
        Ok(Payload::TaskEdited(p)) => Some(p),
        _ => None,
    });
    let edited = edited.unwrap_or_else(|| panic!("no task.edited event: {events:?}"));
    assert_eq!(edited.changed, ["blocked_by", "read_scope", "write_scope"]);
    assert_eq!(edited.blocked_by, Some(vec![two.id]));
    assert_eq!(edited.write_scope, Some(vec!["src/**".to_string()]));

    // No dependencies at all.
    let three = must(
        store.edit_task(three.id, three.version, &deps(&[])),
        "clear",
    );
    assert!(three.blocked_by.is_empty());
}
