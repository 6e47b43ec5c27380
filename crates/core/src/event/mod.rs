//! The append-only event log: the only source of truth for history (DESIGN §3).

mod kinds;
pub mod payload;
#[cfg(test)]
mod tests;
pub mod text;

pub use kinds::{Payload, event_kind};
pub use text::{describe, sentence};

use crate::ids::{ProjectId, RunId, Seq, TaskId};
use serde::{Deserialize, Serialize};

/// An event as stored, with its place in the log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub seq: Seq,
    pub at_ms: i64,
    pub project: Option<ProjectId>,
    pub task: Option<TaskId>,
    pub run: Option<RunId>,
    pub kind: String,
    pub data: serde_json::Value,
}

impl Event {
    /// The data, typed by the kind; [`Payload::Unknown`] for a kind this version does not know,
    /// an error when a known kind's data does not have its shape.
    pub fn payload(&self) -> Result<Payload, serde_json::Error> {
        Payload::parse(&self.kind, &self.data)
    }
}

/// An event to append; the store assigns its sequence number and time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewEvent {
    pub project: Option<ProjectId>,
    pub task: Option<TaskId>,
    pub run: Option<RunId>,
    pub kind: String,
    pub data: serde_json::Value,
}

impl NewEvent {
    pub fn new(kind: &str, data: serde_json::Value) -> Self {
        Self {
            project: None,
            task: None,
            run: None,
            kind: kind.to_string(),
            data,
        }
    }
    /// An event of `payload`'s kind, with its data as stored.
    pub fn of(payload: impl Into<Payload>) -> Self {
        let payload = payload.into();
        Self::new(payload.kind(), payload.data())
    }
    pub fn project(mut self, p: ProjectId) -> Self {
        self.project = Some(p);
        self
    }
    pub fn task(mut self, t: TaskId) -> Self {
        self.task = Some(t);
        self
    }
    pub fn run(mut self, r: RunId) -> Self {
        self.run = Some(r);
        self
    }
}
