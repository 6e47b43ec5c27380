//! The normalized run: what goes in, what comes out.

use crate::confinement::Confinement;
use gaffer_core::{Role, Usage};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::time::Duration;
use tokio::sync::mpsc;

/// Everything a backend needs to start one run.
#[derive(Debug, Clone)]
pub struct RunRequest {
    pub role: Role,
    /// The task prompt, including any feedback (failing verify output, findings, an answer).
    pub prompt: String,
    pub system_prompt: String,
    pub worktree: PathBuf,
    pub model: String,
    /// Continue this session instead of starting a new one.
    pub resume_session: Option<String>,
    /// Extra environment for the agent process.
    pub env: Vec<(String, String)>,
    pub max_wall: Duration,
    /// A marker that selects a script entry deterministically (the task's title and id).
    pub script_key: String,
    /// How many runs of this role this task has had before (0 for the first).
    pub attempt: u32,
    /// A directory this agent may keep data in across runs of the project (an isolated CLI
    /// config or home, saved conversations for resume). Created by the engine. Shared by every
    /// run of the agent: nothing that belongs to one run alone may be written here.
    pub data_dir: PathBuf,
    /// This run's own directory: prompt files, raw logs, temporary files. No other run (of this
    /// agent or any other) uses it, so concurrent runs never see each other's files. Created by
    /// the backend when missing.
    pub run_dir: PathBuf,
    /// The environment and sandbox every process of the run starts in (see [`Confinement`]).
    pub confine: Confinement,
}

/// One normalized event of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum AgentEvent {
    Started {
        model: String,
        session_id: Option<String>,
    },
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
    /// A `STATUS:` progress line.
    Status {
        text: String,
    },
    /// A question for a person; the run ends waiting for the answer.
    Question {
        text: String,
    },
    /// A `STUCK:` line: the agent cannot go on and says why. The engine ends the run as failed
    /// with this reason (retried or escalated like any failed attempt).
    Stuck {
        text: String,
    },
    /// A tool call the agent's CLI refused to carry out (a permission it was not given, a
    /// sandbox that denied it): the agent asked, nothing happened.
    Refused {
        tool: String,
        reason: String,
    },
    Usage {
        usage: Usage,
    },
    /// The agent took a message sent to the run's [`crate::Inbox`] into its conversation (at
    /// its next turn); `text` is the message as it was sent.
    Heard {
        text: String,
    },
    Finished {
        outcome: Outcome,
    },
}

/// How a run ended, as the backend saw it. The engine checks the claims.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Outcome {
    pub success: bool,
    pub turns: u32,
    pub usage: Usage,
    pub session_id: Option<String>,
    /// The error, when not successful.
    pub error: Option<String>,
    /// The agent's last message (summary, handoff, or structured output).
    pub final_text: String,
    /// The agent's earlier final answers, oldest first, when it answered more than once: a
    /// message it heard after its last answer began made it answer again (the engine may keep
    /// an earlier one when only that one has the form its role asks for).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub earlier_answers: Vec<String>,
}

/// A started run. The stream ends with `Finished`; dropping the handle does not stop the run,
/// cancelling its token does.
pub struct RunHandle {
    pub events: mpsc::Receiver<AgentEvent>,
    /// The process running the agent, when it is one (for crash recovery).
    pub process: Option<gaffer_proc::ProcessIdentity>,
    /// Where a person's message goes while the run goes on, when the backend can give it to
    /// the agent at its next turn; `None` when it cannot (the engine then stops the run and
    /// resumes its session with the message).
    pub inbox: Option<crate::Inbox>,
}
