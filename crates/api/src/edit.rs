//! What a person may change about a task before work on it starts: the body of
//! `PATCH /api/tasks/{id}`, carried out by `gaffer_engine::Board::edit_task`. Dependencies are
//! added and removed by id rather than replaced whole, so that two people (or a person and an
//! agent) adding one each do not undo each other.

use gaffer_core::{Priority, TaskId};
use serde::{Deserialize, Serialize};

/// `PATCH /api/tasks/{id}` body; a field left out stays as it is.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TaskChanges {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// New labels (replace the old ones).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub labels: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub priority: Option<Priority>,
    /// Tasks it must also wait for (they must merge before it starts).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub add_deps: Vec<TaskId>,
    /// Tasks it no longer waits for.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub remove_deps: Vec<TaskId>,
    /// A new write scope (globs; replaces the old one, `[]` clears it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub write_scope: Option<Vec<String>>,
    /// A new read scope (globs; replaces the old one, `[]` clears it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub read_scope: Option<Vec<String>>,
}

impl TaskChanges {
    /// Nothing would change.
    pub fn is_empty(&self) -> bool {
        *self == TaskChanges::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_what_changes_is_sent() {
        let changes = TaskChanges {
            add_deps: vec![TaskId(3)],
            write_scope: Some(vec![]),
            ..TaskChanges::default()
        };
        assert_eq!(
            serde_json::to_value(&changes).unwrap(),
            serde_json::json!({"add_deps": [3], "write_scope": []})
        );
        let back: TaskChanges =
            serde_json::from_value(serde_json::json!({"add_deps": [3], "write_scope": []}))
                .unwrap();
        assert_eq!(back, changes);
        assert!(TaskChanges::default().is_empty());
        assert!(serde_json::from_str::<TaskChanges>(r#"{"deps": [3]}"#).is_err());
    }
}
