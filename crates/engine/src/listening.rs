//! The agent runs going on in this process that take a person's message at their next turn
//! (their backend gave the run an [`Inbox`]: Claude Code, scripted agents that listen).
//!
//! When a person says something to a task (`task.said`), the engine hands the message to such a
//! run instead of stopping it ([`Listening::deliver`]); a run without an inbox, or whose inbox is
//! closed (its last turn ended), is stopped and resumed with the message as before
//! (`crate::said`). The backend tells when the agent took the message into its conversation:
//! that is recorded as `run.heard` ([`Listening::heard`]), and the task's next run does not
//! carry it again. A message handed over and never heard (the run ended first) was not
//! delivered: the run ends as stopped, so that the next run resumes its session with it
//! ([`Listening::unheard`]).

use crate::board::Board;
use crate::error::Result;
use gaffer_agents::Inbox;
use gaffer_core::{JobId, Seq, TaskId};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// The runs that take messages, by job.
#[derive(Debug, Default)]
pub(crate) struct Listening {
    runs: Mutex<HashMap<JobId, Listener>>,
}

#[derive(Debug)]
struct Listener {
    task: TaskId,
    inbox: Inbox,
    /// Messages said after this were handed over (or are to be).
    since: Seq,
    sent: Vec<Sent>,
}

/// A message handed to a run.
#[derive(Debug, Clone)]
struct Sent {
    /// The `task.said` event.
    seq: Seq,
    /// As the person wrote it.
    said: String,
    /// As the run was given it (the backend's `Heard` names it so).
    given: String,
    heard: bool,
}

/// A message a run's agent heard.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct HeardMessage {
    pub seq: Seq,
    pub text: String,
}

/// Keeps a run in [`Listening`] while it lives; dropping it takes the run out.
pub(crate) struct Listen {
    listening: Arc<Listening>,
    job: JobId,
}

impl Drop for Listen {
    fn drop(&mut self) {
        if let Ok(mut runs) = self.listening.runs.lock() {
            runs.remove(&self.job);
        }
    }
}

impl Listening {
    /// Job `job`'s run of `task` takes messages through `inbox`; what people said after `since`
    /// (where the run started: what came before is in its prompt) is handed to it.
    pub(crate) fn listen(
        self: &Arc<Self>,
        job: JobId,
        task: TaskId,
        inbox: Inbox,
        since: Seq,
    ) -> Listen {
        if let Ok(mut runs) = self.runs.lock() {
            runs.insert(
                job,
                Listener {
                    task,
                    inbox,
                    since,
                    sent: Vec::new(),
                },
            );
        }
        Listen {
            listening: Arc::clone(self),
            job,
        }
    }

    /// Hands what people said to `task` and no run of it was given yet to its runs that take
    /// messages. Returns the jobs whose run took every such message: the others (no inbox, or
    /// a closed one) must be stopped to hear them.
    pub(crate) fn deliver(&self, board: &Board, task: TaskId) -> Result<Vec<JobId>> {
        let Ok(mut runs) = self.runs.lock() else {
            return Ok(Vec::new());
        };
        if !runs.values().any(|l| l.task == task) {
            return Ok(Vec::new());
        }
        // Read under the lock: two deliveries at once must not hand a message twice.
        let said = crate::said::said_to(board, task)?;
        let mut took = Vec::new();
        for (job, listener) in runs.iter_mut().filter(|(_, l)| l.task == task) {
            let mut all = true;
            let since = listener.since;
            for message in said.iter().filter(|m| m.seq > since) {
                let given = crate::prompts::said_now(&message.text);
                if listener.inbox.send(&given).is_err() {
                    all = false;
                    break;
                }
                listener.since = message.seq;
                listener.sent.push(Sent {
                    seq: message.seq,
                    said: message.text.clone(),
                    given,
                    heard: false,
                });
            }
            if all {
                took.push(*job);
            }
        }
        Ok(took)
    }

    /// Job `job`'s agent heard `given` (as the run was given it): the message, the first
    /// time; `None` for anything else (the run's own prompt, a message heard already).
    pub(crate) fn heard(&self, job: JobId, given: &str) -> Option<HeardMessage> {
        let mut runs = self.runs.lock().ok()?;
        let sent = runs
            .get_mut(&job)?
            .sent
            .iter_mut()
            .find(|s| !s.heard && s.given == given)?;
        sent.heard = true;
        Some(HeardMessage {
            seq: sent.seq,
            text: sent.said.clone(),
        })
    }

    /// How many messages job `job`'s run was handed and did not hear.
    pub(crate) fn unheard(&self, job: JobId) -> usize {
        self.runs
            .lock()
            .ok()
            .and_then(|runs| {
                runs.get(&job)
                    .map(|l| l.sent.iter().filter(|s| !s.heard).count())
            })
            .unwrap_or(0)
    }
}
