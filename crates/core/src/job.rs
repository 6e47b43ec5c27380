//! Jobs: what a worker must do, handed out under a lease so that exactly one worker holds it.

use crate::ids::{JobId, ObjectId, ProjectId, TaskId};
use crate::machine::{RunReason, SessionMode, VerifyPurpose};
use crate::task::Role;
use serde::{Deserialize, Serialize};

/// The work itself. Stored as JSON; `kind()` is its routing name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum JobSpec {
    /// Run an agent in the task's worktree.
    Run {
        role: Role,
        tier: u32,
        session: SessionMode,
        reason: RunReason,
        feedback: Option<String>,
    },
    /// Run the project's verify command on exactly this commit.
    Verify {
        commit: ObjectId,
        purpose: VerifyPurpose,
    },
    /// No longer created (the merge queue builds candidates itself); kept so that old job rows
    /// still parse. Executing one does nothing.
    PrepareCandidate,
    /// Land the merge train's passing prefix (a job of the project, not of a task): advance the
    /// landing ref to `commit` by compare-and-swap, provided the landing tip is still `onto`,
    /// push it when a remote is configured, and record every task of the prefix as landed.
    Land {
        commit: ObjectId,
        tree: ObjectId,
        onto: ObjectId,
    },
    /// Remove (or pool) the task's worktree; delete its branch when asked.
    Cleanup { delete_branch: bool },
    /// Best-of-N: run the coder of attempt `slot` in its own worktree and branch.
    Attempt { slot: u32, tier: u32 },
    /// Best-of-N: run the project's verify command on attempt `slot`'s commit.
    VerifyAttempt { slot: u32, commit: ObjectId },
    /// Best-of-N is over: remove every attempt's worktree and branch; the kept attempt's
    /// commit is on the task's own branch.
    SettleAttempts { slots: u32, kept: Option<u32> },
}

impl JobSpec {
    /// How the job is routed to a worker.
    pub fn kind(&self) -> JobKind {
        match self {
            JobSpec::Run { .. } => JobKind::Run,
            JobSpec::Verify { .. } => JobKind::Verify,
            JobSpec::PrepareCandidate => JobKind::PrepareCandidate,
            JobSpec::Land { .. } => JobKind::Land,
            JobSpec::Cleanup { .. } => JobKind::Cleanup,
            // Routed like the work they are: agent slots, the host's heavy budget, bookkeeping.
            JobSpec::Attempt { .. } => JobKind::Run,
            JobSpec::VerifyAttempt { .. } => JobKind::Verify,
            JobSpec::SettleAttempts { .. } => JobKind::Cleanup,
        }
    }
}

/// A job's routing name: which workers claim it. Stored and shown as its name (`run`,
/// `verify`, `prepare_candidate`, `land`, `cleanup`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobKind {
    Run,
    Verify,
    PrepareCandidate,
    Land,
    Cleanup,
}

impl JobKind {
    /// Every kind, in documentation order.
    pub const ALL: [JobKind; 5] = [
        JobKind::Run,
        JobKind::Verify,
        JobKind::PrepareCandidate,
        JobKind::Land,
        JobKind::Cleanup,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            JobKind::Run => "run",
            JobKind::Verify => "verify",
            JobKind::PrepareCandidate => "prepare_candidate",
            JobKind::Land => "land",
            JobKind::Cleanup => "cleanup",
        }
    }

    /// The kind with this name (as [`JobKind::as_str`] writes it), if any.
    pub fn parse(name: &str) -> Option<JobKind> {
        JobKind::ALL.into_iter().find(|k| k.as_str() == name)
    }
}

impl std::fmt::Display for JobKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The process running a leased job, recorded by its holder so that a restarted daemon can kill
/// it ([`Job::process`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ProcessRecord {
    pub identity: RecordedIdentity,
    /// The kernel's id of the boot the process ran in: start times mean nothing after a reboot.
    pub boot_id: Option<String>,
}

/// Who a process group's leader is, across pid reuse: the fields of `gaffer_proc`'s
/// `ProcessIdentity` (the core knows no processes; the engine converts).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RecordedIdentity {
    pub pid: i32,
    pub pgid: i32,
    /// Clock ticks after boot at which the process started.
    pub start_time: u64,
    /// The token in the process's environment, which its descendants inherit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobStatus {
    Queued,
    Leased,
    Done,
    Failed,
    Cancelled,
}

impl JobStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Queued => "queued",
            JobStatus::Leased => "leased",
            JobStatus::Done => "done",
            JobStatus::Failed => "failed",
            JobStatus::Cancelled => "cancelled",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        [
            JobStatus::Queued,
            JobStatus::Leased,
            JobStatus::Done,
            JobStatus::Failed,
            JobStatus::Cancelled,
        ]
        .into_iter()
        .find(|j| j.as_str() == s)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewJob {
    pub project: ProjectId,
    pub task: Option<TaskId>,
    pub spec: JobSpec,
    /// Higher is claimed first.
    pub priority: i32,
    /// How many times the job may be handed out before it counts as failed (a lease that expires
    /// counts: a job that keeps killing its worker must not loop forever).
    pub max_attempts: u32,
    /// Labels a machine must have to take it (`gpu`, `gtk`): only a claimer with every one of
    /// them is handed the job. Empty: any machine.
    #[serde(default)]
    pub needs: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Job {
    pub id: JobId,
    pub project: ProjectId,
    pub task: Option<TaskId>,
    pub spec: JobSpec,
    pub priority: i32,
    pub status: JobStatus,
    /// Times it has been handed out (including the current lease).
    pub attempts: u32,
    pub max_attempts: u32,
    pub lease_owner: Option<String>,
    pub lease_expires_ms: Option<i64>,
    /// The process running it, recorded when it started, so that a restarted daemon can kill it.
    pub process: Option<ProcessRecord>,
    pub error: Option<String>,
    pub created_ms: i64,
    pub updated_ms: i64,
    /// Labels a machine must have to take it (see [`NewJob::needs`]).
    #[serde(default)]
    pub needs: Vec<String>,
}
