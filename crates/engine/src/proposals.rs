//! Proposals: ideas for improvements that agents file while they work, and that idle surveys
//! file when there is nothing else to do. A proposal is a task of kind `proposal` in the
//! backlog; the scheduler never starts one. It waits for a person: `gaffer accept N` makes it a
//! task like any other (the scheduler then starts it when its dependencies allow), `gaffer
//! decline N` cancels it.
//!
//! An agent files one by printing a line `PROPOSAL: <title> — <what and why>` (the separator
//! may also be ` -- ` or ` - `), or through the MCP tool `propose`. The engine files them when
//! the run ends, each with a note saying who proposed it (agent, run and task), and records a
//! `task.proposed` event on the task the agent worked on.

use crate::apply::Applied;
use crate::board::Board;
use crate::error::{EngineError, Result};
use gaffer_core::payload::{ProposalAccepted, ProposedBy, TaskProposed};
use gaffer_core::{
    Input, NewEvent, NewTask, Payload, Run, Status, Task, TaskId, TaskKind, TransitionError,
};
use gaffer_store::{StoreError, TaskEdit};

/// The line prefix agents use.
const PREFIX: &str = "PROPOSAL:";

/// A proposal's body: what the agent wrote, then who proposed it.
pub fn proposal_body(body: &str, by: &str) -> String {
    let body = body.trim();
    let note = format!("Proposed by {by}.");
    if body.is_empty() {
        note
    } else {
        format!("{body}\n\n{note}")
    }
}

/// The `PROPOSAL: title — body` lines of `text`, as `(title, body)`, in order, each title once.
pub fn parse_lines(text: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for line in text.lines() {
        let Some(rest) = line.trim().strip_prefix(PREFIX) else {
            continue;
        };
        let rest = rest.trim();
        let (title, body) = [" — ", " – ", " -- ", " - "]
            .iter()
            .find_map(|sep| rest.split_once(sep))
            .unwrap_or((rest, ""));
        let (title, body) = (title.trim(), body.trim());
        if title.is_empty() || out.iter().any(|(t, _)| t == title) {
            continue;
        }
        out.push((title.to_string(), body.to_string()));
    }
    out
}

/// Files the proposals an agent made in `run` of `origin` (skipping titles an open proposal
/// already has), with a `task.proposed` event on `origin` for each.
pub(crate) fn file(
    board: &Board,
    origin: &Task,
    run: &Run,
    proposals: &[(String, String)],
) -> Result<Vec<Task>> {
    if proposals.is_empty() {
        return Ok(Vec::new());
    }
    // A remote worker's board cannot list or add tasks: the daemon files them.
    if let Some(remote) = &board.remote {
        return remote.propose(run.id, proposals);
    }
    let open: Vec<String> = board
        .tasks(&[Status::Backlog])?
        .into_iter()
        .filter(|t| t.kind == TaskKind::Proposal)
        .map(|t| t.title)
        .collect();
    let by = format!(
        "agent `{}` ({} run {} of task #{})",
        run.agent, run.role, run.id, origin.id
    );
    let mut filed = Vec::new();
    for (title, body) in proposals {
        if open.iter().any(|t| t == title) {
            continue;
        }
        let task = board.add_task(NewTask {
            title: title.clone(),
            body: proposal_body(body, &by),
            kind: TaskKind::Proposal,
            priority: origin.priority,
            ..NewTask::default()
        })?;
        board
            .store
            .append_events(&[NewEvent::of(Payload::TaskProposed(TaskProposed {
                proposal: task.id,
                title: task.title.clone(),
                proposed_by: ProposedBy {
                    agent: Some(run.agent.clone()),
                    run: Some(run.id),
                    task: origin.id,
                },
                via: None,
            }))
            .task(origin.id)
            .project(origin.project)
            .run(run.id)])?;
        filed.push(task);
    }
    Ok(filed)
}

