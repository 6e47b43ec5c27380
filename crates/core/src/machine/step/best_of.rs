//! Best-of-N: `flow.best_of` coders attempt the task at once, each in its own worktree and
//! branch (the engine's business: [`Effect::StartAttempt`], [`Effect::VerifyAttempt`]). The
//! task stays `coding` while they work. Each attempt is verified on its own; once none is at
//! work, the attempts that passed decide what follows:
//!
//! - none: the whole round counts as one failed attempt of the task, which goes on with one
//!   coder afresh (or escalates, or fails) with every attempt's evidence;
//! - one: it is adopted without asking anyone;
//! - several: the reviewer picks one ([`RunReason::Pick`], answered with [`RunResult::Pick`]).
//!
//! Adopting attempt `k` makes its commit the task's head and its verified tree the task's
//! verified tree; the other attempts are discarded ([`Effect::SettleAttempts`]: worktrees and
//! branches removed, their runs' cost stays recorded). From there the task goes on as usual:
//! an approved pick goes to the approval gate and the merge queue (the reviewer has reviewed it
//! already), a pick with requested changes goes back to a coder, a single passing attempt is
//! reviewed as usual.

use super::Step;
use crate::machine::crew::{Attempt, AttemptStatus};
use crate::machine::state::VerifiedTree;
use crate::machine::types::{
    Effect, Input, Notice, RunReason, RunResult, SessionMode, TransitionError,
};
use crate::task::{Role, Status};

impl Step {
    /// At the first start of a best-of-N task (or its first after a fresh retry): N attempts
    /// instead of one coder. False when the task is not one (or coded before: a retried task
    /// gets one coder).
    pub(super) fn fan_out(&mut self, restarting: bool) -> bool {
        let n = self.s.flow.best_of;
        if n < 2 || (self.s.code_runs > 0 && !restarting) {
            return false;
        }
        self.s.status = Status::Coding;
        self.s.attempts = (1..=n).map(Attempt::new).collect();
        self.s.code_runs += n;
        for slot in 1..=n {
            self.fx.push(Effect::StartAttempt {
                slot,
                tier: self.s.tier,
            });
        }
        true
    }

    /// The index of attempt `slot`, which must be in `status`.
    pub(super) fn open_attempt(
        &self,
        slot: u32,
        status: AttemptStatus,
    ) -> Result<usize, TransitionError> {
        self.s
            .attempts
            .iter()
            .position(|a| a.slot == slot && a.status == status)
            .ok_or(TransitionError::NotAllowed {
                status: self.s.status,
                input: match status {
                    AttemptStatus::Coding => "a result for an attempt that is not coding",
                    AttemptStatus::Verifying => "a verify result for an attempt not verifying",
                    AttemptStatus::Passed => "a pick of an attempt that did not pass verify",
                    AttemptStatus::Failed => "a result for an attempt that did not fail",
                },
            })
    }

    /// An attempt's coder finished, or its verify did.
    pub(super) fn attempt(&mut self, input: &Input) -> Result<(), TransitionError> {
        match input {
            Input::AttemptFinished { slot, result } => {
                let i = self.open_attempt(*slot, AttemptStatus::Coding)?;
                let failed = match result {
                    RunResult::Code { head, risk } => {
                        let attempt = &mut self.s.attempts[i];
                        attempt.status = AttemptStatus::Verifying;
                        attempt.head = Some(head.clone());
                        attempt.risk = *risk;
                        self.fx.push(Effect::VerifyAttempt {
                            slot: *slot,
                            commit: head.clone(),
                        });
                        None
                    }
                    RunResult::NoChanges { summary } => {
                        Some(format!("the agent made no changes: {summary}"))
                    }
                    RunResult::Failed { reason } => Some(reason.clone()),
                    RunResult::Question { text } => Some(format!(
                        "the agent asked a question, which an attempt of a best-of task cannot \
                         wait for: {text}"
                    )),
                    RunResult::Plan { .. }
                    | RunResult::PlanVerdict { .. }
                    | RunResult::Review { .. }
                    | RunResult::Pick { .. } => {
                        return Err(TransitionError::WrongResult {
                            role: Role::Coder,
                            what: "a non-coding result",
                        });
                    }
                };
                if let Some(note) = failed {
                    let attempt = &mut self.s.attempts[i];
                    attempt.status = AttemptStatus::Failed;
                    attempt.note = Some(note);
                    self.s.total_failures += 1;
                }
            }
            Input::AttemptVerified {
                slot,
                commit,
                tree,
                passed,
                summary,
            } => {
                let i = self.open_attempt(*slot, AttemptStatus::Verifying)?;
                let attempt = &mut self.s.attempts[i];
                if attempt.head.as_ref() != Some(commit) {
                    return Err(TransitionError::StaleCommit {
                        expected: attempt.head.clone().map(|h| h.0).unwrap_or_default(),
                        got: commit.0.clone(),
                    });
                }
                if *passed {
                    attempt.status = AttemptStatus::Passed;
                    attempt.tree = Some(tree.clone());
                } else {
                    attempt.status = AttemptStatus::Failed;
                    attempt.note = Some(format!("verify failed:\n{summary}"));
                    self.s.total_failures += 1;
                }
            }
            _ => {
                return Err(TransitionError::NotAllowed {
                    status: self.s.status,
                    input: input.name(),
                });
            }
        }
        self.attempts_settled();
        Ok(())
    }

