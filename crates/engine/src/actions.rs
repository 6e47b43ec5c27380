//! Every action a person takes on a task, carried out in one place: the server's routes, the
//! CLI (with or without a daemon), the interactive shell and the MCP tools all come here,
//! directly or through the API. Input checks (blank texts, budgets) and the notice that records
//! who acted happen here once.

use crate::board::Board;
use crate::error::{EngineError, Result};
use gaffer_api::{Action, DEFAULT_CANCEL_REASON};
use gaffer_core::{Effect, Input, Task, TaskId};

/// What an action did.
#[derive(Debug)]
pub struct Performed {
    /// The task as it is afterwards; for a revert, the new task that carries it.
    pub task: Task,
    /// The task's running work must stop (a cancel, or an input the machine answered so):
    /// whoever runs the engine stops it.
    pub cancels_jobs: bool,
    /// A person said something to the task's agent: whoever runs the engine gives it to the
    /// task's agent runs going on there, at their next turn or by stopping them without failing
    /// them (`EngineHandle::deliver_said`).
    pub delivers_said: bool,
    /// A person took the task over: where its worktree is and how to resume its agent.
    pub attached: Option<gaffer_api::Attached>,
}

impl Board {
    /// Carries out `action` on task `id` for `who` (`cli`, `api`, `shell`, `mcp`).
    pub fn perform(&self, id: TaskId, action: Action, who: &str) -> Result<Performed> {
        let mut delivers_said = false;
        let mut attached = None;
        let cancels_jobs = match action {
            Action::Cancel { reason } => {
                let reason = trimmed(reason).unwrap_or_else(|| DEFAULT_CANCEL_REASON.into());
                self.act(id, Input::Cancel { reason }, who)?;
                true
            }
            Action::Retry { fresh } => {
                let applied = self.act(id, Input::Retry { fresh }, who)?;
                if applied.effects.contains(&Effect::FreshBranch) {
                    self.set_old_attempt_aside(&applied.before);
                }
                applied.cancels_jobs()
            }
            Action::Approve => self.act(id, Input::Approve, who)?.cancels_jobs(),
            Action::Reject { reason, cancel } => {
                let reason = required(
                    reason,
                    "a rejection needs a reason",
                    "say what should change",
                )?;
                let input = Input::Reject { reason, cancel };
                self.act(id, input, who)?.cancels_jobs() || cancel
            }
            Action::Answer { text } => {
                let text = required(text, "an answer needs text", "write the answer")?;
                self.act(id, Input::Answer { text }, who)?.cancels_jobs()
            }
            Action::Accept => {
                self.accept(id, who)?;
                false
            }
            Action::Decline { reason } => {
                self.decline(id, reason.as_deref().unwrap_or(""), who)?;
                true
            }
            Action::Budget { usd } => {
                self.set_budget(id, usd, who)?;
                false
            }
            Action::Revert => {
                let task = self.revert(id, who)?;
                return Ok(Performed {
                    task,
                    cancels_jobs: false,
                    delivers_said: false,
                    attached: None,
                });
            }
            Action::Move { to } => {
                self.move_in_queue(id, to, who)?;
                false
            }
            Action::Say { text } => {
                self.say_to_agent(id, &text, who)?;
                delivers_said = true;
                false
            }
            Action::Attach => {
                attached = Some(self.attach(id, who)?);
                true
            }
            Action::Release => {
                self.release(id, who)?;
                false
            }
        };
        Ok(Performed {
            task: self.task(id)?,
            cancels_jobs,
            delivers_said,
            attached,
        })
    }
}

fn trimmed(text: Option<String>) -> Option<String> {
    text.map(|t| t.trim().to_string()).filter(|t| !t.is_empty())
}

fn required(text: String, message: &str, hint: &str) -> Result<String> {
    trimmed(Some(text)).ok_or_else(|| EngineError::InvalidInput {
        message: message.into(),
        hint: hint.into(),
    })
}
