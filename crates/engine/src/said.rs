//! What a person says to a task's agent (`gaffer say`), and which run hears it.
//!
//! A message is a `task.said` event on the task, nothing more: no state of the machine changes.
//! Delivery follows from the log. Each agent run, when it starts, carries the messages said
//! since the run it follows on started, first in its prompt ([`Heard::carried`]). When a
//! message comes while a run of the task goes on in this daemon, the run hears it at its next
//! turn when its backend can take messages then (`crate::listening`, recorded as `run.heard`);
//! otherwise the daemon stops that run (its job goes back to the queue, as on a shutdown: no
//! failed attempt) and the job's next run resumes the stopped run's session
//! ([`Heard::resumable`]) with the message. A run elsewhere (a remote worker, another daemon on
//! a shared board) hears it at the task's next run.
//!
//! "The run it follows on" is the last run of its line (an attempt's own worktree for best-of,
//! else the task's runs) whose conversation it continues or that ran to its end: a run that was
//! stopped and whose session is not resumed is passed over, so whatever it was given is given
//! again rather than lost. What the run it follows on heard at a turn is not given again. The
//! window ends where the new run started, so a message said a moment later is never lost
//! either: it reaches the new run, or goes to the one after.

use crate::board::Board;
use crate::error::{EngineError, Result};
use gaffer_core::payload::TaskSaid;
use gaffer_core::{
    Event, NewEvent, Payload, Role, Run, RunId, RunStatus, Seq, Status, TaskId, event_kind,
};
use gaffer_store::EventFilter;
use std::collections::HashMap;

/// The longest message a person may say (the prompt carries it whole).
const MAX_CHARS: usize = 20_000;

impl Board {
    /// Records `text` as said to task `id`'s agent by `who`. Refused for an empty message and
    /// for a task no agent will work on again (merged, cancelled, failed).
    pub fn say_to_agent(&self, id: TaskId, text: &str, who: &str) -> Result<()> {
        let text = text.trim();
        if text.is_empty() {
            return Err(EngineError::InvalidInput {
                message: "a message for the agent needs text".into(),
                hint: "say what the agent should know, e.g. `gaffer say 3 \"use the v2 API\"`"
                    .into(),
            });
        }
        if text.chars().count() > MAX_CHARS {
            return Err(EngineError::InvalidInput {
                message: format!("the message is longer than {MAX_CHARS} characters"),
                hint: "say it in fewer words, or put the details in a file of the repository"
                    .into(),
            });
        }
        let task = self.task(id)?;
        let status = task.status();
        if matches!(status, Status::Merged | Status::Cancelled | Status::Failed) {
            return Err(EngineError::Refused {
                message: format!("task {id} is {status}: no agent works on it any more"),
                hint: match status {
                    Status::Failed => format!(
                        "retry it first (`gaffer task retry {id}`), then say it; or add a new \
                         task"
                    ),
                    _ => "add a new task for what is left to do".into(),
                },
            });
        }
        self.store
            .append_events(&[NewEvent::of(Payload::TaskSaid(TaskSaid {
                by: who.to_string(),
                text: text.to_string(),
            }))
            .task(id)
            .project(task.project)])?;
        Ok(())
    }
}

/// A person's message as a run is given it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Message {
    pub seq: Seq,
    pub text: String,
}

/// What people said to `task`, oldest first.
pub(crate) fn said_to(board: &Board, task: TaskId) -> Result<Vec<Message>> {
    Ok(all_events(board, task, event_kind::TASK_SAID)?
        .into_iter()
        .filter_map(|event| match event.payload() {
            Ok(Payload::TaskSaid(p)) => Some(Message {
                seq: event.seq,
                text: p.text,
            }),
            _ => None,
        })
        .collect())
}

/// What people said to a task, where its runs started in the log, and which run heard which
/// message while it ran (`run.heard`, see `crate::listening`).
#[derive(Debug, Default)]
pub(crate) struct Heard {
    said: Vec<Message>,
    starts: HashMap<RunId, Seq>,
    /// (run, message) for every message a run heard at its next turn.
    heard: Vec<(RunId, Seq)>,
}

