//! The words for tasks, proposals, budgets, surveys, best-of attempts and the engine itself.

use super::{count, first_line, list, short, usd, words};
use crate::event::Payload;
use crate::event::payload::{
    BestOfSettled, Recovery, TaskEdited, TaskNotice, TaskProposed, TaskRevert, WorkerTokenChanged,
    WorktreeCleaned,
};
use crate::machine::Notice;
use crate::task::TaskKind;

/// The sentence of a kind about a task or the engine; `None` for other kinds.
pub(super) fn describe(payload: &Payload) -> Option<String> {
    Some(match payload {
        Payload::TaskCreated(p) => {
            let mut text = format!("created “{}”", first_line(&p.title));
            if p.kind != TaskKind::Task {
                text.push_str(&format!(" ({})", words(p.kind.as_str())));
            }
            if let Some(parent) = p.parent {
                text.push_str(&format!(", part of task {parent}"));
            }
            if !p.blocked_by.is_empty() {
                text.push_str(&format!(", after task {}", list(&p.blocked_by)));
            }
            text
        }
        Payload::TaskStatus(p) => {
            // A step within one status (a candidate built, verify of it ended) is not a move.
            let mut text = if p.from == p.to {
                format!("{}: {}", words(p.to.as_str()), words(&p.input))
            } else {
                format!(
                    "{} → {} ({})",
                    words(p.from.as_str()),
                    words(p.to.as_str()),
                    words(&p.input)
                )
            };
            if let Some(note) = p.note.as_deref().filter(|n| !n.trim().is_empty()) {
                text.push_str(&format!(": {}", first_line(note)));
            }
            text
        }
        Payload::TaskNotice(p) => notice(p),
        Payload::TaskEdited(p) => edited(p),
        Payload::TaskRevert(p) => revert(p),
        Payload::TaskSaid(p) => format!("{} said to the agent: “{}”", p.by, first_line(&p.text)),
        Payload::ProposalAccepted(p) => format!("accepted by {}: it is a task now", p.by),
        Payload::IdleSurvey(p) => match p.budget_left_usd {
            Some(left) => format!("idle survey started ({} left): {}", usd(left), p.detail),
            None => format!("idle survey started: {}", p.detail),
        },
        Payload::BestOfSettled(p) => best_of(p),
        Payload::BudgetDayStop(p) => format!(
            "the day's budget stops new tasks: {}; {} waiting",
            first_line(&p.reason),
            count(p.waiting.len(), "task", "tasks")
        ),
        Payload::BudgetDayResumed(p) => p.detail.clone(),
        Payload::BudgetReleased(p) => format!(
            "the held run goes on (let go by {}): {} spent{}",
            p.by,
            usd(p.spent_usd),
            p.budget_usd
                .map(|b| format!(" of {}", usd(b)))
                .unwrap_or_default()
        ),
        Payload::Recovery(p) => recovery(p),
        Payload::EngineStarted(p) => format!("engine started ({})", p.owner),
        Payload::EngineStopped(p) => format!("engine stopped ({})", p.owner),
        Payload::JobUnroutable(p) => format!(
            "{} waits for a machine labelled {}: {}",
            match p.job {
                Some(job) => format!("job {job} ({})", p.kind),
                None => "the task".to_string(),
            },
            p.needs.join(" and "),
            if p.machines.is_empty() {
                "no machine is up".to_string()
            } else {
                format!("none of {} has it", p.machines.join(", "))
            }
        ),
        Payload::JobReleased(p) => format!(
            "job {} ({}) went back to the queue: {}",
            p.job,
            p.kind,
            first_line(&p.reason)
        ),
        Payload::WorktreeCleaned(WorktreeCleaned::Cleaned {
            branch,
            branch_deleted,
        }) => format!(
            "worktree removed; branch {branch} {}",
            if *branch_deleted { "deleted" } else { "kept" }
        ),
        Payload::WorktreeCleaned(WorktreeCleaned::Skipped { skipped, status }) => {
            format!("cleanup skipped ({}): {skipped}", words(status.as_str()))
        }
        Payload::WorkerTokenCreated(p) => format!(
            "{} made, for a worker {}",
            worker_token(p),
            if p.labels.is_empty() {
                "without labels".to_string()
            } else {
                format!("labelled {}", p.labels.join(", "))
            }
        ),
        Payload::WorkerTokenRevoked(p) => {
            format!(
                "{} revoked: its worker is refused from now on",
                worker_token(p)
            )
        }
        _ => return None,
    })
}

