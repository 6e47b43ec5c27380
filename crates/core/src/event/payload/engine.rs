//! Payloads about the engine itself: starts, stops, recovery, released jobs, cleaned worktrees,
//! and the worker tokens that let remote machines take its jobs.

use crate::ids::JobId;
use crate::task::Status;
use serde::{Deserialize, Serialize};

/// `engine.started`, `engine.stopped`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EngineOwner {
    pub owner: String,
}

/// `engine.recovery`: what recovery found and did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Recovery {
    pub jobs_released: usize,
    pub processes_killed: usize,
    pub runs_lost: usize,
    /// Lost runs whose commits (in their own git directory) were brought back to their branch.
    pub runs_brought_back: usize,
    pub worktrees_removed: usize,
    pub branches_deleted: Vec<String>,
}

/// `job.released`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobReleased {
    pub job: JobId,
    pub kind: String,
    pub owner: Option<String>,
    /// The process the job had recorded, as it was recorded.
    pub process: Option<serde_json::Value>,
    pub reason: String,
}

/// `job.unroutable`: a job (or a ready task, on a shared board, before it has one) needs machine
/// labels that no live machine has; it waits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobUnroutable {
    /// The job; `None` for a ready task no machine can start.
    pub job: Option<JobId>,
    pub kind: String,
    /// The labels it needs.
    pub needs: Vec<String>,
    /// The live machines and their labels, as `name [a, b]`.
    pub machines: Vec<String>,
}

/// `worktree.cleaned`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum WorktreeCleaned {
    Cleaned {
        branch: String,
        branch_deleted: bool,
    },
    /// The task became active again before its cleanup ran.
    Skipped { skipped: String, status: Status },
}

/// `worker_token.created`, `worker_token.revoked`: a person gave a remote worker a token, or took
/// it back. Never the secret, nor its hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkerTokenChanged {
    /// The token's id (`gaffer worker token list`).
    pub id: i64,
    pub name: String,
    /// The labels its worker claims with.
    pub labels: Vec<String>,
}
