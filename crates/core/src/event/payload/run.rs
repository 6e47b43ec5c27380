//! Payloads about runs and their checks: started, output, finished, lost, verify, scope, secrets.

use crate::ids::{JobId, ObjectId, RunId};
use crate::run::{RunStatus, Usage};
use crate::task::Role;
use serde::{Deserialize, Serialize};

/// `run.started`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunStarted {
    pub job: Option<JobId>,
    pub role: Role,
    pub tier: u32,
    pub agent: String,
    pub backend: String,
    pub model: String,
    pub worktree: String,
}

/// `run.output`: one normalized thing a run's agent said or did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunOutput {
    #[serde(flatten)]
    pub output: Output,
    /// `api` when the agent reported it through the HTTP API rather than its output.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub via: Option<String>,
}

impl From<Output> for RunOutput {
    fn from(output: Output) -> Self {
        RunOutput { output, via: None }
    }
}

/// What a run's agent said or did, tagged by `type`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Output {
    Text {
        text: String,
    },
    ToolCall {
        name: String,
        summary: String,
    },
    ToolResult {
        summary: String,
        is_error: bool,
    },
    /// A progress line.
    Status {
        text: String,
    },
    /// A question for a person.
    Question {
        text: String,
    },
    /// The agent cannot go on, and says why.
    Stuck {
        text: String,
    },
    /// A tool call the agent's CLI refused to carry out.
    Refused {
        tool: String,
        reason: String,
    },
    Usage {
        usage: Usage,
    },
}

/// `run.finished`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunFinished {
    pub status: RunStatus,
    pub outcome: Option<String>,
    #[serde(default)]
    pub usage: Usage,
    pub session_id: Option<String>,
    #[serde(default)]
    pub duration_ms: i64,
}

/// `run.lost`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunLost {
    pub reason: String,
}

/// `run.heard`: the run's agent took a person's message into its conversation while it ran.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunHeard {
    /// The `task.said` event of the message.
    pub said: i64,
    /// The message, as the person wrote it.
    pub text: String,
}

/// Which tree a verify run checks: a task's branch, a merge candidate, or one attempt of a
/// best-of task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VerifyOf {
    Branch,
    Candidate,
    Attempt,
}

impl VerifyOf {
    pub fn as_str(self) -> &'static str {
        match self {
            VerifyOf::Branch => "branch",
            VerifyOf::Candidate => "candidate",
            VerifyOf::Attempt => "attempt",
        }
    }
}

impl From<crate::machine::VerifyPurpose> for VerifyOf {
    fn from(purpose: crate::machine::VerifyPurpose) -> Self {
        match purpose {
            crate::machine::VerifyPurpose::Branch => VerifyOf::Branch,
            crate::machine::VerifyPurpose::Candidate => VerifyOf::Candidate,
        }
    }
}

/// `verify.started`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VerifyStarted {
    pub commit: ObjectId,
    pub purpose: VerifyOf,
    pub command: String,
    /// Candidates: whether this is the second run on a tree that failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recheck: Option<bool>,
    /// Attempts: which one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slot: Option<u32>,
}

/// `verify.finished`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VerifyFinished {
    pub commit: ObjectId,
    pub tree: ObjectId,
    pub purpose: VerifyOf,
    pub passed: bool,
    pub exit_code: Option<i32>,
    #[serde(default)]
    pub timed_out: bool,
    pub duration_ms: u64,
    /// The end of the command's output.
    #[serde(default)]
    pub tail: String,
    /// Attempts: which one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slot: Option<u32>,
    /// A failed verify: what its output says (the failing tests and the first lines of each),
    /// read once when it failed. Absent when it passed, and in events written before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<crate::failures::FailureSummary>,
}

/// `scope.outside`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScopeOutside {
    pub paths: Vec<String>,
    pub scope: Vec<String>,
    /// `reject` or `review`.
    pub enforce: String,
    pub run: RunId,
}

/// `secret.refused`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SecretRefused {
    /// Each `path:line: what`, or a commit whose message holds one; never the value.
    pub found: Vec<String>,
    pub run: RunId,
}
