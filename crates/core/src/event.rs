//! The append-only event log: the only source of truth for history (DESIGN §3).

use crate::ids::{ProjectId, RunId, Seq, TaskId};
use serde::{Deserialize, Serialize};

/// An event as stored, with its place in the log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub seq: Seq,
    pub at_ms: i64,
    pub project: Option<ProjectId>,
    pub task: Option<TaskId>,
    pub run: Option<RunId>,
    pub kind: String,
    pub data: serde_json::Value,
}

/// An event to append; the store assigns its sequence number and time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewEvent {
    pub project: Option<ProjectId>,
    pub task: Option<TaskId>,
    pub run: Option<RunId>,
    pub kind: String,
    pub data: serde_json::Value,
}

impl NewEvent {
    pub fn new(kind: &str, data: serde_json::Value) -> Self {
        Self {
            project: None,
            task: None,
            run: None,
            kind: kind.to_string(),
            data,
        }
    }
    pub fn project(mut self, p: ProjectId) -> Self {
        self.project = Some(p);
        self
    }
    pub fn task(mut self, t: TaskId) -> Self {
        self.task = Some(t);
        self
    }
    pub fn run(mut self, r: RunId) -> Self {
        self.run = Some(r);
        self
    }
}

/// The names of the events gaffer writes, in one place.
pub mod event_kind {
    pub const TASK_CREATED: &str = "task.created";
    /// `{from, to, input, effects}`: every state change.
    pub const TASK_STATUS: &str = "task.status";
    pub const TASK_NOTICE: &str = "task.notice";
    pub const RUN_STARTED: &str = "run.started";
    /// Normalized agent output: `{type: "text"|"tool"|"status"|..., text}`.
    pub const RUN_OUTPUT: &str = "run.output";
    pub const RUN_FINISHED: &str = "run.finished";
    pub const RUN_LOST: &str = "run.lost";
    pub const VERIFY_STARTED: &str = "verify.started";
    /// `{commit, tree, purpose, passed, exit_code, duration_ms, tail}`.
    pub const VERIFY_FINISHED: &str = "verify.finished";
    pub const MERGE_CANDIDATE: &str = "merge.candidate";
    pub const MERGE_LANDED: &str = "merge.landed";
    pub const MERGE_CONFLICT: &str = "merge.conflict";
    pub const MERGE_TARGET_MOVED: &str = "merge.target_moved";
    pub const JOB_RELEASED: &str = "job.released";
    pub const RECOVERY: &str = "engine.recovery";
    pub const ENGINE_STARTED: &str = "engine.started";
    pub const ENGINE_STOPPED: &str = "engine.stopped";
    pub const WORKTREE_CLEANED: &str = "worktree.cleaned";
}
