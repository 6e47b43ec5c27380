//! A task moves to a new branch only through a versioned commit (a fresh retry): the branch is
//! written with the state, a commit without one keeps it, and a bad name or a stale version
//! changes nothing.

use super::MakeStore;
use super::fixtures::{fresh, moved, must, must_fail, project, task};
use crate::{Commit, StoreError};
use gaffer_core::Status;

/// A commit with a branch moves the task to it with its new state; one without keeps it; a
/// name that is no task branch, or a stale version, is refused and leaves the task as it was.
pub fn task_branch_moves_with_a_commit(make: &MakeStore) {
    let (_clock, store) = fresh(make);
    let store = store.as_ref();
    let p = project(store, "alpha");
    let t = task(store, p.id, "Fix the parser");
    let original = t.branch.clone();
    let fresh_branch = format!("{original}-attempt-2");

    let mut update = moved(&t, Status::Ready);
    update.branch = Some(fresh_branch.clone());
    must(
        store.commit(&Commit {
            task: Some(update),
            ..Commit::default()
        }),
        "commit with a branch",
    );
    let after = must(store.task(t.id), "task");
    assert_eq!(after.branch, fresh_branch, "the branch did not move");
    assert_eq!(after.status(), Status::Ready);
    assert_eq!(after.version, t.version + 1);

    must(
        store.commit(&Commit {
            task: Some(moved(&after, Status::Coding)),
            ..Commit::default()
        }),
        "commit without a branch",
    );
    let kept = must(store.task(t.id), "task");
    assert_eq!(
        kept.branch, fresh_branch,
        "a commit without a branch moved it"
    );

    for bad in ["main", "gaffer/", "gaffer/-x", "gaffer/a b", ""] {
        let mut update = moved(&kept, Status::Verifying);
        update.branch = Some(bad.to_string());
        let err = must_fail(
            store.commit(&Commit {
                task: Some(update),
                ..Commit::default()
            }),
            "commit with a bad branch",
        );
        assert!(
            matches!(err, StoreError::Invalid(_)),
            "{bad:?}: expected Invalid, got {err:?}"
        );
    }
    let mut stale = moved(&t, Status::Verifying);
    stale.branch = Some(original.clone());
    let err = must_fail(
        store.commit(&Commit {
            task: Some(stale),
            ..Commit::default()
        }),
        "stale commit with a branch",
    );
    assert!(
        matches!(err, StoreError::VersionConflict { .. }),
        "expected a version conflict, got {err:?}"
    );
    assert_eq!(
        must(store.task(t.id), "task"),
        kept,
        "a refused commit changed the task"
    );
}
