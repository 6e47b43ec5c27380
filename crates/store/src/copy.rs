//! What [`crate::Store::export_rows`] hands over and [`crate::Store::import_rows`] takes: a whole
//! board but its event log, row for row, to move it from one store to another without loss.

use crate::WorkerToken;
use gaffer_core::{Job, Project, ProjectId, Run, Task};
use serde::{Deserialize, Serialize};

/// Every row of the board but the event log, as it is: ids, versions, states, leases, recorded
/// processes, usage. Each list is ordered by id.
///
/// Everything a store keeps besides these rows is derived from them: a task's status is
/// `state.status`, its dependency edges are `blocked_by`, a job's kind is `spec.kind()`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BoardRows {
    pub projects: Vec<Project>,
    pub tasks: Vec<Task>,
    pub runs: Vec<RunRow>,
    pub jobs: Vec<JobRow>,
    /// Worker tokens, revoked ones included, with their hashes: a board moved to another store
    /// keeps its workers. (Absent in a board exported before tokens existed.)
    #[serde(default)]
    pub worker_tokens: Vec<WorkerTokenRow>,
}

/// A run and the project it counts against (its task's project when it started; [`Run`] does not
/// carry it, usage sums by project read it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRow {
    pub project: ProjectId,
    pub run: Run,
}

/// A job and the two marks [`Job`] does not carry, which [`crate::Store::exhausted_jobs`] reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobRow {
    pub job: Job,
    /// It failed by running out of attempts (its status is `failed`).
    pub exhausted: bool,
    /// ... and that failure was acknowledged through [`crate::Commit::complete_job`].
    pub acknowledged: bool,
}

/// A worker token and its hash, which [`WorkerToken`] never carries: only a copy of the board
/// needs it (the secret itself is stored nowhere).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkerTokenRow {
    pub token: WorkerToken,
    pub hash: String,
}
