//! Payloads about tasks: created, status, notices, edits, proposals, budgets, surveys, best-of.

use crate::ids::{ObjectId, RunId, TaskId};
use crate::machine::Notice;
use crate::task::{Priority, Risk, Status, TaskKind};
use serde::{Deserialize, Serialize};

/// `task.created`: the task as it was filed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskCreated {
    pub title: String,
    #[serde(default)]
    pub kind: TaskKind,
    #[serde(default)]
    pub priority: Priority,
    pub parent: Option<TaskId>,
    #[serde(default)]
    pub blocked_by: Vec<TaskId>,
    pub status: Status,
}

/// `task.status`: the machine moved the task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskStatus {
    pub from: Status,
    pub to: Status,
    /// The input's name (`start`, `verify_finished`, `cancel`, ...).
    pub input: String,
    pub note: Option<String>,
    #[serde(default)]
    pub tier: u32,
}

/// `task.notice`: one of four shapes, told apart by their fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum TaskNotice {
    /// `{notice, ...}`: the machine asks for a person's attention (and a notification).
    Notice(Notice),
    /// `{by, action}`: a person acted on the task.
    Person { by: String, action: String },
    /// `{ignored, why}`: a job's result came when the task no longer took it.
    Ignored { ignored: String, why: String },
    /// `{job, kind, failed}` (project): a job of the project (a landing) failed.
    JobFailed {
        job: crate::ids::JobId,
        kind: String,
        failed: String,
    },
}

impl Notice {
    /// Its `notice` tag: `needs_input`, `merged`, ...
    pub fn name(&self) -> &'static str {
        match self {
            Notice::NeedsInput { .. } => "needs_input",
            Notice::NeedsApproval { .. } => "needs_approval",
            Notice::Escalated { .. } => "escalated",
            Notice::Merged => "merged",
            Notice::Failed { .. } => "failed",
            Notice::Cancelled { .. } => "cancelled",
            Notice::BudgetStop { .. } => "budget_stop",
        }
    }

    /// The question, reason or tier it carries.
    pub fn detail(&self) -> Option<String> {
        match self {
            Notice::NeedsInput { question } => Some(question.clone()),
            Notice::NeedsApproval { reason }
            | Notice::Failed { reason }
            | Notice::Cancelled { reason }
            | Notice::BudgetStop { reason } => Some(reason.clone()),
            Notice::Escalated { tier } => Some(format!("tier {tier}")),
            Notice::Merged => None,
        }
    }
}

/// `task.edited`: which fields a person changed, and each new value (only those changed).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TaskEdited {
    pub changed: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<Priority>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub risk: Option<Risk>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<TaskKind>,
    /// `Some(None)`: the task's own budget was removed.
    #[serde(
        default,
        deserialize_with = "super::double_option",
        skip_serializing_if = "Option::is_none"
    )]
    pub budget_usd: Option<Option<f64>>,
    /// The tasks it now depends on (all of them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blocked_by: Option<Vec<TaskId>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub write_scope: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_scope: Option<Vec<String>>,
}

/// `task.revert`: a person had a merged task reverted (`gaffer revert N`). Written on both
/// tasks: the one reverted and the new one that carries the revert through verify and the
/// merge queue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskRevert {
    /// The merged task whose change is undone.
    pub reverts: TaskId,
    /// The task that lands the revert.
    pub revert_task: TaskId,
    /// What `reverts` landed (its commit on the target), which the revert undoes.
    pub landed: ObjectId,
    /// The revert commit, on the new task's branch.
    pub commit: ObjectId,
    /// The landing tip it was made on.
    pub onto: ObjectId,
    /// Who asked: `cli`, `shell`, `mcp`, `dashboard`, `api`.
    pub by: String,
}

/// `task.said`: a person's message to the task's agent (`gaffer say`), as they wrote it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskSaid {
    /// The surface it came through: `cli`, `shell`, `mcp`, `dashboard`, `api`.
    pub by: String,
    pub text: String,
}

/// `task.proposed` (on the task the proposer worked on).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskProposed {
    /// The new proposal's id.
    pub proposal: TaskId,
    pub title: String,
    pub proposed_by: ProposedBy,
    /// `api` when it came through the HTTP API rather than from a run's answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub via: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProposedBy {
    pub agent: Option<String>,
    pub run: Option<RunId>,
    pub task: TaskId,
}

/// `proposal.accepted`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProposalAccepted {
    pub by: String,
}

/// `idle.survey`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IdleSurvey {
    pub detail: String,
    pub budget_left_usd: Option<f64>,
}

/// `best_of.settled`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BestOfSettled {
    /// The slot adopted, if any passed.
    pub kept: Option<u32>,
    pub kept_attempt: Option<AttemptCost>,
    pub branch: String,
    /// The commit the task's branch was made at, when settling made it.
    pub branch_made_at: Option<String>,
    pub worktree: String,
    pub discarded: Vec<AttemptCost>,
    pub discarded_cost_usd: f64,
}

/// What one attempt of a best-of task cost.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttemptCost {
    pub slot: u32,
    pub branch: String,
    pub agents: Vec<String>,
    pub runs: usize,
    pub cost_usd: f64,
}

/// `budget.day_stop` (project).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BudgetDayStop {
    pub reason: String,
    pub limit_usd: Option<f64>,
    pub detail: String,
    /// Ready tasks that wait for it.
    pub waiting: Vec<TaskId>,
}

/// `budget.day_resumed` (project).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BudgetDayResumed {
    pub detail: String,
}

/// `budget.released`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BudgetReleased {
    /// Who let it go: `engine` when the budgets allowed it again, else the person.
    pub by: String,
    pub spent_usd: f64,
    pub budget_usd: Option<f64>,
    pub detail: String,
}