    /// Once no attempt is at work: nothing passed, one did, or the reviewer picks.
    pub(super) fn attempts_settled(&mut self) {
        if self.s.attempts.iter().any(Attempt::is_open) {
            return;
        }
        let passed: Vec<u32> = self
            .s
            .attempts
            .iter()
            .filter(|a| a.status == AttemptStatus::Passed)
            .map(|a| a.slot)
            .collect();
        match passed.as_slice() {
            [] => {
                let n = self.s.attempts.len();
                let evidence: Vec<String> = self
                    .s
                    .attempts
                    .iter()
                    .map(|a| {
                        format!(
                            "attempt {}: {}",
                            a.slot,
                            a.note.as_deref().unwrap_or("failed").trim()
                        )
                    })
                    .collect();
                self.discard_attempts(None);
                self.every_attempt_failed(format!(
                    "every attempt of best-of-{n} failed:\n{}",
                    evidence.join("\n")
                ));
            }
            [only] => {
                self.adopt(*only);
                self.continue_verified();
            }
            _ => {
                self.s.status = Status::Reviewing;
                self.run(Role::Reviewer, SessionMode::Fresh, RunReason::Pick, None);
            }
        }
    }

    /// A run of the task's own ended while it has attempts: while they work, only they report
    /// (an attempt's result is [`Input::AttemptFinished`]); once they passed, the reviewer's
    /// answer is a pick. `None`: the usual handling applies.
    pub(super) fn attempts_run_finished(
        &mut self,
        role: Role,
        result: &RunResult,
    ) -> Option<Result<(), TransitionError>> {
        if self.s.attempts.is_empty() {
            return None;
        }
        match self.s.status {
            Status::Reviewing => self.picked(role, result),
            status => Some(Err(TransitionError::NotAllowed {
                status,
                input: "a run result while best-of attempts work",
            })),
        }
    }

    /// The reviewer's answer while attempts wait for a pick. `None`: not a pick's business (a
    /// question pauses the review as usual).
    fn picked(&mut self, role: Role, result: &RunResult) -> Option<Result<(), TransitionError>> {
        if role != Role::Reviewer {
            return Some(Err(TransitionError::WrongRole {
                status: self.s.status,
                expected: Role::Reviewer.as_str(),
                got: role,
            }));
        }
        match result {
            RunResult::Pick {
                slot,
                approved,
                reasons,
            } => {
                if let Err(e) = self.open_attempt(*slot, AttemptStatus::Passed) {
                    return Some(Err(e));
                }
                self.adopt(*slot);
                if *approved {
                    self.gate();
                } else {
                    self.s.review_rounds += 1;
                    if self.s.review_rounds >= self.limits.review_rounds {
                        self.await_person(format!(
                            "the reviewer picked attempt {slot} but requests changes: {reasons}"
                        ));
                    } else {
                        self.code(
                            Role::Coder,
                            SessionMode::Fresh,
                            RunReason::ChangesRequested,
                            Some(reasons.clone()),
                        );
                    }
                }
                Some(Ok(()))
            }
            RunResult::Failed { reason } => {
                // Nobody picked: the first attempt that passed goes on, reviewed as usual.
                let first = self
                    .s
                    .attempts
                    .iter()
                    .find(|a| a.status == AttemptStatus::Passed)
                    .map(|a| a.slot)?;
                self.s.note = Some(format!(
                    "the reviewer did not pick ({reason}); attempt {first} goes on"
                ));
                self.adopt(first);
                self.continue_verified();
                Some(Ok(()))
            }
            RunResult::Question { .. } => None,
            _ => Some(Err(TransitionError::WrongResult {
                role,
                what: "a verdict without a pick",
            })),
        }
    }

    /// Attempt `slot` becomes the task's change; the others are discarded.
    fn adopt(&mut self, slot: u32) {
        if let Some(attempt) = self.s.attempts.iter().find(|a| a.slot == slot).cloned() {
            if let (Some(head), Some(tree)) = (attempt.head, attempt.tree) {
                self.s.head = Some(head.clone());
                self.s.verified = Some(VerifiedTree { commit: head, tree });
            }
            if let Some(risk) = attempt.risk {
                self.s.risk = self.s.risk.max(risk);
            }
            self.s.approved = false;
        }
        self.discard_attempts(Some(slot));
    }

    /// Ends the attempts: their worktrees and branches go (the kept one's commit is the task's
    /// head, on the task's own branch).
    pub(super) fn discard_attempts(&mut self, kept: Option<u32>) {
        let slots = u32::try_from(self.s.attempts.len()).unwrap_or(u32::MAX);
        self.s.attempts.clear();
        self.fx.push(Effect::SettleAttempts { slots, kept });
    }

    /// A change that passed verify goes on: to review, or to the approval gate and the queue.
    fn continue_verified(&mut self) {
        if self.s.flow.review {
            self.s.status = Status::Reviewing;
            self.run(Role::Reviewer, SessionMode::Fresh, RunReason::Start, None);
        } else {
            self.gate();
        }
    }

    /// No attempt passed: one failed attempt of the task, which goes on with one coder afresh
    /// (its branch holds nothing yet), escalates, or fails.
    fn every_attempt_failed(&mut self, reason: String) {
        self.s.failures += 1;
        if self.s.failures < self.limits.failures_per_tier {
            self.code(
                Role::Coder,
                SessionMode::Fresh,
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
}
