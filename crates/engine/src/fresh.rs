//! A fresh retry (`gaffer task retry N --fresh`, [`Effect::FreshBranch`]): the task moves to a
//! new branch, `gaffer/<id>-<slug>-attempt-<n>` (attempt 1 is the task's first branch, which
//! keeps its name and the earlier attempts' commits, as evidence). The new branch is made from
//! the landing base when the task's next job first needs its worktree (the machine forgot the
//! old head). Once the retry is written, the old attempt's worktree goes (its branch stays) and
//! so do the agents' per-task sessions: nothing of the old attempt is resumed.
//!
//! [`Effect::FreshBranch`]: gaffer_core::Effect::FreshBranch

use crate::board::Board;
use crate::error::Result;
use crate::jobs::worktree_name;
use gaffer_core::Task;

/// Marks the attempt number in a task's branch name.
const ATTEMPT: &str = "-attempt-";

/// The branch of the task's next attempt, `restarts` being its fresh starts after this retry
/// (at least 1): its first branch with `-attempt-<restarts + 1>`, or, should that branch exist
/// already (here or on the remote), the first `-attempt-<restarts + 1>-<k>` that does not.
pub(crate) fn next_branch(board: &Board, task: &Task, restarts: u32) -> Result<String> {
    let first = first_branch(task);
    let attempt = format!("{first}{ATTEMPT}{}", restarts + 1);
    let mut name = attempt.clone();
    let mut k = 1;
    while exists(board, &name)? {
        k += 1;
        name = format!("{attempt}-{k}");
    }
    Ok(name)
}

/// The task's first branch: its branch without the attempt suffix a fresh retry added.
fn first_branch(task: &Task) -> &str {
    if task.state.restarts == 0 {
        return &task.branch;
    }
    match task.branch.rfind(ATTEMPT) {
        Some(at) => &task.branch[..at],
        None => &task.branch,
    }
}

/// `branch` is one of the task's earlier attempts, set aside by a fresh retry: it belongs to
/// the task (kept while the task is, removed with its branch once it merged or was cancelled).
pub(crate) fn earlier_attempt_of(task: &Task, branch: &str) -> bool {
    if task.state.restarts == 0 || branch == task.branch {
        return false;
    }
    let first = first_branch(task);
    branch == first
        || branch
            .strip_prefix(first)
            .is_some_and(|rest| rest.starts_with(ATTEMPT))
}

fn exists(board: &Board, branch: &str) -> Result<bool> {
    if board
        .git
        .rev_parse(&format!("refs/heads/{branch}"))?
        .is_some()
    {
        return Ok(true);
    }
    match &board.settings.project.remote {
        Some(remote) => Ok(board
            .git
            .rev_parse(&format!("refs/remotes/{remote}/{branch}"))?
            .is_some()),
        None => Ok(false),
    }
}

impl Board {
    /// After a fresh retry of `before` was written: gives the old attempt's worktree back (its
    /// branch is kept) and forgets the agents' sessions of the task. Best effort: a worktree
    /// left behind is removed when worktrees are reconciled.
    pub(crate) fn set_old_attempt_aside(&self, before: &Task) {
        let name = worktree_name(before);
        if let Err(e) = self.worktrees.release(&name, &before.branch, false) {
            tracing::warn!(task = %before.id, error = %e, "cannot release the old attempt's worktree");
        }
        crate::jobs::forget_setup(self, &self.worktrees.path_of(&name));
        self.paths.forget_task_data(before.id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gaffer_core::{Flow, Risk, TaskId, TaskState};

    fn task(branch: &str, restarts: u32) -> Task {
        let mut state = TaskState::new(Flow::default(), Risk::Low, 0);
        state.restarts = restarts;
        Task {
            id: TaskId(7),
            project: gaffer_core::ProjectId(1),
            title: "t".into(),
            body: String::new(),
            kind: gaffer_core::TaskKind::Task,
            priority: 0,
            labels: vec![],
            parent: None,
            blocked_by: vec![],
            write_scope: vec![],
            read_scope: vec![],
            budget_usd: None,
            branch: branch.into(),
            plan: None,
            state,
            version: 1,
            created_ms: 0,
            updated_ms: 0,
        }
    }

    #[test]
    fn earlier_attempts_are_the_task_s_own() {
        let t = task("gaffer/7-fix-attempt-3", 2);
        assert!(earlier_attempt_of(&t, "gaffer/7-fix"));
        assert!(earlier_attempt_of(&t, "gaffer/7-fix-attempt-2"));
        assert!(!earlier_attempt_of(&t, "gaffer/7-fix-attempt-3"), "its own");
        assert!(!earlier_attempt_of(&t, "gaffer/7-fixed"));
        assert!(!earlier_attempt_of(&t, "gaffer/7-fix-c1"));
        assert!(!earlier_attempt_of(
            &task("gaffer/7-fix", 0),
            "gaffer/7-fix-attempt-2"
        ));
    }

    #[test]
    fn the_first_branch_is_found_under_the_attempt_suffix() {
        assert_eq!(first_branch(&task("gaffer/7-fix", 0)), "gaffer/7-fix");
        assert_eq!(
            first_branch(&task("gaffer/7-fix-attempt-2", 1)),
            "gaffer/7-fix"
        );
        // A title that says "attempt" is left alone before any fresh retry.
        assert_eq!(
            first_branch(&task("gaffer/7-retry-attempt-2", 0)),
            "gaffer/7-retry-attempt-2"
        );
        assert_eq!(
            first_branch(&task("gaffer/7-retry-attempt-2-attempt-3-2", 2)),
            "gaffer/7-retry-attempt-2"
        );
    }
}
