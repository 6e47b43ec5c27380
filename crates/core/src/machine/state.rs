//! The machine's state for one task, and the limits it works within.

use super::crew::{Attempt, Held};
use crate::ids::{ObjectId, TaskId};
use crate::task::{Risk, Role, Status};
use serde::{Deserialize, Serialize};

/// How a task flows through the pipeline; fixed when the task is created from the configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Flow {
    /// Plan before coding.
    pub plan: bool,
    /// Have the plan reviewed (when planning).
    pub plan_review: bool,
    /// Have the change reviewed after verify passes.
    pub review: bool,
    /// Risk at or above which a person approves before the change queues; `None`: never.
    pub approval_at: Option<Risk>,
    /// Best-of-N: this many coders attempt the task at once (below 2: one coder).
    pub best_of: u32,
    /// An idle survey: the planner looks at the code read-only and its plan's subtasks become
    /// proposals; the task ends once they are filed.
    pub survey: bool,
    /// The change is already on the task's branch, made by gaffer itself (a revert: `gaffer
    /// revert N`), and its head is set when the task is created: the first start verifies it
    /// instead of running a coder. From there on it is a change like any other (a failed verify
    /// goes to a coder with the output).
    pub prepared: bool,
}

impl Default for Flow {
    fn default() -> Self {
        Self {
            plan: false,
            plan_review: true,
            review: false,
            approval_at: Some(Risk::High),
            best_of: 0,
            survey: false,
            prepared: false,
        }
    }
}

/// Bounds on every loop of the pipeline. Every counter in [`TaskState`] stays within them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    /// Failed coding attempts (verify failures, runs without changes, failed runs) per tier
    /// before moving up the ladder.
    pub failures_per_tier: u32,
    /// Number of coder tiers (at least 1).
    pub tiers: u32,
    /// Requested-changes rounds before a person decides.
    pub review_rounds: u32,
    /// Rejected plans before the task fails.
    pub plan_rounds: u32,
    /// Conflicts with the target (each sends the branch to a resolver) before the task fails.
    pub merge_attempts: u32,
    /// A candidate whose tree the branch's own verify passed lands without a verify of its own
    /// (`[verify] skip_identical_candidates`: only when verify does not depend on its purpose).
    pub skip_identical_candidates: bool,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            failures_per_tier: 2,
            tiers: 1,
            review_rounds: 2,
            plan_rounds: 2,
            merge_attempts: 3,
            skip_identical_candidates: false,
        }
    }
}

impl Limits {
    /// Limits below 1 would make a loop that cannot run once; lift them.
    pub fn sanitized(mut self) -> Self {
        self.failures_per_tier = self.failures_per_tier.max(1);
        self.tiers = self.tiers.max(1);
        self.review_rounds = self.review_rounds.max(1);
        self.plan_rounds = self.plan_rounds.max(1);
        self.merge_attempts = self.merge_attempts.max(1);
        self
    }
}

/// A commit whose tree passed verify.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifiedTree {
    pub commit: ObjectId,
    pub tree: ObjectId,
}

/// Where a paused task goes back to once a person answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Paused {
    pub status: Status,
    pub role: Role,
}

/// Everything the machine knows about one task.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskState {
    pub status: Status,
    pub flow: Flow,
    /// Highest risk seen: from the task, its labels, the planner, and the paths it changed.
    pub risk: Risk,
    /// Current rung of the coder tier ladder (0-based, < `Limits::tiers`).
    pub tier: u32,
    /// Failed coding attempts in the current tier (< `Limits::failures_per_tier` while coding).
    pub failures: u32,
    /// Every failed attempt, for people.
    pub total_failures: u32,
    /// Coder and resolver runs started.
    pub code_runs: u32,
    pub review_rounds: u32,
    pub plan_rounds: u32,
    pub merge_attempts: u32,
    /// The branch head produced by the last coding run.
    pub head: Option<ObjectId>,
    /// The last commit that passed verify (branch or candidate).
    pub verified: Option<VerifiedTree>,
    /// The merge candidate being verified or landed (kept once merged: what landed, on what).
    pub candidate: Option<Candidate>,
    /// The task's place in the merge train while `merging`.
    #[serde(default)]
    pub queue: Option<QueueSlot>,
    /// What landed on the target.
    pub landed: Option<VerifiedTree>,
    /// Set while `needs_input`.
    pub paused: Option<Paused>,
    /// A person approved the current head.
    pub approved: bool,
    /// The question or reason shown to people while waiting or failed.
    pub note: Option<String>,
    /// Set while a budget holds the task in `awaiting_approval`: the run that did not start.
    #[serde(default)]
    pub held: Option<Held>,
    /// A person let one run go past the budget (`approve` of a held task); the next run to
    /// finish uses it up.
    #[serde(default)]
    pub budget_approved: bool,
    /// Best-of-N: the attempts, while they run and until one is picked.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attempts: Vec<Attempt>,
    /// An epic whose plan already became child tasks: a retry waits on them again instead of
    /// planning (and creating children) a second time.
    #[serde(default)]
    pub delegated: bool,
    /// Times a person started the task afresh (`retry --fresh`); its branch says the attempt.
    #[serde(default)]
    pub restarts: u32,
    /// Set by a fresh retry until the task starts: its first run is a [`RunReason::Restarted`]
    /// one, without the earlier attempts' handoff.
    ///
    /// [`RunReason::Restarted`]: super::RunReason::Restarted
    #[serde(default)]
    pub restarting: bool,
    /// A person's place for the task in the waiting line of the merge queue (`gaffer queue
    /// move`), set only while `queued`: placed tasks join the train before the others, in the
    /// order of their places.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub place: Option<WaitingPlace>,
}

