//! The values that cross the [`crate::Store`] boundary besides the core's domain types.

use gaffer_core::{
    JobId, NewEvent, NewJob, NewTask, Priority, ProjectId, Risk, RunId, RunStatus, Status, TaskId,
    TaskKind, TaskState, Usage,
};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewProject {
    pub name: String,
    pub root: String,
    pub target: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TaskFilter {
    pub project: Option<ProjectId>,
    /// Any of these statuses (all when empty).
    pub statuses: Vec<Status>,
    pub parent: Option<TaskId>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventFilter {
    pub project: Option<ProjectId>,
    pub task: Option<TaskId>,
    pub run: Option<RunId>,
    /// Kinds starting with this prefix (e.g. "run.").
    pub kind_prefix: Option<String>,
}

impl EventFilter {
    /// Whether `event` is one [`crate::Store::events_after`] returns under this filter: every
    /// field given is equal (an event without a project, task or run matches no filter on
    /// it), and the kind starts with the prefix, literally. For those who filter events they
    /// already hold (the daemon's fan-out) exactly as the store filters what it reads.
    pub fn matches(&self, event: &gaffer_core::Event) -> bool {
        self.project.is_none_or(|p| event.project == Some(p))
            && self.task.is_none_or(|t| event.task == Some(t))
            && self.run.is_none_or(|r| event.run == Some(r))
            && self
                .kind_prefix
                .as_deref()
                .is_none_or(|prefix| event.kind.starts_with(prefix))
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JobFilter {
    pub task: Option<TaskId>,
    pub statuses: Vec<gaffer_core::JobStatus>,
}

/// The new state of one task, valid only if the task is still at `expected_version`.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskUpdate {
    pub task: TaskId,
    pub expected_version: i64,
    pub state: TaskState,
    /// Replace the task's stored plan.
    pub plan: Option<serde_json::Value>,
    /// Move the task to a new branch (a fresh retry); `None` keeps its branch.
    pub branch: Option<String>,
}

/// Changes to what a task asks ([`crate::Store::edit_task`]); `None` leaves a field as it is.
///
/// Nothing here reaches the task's status or its machine state beyond its risk: a task's state
/// changes only through the state machine ([`crate::Store::commit`] with a [`TaskUpdate`]).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TaskEdit {
    pub title: Option<String>,
    pub body: Option<String>,
    pub labels: Option<Vec<String>>,
    pub priority: Option<Priority>,
    /// A new risk (the higher risk that new labels imply).
    pub risk: Option<Risk>,
    /// A new kind (a proposal a person accepted becomes a task).
    pub kind: Option<TaskKind>,
    /// A new budget: `Some(None)` removes the task's own budget.
    pub budget_usd: Option<Option<f64>>,
    /// New dependencies (all of them): tasks of the same project, not the task itself nor its
    /// parent, and no cycle (the store checks each in the edit's transaction).
    pub blocked_by: Option<Vec<TaskId>>,
    /// A new write scope (globs).
    pub write_scope: Option<Vec<String>>,
    /// A new read scope (globs).
    pub read_scope: Option<Vec<String>>,
}

impl TaskEdit {
    /// Nothing would change.
    pub fn is_empty(&self) -> bool {
        self.title.is_none()
            && self.body.is_none()
            && self.labels.is_none()
            && self.priority.is_none()
            && self.risk.is_none()
            && self.kind.is_none()
            && self.budget_usd.is_none()
            && self.blocked_by.is_none()
            && self.write_scope.is_none()
            && self.read_scope.is_none()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum JobOutcome {
    Done,
    Failed,
}

/// Finishing the job that produced this commit; refused unless `owner` still holds its lease
/// (or the job is already failed from exhaustion, which any owner may acknowledge).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobCompletion {
    pub job: JobId,
    pub owner: String,
    pub outcome: JobOutcome,
    pub error: Option<String>,
}

/// A job's lease as its holder knows it, for [`crate::Store::heartbeat_jobs`]: the job and the
/// owner name it was claimed under.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct HeldLease {
    pub job: JobId,
    pub owner: String,
}

/// The end of a run: refused unless the run is still running (a run ends once). Writes a
/// `run.finished` event. `usage` replaces the run's recorded usage; `session_id`, when given,
/// replaces the stored session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunFinish {
    pub run: RunId,
    pub status: RunStatus,
    pub outcome: Option<String>,
    pub usage: Usage,
    pub session_id: Option<String>,
}

/// Everything one step of the engine writes, in one transaction.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Commit {
    pub task: Option<TaskUpdate>,
    /// Events to append, after `finish_run`'s `run.finished` and before the children's
    /// `task.created`. An event without a task gets the updated task; one without a project
    /// gets its task's project; one with a run but no task gets the run's task.
    pub events: Vec<NewEvent>,
    pub enqueue: Vec<NewJob>,
    pub complete_job: Option<JobCompletion>,
    /// Cancel every queued or leased job of this task (except `complete_job`'s); the jobs in
    /// `enqueue` are added afterwards and are not cancelled.
    pub cancel_jobs_of: Option<TaskId>,
    pub finish_run: Option<RunFinish>,
    /// Child tasks to create (each with its initial state), parented to `task` and in its
    /// project; each gets a `task.created` event. Requires `task`.
    ///
    /// Children may depend on each other: in a child's `blocked_by`, `TaskId(-n)` stands for
    /// the n-th child of this list (1-based), before or after it, as long as the children do
    /// not depend on each other in a cycle. Other ids are existing tasks of the same project.
    pub children: Vec<(NewTask, TaskState)>,
}