/// Refuses with the machine's usual error unless `task` is an open proposal.
fn open_proposal(task: &Task, input: &'static str) -> Result<()> {
    if task.kind == TaskKind::Proposal && task.status() == Status::Backlog {
        return Ok(());
    }
    let status = task.status();
    if task.kind != TaskKind::Proposal {
        return Err(EngineError::Invalid(format!(
            "task {} is not a proposal (it is a {})",
            task.id, task.kind
        )));
    }
    Err(EngineError::Transition {
        task: task.id,
        source: TransitionError::NotAllowed { status, input },
    })
}

impl Board {
    /// A person accepts proposal `id`: it becomes a task, started when its dependencies allow.
    pub fn accept(&self, id: TaskId, who: &str) -> Result<Task> {
        for _ in 0..5 {
            let task = self.task(id)?;
            open_proposal(&task, "accept")?;
            let edit = TaskEdit {
                kind: Some(TaskKind::Task),
                ..TaskEdit::default()
            };
            match self.store.edit_task(id, task.version, &edit) {
                Ok(accepted) => {
                    self.store
                        .append_events(&[NewEvent::of(Payload::ProposalAccepted(
                            ProposalAccepted {
                                by: who.to_string(),
                            },
                        ))
                        .task(id)
                        .project(accepted.project)])?;
                    return Ok(accepted);
                }
                Err(StoreError::VersionConflict { .. }) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(EngineError::Contention(id))
    }

    /// A person declines proposal `id`: it is cancelled with the reason.
    pub fn decline(&self, id: TaskId, reason: &str, who: &str) -> Result<Applied> {
        let task = self.task(id)?;
        open_proposal(&task, "decline")?;
        let reason = reason.trim();
        let reason = if reason.is_empty() {
            "declined".to_string()
        } else {
            format!("declined: {reason}")
        };
        self.act(id, Input::Cancel { reason }, who)
    }

    /// A person sets task `id`'s own budget (`None`: the default, `budget.task_usd`). A task
    /// held by its budget starts the held run at once when the budgets allow it now.
    pub fn set_budget(&self, id: TaskId, usd: Option<f64>, who: &str) -> Result<Task> {
        if usd.is_some_and(|b| !(b.is_finite() && b >= 0.0)) {
            return Err(EngineError::Invalid(
                "a budget is an amount of US dollars, zero or more".into(),
            ));
        }
        let mut updated = None;
        for _ in 0..5 {
            let task = self.task(id)?;
            if task.status().is_terminal() {
                return Err(EngineError::Transition {
                    task: id,
                    source: TransitionError::NotAllowed {
                        status: task.status(),
                        input: "budget",
                    },
                });
            }
            let edit = TaskEdit {
                budget_usd: Some(usd),
                ..TaskEdit::default()
            };
            match self.store.edit_task(id, task.version, &edit) {
                Ok(task) => {
                    updated = Some(task);
                    break;
                }
                Err(StoreError::VersionConflict { .. }) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        let task = updated.ok_or(EngineError::Contention(id))?;
        crate::budget::release_if_allowed(self, &task, who)?;
        self.task(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proposal_lines_are_parsed_with_any_separator() {
        let text = "Done.\nPROPOSAL: Cache the parser — it is rebuilt for every file\n\
                    STATUS: fine\n  PROPOSAL: Split main.rs -- it is 3000 lines\n\
                    PROPOSAL: Add a changelog\nPROPOSAL: Cache the parser - again\nPROPOSAL:   \n";
        assert_eq!(
            parse_lines(text),
            vec![
                (
                    "Cache the parser".to_string(),
                    "it is rebuilt for every file".to_string()
                ),
                ("Split main.rs".to_string(), "it is 3000 lines".to_string()),
                ("Add a changelog".to_string(), String::new()),
            ]
        );
        assert!(parse_lines("no proposals here").is_empty());
    }

    #[test]
    fn the_body_says_who_proposed_it() {
        assert_eq!(
            proposal_body(" why \n", "agent `a`"),
            "why\n\nProposed by agent `a`."
        );
        assert_eq!(proposal_body("", "x"), "Proposed by x.");
    }
}
