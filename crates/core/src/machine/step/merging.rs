//! The merge queue's inputs: a task queued or merging gets its candidate (the branch merged
//! with the target), its candidate's verify result, a recheck or an ejection, and lands, goes
//! back to the queue or parks behind the branches ahead of it.

use super::{Step, not_allowed};
use crate::machine::state::{Candidate, CandidateStatus, QueueSlot, VerifiedTree};
use crate::machine::types::{Effect, Input, Notice, TransitionError, VerifyPurpose};
use crate::task::Status;

impl Step {
    /// Applies `input` to a task that is `queued` or `merging`.
    pub(super) fn in_queue(&mut self, input: &Input) -> Result<(), TransitionError> {
        let status = self.s.status;
        match (status, input) {
            (Status::Queued, Input::BeginMerge { position, since_ms }) => {
                self.s.status = Status::Merging;
                self.s.candidate = None;
                self.s.note = None;
                self.s.queue = Some(QueueSlot {
                    position: *position,
                    since_ms: *since_ms,
                    parked_on: None,
                });
                Ok(())
            }
            (Status::Queued | Status::Merging, Input::Conflict { files }) => {
                self.conflict(files);
                Ok(())
            }
            (Status::Merging, Input::CandidateReady { commit, tree, onto }) => {
                if self.s.candidate.is_some() {
                    return Err(not_allowed(status, input));
                }
                // A tree the branch itself passed with needs no second run.
                let status = if self.tree_verified(tree) {
                    CandidateStatus::Passed
                } else {
                    CandidateStatus::Pending
                };
                if status == CandidateStatus::Pending {
                    self.fx.push(Effect::Verify {
                        commit: commit.clone(),
                        purpose: VerifyPurpose::Candidate,
                    });
                }
                self.s.candidate = Some(Candidate {
                    commit: commit.clone(),
                    tree: tree.clone(),
                    onto: onto.clone(),
                    status,
                    flaky: false,
                });
                self.s.note = None;
                if let Some(slot) = &mut self.s.queue {
                    slot.parked_on = None;
                }
                Ok(())
            }
            (Status::Merging, Input::Park { onto, files }) => {
                if self.s.candidate.is_some() {
                    return Err(not_allowed(status, input));
                }
                if let Some(slot) = &mut self.s.queue {
                    slot.parked_on = Some(onto.clone());
                }
                self.s.note = Some(format!(
                    "waits for the branches ahead in the queue to land: it conflicts with them in {}",
                    files.join(", ")
                ));
                Ok(())
            }
            (
                Status::Merging,
                Input::VerifyFinished {
                    commit,
                    tree,
                    passed,
                    summary,
                    ..
                },
            ) => {
                let candidate = self.current_candidate(commit, tree)?;
                let (next, flaky) = match (&candidate.status, *passed) {
                    (CandidateStatus::Pending, true) => (CandidateStatus::Passed, false),
                    (CandidateStatus::Pending, false) => (
                        CandidateStatus::Failed {
                            summary: summary.clone(),
                        },
                        false,
                    ),
                    (CandidateStatus::Rechecking { .. }, true) => (CandidateStatus::Passed, true),
                    (CandidateStatus::Rechecking { .. }, false) => (
                        CandidateStatus::FailedTwice {
                            summary: summary.clone(),
                        },
                        false,
                    ),
                    // A second result for a run that already reported.
                    _ => return Err(not_allowed(status, input)),
                };
                if let Some(c) = &mut self.s.candidate {
                    c.status = next;
                    c.flaky |= flaky;
                }
                Ok(())
            }
            (Status::Merging, Input::Recheck) => match self.s.candidate.clone() {
                Some(Candidate {
                    commit,
                    status: CandidateStatus::Failed { summary },
                    ..
                }) => {
                    if let Some(c) = &mut self.s.candidate {
                        c.status = CandidateStatus::Rechecking { summary };
                    }
                    self.fx.push(Effect::Verify {
                        commit,
                        purpose: VerifyPurpose::Candidate,
                    });
                    Ok(())
                }
                _ => Err(not_allowed(status, input)),
            },
            (Status::Merging, Input::Eject) => match self.s.candidate.clone() {
                Some(Candidate {
                    status: CandidateStatus::FailedTwice { summary },
                    ..
                }) => {
                    self.s.candidate = None;
                    self.s.queue = None;
                    self.failed_attempt(format!(
                        "verify failed twice on the branch merged with the target (the \
                         branches ahead of it in the merge queue passed), so the change itself \
                         breaks the target:\n{summary}"
                    ));
                    Ok(())
                }
                _ => Err(not_allowed(status, input)),
            },
            (Status::Merging, Input::TargetMoved) => {
                if self.s.candidate.is_none() {
                    return Err(not_allowed(status, input));
                }
                self.s.candidate = None;
                // Its verify, if still running, tests a tree that can no longer land.
                self.fx.push(Effect::CancelJobs);
                Ok(())
            }
            (Status::Merging, Input::Requeue) => {
                self.s.status = Status::Queued;
                self.s.candidate = None;
                self.s.queue = None;
                self.fx.push(Effect::CancelJobs);
                Ok(())
            }
            (Status::Merging, Input::Landed { commit, tree }) => {
                let candidate = self.current_candidate(commit, tree)?;
                if !candidate.passed() {
                    return Err(TransitionError::UnverifiedTree {
                        tree: tree.0.clone(),
                    });
                }
                self.s.landed = Some(VerifiedTree {
                    commit: commit.clone(),
                    tree: tree.clone(),
                });
                self.s.status = Status::Merged;
                self.s.queue = None;
                self.s.note = None;
                self.fx.push(Effect::Cleanup {
                    delete_branch: true,
                });
                self.fx.push(Effect::Notify(Notice::Merged));
                Ok(())
            }
            _ => Err(not_allowed(status, input)),
        }
    }
}
