//! Budgets that stop work (DESIGN §2.7): per task (`NewTask::budget_usd`, else
//! `budget.task_usd`) over all its runs, and per project and UTC day (`budget.day_usd`) over
//! every run started that day, in US dollars as the runs recorded them.
//!
//! - Before an agent run starts, its job checks both ([`stop_reason`]); when one is spent, the
//!   run does not start and the job tells the machine [`Input::Hold`] with the run it did not
//!   start: the task waits in `awaiting_approval` with the reason, and a `budget_stop` notice goes
//!   to the notifications. A person raises the task's budget (`gaffer task budget N USD`) or lets
//!   one more run go (`gaffer approve N`).
//! - Each engine round ([`round`]) releases held tasks that the budgets allow again (a raised
//!   budget, a new UTC day): [`Input::Release`] starts exactly the run that was held.
//! - While the day's budget is spent, the scheduler starts no new task ([`day_stop`]), and the
//!   engine records once why (`budget.day_stop`, then `budget.day_resumed`).

use crate::apply::{Extra, apply};
use crate::board::Board;
use crate::error::{EngineError, Result};
use gaffer_core::payload::{BudgetDayResumed, BudgetDayStop, BudgetReleased};
use gaffer_core::{Input, NewEvent, Payload, Run, Status, Task};
use std::sync::Mutex;

/// One day in milliseconds.
const DAY_MS: i64 = 24 * 60 * 60 * 1000;

/// Now, in milliseconds since the epoch.
pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// Midnight UTC of the day `ms` falls in.
pub(crate) fn day_start(ms: i64) -> i64 {
    ms - ms.rem_euclid(DAY_MS)
}

/// What today's runs of the project cost so far (UTC day).
pub(crate) fn spent_today(board: &Board) -> Result<f64> {
    let since = day_start(now_ms());
    Ok(board
        .store
        .usage_since(Some(board.project.id), since)?
        .usage
        .cost_usd)
}

/// Why no new run may start today, when the day's budget is spent.
pub(crate) fn day_stop(board: &Board) -> Result<Option<String>> {
    let Some(limit) = board.settings.budget.day_usd else {
        return Ok(None);
    };
    let spent = spent_today(board)?;
    Ok((spent >= limit).then(|| {
        format!(
            "budget: the project has spent ${spent:.4} of its ${limit:.4} budget for today (UTC)"
        )
    }))
}

/// The budget that applies to `task`: its own, else `budget.task_usd`.
pub fn task_budget(board: &Board, task: &Task) -> Option<f64> {
    task.budget_usd.or(board.settings.budget.task_usd)
}

/// What `runs` (a task's) cost.
pub fn spent<'a>(runs: impl IntoIterator<Item = &'a Run>) -> f64 {
    runs.into_iter().map(|r| r.usage.cost_usd).sum()
}

/// Why the next run of `task` (whose runs so far are `runs`) may not start, when a budget says
/// so; with what a person can do about it.
pub(crate) fn stop_reason(board: &Board, task: &Task, runs: &[Run]) -> Result<Option<String>> {
    let id = task.id;
    if let Some(limit) = task_budget(board, task) {
        let spent = spent(runs);
        if spent >= limit {
            return Ok(Some(format!(
                "budget: task #{id} has spent ${spent:.4} of its ${limit:.4} budget; raise it \
                 with `gaffer task budget {id} <USD>`, or let one more run go with `gaffer \
                 approve {id}`"
            )));
        }
    }
    Ok(day_stop(board)?.map(|reason| {
        format!(
            "{reason}; runs start again tomorrow (UTC) or with a higher budget.day_usd, or let \
             one more run of this task go with `gaffer approve {id}`"
        )
    }))
}

/// What the engine remembers between rounds: whether the day's budget held back new starts,
/// so that it says so once each time that changes.
#[derive(Debug, Default)]
pub(crate) struct Watch {
    day_stop: Mutex<bool>,
}

