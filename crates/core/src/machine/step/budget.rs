//! Budgets (per task, per day): the engine checks them before a run starts. A run that would go
//! past one does not start: the engine sends [`Input::Hold`] instead, the task waits for a person
//! in `awaiting_approval` with the reason, and the run it did not start is kept so that letting
//! it go ([`Input::Release`] when the budget allows it again, [`Input::Approve`] to go past it
//! once) starts exactly that run. An attempt of a best-of-N task that cannot start fails instead:
//! the other attempts go on.

use super::Step;
use crate::machine::crew::{AttemptStatus, Held, PendingRun};
use crate::machine::types::{Effect, Input, Notice, TransitionError};
use crate::task::{Role, Status};

impl Step {
    pub(super) fn hold(&mut self, reason: &str, run: &PendingRun) -> Result<(), TransitionError> {
        let status = self.s.status;
        let input = || TransitionError::NotAllowed {
            status,
            input: "hold",
        };
        if let Some(slot) = run.slot {
            if status != Status::Coding {
                return Err(input());
            }
            let i = self.open_attempt(slot, AttemptStatus::Coding)?;
            let attempt = &mut self.s.attempts[i];
            attempt.status = AttemptStatus::Failed;
            attempt.note = Some(reason.to_string());
            self.fx.push(Effect::Notify(Notice::BudgetStop {
                reason: reason.to_string(),
            }));
            self.attempts_settled();
            return Ok(());
        }
        let expected: &[Role] = match status {
            Status::Planning => &[Role::Planner],
            Status::PlanReview => &[Role::PlanReviewer],
            // While best-of attempts run, only they start runs.
            Status::Coding if self.s.attempts.is_empty() => &[Role::Coder, Role::Resolver],
            Status::Reviewing => &[Role::Reviewer],
            _ => return Err(input()),
        };
        if !expected.contains(&run.role) {
            return Err(TransitionError::WrongRole {
                status,
                expected: expected[0].as_str(),
                got: run.role,
            });
        }
        self.s.held = Some(Held {
            status,
            run: run.clone(),
        });
        self.s.status = Status::AwaitingApproval;
        self.s.budget_approved = false;
        self.s.note = Some(reason.to_string());
        self.fx.push(Effect::Notify(Notice::BudgetStop {
            reason: reason.to_string(),
        }));
        Ok(())
    }

    /// A held task is let go: the held run starts (`approve`: once past the budget), or a person
    /// stops it (`reject`: cancelled, or failed so that it can be retried later).
    pub(super) fn release(&mut self, input: &Input) {
        let Some(held) = self.s.held.take() else {
            return;
        };
        match input {
            Input::Reject {
                reason,
                cancel: true,
            } => self.cancel(reason.clone()),
            Input::Reject { reason, .. } => {
                self.fail(format!("a person stopped it at the budget: {reason}"));
            }
            _ => {
                self.s.budget_approved = matches!(input, Input::Approve);
                self.s.status = held.status;
                self.s.note = None;
                self.fx.push(held.run.effect());
            }
        }
    }

    /// Bookkeeping after every accepted input: a finished run uses up a person's permission to
    /// go past the budget; a task that ended holds nothing and keeps no attempts.
    pub(super) fn after(&mut self, input: &Input) {
        if matches!(
            input,
            Input::RunFinished { .. } | Input::AttemptFinished { .. }
        ) {
            self.s.budget_approved = false;
        }
        if self.s.status.is_terminal() {
            self.s.held = None;
            self.s.budget_approved = false;
            if !self.s.attempts.is_empty() {
                if !self.fx.contains(&Effect::CancelJobs) {
                    self.fx.push(Effect::CancelJobs);
                }
                self.discard_attempts(None);
            }
        }
    }
}