/// Who holds a named lease ([`crate::Store::lease_holder`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeaseHolder {
    pub owner: String,
    /// Held until this instant (ms since the epoch); free after it.
    pub expires_ms: i64,
}

/// Sums of recorded usage.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct UsageTotals {
    pub runs: u64,
    pub usage: Usage,
}

/// What [`crate::Store::usage_breakdown`] groups runs by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UsageDimension {
    /// The task the run worked on; the key is the task id in decimal (`"12"`).
    Task,
    /// The role the run played; the key is the role's name (`"coder"`, `"plan_reviewer"`).
    Role,
    /// The model the run was started with, as recorded.
    Model,
    /// The configured agent that ran, by name.
    Agent,
    /// The UTC day the run started (from its `started_ms`), as `YYYY-MM-DD`.
    Day,
}

impl UsageDimension {
    /// Every dimension, in documentation order.
    pub const ALL: [UsageDimension; 5] = [
        UsageDimension::Task,
        UsageDimension::Role,
        UsageDimension::Model,
        UsageDimension::Agent,
        UsageDimension::Day,
    ];

    /// The dimension's name: `task`, `role`, `model`, `agent` or `day`.
    pub fn as_str(self) -> &'static str {
        match self {
            UsageDimension::Task => "task",
            UsageDimension::Role => "role",
            UsageDimension::Model => "model",
            UsageDimension::Agent => "agent",
            UsageDimension::Day => "day",
        }
    }

    /// The dimension with this name (as [`UsageDimension::as_str`] writes it), if any.
    pub fn parse(name: &str) -> Option<UsageDimension> {
        UsageDimension::ALL
            .into_iter()
            .find(|d| d.as_str() == name.trim())
    }
}

impl std::fmt::Display for UsageDimension {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The recorded usage of the runs that share one value of a [`UsageDimension`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct UsageRow {
    /// The value they share (see [`UsageDimension`] for its form).
    pub key: String,
    /// How many runs, including runs still going and runs that recorded no usage.
    pub runs: u64,
    /// Their summed usage.
    pub usage: Usage,
}

/// A machine that takes jobs (a daemon; later a worker), as it last said.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HostInfo {
    /// Unique per machine and state directory: its owners' prefix.
    pub name: String,
    /// The labels it claims with (jobs that need others never go to it).
    pub labels: Vec<String>,
    /// The jobs it held when it last said.
    pub running: u32,
    /// Its one-minute load average, when known.
    pub load: Option<f64>,
    /// How many agent jobs it can run at once (a daemon's `engine.concurrency`), when it said.
    #[serde(default)]
    pub slots: Option<u32>,
    /// When it last said (store time).
    pub seen_ms: i64,
}

/// A worker token to store ([`crate::Store::create_worker_token`]): what a remote worker
/// presents to take a project's jobs. Only the secret's hash is stored, never the secret: a copy
/// of the database must not give anyone a worker's powers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewWorkerToken {
    pub project: ProjectId,
    /// What people call the worker (never empty).
    pub name: String,
    /// The machine labels its worker claims with (checked like a job's needs; stored sorted).
    pub labels: Vec<String>,
    /// The SHA-256 of the whole secret, 64 lowercase hex digits.
    pub hash: String,
}

/// A worker token as stored, without its hash (which only a lookup by hash needs).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkerToken {
    pub id: i64,
    pub project: ProjectId,
    pub name: String,
    pub labels: Vec<String>,
    pub created_ms: i64,
    /// When it was revoked; a revoked token opens nothing.
    pub revoked_ms: Option<i64>,
    /// When a worker last presented it (recorded at most once a minute).
    pub last_used_ms: Option<i64>,
}