/// One round: release held tasks that the budgets allow again, and say when the day's budget
/// starts or stops holding back new tasks.
pub(crate) fn round(board: &Board, tasks: &[Task], watch: &Watch) {
    if let Err(e) = release_held(board, tasks) {
        tracing::warn!("releasing tasks held by a budget failed: {e}");
    }
    let stop = match day_stop(board) {
        Ok(stop) => stop,
        Err(e) => {
            tracing::warn!("checking the day's budget failed: {e}");
            return;
        }
    };
    let Ok(mut last) = watch.day_stop.lock() else {
        return;
    };
    if *last == stop.is_some() {
        return;
    }
    let waiting = tasks
        .iter()
        .filter(|t| t.status() == Status::Ready)
        .map(|t| t.id)
        .collect();
    let event = NewEvent::of(match &stop {
        Some(reason) => Payload::BudgetDayStop(BudgetDayStop {
            reason: reason.clone(),
            limit_usd: board.settings.budget.day_usd,
            detail: "no new task starts until tomorrow (UTC) or a higher budget.day_usd".into(),
            waiting,
        }),
        None => Payload::BudgetDayResumed(BudgetDayResumed {
            detail: "the day's budget allows runs again".into(),
        }),
    });
    if let Err(e) = board
        .store
        .append_events(&[event.project(board.project.id)])
    {
        tracing::warn!("could not record the day's budget: {e}");
        return;
    }
    *last = stop.is_some();
}

/// Held tasks whose budgets allow a run again are released.
fn release_held(board: &Board, tasks: &[Task]) -> Result<()> {
    for task in tasks {
        release_if_allowed(board, task, "engine")?;
    }
    Ok(())
}

/// Releases `task` when a budget holds it and the budgets allow its run now (the held run
/// starts, with a `budget.released` event saying who let it go); true when it did.
pub(crate) fn release_if_allowed(board: &Board, task: &Task, by: &str) -> Result<bool> {
    if task.status() != Status::AwaitingApproval || task.state.held.is_none() {
        return Ok(false);
    }
    let runs = board.store.runs(task.id)?;
    if stop_reason(board, task, &runs)?.is_some() {
        return Ok(false);
    }
    let event = NewEvent::of(Payload::BudgetReleased(BudgetReleased {
        by: by.to_string(),
        spent_usd: spent(&runs),
        budget_usd: task_budget(board, task),
        detail: "the budgets allow the held run now".into(),
    }));
    match apply(
        board,
        task.id,
        &Input::Release,
        Extra {
            events: vec![event],
            ..Extra::default()
        },
    ) {
        Ok(_) => Ok(true),
        Err(EngineError::Transition { .. }) => Ok(false),
        Err(e) => Err(e),
    }
}

/// The budgets at a glance (`gaffer budget`).
#[derive(Debug, Clone, serde::Serialize)]
pub struct BudgetReport {
    /// `budget.day_usd`.
    pub day_usd: Option<f64>,
    /// What the project's runs started today (UTC) cost.
    pub spent_today_usd: f64,
    /// Why no new run starts today, when the day's budget is spent.
    pub day_stop: Option<String>,
    /// `budget.task_usd`, the default of tasks without their own.
    pub task_usd: Option<f64>,
    /// `budget.idle_usd`.
    pub idle_usd: Option<f64>,
    /// Tasks that are not over, with what they spent and may spend.
    pub tasks: Vec<TaskSpend>,
}

/// One task's spending.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TaskSpend {
    pub id: gaffer_core::TaskId,
    pub title: String,
    pub status: Status,
    pub spent_usd: f64,
    /// Its own budget, else the default; `None`: no limit.
    pub budget_usd: Option<f64>,
    /// Set while a budget holds it: why.
    pub held: Option<String>,
}

impl Board {
    /// The budgets, what was spent against them, and the tasks they hold.
    pub fn budget_report(&self) -> Result<BudgetReport> {
        let mut tasks = Vec::new();
        for task in self.tasks(&[])? {
            let runs = self.store.runs(task.id)?;
            if task.status().is_terminal() && task.state.held.is_none() {
                continue;
            }
            tasks.push(TaskSpend {
                id: task.id,
                title: task.title.clone(),
                status: task.status(),
                spent_usd: spent(&runs),
                budget_usd: task_budget(self, &task),
                held: task.state.held.as_ref().and(task.state.note.clone()),
            });
        }
        Ok(BudgetReport {
            day_usd: self.settings.budget.day_usd,
            spent_today_usd: spent_today(self)?,
            day_stop: day_stop(self)?,
            task_usd: self.settings.budget.task_usd,
            idle_usd: self.settings.budget.idle_usd,
            tasks,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_start_at_midnight_utc() {
        // 2023-11-14T22:13:20Z.
        let ms = 1_700_000_000_000;
        assert_eq!(day_start(ms), 1_699_920_000_000);
        assert_eq!(day_start(1_699_920_000_000), 1_699_920_000_000);
        assert_eq!(day_start(1_699_920_000_000 - 1), 1_699_920_000_000 - DAY_MS);
    }
}