/// Where a person put a `queued` task in the merge queue's waiting line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WaitingPlace {
    /// Lower joins first (1 is the head of the line).
    pub rank: u32,
    /// When the task entered the queue (ms since the epoch), kept for time-in-queue figures:
    /// writing the place moves the task's own last-written time.
    pub since_ms: i64,
}

/// A merge candidate: `commit` (with `tree`) is the task's branch applied on `onto`, which is the
/// landing tip for the first task of the merge train and the candidate of the task ahead for the
/// others. Landing it moves the target through every candidate ahead of it, so `tree` is exactly
/// what the target holds once this task has landed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Candidate {
    pub commit: ObjectId,
    pub tree: ObjectId,
    pub onto: ObjectId,
    /// Where its verification stands.
    #[serde(default)]
    pub status: CandidateStatus,
    /// It failed verify once and passed when the same tree ran again.
    #[serde(default)]
    pub flaky: bool,
    /// A batch: the tasks tested together as this one candidate (this task among them), in
    /// train order. `commit` is then one commit holding all their branches (a merge commit whose
    /// first parent is `onto` and whose other parents are the branches, or one squashed commit),
    /// and every member holds the same candidate; the last member (the lead) runs its verify and
    /// the others take its result. Empty for a candidate of one task.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub batch: Vec<TaskId>,
    /// In a batch: a commit whose change against its first parent is this task's own (the
    /// batch is built by merging its branches one after the other; this is the merge of this
    /// task's branch, whose first parent is the merge of the ones before it). Reverting the task
    /// alone undoes exactly that. Each task of a batch has its own; `None` otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub change: Option<ObjectId>,
}

impl Candidate {
    /// The tree passed verify exactly as it would land.
    pub fn passed(&self) -> bool {
        self.status == CandidateStatus::Passed
    }
}

/// Verification of a merge candidate. A failure is only blamed on the branch once the same tree
/// has failed twice (a flaky verify passes the second time) and every candidate ahead passed;
/// the queue decides that, the machine only records the results.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum CandidateStatus {
    /// Verify is queued or running.
    #[default]
    Pending,
    /// The tree passed verify (or is the tree the branch itself passed with).
    Passed,
    /// Failed once; not blamed on anyone yet.
    Failed { summary: String },
    /// Failed once and runs again on the same tree.
    Rechecking { summary: String },
    /// Failed twice in a row on the same tree.
    FailedTwice { summary: String },
}

impl CandidateStatus {
    pub fn as_str(&self) -> &'static str {
        match self {
            CandidateStatus::Pending => "pending",
            CandidateStatus::Passed => "passed",
            CandidateStatus::Failed { .. } => "failed",
            CandidateStatus::Rechecking { .. } => "rechecking",
            CandidateStatus::FailedTwice { .. } => "failed_twice",
        }
    }
}

/// A task's place in the merge train.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueSlot {
    /// Lower lands first; fixed when the task joins the train.
    pub position: u64,
    /// When the task entered the queue (ms since the epoch), for time-in-queue figures.
    #[serde(default)]
    pub since_ms: i64,
    /// Set while the branch conflicts with the branches ahead of it in the train but not with the
    /// target itself: the base it conflicted with. It waits until that base changes (the branch
    /// ahead landed or left) instead of going to a resolver for a conflict that may never land.
    #[serde(default)]
    pub parked_on: Option<ObjectId>,
    /// Set while the task is a suspect of a batch that failed verify (the batch's candidate
    /// commit names the group): the queue tests the group's remaining tasks in halves
    /// (bisection) until the guilty branch is found, instead of batching them with others.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suspect: Option<ObjectId>,
    /// With `suspect`: every task of the failed batch (this one among them), in train order.
    /// The bisection can conclude only while each of them is still a suspect or has landed; one
    /// that left otherwise (cancelled, sent to a resolver, cleared) may have been the guilty
    /// one, and the queue clears the rest.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub group: Vec<TaskId>,
}

impl TaskState {
    /// Its attempts as people read them, the same everywhere: `2 coding runs, 1 attempt sent
    /// back, tier 0`. An attempt is sent back when its verify failed, it changed nothing, or its
    /// run failed: its run may still have succeeded.
    pub fn attempts_summary(&self) -> String {
        let plural =
            |n: u32, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
        format!(
            "{}, {} sent back, tier {}",
            plural(self.code_runs, "coding run", "coding runs"),
            plural(self.total_failures, "attempt", "attempts"),
            self.tier
        )
    }

    /// A new task in the backlog.
    pub fn new(flow: Flow, risk: Risk, tier: u32) -> Self {
        Self {
            status: Status::Backlog,
            flow,
            risk,
            tier,
            failures: 0,
            total_failures: 0,
            code_runs: 0,
            review_rounds: 0,
            plan_rounds: 0,
            merge_attempts: 0,
            head: None,
            verified: None,
            candidate: None,
            queue: None,
            landed: None,
            paused: None,
            approved: false,
            note: None,
            held: None,
            budget_approved: false,
            attempts: Vec::new(),
            delegated: false,
            restarts: 0,
            restarting: false,
            place: None,
        }
    }

    /// True when the approval gate applies to this task now.
    pub fn needs_approval(&self) -> bool {
        !self.approved && self.flow.approval_at.is_some_and(|at| self.risk >= at)
    }
}
