//! Inputs the machine accepts, effects it asks for, and its errors.

use super::crew::PendingRun;
use crate::ids::ObjectId;
use crate::task::{Risk, Role, Status};
use serde::{Deserialize, Serialize};

/// Whether a run continues the agent's previous session or starts afresh.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionMode {
    Fresh,
    Resume,
}

/// Why a run is started; tells the engine which evidence to hand the agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunReason {
    /// First run for this step.
    Start,
    /// Verify failed; the feedback is the failing output.
    VerifyFailed,
    /// Moved up the tier ladder after repeated failures.
    Escalated,
    /// A reviewer requested changes; the feedback is the findings.
    ChangesRequested,
    /// A plan reviewer sent the plan back.
    PlanRejected,
    /// A person answered the agent's question.
    Answered,
    /// A person rejected the change at the approval gate.
    Rejected,
    /// The branch no longer applies on the target; resolve the conflict.
    Conflict,
    /// A person asked to try again after a failure.
    Retried,
    /// A person asked to start the task again from scratch (`retry --fresh`): a new branch from
    /// the target, no handoff from the attempts before.
    Restarted,
    /// Best-of-N: several attempts passed verify; the reviewer picks one.
    Pick,
    /// A person had the task in hand (`gaffer attach`) and gave it back without a change.
    HandedBack,
}

/// Which tree a verify run is checking.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VerifyPurpose {
    /// The task's branch head, right after coding.
    Branch,
    /// The merge candidate: exactly the tree that would land.
    Candidate,
}

/// What an agent run produced, as checked by the engine (not as claimed by the agent).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum RunResult {
    /// Planner: a structured plan with this many subtasks (0: do not split, just code it).
    Plan { subtasks: u32 },
    /// Plan reviewer's verdict.
    PlanVerdict { approved: bool, reasons: String },
    /// Coder or resolver: the branch has a new commit `head`. `risk` is what path and label
    /// rules say about the change.
    Code { head: ObjectId, risk: Option<Risk> },
    /// Coder or resolver finished without changing anything.
    NoChanges { summary: String },
    /// Reviewer's verdict on the diff.
    Review { approved: bool, findings: String },
    /// The agent asked a person something (tool call, `QUESTION:` line).
    Question { text: String },
    /// The run failed (provider error, crash, limits, stall).
    Failed { reason: String },
    /// Best-of-N: the reviewer picked attempt `slot` among those that passed verify, approving
    /// it or asking for changes to it.
    Pick {
        slot: u32,
        approved: bool,
        reasons: String,
    },
}

