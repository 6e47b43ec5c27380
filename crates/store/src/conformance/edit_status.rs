//! `edit_task` is no way around the state machine: whatever an edit carries, the task's status
//! and the rest of its machine state stay as the last commit left them.

use super::MakeStore;
use super::fixtures::{fresh, must, new_task, project, with_status};
use crate::{TaskEdit, TaskFilter};
use gaffer_core::{Risk, Status, TaskKind};

/// An edit of every field (risk included) of tasks in several statuses changes what the task
/// asks and its risk, never its status: the task reads back, and is listed, where it was.
pub fn edits_never_change_the_status(make: &MakeStore) {
    let (_clock, store) = fresh(make);
    let store = store.as_ref();
    let p = project(store, "alpha");
    for status in [
        Status::Backlog,
        Status::Ready,
        Status::Coding,
        Status::Merged,
    ] {
        let before = must(
            store.create_task(p.id, &new_task(status.as_str()), &with_status(status)),
            "create_task",
        );
        let edit = TaskEdit {
            title: Some(format!("{} edited", before.title)),
            body: Some("a new body".into()),
            labels: Some(vec!["infra".into()]),
            priority: Some(before.priority + 1),
            risk: Some(Risk::Critical),
            kind: Some(TaskKind::Proposal),
            budget_usd: Some(Some(1.0)),
            blocked_by: Some(vec![]),
            write_scope: Some(vec!["src/**".into()]),
            read_scope: Some(vec!["docs/**".into()]),
        };
        let after = must(
            store.edit_task(before.id, before.version, &edit),
            "edit_task",
        );
        assert_eq!(after.status(), status, "an edit changed the status");
        assert_eq!(
            after.state.risk,
            Risk::Critical,
            "the risk was asked to change"
        );
        let mut expected = before.state.clone();
        expected.risk = Risk::Critical;
        assert_eq!(
            after.state, expected,
            "an edit changed more state than the risk"
        );
        assert_eq!(
            must(store.task(before.id), "task"),
            after,
            "read back differs"
        );
        let listed = must(
            store.tasks(&TaskFilter {
                project: Some(p.id),
                statuses: vec![status],
                parent: None,
            }),
            "tasks by status",
        );
        assert!(
            listed.iter().any(|t| t.id == before.id),
            "the edited task is no longer listed as {status:?}: {listed:?}"
        );
    }
}
