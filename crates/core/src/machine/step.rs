//! The transition function itself.

use super::state::{Candidate, Limits, Paused, TaskState, VerifiedTree};
use super::types::{
    Effect, Input, Notice, RunReason, RunResult, SessionMode, TransitionError, VerifyPurpose,
};
use crate::task::{Role, Status};

mod attach;
mod best_of;
mod budget;
mod merging;
mod redirect;
mod retry;
mod survey;

pub use attach::ATTACHED_NOTE;

/// Applies `input` to `state`. On success returns the new state and the effects the engine must
/// carry out; on error nothing has changed.
pub fn transition(
    state: &TaskState,
    input: &Input,
    limits: &Limits,
) -> Result<(TaskState, Vec<Effect>), TransitionError> {
    let mut step = Step {
        s: state.clone(),
        fx: Vec::new(),
        limits: limits.sanitized(),
    };
    step.apply(input)?;
    step.after(input);
    step.keep_place_while_queued();
    Ok((step.s, step.fx))
}

struct Step {
    s: TaskState,
    fx: Vec<Effect>,
    limits: Limits,
}

fn not_allowed(status: Status, input: &Input) -> TransitionError {
    TransitionError::NotAllowed {
        status,
        input: input.name(),
    }
}

impl Step {
    fn apply(&mut self, input: &Input) -> Result<(), TransitionError> {
        let status = self.s.status;
        match (status, input) {
            (Status::Merged | Status::Cancelled, _) => Err(not_allowed(status, input)),
            (_, Input::Cancel { reason }) => {
                self.cancel(reason.clone());
                Ok(())
            }
            (Status::Failed, Input::Fail { .. }) => Err(not_allowed(status, input)),
            (_, Input::Fail { reason }) => {
                self.fail(reason.clone());
                Ok(())
            }
            (_, Input::Hold { reason, run }) => self.hold(reason, run),
            (Status::AwaitingApproval, Input::Release | Input::Approve | Input::Reject { .. })
                if self.s.held.is_some() =>
            {
                self.release(input);
                Ok(())
            }
            (Status::Coding, Input::AttemptFinished { .. } | Input::AttemptVerified { .. }) => {
                self.attempt(input)
            }
            (Status::Backlog, Input::Promote) => {
                self.s.status = Status::Ready;
                Ok(())
            }
            (Status::Ready, Input::Start) => {
                self.start();
                Ok(())
            }
            (Status::Ready, Input::Demote) => {
                self.demote();
                Ok(())
            }
            (
                Status::Planning | Status::PlanReview | Status::Coding | Status::Reviewing,
                Input::RunFinished { role, result },
            ) => self.run_finished(*role, result),
            (
                Status::Verifying,
                Input::VerifyFinished {
                    commit,
                    tree,
                    passed,
                    summary,
                    conflicts,
                },
            ) => self.branch_verified(commit, tree, *passed, summary, conflicts),
            (Status::Delegated, Input::ChildrenSettled { all_merged }) => {
                if *all_merged {
                    self.s.status = Status::Merged;
                    self.fx.push(Effect::Notify(Notice::Merged));
                } else {
                    self.fail("a child task did not merge".to_string());
                }
                Ok(())
            }
            (Status::AwaitingApproval, Input::Approve) => {
                self.s.approved = true;
                self.s.note = None;
                self.s.status = Status::Queued;
                Ok(())
            }
            (Status::AwaitingApproval, Input::Reject { reason, cancel }) => {
                if *cancel {
                    self.cancel(reason.clone());
                } else {
                    self.s.approved = false;
                    self.s.review_rounds = 0;
                    self.s.failures = 0;
                    self.code(
                        Role::Coder,
                        SessionMode::Resume,
                        RunReason::Rejected,
                        Some(reason.clone()),
                    );
                }
                Ok(())
            }
            (Status::Queued | Status::Merging, _) => self.in_queue(input),
            (Status::NeedsInput, Input::Answer { text }) => {
                let Some(paused) = self.s.paused.take() else {
                    return Err(not_allowed(status, input));
                };
                self.s.status = paused.status;
                self.s.note = None;
                if matches!(paused.role, Role::Coder | Role::Resolver) {
                    self.s.code_runs += 1;
                }
                self.run(
                    paused.role,
                    SessionMode::Resume,
                    RunReason::Answered,
                    Some(text.clone()),
                );
                Ok(())
            }
            (_, Input::Attach) => self.attach(input),
            (Status::Attached, Input::HandBack { head, risk }) => {
                self.hand_back(head.as_ref(), *risk);
                Ok(())
            }
            (Status::Failed, Input::Retry { fresh }) => {
                self.retry(*fresh);
                Ok(())
            }
            _ => Err(not_allowed(status, input)),
        }
    }

