//! What the crew's side paths keep in a task's state: a run that a budget held back until a
//! person lets it go, and the attempts of a best-of-N task.

use super::types::{Effect, RunReason, SessionMode};
use crate::ids::ObjectId;
use crate::task::{Risk, Role, Status};
use serde::{Deserialize, Serialize};

/// A run the machine asked for that has not started: the engine found the budget spent when
/// its job came to start it. Letting it go starts exactly this run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingRun {
    pub role: Role,
    pub tier: u32,
    pub session: SessionMode,
    pub reason: RunReason,
    #[serde(default)]
    pub feedback: Option<String>,
    /// The attempt of a best-of-N task it is for; `None`: the task's own run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slot: Option<u32>,
}

impl PendingRun {
    /// The effect that starts this run.
    pub fn effect(&self) -> Effect {
        match self.slot {
            Some(slot) => Effect::StartAttempt {
                slot,
                tier: self.tier,
            },
            None => Effect::StartRun {
                role: self.role,
                tier: self.tier,
                session: self.session,
                reason: self.reason,
                feedback: self.feedback.clone(),
            },
        }
    }

    /// The first attempt of slot `slot` of a best-of-N task.
    pub fn attempt(slot: u32, tier: u32) -> PendingRun {
        PendingRun {
            role: Role::Coder,
            tier,
            session: SessionMode::Fresh,
            reason: RunReason::Start,
            feedback: None,
            slot: Some(slot),
        }
    }
}

/// A task that waits for a person because a budget is spent: where it was and the run that did
/// not start.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Held {
    /// The status it goes back to.
    pub status: Status,
    pub run: PendingRun,
}

/// One of the N attempts of a best-of-N task, each by its own coder in its own worktree and
/// branch (`<branch>-c<slot>`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attempt {
    /// 1-based.
    pub slot: u32,
    pub status: AttemptStatus,
    /// The commit its coder produced.
    #[serde(default)]
    pub head: Option<ObjectId>,
    /// The tree that passed verify.
    #[serde(default)]
    pub tree: Option<ObjectId>,
    /// What path rules say about its change.
    #[serde(default)]
    pub risk: Option<Risk>,
    /// Why it failed.
    #[serde(default)]
    pub note: Option<String>,
}

impl Attempt {
    pub fn new(slot: u32) -> Attempt {
        Attempt {
            slot,
            status: AttemptStatus::Coding,
            head: None,
            tree: None,
            risk: None,
            note: None,
        }
    }

    /// Its coder or its verify is still at work.
    pub fn is_open(&self) -> bool {
        matches!(
            self.status,
            AttemptStatus::Coding | AttemptStatus::Verifying
        )
    }
}

/// Where an attempt stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttemptStatus {
    /// Its coder runs.
    Coding,
    /// Its commit is being verified.
    Verifying,
    /// Its commit passed verify: it goes to the reviewer, who picks one.
    Passed,
    /// It produced nothing that passed (no change, failed run, failed verify).
    Failed,
}

impl AttemptStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            AttemptStatus::Coding => "coding",
            AttemptStatus::Verifying => "verifying",
            AttemptStatus::Passed => "passed",
            AttemptStatus::Failed => "failed",
        }
    }
}