impl Heard {
    /// Reads the task's messages (and, when there are some, where its runs started and what
    /// they heard).
    pub(crate) fn load(board: &Board, task: TaskId) -> Result<Heard> {
        let said = said_to(board, task)?;
        if said.is_empty() {
            return Ok(Heard::default());
        }
        let starts = all_events(board, task, event_kind::RUN_STARTED)?
            .into_iter()
            .filter_map(|event| Some((event.run?, event.seq)))
            .collect();
        let heard = all_events(board, task, event_kind::RUN_HEARD)?
            .into_iter()
            .filter_map(|event| match event.payload() {
                Ok(Payload::RunHeard(p)) => Some((event.run?, Seq(p.said))),
                _ => None,
            })
            .collect();
        Ok(Heard {
            said,
            starts,
            heard,
        })
    }

    /// Where `run` started in the log (known once [`Heard::note_start`] or [`Heard::load`] saw
    /// its `run.started`).
    pub(crate) fn start(&self, run: RunId) -> Option<Seq> {
        self.starts.get(&run).copied()
    }

    /// The last message said to the task, if any.
    pub(crate) fn last_said(&self) -> Option<Seq> {
        self.said.last().map(|m| m.seq)
    }

    /// True when `run` heard message `seq` while it ran.
    fn heard_by(&self, run: &Run, seq: Seq) -> bool {
        self.heard.contains(&(run.id, seq))
    }

    /// Where `run` started in the log, once it is recorded (its `run.started` event).
    pub(crate) fn note_start(&mut self, board: &Board, run: RunId) -> Result<()> {
        let filter = EventFilter {
            run: Some(run),
            kind_prefix: Some(event_kind::RUN_STARTED.into()),
            ..EventFilter::default()
        };
        if let Some(event) = board.store.events_after(Seq(0), 1, &filter)?.first() {
            self.starts.insert(run, event.seq);
        }
        Ok(())
    }

    fn start_of(&self, run: &Run) -> Seq {
        self.starts.get(&run.id).copied().unwrap_or(Seq(0))
    }

    /// The session to go on in: the last run of the line was stopped (a person's message, a
    /// shutdown) while a message came for it, and is of the same role and agent.
    pub(crate) fn resumable(&self, line: &[&Run], role: Role, agent: &str) -> Option<String> {
        let last = line.last()?;
        let stopped = last.status == RunStatus::Cancelled && last.role == role;
        let heard = self
            .said
            .iter()
            .any(|m| m.seq > self.start_of(last) && !self.heard_by(last, m.seq));
        (stopped && heard && last.agent == agent)
            .then(|| last.session_id.clone())
            .flatten()
    }

    /// The messages a run carries: said after the run it follows on started (see the module's
    /// doc), up to where `run` itself started.
    pub(crate) fn carried(&self, line: &[&Run], resumed: Option<&str>, run: RunId) -> Vec<Message> {
        if self.said.is_empty() {
            return Vec::new();
        }
        let follows = line.iter().rev().find(|r| match r.status {
            RunStatus::Cancelled | RunStatus::Lost | RunStatus::Running => {
                resumed.is_some() && r.session_id.as_deref() == resumed
            }
            _ => true,
        });
        let from = follows.map_or(Seq(0), |r| self.start_of(r));
        let upto = self.starts.get(&run).copied().unwrap_or(Seq(i64::MAX));
        // What the run it follows on heard at a turn is in that conversation, or its work.
        self.said
            .iter()
            .filter(|m| m.seq > from && m.seq <= upto)
            .filter(|m| !follows.is_some_and(|r| self.heard_by(r, m.seq)))
            .cloned()
            .collect()
    }
}

/// Every event of `kind` on `task`, oldest first.
fn all_events(board: &Board, task: TaskId, kind: &str) -> Result<Vec<Event>> {
    let filter = EventFilter {
        task: Some(task),
        kind_prefix: Some(kind.to_string()),
        ..EventFilter::default()
    };
    let mut out: Vec<Event> = Vec::new();
    loop {
        let after = out.last().map_or(Seq(0), |e| e.seq);
        let page = board.store.events_after(after, 1000, &filter)?;
        let done = page.len() < 1000;
        // A prefix matches longer kinds too (`task.said` would match `task.saidx`).
        out.extend(page.into_iter().filter(|e| e.kind == kind));
        if done {
            return Ok(out);
        }
    }
}