    /// A ready task starts: with its planner, its best-of attempts, or its coder.
    fn start(&mut self) {
        self.s.tier = self.s.tier.min(self.limits.tiers - 1);
        // A fresh retry's mark lasts until the task starts, whichever run comes first.
        let restarting = std::mem::take(&mut self.s.restarting);
        if self.start_prepared() {
            return;
        }
        if self.s.flow.plan {
            self.s.status = Status::Planning;
            self.run(Role::Planner, SessionMode::Fresh, RunReason::Start, None);
        } else if !self.fan_out(restarting) {
            // A task that coded before starts again only after a person retried it.
            let reason = if restarting {
                RunReason::Restarted
            } else if self.s.code_runs > 0 {
                RunReason::Retried
            } else {
                RunReason::Start
            };
            self.code(Role::Coder, SessionMode::Fresh, reason, None);
        }
    }

    /// The branch's own verify finished: on to review (or a resolver, when a conflict with the
    /// target is predicted), or back to the coder with the output.
    fn branch_verified(
        &mut self,
        commit: &crate::ObjectId,
        tree: &crate::ObjectId,
        passed: bool,
        summary: &str,
        conflicts: &[String],
    ) -> Result<(), TransitionError> {
        let head = self.s.head.clone();
        if head.as_ref() != Some(commit) {
            return Err(TransitionError::StaleCommit {
                expected: head.map(|h| h.0).unwrap_or_default(),
                got: commit.0.clone(),
            });
        }
        if passed {
            self.s.verified = Some(VerifiedTree {
                commit: commit.clone(),
                tree: tree.clone(),
            });
            if !conflicts.is_empty() {
                // Predicted before queuing: resolve now rather than after a queue turn.
                self.conflict(conflicts);
            } else if self.s.flow.review {
                self.s.status = Status::Reviewing;
                self.run(Role::Reviewer, SessionMode::Fresh, RunReason::Start, None);
            } else {
                self.gate();
            }
        } else {
            self.failed_attempt(summary.to_string());
        }
        Ok(())
    }

    /// The planner planned: a survey files its proposals, a plan of no subtasks is coded, a plan
    /// of some is reviewed or handed to its subtasks.
    fn planned(&mut self, subtasks: u32) {
        if self.s.flow.survey {
            self.surveyed(subtasks);
            return;
        }
        self.s.failures = 0;
        if subtasks == 0 {
            self.code(Role::Coder, SessionMode::Fresh, RunReason::Start, None);
        } else if self.s.flow.plan_review {
            self.s.status = Status::PlanReview;
            self.run(
                Role::PlanReviewer,
                SessionMode::Fresh,
                RunReason::Start,
                None,
            );
        } else {
            self.delegate();
        }
    }

    /// The plan reviewer judged the plan: delegated, planned again, or failed after the last round.
    fn plan_judged(&mut self, approved: bool, reasons: &str) {
        if approved {
            self.s.failures = 0;
            self.delegate();
        } else {
            self.s.plan_rounds += 1;
            if self.s.plan_rounds >= self.limits.plan_rounds {
                self.fail(format!(
                    "the plan was rejected {} times; last reasons: {reasons}",
                    self.s.plan_rounds
                ));
            } else {
                self.s.status = Status::Planning;
                self.run(
                    Role::Planner,
                    SessionMode::Resume,
                    RunReason::PlanRejected,
                    Some(reasons.to_string()),
                );
            }
        }
    }

    /// The reviewer judged the change: on to the gate, back to the coder, or to a person after the
    /// last round.
    fn reviewed(&mut self, approved: bool, findings: &str) {
        if approved {
            self.gate();
        } else {
            self.s.review_rounds += 1;
            if self.s.review_rounds >= self.limits.review_rounds {
                self.await_person(format!(
                    "the reviewer still requests changes after {} rounds: {findings}",
                    self.s.review_rounds
                ));
            } else {
                self.code(
                    Role::Coder,
                    SessionMode::Resume,
                    RunReason::ChangesRequested,
                    Some(findings.to_string()),
                );
            }
        }
    }

