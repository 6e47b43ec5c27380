//! Payloads of the merge queue: joining, candidates, verification, landing, ejection.

use crate::ids::{ObjectId, TaskId};
use crate::task::Priority;
use serde::{Deserialize, Serialize};

/// `queue.moved`: a person put a waiting task at a place in the line (`gaffer queue move`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueueMoved {
    /// Its place now, 1 being the head of the waiting line.
    pub place: u32,
    /// The waiting line afterwards, in the order the tasks will join the train.
    pub order: Vec<TaskId>,
    /// Who moved it.
    pub by: String,
}

/// `queue.joined`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueueJoined {
    pub position: u64,
    pub priority: Priority,
    pub since_ms: i64,
}

/// `queue.candidate`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueueCandidate {
    pub commit: ObjectId,
    pub tree: ObjectId,
    pub onto: ObjectId,
    pub position: Option<u64>,
    /// The tasks whose candidates it was built on, in train order.
    pub ahead: Vec<TaskId>,
    /// `merge` or `rebase`.
    pub strategy: String,
    /// Its tree is the one its branch passed verify with: no second verify.
    pub verified_already: bool,
}

/// `queue.batch_formed`: the tasks tested as one candidate, held by the lead (the last task of
/// the batch, which runs its verify).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueueBatchFormed {
    pub commit: ObjectId,
    pub tree: ObjectId,
    pub onto: ObjectId,
    /// The tasks of the batch, in train order.
    pub tasks: Vec<TaskId>,
    /// The tasks whose candidates it was built on, in train order.
    pub ahead: Vec<TaskId>,
    /// `merge` or `rebase`.
    pub strategy: String,
    /// The failed batch it is a part of, when it is a half tested to find the guilty branch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bisecting: Option<ObjectId>,
}

/// `queue.batch_failed`: a batch failed verify with every candidate ahead passing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueueBatchFailed {
    pub commit: ObjectId,
    pub tree: ObjectId,
    /// Its tasks, now suspects, tested again in halves.
    pub tasks: Vec<TaskId>,
    /// Suspects of the batch this one was a half of, cleared: the failure is within this one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub acquitted: Vec<TaskId>,
    /// The verify output.
    pub summary: String,
}

/// `queue.bisecting`: a part of a failed batch is tested to find its guilty branch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueueBisecting {
    /// The failed batch (its candidate commit names the suspects' group).
    pub group: ObjectId,
    /// The candidate testing `tasks`.
    pub commit: ObjectId,
    /// The part under test, in train order.
    pub tasks: Vec<TaskId>,
    /// The suspects not in it (behind it), in train order.
    pub rest: Vec<TaskId>,
}

/// `queue.guilty`: bisection found the branch that broke its batch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueueGuilty {
    /// The failed batch it was found in.
    pub group: ObjectId,
    /// Its own candidate, which failed twice.
    pub commit: Option<ObjectId>,
    /// The other tasks of its group (the failed part it was found in), cleared, in train order.
    pub acquitted: Vec<TaskId>,
}

/// Why a suspect of a failed batch is cleared ([`QueueAcquitted`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Acquittal {
    /// Another suspect of its group (`by`) failed alone: the failure is its own.
    FailedAlone,
    /// A part of its group (`by`) failed: the failure is within that part, bisected next.
    Within,
    /// A suspect of its group (`by`) left the bisection without landing (cancelled, sent to a
    /// resolver, back to waiting): it may have been the guilty one, so nothing is known to fail
    /// any more.
    Left,
    /// Every part of its group passed: the failure did not reproduce (verify is flaky), and
    /// nobody is blamed.
    NotReproduced,
}

/// `queue.acquitted`: the task is no longer a suspect of the failed batch `group`; it is tested,
/// and batched, as usual again.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueueAcquitted {
    /// The failed batch it was a suspect of.
    pub group: ObjectId,
    pub reason: Acquittal,
    /// The tasks the reason names, in train order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub by: Vec<TaskId>,
}

