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
    /// `{changed: [field, ...], <field>: new value, ...}`: a person changed what a task asks
    /// (title, body, labels, priority) before work on it started.
    pub const TASK_EDITED: &str = "task.edited";
    pub const RUN_STARTED: &str = "run.started";
    /// Normalized agent output: `{type: "text"|"tool"|"status"|..., text}`.
    pub const RUN_OUTPUT: &str = "run.output";
    pub const RUN_FINISHED: &str = "run.finished";
    pub const RUN_LOST: &str = "run.lost";
    pub const VERIFY_STARTED: &str = "verify.started";
    /// `{commit, tree, purpose, passed, exit_code, duration_ms, tail}`.
    pub const VERIFY_FINISHED: &str = "verify.finished";
    /// Merge queue: `{position, priority, since_ms}`: a task joined the merge train.
    pub const QUEUE_JOINED: &str = "queue.joined";
    /// `{commit, tree, onto, position, ahead, strategy, verified_already}`: a candidate was built
    /// on the tip plus the tasks `ahead` of it.
    pub const QUEUE_CANDIDATE: &str = "queue.candidate";
    /// `{onto, files, ahead}`: the branch conflicts with the train ahead (not with the target);
    /// it waits for it.
    pub const QUEUE_PARKED: &str = "queue.parked";
    /// `{commit, reason}`: a candidate was dropped because what it was built on changed.
    pub const QUEUE_INVALIDATED: &str = "queue.invalidated";
    /// `{commit, tree, passed, recheck, position, duration_ms}`: a candidate's verify finished.
    pub const QUEUE_VERIFIED: &str = "queue.verified";
    /// `{commit}`: a failed candidate runs verify again before its branch is blamed.
    pub const QUEUE_RECHECK: &str = "queue.recheck";
    /// `{commit, tree}`: verify failed, then passed on the same tree: flaky, nobody blamed.
    pub const QUEUE_FLAKY: &str = "queue.flaky";
    /// `{commit, onto, tasks}` (project): the passing prefix is being landed in one step.
    pub const QUEUE_LANDING: &str = "queue.landing";
    /// `{commit, tree, branch, target, landed_to, batch, time_in_queue_ms, ...}`: the task's
    /// candidate is on the target now (once per task).
    pub const QUEUE_LANDED: &str = "queue.landed";
    /// `{reason, ...}`: the task left the queue: `verify_failed` (with `summary`, the verify
    /// output), `conflict` (with `files`) or `dependency` (back to waiting).
    pub const QUEUE_EJECTED: &str = "queue.ejected";
    /// `{files, onto}`: a branch that just passed verify would conflict with the landing tip; it
    /// goes to a resolver before queuing.
    pub const QUEUE_CONFLICT: &str = "queue.conflict";
    /// `{expected, actual, remote}` (project): the target was not where the landing expected it
    /// (moved locally, or the remote rejected the push); the train is rebuilt.
    pub const QUEUE_TARGET_MOVED: &str = "queue.target_moved";
    /// `{remote, branch, commit}` (project): the landed target was pushed.
    pub const QUEUE_PUSHED: &str = "queue.pushed";
    pub const JOB_RELEASED: &str = "job.released";
    pub const RECOVERY: &str = "engine.recovery";
    pub const ENGINE_STARTED: &str = "engine.started";
    pub const ENGINE_STOPPED: &str = "engine.stopped";
    pub const WORKTREE_CLEANED: &str = "worktree.cleaned";
    /// `{paths, scope, enforce, run}` (task): a coder's change edits paths outside the task's
    /// write scope; with `enforce = "reject"` it went back to the coder, with `"review"` it goes
    /// on and the reviewer is shown the paths.
    pub const SCOPE_OUTSIDE: &str = "scope.outside";
    /// `{found, run}` (task): a coder's change added a secret (each entry `path:line: what`, or
    /// a commit whose message holds one, never the value); its commits were undone and it went
    /// back to the coder.
    pub const SECRET_REFUSED: &str = "secret.refused";
}