    /// A run failed: the coder's attempt counts, a reviewer or a planner runs again up to its limit.
    fn run_failed(&mut self, role: Role, reason: &str) {
        match role {
            Role::Coder | Role::Resolver => self.failed_attempt(reason.to_string()),
            Role::Reviewer => {
                self.s.review_rounds += 1;
                if self.s.review_rounds >= self.limits.review_rounds {
                    self.await_person(format!("the reviewer kept failing: {reason}"));
                } else {
                    self.run(role, SessionMode::Fresh, RunReason::Start, None);
                }
            }
            Role::Planner | Role::PlanReviewer => {
                self.s.failures += 1;
                self.s.total_failures += 1;
                if self.s.failures >= self.limits.failures_per_tier {
                    self.fail(format!("the {role} run failed: {reason}"));
                } else {
                    self.run(role, SessionMode::Fresh, RunReason::Start, None);
                }
            }
        }
    }

    fn run_finished(&mut self, role: Role, result: &RunResult) -> Result<(), TransitionError> {
        let status = self.s.status;
        if let Some(outcome) = self.attempts_run_finished(role, result) {
            return outcome;
        }
        let expected: &[Role] = match status {
            Status::Planning => &[Role::Planner],
            Status::PlanReview => &[Role::PlanReviewer],
            Status::Coding => &[Role::Coder, Role::Resolver],
            _ => &[Role::Reviewer],
        };
        if !expected.contains(&role) {
            return Err(TransitionError::WrongRole {
                status,
                expected: expected[0].as_str(),
                got: role,
            });
        }
        let wrong = |what| Err(TransitionError::WrongResult { role, what });
        match result {
            RunResult::Question { text } => {
                self.s.paused = Some(Paused { status, role });
                self.s.status = Status::NeedsInput;
                self.s.note = Some(text.clone());
                self.fx.push(Effect::Notify(Notice::NeedsInput {
                    question: text.clone(),
                }));
                Ok(())
            }
            RunResult::Plan { subtasks } if role == Role::Planner => {
                self.planned(*subtasks);
                Ok(())
            }
            RunResult::PlanVerdict { approved, reasons } if role == Role::PlanReviewer => {
                self.plan_judged(*approved, reasons);
                Ok(())
            }
            RunResult::Code { head, risk } if matches!(role, Role::Coder | Role::Resolver) => {
                self.s.head = Some(head.clone());
                self.s.approved = false;
                if let Some(risk) = risk {
                    self.s.risk = self.s.risk.max(*risk);
                }
                self.s.status = Status::Verifying;
                self.fx.push(Effect::Verify {
                    commit: head.clone(),
                    purpose: VerifyPurpose::Branch,
                });
                Ok(())
            }
            RunResult::NoChanges { summary } if matches!(role, Role::Coder | Role::Resolver) => {
                self.failed_attempt(format!("the agent made no changes: {summary}"));
                Ok(())
            }
            RunResult::Review { approved, findings } if role == Role::Reviewer => {
                self.reviewed(*approved, findings);
                Ok(())
            }
            RunResult::Failed { reason } => {
                self.run_failed(role, reason);
                Ok(())
            }
            RunResult::Plan { .. } => wrong("a plan"),
            RunResult::PlanVerdict { .. } => wrong("a plan verdict"),
            RunResult::Code { .. } => wrong("a commit"),
            RunResult::NoChanges { .. } => wrong("a no-change"),
            RunResult::Review { .. } => wrong("a review verdict"),
            RunResult::Pick { .. } => wrong("a pick"),
        }
    }

    fn run(
        &mut self,
        role: Role,
        session: SessionMode,
        reason: RunReason,
        feedback: Option<String>,
    ) {
        let tier = if matches!(role, Role::Coder | Role::Resolver) {
            self.s.tier
        } else {
            0
        };
        self.fx.push(Effect::StartRun {
            role,
            tier,
            session,
            reason,
            feedback,
        });
    }

    fn code(
        &mut self,
        role: Role,
        session: SessionMode,
        reason: RunReason,
        feedback: Option<String>,
    ) {
        self.s.status = Status::Coding;
        self.s.code_runs += 1;
        self.run(role, session, reason, feedback);
    }

