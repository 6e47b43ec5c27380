//! Projects and tasks: the board's nouns.

use crate::ids::{ProjectId, TaskId};
use crate::machine::TaskState;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A git repository plus its `gaffer.toml`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Project {
    pub id: ProjectId,
    pub name: String,
    /// The repository's top-level directory.
    pub root: String,
    /// The branch work lands on.
    pub target: String,
    pub created_ms: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum TaskKind {
    #[default]
    Task,
    Epic,
    Question,
    Proposal,
}

/// How much can go wrong if a change is bad; at or above the configured level a person approves.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
#[serde(rename_all = "snake_case")]
pub enum Risk {
    #[default]
    Low,
    Medium,
    High,
    Critical,
}

/// Higher runs first.
pub type Priority = i32;

/// The role an agent plays in one run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Planner,
    PlanReviewer,
    Coder,
    Reviewer,
    Resolver,
}

/// Where a task is in the pipeline (DESIGN §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Waiting for its dependencies (or not yet looked at by the scheduler).
    Backlog,
    /// Dependencies merged; waits for a free slot and a free write scope.
    Ready,
    Planning,
    PlanReview,
    /// An epic whose approved plan became child tasks; it waits on them.
    Delegated,
    Coding,
    Verifying,
    Reviewing,
    /// At or above the approval risk level, or out of review rounds: a person decides.
    AwaitingApproval,
    /// Verified and reviewed; waits its turn to land.
    Queued,
    Merging,
    Merged,
    /// A question to a person; the task goes back where it was once answered.
    NeedsInput,
    /// Retries exhausted; a person may retry.
    Failed,
    Cancelled,
    /// A person has it in hand (`gaffer attach`): no engine work touches it until they hand it
    /// back (`gaffer release`).
    Attached,
}

impl Status {
    pub const ALL: [Status; 16] = [
        Status::Backlog,
        Status::Ready,
        Status::Planning,
        Status::PlanReview,
        Status::Delegated,
        Status::Coding,
        Status::Verifying,
        Status::Reviewing,
        Status::AwaitingApproval,
        Status::Queued,
        Status::Merging,
        Status::Merged,
        Status::NeedsInput,
        Status::Failed,
        Status::Cancelled,
        Status::Attached,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Backlog => "backlog",
            Status::Ready => "ready",
            Status::Planning => "planning",
            Status::PlanReview => "plan_review",
            Status::Delegated => "delegated",
            Status::Coding => "coding",
            Status::Verifying => "verifying",
            Status::Reviewing => "reviewing",
            Status::AwaitingApproval => "awaiting_approval",
            Status::Queued => "queued",
            Status::Merging => "merging",
            Status::Merged => "merged",
            Status::NeedsInput => "needs_input",
            Status::Failed => "failed",
            Status::Cancelled => "cancelled",
            Status::Attached => "attached",
        }
    }

    /// Nothing more will happen without a person (`Failed` can be retried by one).
    pub fn is_terminal(self) -> bool {
        matches!(self, Status::Merged | Status::Failed | Status::Cancelled)
    }

    /// Waits on a person's answer or approval, or on a person who has it in hand.
    pub fn waits_on_person(self) -> bool {
        matches!(
            self,
            Status::NeedsInput | Status::AwaitingApproval | Status::Attached
        )
    }

    /// Waits on other tasks (dependencies, children, a slot).
    pub fn waits_on_dependency(self) -> bool {
        matches!(self, Status::Backlog | Status::Ready | Status::Delegated)
    }

    /// An agent, verify or merge is (or should be) working on it: it holds its write scope.
    pub fn is_in_flight(self) -> bool {
        matches!(
            self,
            Status::Planning
                | Status::PlanReview
                | Status::Coding
                | Status::Verifying
                | Status::Reviewing
                | Status::AwaitingApproval
                | Status::Queued
                | Status::Merging
                | Status::NeedsInput
                | Status::Attached
        )
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Status {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Status::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| format!("unknown status `{s}`"))
    }
}

macro_rules! str_enum {
    ($ty:ty { $($variant:ident => $text:literal),* $(,)? }) => {
        impl $ty {
            pub fn as_str(self) -> &'static str {
                match self { $(<$ty>::$variant => $text),* }
            }
        }
        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
        impl FromStr for $ty {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($text => Ok(<$ty>::$variant),)*
                    _ => Err(format!(concat!("unknown ", stringify!($ty), " `{}` (expected one of: ", $($text, " ",)* ")"), s)),
                }
            }
        }
    };
}

str_enum!(TaskKind { Task => "task", Epic => "epic", Question => "question", Proposal => "proposal" });
str_enum!(Risk { Low => "low", Medium => "medium", High => "high", Critical => "critical" });
str_enum!(Role {
    Planner => "planner",
    PlanReviewer => "plan_reviewer",
    Coder => "coder",
    Reviewer => "reviewer",
    Resolver => "resolver",
});

/// What a person (or a planner) says when adding a task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct NewTask {
    pub title: String,
    pub body: String,
    pub kind: TaskKind,
    pub priority: Priority,
    pub labels: Vec<String>,
    pub parent: Option<TaskId>,
    pub blocked_by: Vec<TaskId>,
    pub write_scope: Vec<String>,
    pub read_scope: Vec<String>,
    pub risk: Risk,
    /// Index into the coder tier ladder to start at.
    pub tier: u32,
    pub budget_usd: Option<f64>,
    /// Plan before coding (always true for epics).
    pub plan: bool,
    /// Best-of-N: this many coders attempt the task at once and the reviewer picks one (below
    /// 2: one coder).
    pub best_of: u32,
}

/// A task's label that names what a machine must have to work on it: `needs:gpu`
/// (`gaffer task add --needs gpu`). Its agent runs and verify go only to machines with the label.
pub const NEEDS_PREFIX: &str = "needs:";

/// The machine labels `labels` ask for (every `needs:<label>`), sorted, without repeats.
pub fn needs_of(labels: &[String]) -> Vec<String> {
    let mut needs: Vec<String> = labels
        .iter()
        .filter_map(|l| l.strip_prefix(NEEDS_PREFIX))
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect();
    needs.sort();
    needs.dedup();
    needs
}

/// A task as stored: what was asked plus where the machine has it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Task {
    pub id: TaskId,
    pub project: ProjectId,
    pub title: String,
    pub body: String,
    pub kind: TaskKind,
    pub priority: Priority,
    pub labels: Vec<String>,
    pub parent: Option<TaskId>,
    pub blocked_by: Vec<TaskId>,
    pub write_scope: Vec<String>,
    pub read_scope: Vec<String>,
    pub budget_usd: Option<f64>,
    /// `gaffer/<id>-<slug>`.
    pub branch: String,
    /// The structured plan a planner produced, when there is one.
    pub plan: Option<serde_json::Value>,
    pub state: TaskState,
    /// Optimistic-concurrency version: bumped by every state write.
    pub version: i64,
    pub created_ms: i64,
    pub updated_ms: i64,
}

impl Task {
    /// The machine labels this task needs (its `needs:` labels).
    pub fn needs(&self) -> Vec<String> {
        needs_of(&self.labels)
    }

    pub fn status(&self) -> Status {
        self.state.status
    }
}
