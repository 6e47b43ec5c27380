//! Runs: one agent, one task, one role.

use crate::ids::{JobId, RunId, TaskId};
use crate::task::Role;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    Running,
    Succeeded,
    Failed,
    /// Its process disappeared (the daemon was killed); the job was handed out again.
    Lost,
    Cancelled,
}

impl RunStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Running => "running",
            RunStatus::Succeeded => "succeeded",
            RunStatus::Failed => "failed",
            RunStatus::Lost => "lost",
            RunStatus::Cancelled => "cancelled",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        [
            RunStatus::Running,
            RunStatus::Succeeded,
            RunStatus::Failed,
            RunStatus::Lost,
            RunStatus::Cancelled,
        ]
        .into_iter()
        .find(|r| r.as_str() == s)
    }
}

/// Tokens and money, as reported by the agent or priced from the configuration.
///
/// `input_tokens` counts input that was not served from a cache; `cached_tokens` counts cached
/// input separately (backends whose provider folds cached tokens into its input count subtract
/// them), so that prices apply to each exactly once.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Usage {
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cached_tokens: u64,
    pub cost_usd: f64,
}

impl Usage {
    pub fn add(&mut self, other: &Usage) {
        self.input_tokens += other.input_tokens;
        self.output_tokens += other.output_tokens;
        self.cached_tokens += other.cached_tokens;
        self.cost_usd += other.cost_usd;
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewRun {
    pub task: TaskId,
    pub job: Option<JobId>,
    pub role: Role,
    pub tier: u32,
    pub agent: String,
    pub backend: String,
    pub model: String,
    pub worktree: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Run {
    pub id: RunId,
    pub task: TaskId,
    pub job: Option<JobId>,
    pub role: Role,
    pub tier: u32,
    pub agent: String,
    pub backend: String,
    pub model: String,
    pub worktree: String,
    pub session_id: Option<String>,
    pub status: RunStatus,
    pub outcome: Option<String>,
    pub usage: Usage,
    pub started_ms: i64,
    pub ended_ms: Option<i64>,
}