/// `worker token 3 (gpu box)`.
fn worker_token(p: &WorkerTokenChanged) -> String {
    format!("worker token {} ({})", p.id, first_line(&p.name))
}

/// Predicate of a run: `proposed task 12: “Add a cache”`.
pub(super) fn proposed(p: &TaskProposed) -> String {
    format!("proposed task {}: “{}”", p.proposal, first_line(&p.title))
}

fn notice(p: &TaskNotice) -> String {
    match p {
        TaskNotice::Notice(notice) => match notice {
            Notice::NeedsInput { question } => {
                format!("needs an answer: {}", first_line(question))
            }
            Notice::NeedsApproval { reason } => {
                format!("waits for approval: {}", first_line(reason))
            }
            Notice::Escalated { tier } => format!("escalated to tier {tier}"),
            Notice::Merged => "merged".to_string(),
            Notice::Failed { reason } => format!("failed: {}", first_line(reason)),
            Notice::Cancelled { reason } => format!("was cancelled: {}", first_line(reason)),
            Notice::BudgetStop { reason } => format!("stopped by a budget: {}", first_line(reason)),
        },
        TaskNotice::Person { by, action } => format!("{by}: {}", words(action)),
        TaskNotice::Ignored { ignored, why } => {
            format!("a late {} was ignored: {}", words(ignored), first_line(why))
        }
        TaskNotice::JobFailed { job, kind, failed } => {
            format!("the {kind} job {job} failed: {}", first_line(failed))
        }
    }
}

fn edited(p: &TaskEdited) -> String {
    let mut parts = Vec::new();
    for field in &p.changed {
        let value = match field.as_str() {
            "title" => p.title.as_deref().map(|t| format!("“{}”", first_line(t))),
            "labels" => p.labels.as_ref().map(|l| list(l)),
            "priority" => p.priority.map(|n| n.to_string()),
            "risk" => p.risk.map(|r| r.as_str().to_string()),
            "kind" => p.kind.map(|k| words(k.as_str())),
            "budget_usd" => p.budget_usd.map(|b| b.map_or("none".to_string(), usd)),
            "blocked_by" => p.blocked_by.as_ref().map(|d| or_none(&list(d))),
            "write_scope" => p.write_scope.as_ref().map(|s| or_none(&list(s))),
            "read_scope" => p.read_scope.as_ref().map(|s| or_none(&list(s))),
            _ => None,
        };
        parts.push(match value {
            Some(value) => format!("{} → {value}", words(field)),
            None => words(field),
        });
    }
    format!("edited: {}", parts.join(", "))
}

fn or_none(text: &str) -> String {
    if text.is_empty() {
        "none".to_string()
    } else {
        text.to_string()
    }
}

fn revert(p: &TaskRevert) -> String {
    format!(
        "task {} reverts task {}: its landing {} is undone by {} (made on {}, asked by {})",
        p.revert_task,
        p.reverts,
        short(&p.landed),
        short(&p.commit),
        short(&p.onto),
        p.by
    )
}

fn best_of(p: &BestOfSettled) -> String {
    let kept = match (p.kept, &p.kept_attempt) {
        (Some(slot), Some(cost)) => format!(
            "kept attempt {slot} ({}, {})",
            super::run::runs(cost.runs),
            usd(cost.cost_usd)
        ),
        (Some(slot), None) => format!("kept attempt {slot}"),
        (None, _) => "kept none".to_string(),
    };
    format!(
        "attempts settled: {kept}; discarded {} ({})",
        count(p.discarded.len(), "attempt", "attempts"),
        usd(p.discarded_cost_usd)
    )
}

fn recovery(p: &Recovery) -> String {
    let mut parts = Vec::new();
    let mut add = |n: usize, one: &str, many: &str| {
        if n > 0 {
            parts.push(count(n, one, many));
        }
    };
    add(p.jobs_released, "job released", "jobs released");
    add(p.processes_killed, "process killed", "processes killed");
    add(p.runs_lost, "run lost", "runs lost");
    add(
        p.runs_brought_back,
        "run's commits brought back",
        "runs' commits brought back",
    );
    add(p.worktrees_removed, "worktree removed", "worktrees removed");
    add(
        p.branches_deleted.len(),
        "branch deleted",
        "branches deleted",
    );
    if parts.is_empty() {
        "recovery found nothing to do".to_string()
    } else {
        format!("recovered: {}", parts.join(", "))
    }
}
