//! What a remote worker may ask of the daemon, one call per request (`POST /api/worker`).
//! Every call is checked against the worker's token on the daemon's side (`serve.rs`); the
//! reply is the JSON value named beside each call.

use crate::conclude::JobReport;
use gaffer_core::{JobId, JobKind, NewEvent, NewRun, ProcessRecord, Project, RunId, Seq, TaskId};
use gaffer_store::{HeldLease, RunFinish};
use serde::{Deserialize, Serialize};

/// Who a worker is, as its token says: the daemon checks every call against it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkerIdentity {
    /// The token's id: every lease owner of the worker starts with [`WorkerIdentity::prefix`].
    pub token: i64,
    pub name: String,
    /// The project the token was made for: the only one it sees.
    pub project: gaffer_core::ProjectId,
    /// The labels the token grants: the worker claims only jobs that need no others.
    pub labels: Vec<String>,
}

impl WorkerIdentity {
    /// What every lease owner of a worker with this token starts with (`worker:<token id>:`).
    pub fn prefix(&self) -> String {
        owner_prefix(self.token)
    }
}

/// The lease owners' prefix of the workers of token `token`.
pub fn owner_prefix(token: i64) -> String {
    format!("worker:{token}:")
}

/// One call of a worker. Replies: see each variant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "call", rename_all = "snake_case")]
pub enum WorkerCall {
    /// The first call: → [`Welcome`].
    Hello,
    /// The machine is alive: → `null`.
    Announce {
        name: String,
        labels: Vec<String>,
        running: u32,
        load: Option<f64>,
        slots: Option<u32>,
    },
    /// → the job now leased to `owner`, or `null`.
    Claim {
        owner: String,
        kinds: Vec<JobKind>,
        labels: Vec<String>,
        lease_ms: i64,
    },
    /// → whether `owner` still holds the job (its lease extended).
    Heartbeat {
        job: JobId,
        owner: String,
        lease_ms: i64,
    },
    /// The leases of every job the worker is running, renewed in one transaction: → the
    /// leases it no longer holds (each a [`gaffer_store::HeldLease`]).
    Heartbeats {
        leases: Vec<HeldLease>,
        lease_ms: i64,
    },
    /// → whether the job went back to the queue.
    Release { job: JobId, owner: String },
    /// → whether the process was recorded.
    SetProcess {
        job: JobId,
        owner: String,
        process: ProcessRecord,
    },
    /// A job this worker took over from a holder whose lease ran out: → its runs marked lost.
    TakeOver { job: JobId, reason: String },
    /// The job's result: → `null`; concluded on the daemon's side.
    Report {
        job: JobId,
        owner: String,
        report: JobReport,
    },
    /// → the task (of the token's project).
    Task { task: TaskId },
    /// → the project's tasks with any of these statuses (all when empty): a worker cleans up
    /// the worktrees and branches of those that ended.
    Tasks { statuses: Vec<gaffer_core::Status> },
    /// → the task's runs.
    Runs { task: TaskId },
    /// → the run.
    Run { run: RunId },
    /// → up to `limit` events of the project after `after`, filtered.
    Events {
        after: Seq,
        limit: usize,
        task: Option<TaskId>,
        run: Option<RunId>,
        kind_prefix: Option<String>,
    },
    /// → the event log's last sequence number.
    LastSeq,
    /// → what the project's runs used since `since_ms`.
    UsageSince { since_ms: i64 },
    /// Events of tasks whose jobs this worker holds: → the events appended.
    AppendEvents { events: Vec<NewEvent> },
    /// A run of a job this worker holds: → the run.
    StartRun { run: NewRun },
    /// → `null`.
    SetRunSession { run: RunId, session: String },
    /// The end of a run of a job this worker holds: → the events it wrote.
    FinishRun { finish: RunFinish },
    /// Proposals (title, body) an agent's run filed: → the proposals made.
    Propose {
        run: RunId,
        proposals: Vec<(String, String)>,
    },
}

impl WorkerCall {
    /// Whether the call may change the board (streams and the engine then look again).
    pub fn writes(&self) -> bool {
        !matches!(
            self,
            WorkerCall::Hello
                | WorkerCall::Task { .. }
                | WorkerCall::Tasks { .. }
                | WorkerCall::Runs { .. }
                | WorkerCall::Run { .. }
                | WorkerCall::Events { .. }
                | WorkerCall::LastSeq
                | WorkerCall::UsageSince { .. }
        )
    }

    /// The job and owner a call acts for, when it names both (a refusal of such a call as a
    /// conflict means the owner lost the job's lease).
    pub fn held_job(&self) -> Option<(JobId, &str)> {
        match self {
            WorkerCall::Heartbeat { job, owner, .. }
            | WorkerCall::Release { job, owner }
            | WorkerCall::SetProcess { job, owner, .. }
            | WorkerCall::Report { job, owner, .. } => Some((*job, owner)),
            _ => None,
        }
    }
}

/// The reply to [`WorkerCall::Hello`]: who the worker is and where the project's code lives.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Welcome {
    pub worker: WorkerIdentity,
    pub project: Project,
    /// The remote's name in the daemon's clone (`project.remote`) and its URL there: the
    /// worker clones it under the same name.
    pub remote_name: String,
    pub remote_url: String,
    /// The branch tasks land on.
    pub target: String,
    /// How long a lease lasts and how often its holder renews it, on this board.
    pub lease_ms: i64,
    pub heartbeat_ms: i64,
}