    /// A coding attempt failed (verify, no changes, failed run): resume, escalate, or give up.
    fn failed_attempt(&mut self, reason: String) {
        self.s.failures += 1;
        self.s.total_failures += 1;
        if self.s.failures < self.limits.failures_per_tier {
            self.code(
                Role::Coder,
                SessionMode::Resume,
                RunReason::VerifyFailed,
                Some(reason),
            );
        } else if self.s.tier + 1 < self.limits.tiers {
            self.s.tier += 1;
            self.s.failures = 0;
            self.fx
                .push(Effect::Notify(Notice::Escalated { tier: self.s.tier }));
            self.code(
                Role::Coder,
                SessionMode::Fresh,
                RunReason::Escalated,
                Some(reason),
            );
        } else {
            self.fail(reason);
        }
    }

    /// The branch does not apply on the target: a resolver merges the target into the branch and
    /// resolves the conflicts, within the bound on merge attempts.
    fn conflict(&mut self, files: &[String]) {
        self.s.candidate = None;
        self.s.queue = None;
        if self.merge_attempt_left() {
            let feedback = format!(
                "the branch no longer applies on the target; conflicting files:\n{}",
                files.join("\n")
            );
            self.code(
                Role::Resolver,
                SessionMode::Fresh,
                RunReason::Conflict,
                Some(feedback),
            );
        }
    }

    fn merge_attempt_left(&mut self) -> bool {
        self.s.merge_attempts += 1;
        if self.s.merge_attempts >= self.limits.merge_attempts {
            self.fail(format!(
                "the branch still conflicts with the target after {} merge attempts",
                self.s.merge_attempts
            ));
            false
        } else {
            true
        }
    }

    /// Whether a candidate of `tree` needs no verify of its own: the branch passed that very
    /// tree and the project says its verify does not depend on its purpose.
    fn tree_verified(&self, tree: &crate::ObjectId) -> bool {
        self.limits.skip_identical_candidates
            && self.s.verified.as_ref().is_some_and(|v| &v.tree == tree)
    }

    fn current_candidate(
        &self,
        commit: &crate::ObjectId,
        tree: &crate::ObjectId,
    ) -> Result<Candidate, TransitionError> {
        match &self.s.candidate {
            Some(c) if &c.commit == commit && &c.tree == tree => Ok(c.clone()),
            Some(c) => Err(TransitionError::StaleCommit {
                expected: c.commit.0.clone(),
                got: commit.0.clone(),
            }),
            None => Err(TransitionError::NotAllowed {
                status: self.s.status,
                input: "a result without a merge candidate",
            }),
        }
    }

    /// Verified (and reviewed): wait for a person if the risk demands it, else queue.
    fn gate(&mut self) {
        if self.s.needs_approval() {
            let reason = format!("risk {} needs a person's approval", self.s.risk);
            self.await_person(reason);
        } else {
            self.s.status = Status::Queued;
        }
    }

    fn await_person(&mut self, reason: String) {
        self.s.status = Status::AwaitingApproval;
        self.s.note = Some(reason.clone());
        self.fx
            .push(Effect::Notify(Notice::NeedsApproval { reason }));
    }

    fn delegate(&mut self) {
        self.s.status = Status::Delegated;
        self.s.delegated = true;
        self.fx.push(Effect::CreateChildren);
        self.fx.push(Effect::Cleanup {
            delete_branch: true,
        });
    }

    fn fail(&mut self, reason: String) {
        self.s.status = Status::Failed;
        self.s.note = Some(reason.clone());
        self.s.paused = None;
        self.s.candidate = None;
        self.s.queue = None;
        self.fx.push(Effect::Cleanup {
            delete_branch: false,
        });
        self.fx.push(Effect::Notify(Notice::Failed { reason }));
    }

    fn cancel(&mut self, reason: String) {
        self.s.status = Status::Cancelled;
        self.s.note = Some(reason.clone());
        self.s.paused = None;
        self.s.candidate = None;
        self.s.queue = None;
        self.fx.push(Effect::CancelJobs);
        self.fx.push(Effect::Cleanup {
            delete_branch: true,
        });
        self.fx.push(Effect::Notify(Notice::Cancelled { reason }));
    }
}
