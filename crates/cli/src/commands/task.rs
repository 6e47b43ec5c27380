//! `gaffer task add | list | show`.

use super::{runtime, task_id};
use crate::cli::{TaskAddArgs, TaskListArgs, TaskShowArgs};
use crate::context::Context;
use crate::error::{CliError, CliResult, Kind};
use crate::output;
use crate::verify_text::Output;
use gaffer_core::{NewTask, Status, Task, TaskId};
use gaffer_store::EventFilter;
use std::io::Read;

pub fn add(ctx: &Context, args: TaskAddArgs) -> CliResult<()> {
    let body = match (&args.body, &args.body_file) {
        (Some(b), _) if b == "-" => {
            let mut text = String::new();
            std::io::stdin().read_to_string(&mut text)?;
            text
        }
        (Some(b), _) => b.clone(),
        (None, Some(path)) => {
            // Relative to `-C`, like every path on the command line.
            let path = ctx.dir().join(path);
            std::fs::read_to_string(&path).map_err(|e| {
                CliError::new(
                    Kind::NotFound,
                    format!("cannot read {}: {e}", path.display()),
                )
            })?
        }
        (None, None) => String::new(),
    };
    let usage = |e: String| CliError::new(Kind::Usage, e);
    let new = NewTask {
        title: args.title,
        body,
        kind: args.kind.parse().map_err(usage)?,
        priority: args.priority,
        labels: args
            .labels
            .into_iter()
            .chain(
                args.needs
                    .iter()
                    .flat_map(|n| n.split(','))
                    .map(|n| format!("{}{}", gaffer_core::NEEDS_PREFIX, n.trim())),
            )
            .collect(),
        parent: args.parent.map(TaskId),
        blocked_by: args.deps.into_iter().map(TaskId).collect(),
        write_scope: args.scope,
        read_scope: args.read_scope,
        risk: args.risk.parse().map_err(usage)?,
        tier: args.tier,
        budget_usd: args.budget,
        plan: args.plan,
        best_of: args.best_of,
    };
    let board = ctx.board()?;
    let task: Task = match ctx.daemon(&board) {
        Some(client) => runtime()?.block_on(client.post(gaffer_api::paths::TASKS, &new))?,
        None => board.add_task(new)?,
    };
    if args.json {
        return output::json(&task);
    }
    outln!("added task {}: {} ({})", task.id, task.title, task.branch)?;
    Ok(())
}

pub fn list(ctx: &Context, args: &TaskListArgs) -> CliResult<()> {
    let statuses = args
        .status
        .iter()
        .map(|s| s.parse::<Status>())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| CliError::new(Kind::Usage, e))?;
    let board = ctx.board()?;
    let tasks = board.tasks(&statuses)?;
    if args.json {
        return output::json(&tasks);
    }
    output::task_table(&tasks)
}

pub fn show(ctx: &Context, args: &TaskShowArgs) -> CliResult<()> {
    let board = ctx.board()?;
    let task = board.task(task_id(args.id))?;
    let runs = board.runs(task.id)?;
    let events = board.events_after(
        gaffer_core::Seq(0),
        10_000,
        &EventFilter {
            task: Some(task.id),
            ..EventFilter::default()
        },
    )?;
    let handoff = gaffer_engine::last_handoff(&runs);
    if args.json {
        return output::json(&serde_json::json!({
            "task": task, "runs": runs, "events": events, "handoff": handoff,
        }));
    }
    outln!("task {}: {}", task.id, task.title)?;
    outln!("  status    {}", task.status())?;
    let failure = crate::verify_text::last_failure(&events);
    if let Some(note) = &task.state.note {
        // The output, when asked for, is printed once: under the last verify if it failed.
        let lines = crate::verify_text::note_lines(note, args.full && failure.is_none());
        for (i, line) in lines.iter().enumerate() {
            outln!("  {:<9} {line}", if i == 0 { "note" } else { "" })?;
        }
    }
    outln!("  branch    {}", task.branch)?;
    outln!("  attempts  {}", task.state.attempts_summary())?;
    if !task.blocked_by.is_empty() {
        let deps: Vec<String> = task.blocked_by.iter().map(|d| d.to_string()).collect();
        outln!("  after     {}", deps.join(", "))?;
    }
    if !task.write_scope.is_empty() {
        outln!("  scope     {}", task.write_scope.join(", "))?;
    }
    if !task.read_scope.is_empty() {
        outln!("  reads     {}", task.read_scope.join(", "))?;
    }
    outln!("  risk      {}", task.state.risk)?;
    if let Some(landed) = &task.state.landed {
        outln!("  landed    {}", landed.commit)?;
    }
    if !task.body.trim().is_empty() {
        outln!("\n{}\n", task.body.trim())?;
    }
    if let Some(handoff) = handoff {
        outln!("handoff (what the last coding run did, what is left, what to watch):")?;
        for line in handoff.trim().lines() {
            outln!("  {line}")?;
        }
    }
    if let Some(failure) = failure {
        outln!("last verify:")?;
        let more = format!("gaffer task show {} --full", task.id);
        let shown = if args.full {
            Output::Full
        } else {
            Output::Elsewhere(Some(&more))
        };
        output::lines(&crate::verify_text::verify_lines(failure, shown, "  "))?;
    }
    if !runs.is_empty() {
        outln!("runs:")?;
        output::lines(&runs.iter().map(crate::render::run_line).collect::<Vec<_>>())?;
    }
    outln!("history:")?;
    for e in events.iter().filter(|e| e.kind != "run.output") {
        outln!("  {}", output::task_event_line(e))?;
    }
    Ok(())
}