/// `queue.parked`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueueParked {
    pub onto: ObjectId,
    pub files: Vec<String>,
    pub ahead: Vec<TaskId>,
}

/// `queue.invalidated`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueueInvalidated {
    pub commit: Option<ObjectId>,
    pub onto: Option<ObjectId>,
    pub reason: String,
}

/// `queue.verified`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueueVerified {
    pub commit: ObjectId,
    pub tree: ObjectId,
    pub passed: bool,
    pub recheck: bool,
    pub duration_ms: u64,
    pub position: Option<u64>,
}

/// `queue.recheck`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueueRecheck {
    pub commit: Option<ObjectId>,
}

/// `queue.flaky`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueueFlaky {
    pub commit: ObjectId,
    pub tree: ObjectId,
    pub detail: String,
}

/// `queue.landing` (project).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueueLanding {
    pub commit: ObjectId,
    pub tree: ObjectId,
    pub onto: ObjectId,
    pub tasks: Vec<TaskId>,
}

/// `queue.landed`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueueLanded {
    /// The task's candidate.
    pub commit: ObjectId,
    pub tree: ObjectId,
    /// The branch landed on (the target, or the landing branch beside a checked-out target).
    pub branch: String,
    pub target: String,
    pub redirected: bool,
    /// The checkout that has the target, when it is checked out.
    pub user_checkout: Option<String>,
    /// The commit the target moved to (the last of the batch).
    pub landed_to: ObjectId,
    pub landed_tree: ObjectId,
    /// How many tasks landed together, and this one's place among them.
    pub batch: usize,
    pub index: usize,
    pub position: Option<u64>,
    pub flaky: bool,
    pub pushed_to: Option<String>,
    pub time_in_queue_ms: i64,
    /// Landed in a batch: the commit whose change against its first parent is this task's own
    /// (kept reachable under `refs/gaffer/batches/<the batch's last task>`), what a revert of it
    /// undoes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub change: Option<ObjectId>,
}

/// `queue.ejected`: why the task left the queue, tagged by `reason`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum QueueEjected {
    /// Verify failed twice on its candidate while everything ahead passed: back to its coder.
    VerifyFailed {
        commit: Option<ObjectId>,
        tree: Option<ObjectId>,
        detail: String,
        /// The verify output.
        summary: String,
    },
    /// The branch no longer applies on the target: a resolver merges the target into it.
    Conflict {
        files: Vec<String>,
        onto: ObjectId,
        detail: String,
    },
    /// A task it depends on left the train ahead of it: it waits again.
    Dependency { detail: String },
    /// The branch cannot be applied at all.
    Error { detail: String },
}

impl QueueEjected {
    /// The `reason` tag: `verify_failed`, `conflict`, `dependency` or `error`.
    pub fn reason(&self) -> &'static str {
        match self {
            QueueEjected::VerifyFailed { .. } => "verify_failed",
            QueueEjected::Conflict { .. } => "conflict",
            QueueEjected::Dependency { .. } => "dependency",
            QueueEjected::Error { .. } => "error",
        }
    }

    pub fn detail(&self) -> &str {
        match self {
            QueueEjected::VerifyFailed { detail, .. }
            | QueueEjected::Conflict { detail, .. }
            | QueueEjected::Dependency { detail }
            | QueueEjected::Error { detail } => detail,
        }
    }
}

/// `queue.conflict`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueueConflict {
    pub predicted: bool,
    pub files: Vec<String>,
    pub onto: ObjectId,
    pub detail: String,
}

/// `queue.target_moved` (project).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueueTargetMoved {
    pub expected: ObjectId,
    pub actual: Option<ObjectId>,
    /// The remote that rejected the push, when it was one.
    #[serde(default)]
    pub remote: Option<String>,
    /// The landing that did not happen, when the train changed under it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub landing: Option<ObjectId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub why: Option<String>,
}

/// `queue.pushed` (project).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueuePushed {
    pub remote: Option<String>,
    pub branch: String,
    pub commit: ObjectId,
}