/// Everything that can happen to a task.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "input", rename_all = "snake_case")]
pub enum Input {
    /// Scheduler: dependencies merged; backlog → ready.
    Promote,
    /// Scheduler: a slot and the write scope are free; ready → planning or coding (or, for a
    /// prepared change, verifying).
    Start,
    /// A person gave a ready task a dependency that has not merged: ready → backlog, where it
    /// waits for it like any task.
    Demote,
    /// An agent run ended.
    RunFinished { role: Role, result: RunResult },
    /// Verify of `commit` ended. For a branch that passed, `conflicts` are the files in which it
    /// would conflict with the landing tip (predicted with `git merge-tree`, empty when it
    /// applies): a predicted conflict goes to a resolver at once instead of into the queue.
    VerifyFinished {
        commit: ObjectId,
        tree: ObjectId,
        passed: bool,
        summary: String,
        #[serde(default)]
        conflicts: Vec<String>,
    },
    /// An epic's children are all terminal.
    ChildrenSettled { all_merged: bool },
    /// Merge queue: the task joins the merge train at `position`; queued → merging. `since_ms`
    /// is when it entered the queue.
    BeginMerge { position: u64, since_ms: i64 },
    /// The candidate commit that would land: the branch applied on `onto` (the landing tip, or
    /// the candidate of the task ahead in the train).
    CandidateReady {
        commit: ObjectId,
        tree: ObjectId,
        onto: ObjectId,
    },
    /// The candidate of a batch: `commit` (with `tree`) holds the branches of every task of
    /// `batch` (this one among them, in train order) applied on `onto` at once. The `lead` (the
    /// last member) runs verify; the others take its result ([`Input::VerifyFinished`] of the
    /// same commit, given by the queue). `change` is this task's own change within the batch
    /// (see [`super::Candidate::change`]).
    BatchReady {
        commit: ObjectId,
        tree: ObjectId,
        onto: ObjectId,
        batch: Vec<crate::ids::TaskId>,
        lead: bool,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        change: Option<ObjectId>,
    },
    /// The batch the task was tested in failed verify with every candidate ahead passing: the
    /// guilty branch is among its tasks. The candidate is dropped and the task becomes a suspect
    /// of `group` (the failed batch's commit, which must be its candidate; or the group it is
    /// a suspect of already, when a bisection is taken up again after a crash): the queue tests
    /// the suspects in halves. `tasks` are the batch's tasks, in train order.
    Bisect {
        group: ObjectId,
        #[serde(default)]
        tasks: Vec<crate::ids::TaskId>,
    },
    /// The task is no longer a suspect: the guilty branch of its group was found elsewhere (or
    /// the half it was in is not known to hold one any more). Its candidate, if any, stays;
    /// `flaky` when every part of its group passed (the failure did not reproduce), which its
    /// candidate then records as it does a failure that passed when run again. `group` is the
    /// group it is cleared of: a task that became a suspect of another group meanwhile (a part
    /// of it bisected again, after a crash) is refused. Absent in inputs recorded before it
    /// was named: whatever group the task is a suspect of.
    Acquit {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        group: Option<ObjectId>,
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        flaky: bool,
    },
    /// The branch applies on the target but not on the branches ahead of it in the train
    /// (`onto`): it waits until they landed or left.
    Park { onto: ObjectId, files: Vec<String> },
    /// The branch does not apply on the target: a resolver merges the target into it.
    Conflict { files: Vec<String> },
    /// The candidate no longer builds on what is ahead of it (the target moved, or a task ahead
    /// left the train): drop it and build again, keeping the task's place.
    TargetMoved,
    /// The candidate failed verify once and every candidate ahead passed: run verify again on the
    /// same tree before blaming the branch (a pass means verify is flaky).
    Recheck,
    /// The candidate failed verify twice and every candidate ahead passed: the branch is what
    /// breaks the target. It leaves the queue and goes back to its coder with the evidence.
    Eject,
    /// A task it depends on left the train ahead of it: back to waiting in the queue.
    Requeue,
    /// A person put the waiting (`queued`) task at `rank` in the queue's waiting line;
    /// `since_ms` is when it entered the queue.
    Place { rank: u32, since_ms: i64 },
    /// The target ref now points at `commit` (or at a descendant made of the train behind it).
    Landed { commit: ObjectId, tree: ObjectId },
    /// A person answered the pending question.
    Answer { text: String },
    /// A person approved at the approval gate.
    Approve,
    /// A person rejected at the approval gate: back to the coder, or cancel.
    Reject { reason: String, cancel: bool },
    /// A person (or a dependency rule) cancels the task.
    Cancel { reason: String },
    /// A person retries a failed task: on its branch as it is, or (`fresh`) from scratch on a
    /// new branch from the target, from the bottom of the coder ladder, with a fresh session.
    Retry {
        #[serde(default)]
        fresh: bool,
    },
    /// The engine gave up on a step it could not complete (a job that kept losing its worker,
    /// a repository in a state it cannot work with); the task fails with the reason.
    Fail { reason: String },
    /// The engine did not start `run` because a budget is spent (`reason` says which): the
    /// task waits for a person, or, for an attempt of a best-of-N task, that attempt fails.
    Hold { reason: String, run: PendingRun },
    /// The budget allows the held run now (raised, or a new day): it starts.
    Release,
    /// Best-of-N: the coder of attempt `slot` finished.
    AttemptFinished { slot: u32, result: RunResult },
    /// Best-of-N: verify of attempt `slot`'s commit ended.
    AttemptVerified {
        slot: u32,
        commit: ObjectId,
        tree: ObjectId,
        passed: bool,
        summary: String,
    },
    /// A person takes the task over by hand: its running work stops and nothing of the engine
    /// starts for it until it is handed back.
    Attach,
    /// The person hands the task back: `head` is the branch with what they did (committed by
    /// the engine, with their own commits), `None` when the branch holds no change at all;
    /// `risk` is what path rules say about the change.
    HandBack {
        head: Option<ObjectId>,
        #[serde(default)]
        risk: Option<Risk>,
    },
}

