//! Decides which tasks move without a person: promote those whose dependencies merged, start
//! ready ones while slots and write scopes are free, and settle epics. What merges when is the
//! merge queue's business (`crate::queue`).
//!
//! It only reads the board and emits machine inputs; the machine decides whether they apply.

use crate::board::Board;
use gaffer_core::{Input, Status, Task, TaskId, TaskKind, scope::scopes_overlap};
use std::collections::HashMap;

/// One input the scheduler wants applied.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    pub task: TaskId,
    pub input: Input,
}

/// Agent-holding states that count against the concurrency limit.
fn uses_agent_slot(status: Status) -> bool {
    matches!(
        status,
        Status::Planning
            | Status::PlanReview
            | Status::Coding
            | Status::Verifying
            | Status::Reviewing
    )
}

/// Everything the scheduler would do now, in order.
pub fn decide(board: &Board, tasks: &[Task]) -> Vec<Decision> {
    let by_id: HashMap<TaskId, &Task> = tasks.iter().map(|t| (t.id, t)).collect();
    let status_of = |id: &TaskId| -> Option<Status> {
        by_id
            .get(id)
            .map(|t| t.status())
            .or_else(|| board.store.task(*id).ok().map(|t| t.status()))
    };
    let mut out = Vec::new();

    for task in tasks {
        match task.status() {
            Status::Backlog if matches!(task.kind, TaskKind::Task | TaskKind::Epic) => {
                // A dependency that was cancelled will never merge: neither will this task.
                if let Some(dep) = task
                    .blocked_by
                    .iter()
                    .find(|d| status_of(d) == Some(Status::Cancelled))
                {
                    out.push(Decision {
                        task: task.id,
                        input: Input::Cancel {
                            reason: format!("its dependency #{dep} was cancelled"),
                        },
                    });
                    continue;
                }
                let deps_merged = task
                    .blocked_by
                    .iter()
                    .all(|d| status_of(d) == Some(Status::Merged));
                if deps_merged {
                    out.push(Decision {
                        task: task.id,
                        input: Input::Promote,
                    });
                }
            }
            Status::Delegated => {
                let children: Vec<&Task> =
                    tasks.iter().filter(|t| t.parent == Some(task.id)).collect();
                if !children.is_empty()
                    && children.iter().all(|c| {
                        matches!(
                            c.status(),
                            Status::Merged | Status::Cancelled | Status::Failed
                        )
                    })
                {
                    let all_merged = children.iter().all(|c| c.status() == Status::Merged);
                    out.push(Decision {
                        task: task.id,
                        input: Input::ChildrenSettled { all_merged },
                    });
                }
            }
            _ => {}
        }
    }

    // Start ready tasks by priority while slots and write scopes allow.
    let mut in_flight: Vec<&Task> = tasks.iter().filter(|t| t.status().is_in_flight()).collect();
    let mut busy = tasks.iter().filter(|t| uses_agent_slot(t.status())).count();
    // On a shared board a daemon starts only the tasks that it, or a live remote worker, can
    // work on (can take a job their start enqueues: the task's needs, `needs:gpu`, and its
    // first agents'): another daemon that has the labels starts them from its own room. Alone
    // on its board, a daemon starts them all (one that no machine can take is said by
    // `job.unroutable`).
    let workers = if board.shared {
        crate::routing::live_workers(board, crate::queue::now_ms()).unwrap_or_default()
    } else {
        Vec::new()
    };
    let mut ready: Vec<&Task> = tasks
        .iter()
        .filter(|t| t.status() == Status::Ready)
        .filter(|t| {
            !board.shared
                || crate::needs::start_needs(board, t)
                    .iter()
                    .any(|needs| crate::routing::starts_here(board, needs, &workers))
        })
        .collect();
    // A task promoted in this very round starts in the next one (the machine needs it ready).
    ready.sort_by_key(|t| (std::cmp::Reverse(t.priority), t.id));
    // No new task starts while the day's budget is spent (`crate::budget` says so once).
    if !ready.is_empty() && crate::budget::day_stop(board).ok().flatten().is_some() {
        ready.clear();
    }
    // A shared board counts no board-wide limit: each daemon starts only what it has room for
    // itself (`Engine::tick`), so the board holds as much work as all daemons together.
    let limit = if board.shared {
        usize::MAX
    } else {
        board.settings.engine.concurrency
    };
    for task in ready {
        if busy >= limit {
            break;
        }
        let clash = in_flight
            .iter()
            .any(|other| scopes_overlap(&task.write_scope, &other.write_scope));
        if clash {
            continue;
        }
        out.push(Decision {
            task: task.id,
            input: Input::Start,
        });
        in_flight.push(task);
        busy += 1;
    }

    // Queued tasks are the merge queue's (`crate::queue`).
    out
}

/// How many jobs of `kinds` of the board's project wait unclaimed: those this machine could
/// take, and those only one of the live remote `workers` could.
pub(crate) fn waiting_jobs(
    board: &Board,
    kinds: &[gaffer_core::JobKind],
    workers: &[gaffer_store::HostInfo],
) -> crate::error::Result<(usize, usize)> {
    let labels = &board.settings.host.labels;
    let mut waiting = (0, 0);
    for job in board.store.jobs(&gaffer_store::JobFilter {
        task: None,
        statuses: vec![gaffer_core::JobStatus::Queued],
    })? {
        if job.project != board.project.id || !kinds.contains(&job.spec.kind()) {
            continue;
        }
        // Jobs neither this machine nor a worker could take do not fill their slots.
        if crate::routing::fits(&job.needs, labels) {
            waiting.0 += 1;
        } else if workers
            .iter()
            .any(|w| crate::routing::fits(&job.needs, &w.labels))
        {
            waiting.1 += 1;
        }
    }
    Ok(waiting)
}
