//! `gaffer task edit N …`: change a task before work on it starts. The flags become one
//! `gaffer_api::TaskChanges`, sent to the daemon (`PATCH /api/tasks/{id}`) when it runs, else
//! carried out on the board by `Board::edit_task`, which checks them either way.

use super::{runtime, task_id};
use crate::cli::TaskEditArgs;
use crate::context::Context;
use crate::error::{CliError, CliResult, Kind};
use crate::output;
use gaffer_api::TaskChanges;
use gaffer_core::{Task, TaskId};
use std::io::Read;

pub fn run(ctx: &Context, args: TaskEditArgs) -> CliResult<()> {
    let changes = changes(&args)?;
    if changes.is_empty() {
        return Err(CliError::new(Kind::Usage, "nothing to change").hint(
            "say what: --title, --body, --label, --priority, --dep, --no-dep, --scope, \
             --read-scope (e.g. gaffer task edit 4 --dep 3)",
        ));
    }
    let board = ctx.board()?;
    let task: Task = match ctx.daemon(&board) {
        Some(client) => {
            runtime()?.block_on(client.patch(&gaffer_api::paths::task(args.id), &changes))?
        }
        None => board.edit_task(task_id(args.id), changes)?,
    };
    if args.json {
        return output::json(&task);
    }
    outln!("task {}: {} ({})", task.id, task.title, task.status())?;
    if !task.blocked_by.is_empty() {
        let deps: Vec<String> = task.blocked_by.iter().map(|d| d.to_string()).collect();
        outln!("  after       {}", deps.join(", "))?;
    }
    if !task.write_scope.is_empty() {
        outln!("  scope       {}", task.write_scope.join(", "))?;
    }
    if !task.read_scope.is_empty() {
        outln!("  read scope  {}", task.read_scope.join(", "))?;
    }
    outln!("  priority    {}", task.priority)?;
    Ok(())
}

/// The changes the flags ask for.
fn changes(args: &TaskEditArgs) -> CliResult<TaskChanges> {
    let body = match args.body.as_deref() {
        Some("-") => {
            let mut text = String::new();
            std::io::stdin().read_to_string(&mut text)?;
            Some(text)
        }
        other => other.map(str::to_string),
    };
    let replace = |values: &[String], clear: bool| {
        (clear || !values.is_empty()).then(|| if clear { Vec::new() } else { values.to_vec() })
    };
    Ok(TaskChanges {
        title: args.title.clone(),
        body,
        labels: replace(&args.labels, args.no_labels),
        priority: args.priority,
        add_deps: args.deps.iter().copied().map(TaskId).collect(),
        remove_deps: args.no_deps.iter().copied().map(TaskId).collect(),
        write_scope: replace(&args.scope, args.no_scope),
        read_scope: replace(&args.read_scope, args.no_read_scope),
    })
}
