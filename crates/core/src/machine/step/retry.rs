//! A person retries a failed task: on its branch as it is (the coder goes on from the broken
//! edits, with the evidence), or afresh (`retry --fresh`): a new branch from the target, the
//! bottom of the coder ladder, a fresh session, every per-attempt counter back to zero. The
//! earlier attempts' evidence (runs, events, their branch) is kept; `total_failures` and
//! `code_runs` keep counting, for people.

use super::Step;
use crate::machine::types::Effect;
use crate::task::Status;

impl Step {
    pub(super) fn retry(&mut self, fresh: bool) {
        self.s.failures = 0;
        self.s.review_rounds = 0;
        self.s.plan_rounds = 0;
        self.s.merge_attempts = 0;
        self.s.candidate = None;
        self.s.queue = None;
        self.s.note = None;
        // A cleanup of the failed attempt may still be queued: it must not take the
        // worktree the retry is about to use.
        self.fx.push(Effect::CancelJobs);
        if self.s.delegated {
            // An epic has no branch of its own: it waits on its children again, fresh or not.
            self.s.status = Status::Delegated;
            return;
        }
        if fresh {
            self.s.tier = 0;
            self.s.head = None;
            self.s.verified = None;
            self.s.approved = false;
            self.s.restarts += 1;
            self.s.restarting = true;
            self.fx.push(Effect::FreshBranch);
        }
        self.s.status = Status::Ready;
    }
}
