//! What the simulated queue checks as it goes: the train's cap, the order tasks join in, that
//! only a guilty branch is ejected, and that every suspect's bisection can still conclude.

use super::super::*;
use super::sim::Sim;
use proptest::prelude::*;
use std::collections::{HashMap, HashSet};

impl Sim {
    /// At most `max_train` candidates, batches or single tasks, are in the train at once.
    pub(super) fn check_cap(&self, view: &View) -> Result<(), TestCaseError> {
        let candidates: HashSet<&ObjectId> = self
            .states
            .iter()
            .filter(|s| s.status == Status::Merging)
            .filter_map(|s| s.candidate.as_ref().map(|c| &c.commit))
            .collect();
        prop_assert!(
            candidates.len() <= view.max_train,
            "{} candidates in a train of {}",
            candidates.len(),
            view.max_train
        );
        Ok(())
    }

    /// Priority, then arrival: a task never joins while one ranked before it waits for no
    /// reason.
    pub(super) fn check_join_order(
        &self,
        view: &View,
        actions: &[Action],
    ) -> Result<(), TestCaseError> {
        let requeued: HashSet<TaskId> = actions
            .iter()
            .filter_map(|a| match a {
                Action::Requeue { task } => Some(*task),
                _ => None,
            })
            .collect();
        let mut members: HashSet<TaskId> = train(view)
            .iter()
            .map(|e| e.task)
            .filter(|t| !requeued.contains(t))
            .collect();
        let waiting = waiting(view);
        for action in actions {
            let Action::Join { task, .. } = action else {
                continue;
            };
            for y in &waiting {
                if y.task == *task {
                    break;
                }
                let free = y.waiting_on.iter().all(|d| members.contains(d));
                prop_assert!(
                    members.contains(&y.task) || !free,
                    "task {} joined before {}, which ranks first and waits on nothing",
                    task,
                    y.task
                );
            }
            members.insert(*task);
        }
        Ok(())
    }

    /// An ejected branch is itself what breaks its candidate: everything else in it is innocent.
    pub(super) fn check_guilty(&mut self, task: usize) -> Result<(), TestCaseError> {
        let candidate = self.states[task]
            .candidate
            .clone()
            .ok_or_else(|| TestCaseError::fail("ejected without a candidate"))?;
        let contents = &self.commits[&candidate.commit];
        prop_assert!(
            self.guilty(task, self.version[task]),
            "innocent task {task} ejected (candidate {contents:?})"
        );
        for (&t, &v) in contents {
            prop_assert!(
                t == task || !self.guilty(t, v),
                "task {task} ejected from a candidate that also holds guilty task {t}"
            );
        }
        self.ejected.push(task);
        self.outcome(task, "ejected");
        Ok(())
    }

    /// Every suspect's bisection can still conclude: each task of its failed batch (as the
    /// planner bisected it) is still a suspect of it, or has landed; unless the bisection
    /// concludes on a suspect that failed alone (or failed and passed when run again). Checked
    /// once the queue settled, whatever people cancelled and wherever the engine crashed.
    pub(super) fn check_suspects(&self) -> Result<(), TestCaseError> {
        let mut by_group: HashMap<&ObjectId, Vec<usize>> = HashMap::new();
        for (i, s) in self.states.iter().enumerate() {
            if let Some(group) = s.queue.as_ref().and_then(|q| q.suspect.as_ref()) {
                by_group.entry(group).or_default().push(i);
            }
        }
        for (group, suspects) in by_group {
            let members = self
                .groups
                .get(group)
                .ok_or_else(|| TestCaseError::fail(format!("{group} was never bisected")))?;
            let concluding = suspects.iter().any(|t| {
                self.states[*t]
                    .candidate
                    .as_ref()
                    .is_some_and(super::super::bisect::concludes)
            });
            let gone: Vec<usize> = members
                .iter()
                .filter(|m| !suspects.contains(m) && !self.merged(**m))
                .copied()
                .collect();
            prop_assert!(
                gone.is_empty() || concluding,
                "{suspects:?} are still suspects of {group} after {gone:?} left it without \
                 landing (statuses {:?})",
                gone.iter()
                    .map(|t| self.states[*t].status)
                    .collect::<Vec<_>>()
            );
        }
        Ok(())
    }
}