impl Input {
    /// Short name for events and errors.
    pub fn name(&self) -> &'static str {
        match self {
            Input::Promote => "promote",
            Input::Start => "start",
            Input::Demote => "demote",
            Input::RunFinished { .. } => "run_finished",
            Input::VerifyFinished { .. } => "verify_finished",
            Input::ChildrenSettled { .. } => "children_settled",
            Input::BeginMerge { .. } => "begin_merge",
            Input::CandidateReady { .. } => "candidate_ready",
            Input::BatchReady { .. } => "batch_ready",
            Input::Bisect { .. } => "bisect",
            Input::Acquit { .. } => "acquit",
            Input::Park { .. } => "park",
            Input::Conflict { .. } => "conflict",
            Input::TargetMoved => "target_moved",
            Input::Recheck => "recheck",
            Input::Eject => "eject",
            Input::Requeue => "requeue",
            Input::Place { .. } => "place",
            Input::Landed { .. } => "landed",
            Input::Answer { .. } => "answer",
            Input::Approve => "approve",
            Input::Reject { .. } => "reject",
            Input::Cancel { .. } => "cancel",
            Input::Retry { .. } => "retry",
            Input::Fail { .. } => "fail",
            Input::Hold { .. } => "hold",
            Input::Release => "release",
            Input::AttemptFinished { .. } => "attempt_finished",
            Input::AttemptVerified { .. } => "attempt_verified",
            Input::Attach => "attach",
            Input::HandBack { .. } => "hand_back",
        }
    }
}

/// Something that deserves a person's attention (and a notification).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "notice", rename_all = "snake_case")]
pub enum Notice {
    NeedsInput {
        question: String,
    },
    NeedsApproval {
        reason: String,
    },
    Escalated {
        tier: u32,
    },
    Merged,
    Failed {
        reason: String,
    },
    Cancelled {
        reason: String,
    },
    /// A budget stopped new runs of the task; it waits for a person.
    BudgetStop {
        reason: String,
    },
}

/// What the machine asks the engine to do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "effect", rename_all = "snake_case")]
pub enum Effect {
    StartRun {
        role: Role,
        tier: u32,
        session: SessionMode,
        reason: RunReason,
        feedback: Option<String>,
    },
    Verify {
        commit: ObjectId,
        purpose: VerifyPurpose,
    },
    /// Turn the approved plan into child tasks (in the same transaction).
    CreateChildren,
    /// Stop whatever is running or queued for the task.
    CancelJobs,
    /// The task starts afresh (`retry --fresh`): it works on a new branch, made from the target
    /// when first used; the old branch keeps the earlier attempts' commits and its worktree goes.
    FreshBranch,
    /// The task's worktree is no longer needed.
    Cleanup {
        delete_branch: bool,
    },
    Notify(Notice),
    /// Best-of-N: start the coder of attempt `slot` in its own worktree and branch.
    StartAttempt {
        slot: u32,
        tier: u32,
    },
    /// Best-of-N: verify attempt `slot`'s commit in its worktree.
    VerifyAttempt {
        slot: u32,
        commit: ObjectId,
    },
    /// Best-of-N is over: remove the worktree and branch of each of the `slots` attempts, except
    /// that the task's own branch is made from the kept one's commit (the task's head).
    SettleAttempts {
        slots: u32,
        kept: Option<u32>,
    },
}

/// An input the machine refuses. Nothing changes when this is returned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    #[error("`{input}` is not allowed while the task is {status}")]
    NotAllowed { status: Status, input: &'static str },
    #[error("a {got} run finished, but the task is {status} (expected a {expected} run)")]
    WrongRole {
        status: Status,
        expected: &'static str,
        got: Role,
    },
    #[error("{what} result from a {role} run makes no sense")]
    WrongResult { role: Role, what: &'static str },
    #[error("stale result: it is for commit {got}, the task is at {expected}")]
    StaleCommit { expected: String, got: String },
    #[error("refusing to land tree {tree}: it has not passed verify")]
    UnverifiedTree { tree: String },
}
