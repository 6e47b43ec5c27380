//! A person takes a task over by hand (`gaffer attach`) and hands it back (`gaffer release`).
//!
//! Attaching parks the task in `attached` from wherever an agent works on it or it waits (ready,
//! coding, verifying, reviewing, needs input, awaiting approval, failed): its running work
//! stops ([`Effect::CancelJobs`]) and nothing of the engine starts for it until it is handed
//! back; what it waited for (a question, a held run, a candidate) is dropped, since the person
//! now decides. Not from planning or plan review (an epic's plan is no branch to edit), nor
//! from the merge queue (the train would have to be rebuilt), nor while best-of attempts run.
//!
//! Handing back is what follows a coder run: with a commit (the engine committed what the
//! person left, and their own commits count) the branch is verified, then reviewed and queued
//! as usual; without any change the coder goes on. Either way the bounded loops (failed
//! attempts at the current tier, review rounds, merge attempts) start again from zero, as on a
//! retry: a person's work opens a new line.

use super::Step;
use crate::ids::ObjectId;
use crate::machine::types::{
    Effect, Input, RunReason, SessionMode, TransitionError, VerifyPurpose,
};
use crate::task::{Risk, Role, Status};

/// The note an attached task shows.
pub const ATTACHED_NOTE: &str = "a person has it in hand; `gaffer release` hands it back";

impl Step {
    pub(super) fn attach(&mut self, input: &Input) -> Result<(), TransitionError> {
        let status = self.s.status;
        let attachable = matches!(
            status,
            Status::Ready
                | Status::Coding
                | Status::Verifying
                | Status::Reviewing
                | Status::NeedsInput
                | Status::AwaitingApproval
                | Status::Failed
        );
        if !attachable || !self.s.attempts.is_empty() || self.s.flow.survey || self.s.delegated {
            return Err(TransitionError::NotAllowed {
                status,
                input: input.name(),
            });
        }
        self.s.status = Status::Attached;
        self.s.paused = None;
        self.s.held = None;
        self.s.budget_approved = false;
        self.s.candidate = None;
        self.s.queue = None;
        self.s.restarting = false;
        self.s.note = Some(ATTACHED_NOTE.to_string());
        self.fx.push(Effect::CancelJobs);
        Ok(())
    }

    pub(super) fn hand_back(&mut self, head: Option<&ObjectId>, risk: Option<Risk>) {
        self.s.note = None;
        self.s.failures = 0;
        self.s.review_rounds = 0;
        self.s.merge_attempts = 0;
        self.s.approved = false;
        if let Some(risk) = risk {
            self.s.risk = self.s.risk.max(risk);
        }
        match head {
            Some(head) => {
                self.s.head = Some(head.clone());
                self.s.status = Status::Verifying;
                self.fx.push(Effect::Verify {
                    commit: head.clone(),
                    purpose: VerifyPurpose::Branch,
                });
            }
            None => self.code(
                Role::Coder,
                SessionMode::Resume,
                RunReason::HandedBack,
                None,
            ),
        }
    }
}
