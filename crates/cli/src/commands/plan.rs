//! `gaffer plan "goal"`: an epic for the planner to split into subtasks.

use super::runtime;
use crate::cli::PlanArgs;
use crate::context::Context;
use crate::error::{CliError, CliResult, Kind};
use crate::output;
use gaffer_core::{NewTask, Task, TaskKind};
use std::io::Read;

pub fn run(ctx: &Context, args: &PlanArgs) -> CliResult<()> {
    let board = ctx.board()?;
    if board.settings().roles.planner.is_empty() {
        return Err(CliError::new(
            Kind::Config,
            "`gaffer plan` needs a planner, and roles.planner in gaffer.toml names no agent",
        )
        .hint(
            "add an agent to roles.planner (and a plan reviewer of another family to \
             roles.plan_reviewer), or add the work as one task: gaffer task add TITLE",
        ));
    }
    let body = match args.body.as_deref() {
        Some("-") => {
            let mut text = String::new();
            std::io::stdin().read_to_string(&mut text)?;
            text
        }
        Some(text) => text.to_string(),
        None => String::new(),
    };
    let new = NewTask {
        title: args.goal.clone(),
        body,
        kind: TaskKind::Epic,
        priority: args.priority,
        labels: args.labels.clone(),
        plan: true,
        ..NewTask::default()
    };
    let task: Task = match ctx.daemon(&board) {
        Some(client) => runtime()?.block_on(client.post(gaffer_api::paths::TASKS, &new))?,
        None => board.add_task(new)?,
    };
    if args.json {
        return output::json(&task);
    }
    output::line(&format!(
        "added epic {}: {} (the planner splits it into subtasks; `gaffer task show {}` follows it)",
        task.id, task.title, task.id
    ))
}
