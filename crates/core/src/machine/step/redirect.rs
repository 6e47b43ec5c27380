//! A task's course changed without starting it over: a person gives a ready task a dependency
//! that has not merged (`demote`: back to the backlog, where the scheduler promotes it again
//! once its dependencies merged), or puts a waiting task at a place in the merge queue's line
//! (`place`); and a change gaffer made itself (a revert) starts at verify instead of a coder.

use super::Step;
use crate::machine::state::WaitingPlace;
use crate::machine::types::{Effect, VerifyPurpose};
use crate::task::Status;

impl Step {
    /// Ready → backlog: a dependency it now has has not merged.
    pub(super) fn demote(&mut self) {
        self.s.status = Status::Backlog;
    }

    /// The waiting task's place in the queue's line.
    pub(super) fn place(&mut self, rank: u32, since_ms: i64) {
        self.s.place = Some(WaitingPlace { rank, since_ms });
    }

    /// A place means something only in the waiting line: it goes when the task leaves it (it
    /// joined the train, or went back to a coder).
    pub(super) fn keep_place_while_queued(&mut self) {
        if self.s.status != Status::Queued {
            self.s.place = None;
        }
    }

    /// The first start of a prepared change verifies the head it was created with; `false`
    /// when the task is not one (or no longer: a coder has worked on it since, or a fresh
    /// retry forgot its head), and it starts as any task does.
    pub(super) fn start_prepared(&mut self) -> bool {
        if !self.s.flow.prepared || self.s.code_runs > 0 {
            return false;
        }
        let Some(head) = self.s.head.clone() else {
            return false;
        };
        self.s.status = Status::Verifying;
        self.fx.push(Effect::Verify {
            commit: head,
            purpose: VerifyPurpose::Branch,
        });
        true
    }
}
