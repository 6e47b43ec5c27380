//! What `gaffer attach` answers: the engine's `Board::attach` returns it, `POST
//! /api/tasks/{id}/attach` serves it, the CLI, the shell, the dashboard and the MCP tool show it.

use gaffer_core::Task;
use serde::{Deserialize, Serialize};

/// A task a person has in hand: where to work on it, and how to go on with its agent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attached {
    /// The task as it is now (`attached`).
    pub task: Task,
    /// Its worktree (absolute path), on its branch: made if it did not exist.
    pub worktree: String,
    pub branch: String,
    /// How to resume the session of the task's last agent run interactively, when its agent
    /// has an interactive CLI and a session to resume.
    #[serde(default)]
    pub resume: Option<Resume>,
}

/// The command that resumes an agent's session by hand, in the worktree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resume {
    pub agent: String,
    pub backend: String,
    pub session: String,
    /// One line for a POSIX shell: the environment the runs had (where the CLI keeps its
    /// sessions, the endpoint), the program and its arguments. Never a key.
    pub command: String,
}
