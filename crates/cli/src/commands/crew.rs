//! What people decide about the crew's spending and ideas: `gaffer budget` (the budgets, what
//! was spent, what they hold), `gaffer budget set N USD` / `gaffer task budget N USD` (a task's
//! own budget; a task held by it starts its run again when the budgets allow), `gaffer accept
//! N` (a proposal becomes a task) and `gaffer decline N` (it is cancelled).
//!
//! Like every action they go through the daemon when it runs (so its engine acts at once), else
//! directly on the board: `act::perform`.

use super::{act, runtime};
use crate::cli::{BudgetArgs, BudgetCommand, DeclineArgs, IdArg};
use crate::context::Context;
use crate::error::{CliError, CliResult, Kind};
use crate::output;
use gaffer_api::Action;

const WHO: &str = "cli";

pub fn budget(ctx: &Context, args: &BudgetArgs) -> CliResult<()> {
    match &args.command {
        Some(BudgetCommand::Set(set)) => set_budget(ctx, set.id, &set.usd),
        None => show(ctx, args.json),
    }
}

/// `gaffer budget set N USD` and `gaffer task budget N USD`; `none` removes the task's own.
pub fn set_budget(ctx: &Context, id: i64, usd: &str) -> CliResult<()> {
    let amount = gaffer_api::parse_budget(usd).map_err(|message| {
        CliError::new(Kind::Usage, message)
            .hint("write e.g. 2.50, or `none` for the default budget.task_usd")
    })?;
    let board = ctx.board()?;
    let task = perform(ctx, &board, id, Action::Budget { usd: amount })?;
    let limit = gaffer_engine::task_budget(&board, &task)
        .map_or("no limit".to_string(), |b| format!("${b:.2}"));
    outln!("task {}: budget {limit}; {}", task.id, task.status())?;
    Ok(())
}

fn show(ctx: &Context, json: bool) -> CliResult<()> {
    let board = ctx.board()?;
    let report = board.budget_report()?;
    if json {
        return output::json(&report);
    }
    let limit = |v: Option<f64>| v.map_or("no limit".to_string(), |v| format!("${v:.2}"));
    outln!(
        "today (UTC): ${:.4} spent of {}",
        report.spent_today_usd,
        limit(report.day_usd)
    )?;
    if let Some(stop) = &report.day_stop {
        outln!("  {stop}: no new task starts today")?;
    }
    outln!(
        "per task: {} unless the task has its own; idle surveys: {} a day",
        limit(report.task_usd),
        limit(report.idle_usd)
    )?;
    for t in &report.tasks {
        outln!(
            "#{:<4} {:<18} ${:.4} of {}  {}",
            t.id,
            t.status.as_str(),
            t.spent_usd,
            limit(t.budget_usd),
            output::first_line(&t.title)
        )?;
        if let Some(held) = &t.held {
            outln!("      held: {held}")?;
        }
    }
    Ok(())
}

pub fn accept(ctx: &Context, args: &IdArg) -> CliResult<()> {
    let board = ctx.board()?;
    let task = perform(ctx, &board, args.id, Action::Accept)?;
    outln!(
        "task {}: accepted; it is a task now ({})",
        task.id,
        task.status()
    )?;
    Ok(())
}

pub fn decline(ctx: &Context, args: &DeclineArgs) -> CliResult<()> {
    let board = ctx.board()?;
    let action = Action::Decline {
        reason: Some(args.reason.clone()),
    };
    let task = perform(ctx, &board, args.id, action)?;
    outln!("task {}: declined ({})", task.id, task.status())?;
    Ok(())
}

fn perform(
    ctx: &Context,
    board: &gaffer_engine::Board,
    id: i64,
    action: Action,
) -> CliResult<gaffer_core::Task> {
    act::perform(board, ctx.daemon(board), &runtime()?, id, action, WHO)
}
