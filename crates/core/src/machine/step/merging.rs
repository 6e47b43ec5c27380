//! The merge queue's inputs: a task queued or merging gets its candidate (the branch merged
//! with the target), its candidate's verify result, a recheck or an ejection, and lands, goes
//! back to the queue or parks behind the branches ahead of it.

use super::{Step, not_allowed};
use crate::ObjectId;
use crate::machine::state::{Candidate, CandidateStatus, QueueSlot, VerifiedTree};
use crate::machine::types::{Effect, Input, Notice, TransitionError, VerifyPurpose};
use crate::task::Status;

impl Step {
    /// Applies `input` to a task that is `queued` or `merging`.
    pub(super) fn in_queue(&mut self, input: &Input) -> Result<(), TransitionError> {
        let status = self.s.status;
        let refused = || Err(not_allowed(status, input));
        match (status, input) {
            (Status::Queued, Input::BeginMerge { position, since_ms }) => {
                self.s.status = Status::Merging;
                self.s.candidate = None;
                self.s.note = None;
                self.s.queue = Some(QueueSlot {
                    position: *position,
                    since_ms: *since_ms,
                    parked_on: None,
                    suspect: None,
                    group: Vec::new(),
                });
                Ok(())
            }
            (Status::Queued, Input::Place { rank, since_ms }) => {
                self.place(*rank, *since_ms);
                Ok(())
            }
            (Status::Queued | Status::Merging, Input::Conflict { files }) => {
                self.conflict(files);
                Ok(())
            }
            (
                Status::Merging,
                Input::CandidateReady { .. } | Input::BatchReady { .. } | Input::Park { .. },
            ) if self.s.candidate.is_some() => refused(),
            (Status::Merging, Input::CandidateReady { commit, tree, onto }) => {
                self.candidate_ready(commit, tree, onto);
                Ok(())
            }
            (
                Status::Merging,
                Input::BatchReady {
                    commit,
                    tree,
                    onto,
                    batch,
                    lead,
                    change,
                },
            ) => {
                if batch.len() < 2 {
                    return refused();
                }
                self.candidate_ready(commit, tree, onto);
                if let Some(c) = &mut self.s.candidate {
                    c.batch = batch.clone();
                    c.change = change.clone();
                    // The batch's tree holds other branches: whatever the branch passed alone
                    // says nothing of it. Only the lead runs verify.
                    c.status = CandidateStatus::Pending;
                }
                self.fx.retain(|e| !matches!(e, Effect::Verify { .. }));
                if *lead {
                    self.fx.push(Effect::Verify {
                        commit: commit.clone(),
                        purpose: VerifyPurpose::Candidate,
                    });
                }
                Ok(())
            }
            (Status::Merging, Input::Bisect { group, tasks }) => {
                // Only the batch the task was tested in, or (again, after a crash) the group it
                // is a suspect of already.
                let of_batch = self
                    .s
                    .candidate
                    .as_ref()
                    .is_some_and(|c| &c.commit == group && !c.batch.is_empty());
                let again = self.s.queue.as_ref().and_then(|q| q.suspect.as_ref()) == Some(group);
                if !(of_batch || again) {
                    return refused();
                }
                if self.s.candidate.take().is_some() {
                    self.fx.push(Effect::CancelJobs);
                }
                if let Some(slot) = &mut self.s.queue {
                    slot.suspect = Some(group.clone());
                    slot.group = tasks.clone();
                }
                Ok(())
            }
            (Status::Merging, Input::Acquit { group, flaky }) => match &mut self.s.queue {
                // Only of the group it is a suspect of: one it became a suspect of since (a
                // part bisected again) is not the one being cleared.
                Some(slot)
                    if slot.suspect.is_some()
                        && group
                            .as_ref()
                            .is_none_or(|g| slot.suspect.as_ref() == Some(g)) =>
                {
                    slot.suspect = None;
                    slot.group.clear();
                    if let Some(c) = &mut self.s.candidate {
                        c.flaky |= *flaky;
                    }
                    Ok(())
                }
                _ => refused(),
            },
            (Status::Merging, Input::Park { onto, files }) => {
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
            ) => match self.candidate_verified(commit, tree, *passed, summary)? {
                true => Ok(()),
                false => refused(),
            },
            // A batch is never rechecked nor blamed as a whole: it is bisected.
            (Status::Merging, Input::Recheck) => match self.s.candidate.clone() {
                Some(Candidate {
                    commit,
                    status: CandidateStatus::Failed { summary },
                    batch,
                    ..
                }) if batch.is_empty() => {
                    if let Some(c) = &mut self.s.candidate {
                        c.status = CandidateStatus::Rechecking { summary };
                    }
                    self.fx.push(Effect::Verify {
                        commit,
                        purpose: VerifyPurpose::Candidate,
                    });
                    Ok(())
                }
                _ => refused(),
            },
            (Status::Merging, Input::Eject) => match self.s.candidate.clone() {
                Some(Candidate {
                    status: CandidateStatus::FailedTwice { summary },
                    batch,
                    ..
                }) if batch.is_empty() => {
                    self.s.candidate = None;
                    self.s.queue = None;
                    self.failed_attempt(format!(
                        "verify failed twice on the branch merged with the target (the \
                         branches ahead of it in the merge queue passed), so the change itself \
                         breaks the target:\n{summary}"
                    ));
                    Ok(())
                }
                _ => refused(),
            },
            (Status::Merging, Input::TargetMoved) => {
                if self.s.candidate.is_none() {
                    return refused();
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
            (Status::Merging, Input::Landed { commit, tree }) => self.landed(commit, tree),
            _ => refused(),
        }
    }

    /// The branch merged with the target is ready: verified, unless the branch itself passed
    /// with the same tree.
    fn candidate_ready(&mut self, commit: &ObjectId, tree: &ObjectId, onto: &ObjectId) {
        // A tree the branch itself passed needs no second run, if verify is the same for both.
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
            batch: Vec::new(),
            change: None,
        });
        self.s.note = None;
        if let Some(slot) = &mut self.s.queue {
            slot.parked_on = None;
        }
    }

    /// The candidate's verify finished; `false` when it had already reported (a second result
    /// for one run).
    fn candidate_verified(
        &mut self,
        commit: &ObjectId,
        tree: &ObjectId,
        passed: bool,
        summary: &str,
    ) -> Result<bool, TransitionError> {
        let candidate = self.current_candidate(commit, tree)?;
        let summary = summary.to_string();
        let (next, flaky) = match (&candidate.status, passed) {
            (CandidateStatus::Pending, true) => (CandidateStatus::Passed, false),
            (CandidateStatus::Pending, false) => (CandidateStatus::Failed { summary }, false),
            (CandidateStatus::Rechecking { .. }, true) => (CandidateStatus::Passed, true),
            (CandidateStatus::Rechecking { .. }, false) => {
                (CandidateStatus::FailedTwice { summary }, false)
            }
            _ => return Ok(false),
        };
        if let Some(c) = &mut self.s.candidate {
            c.status = next;
            c.flaky |= flaky;
        }
        Ok(true)
    }

    /// The candidate landed on the target: only a tree that passed verify may.
    fn landed(&mut self, commit: &ObjectId, tree: &ObjectId) -> Result<(), TransitionError> {
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
}
