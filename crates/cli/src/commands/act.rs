//! What people do to a task (cancel, retry, approve, reject, answer, accept, decline, budget,
//! say):
//! through the daemon when it runs (so it acts at once), else directly on the board. Either
//! way `Board::perform` carries it out; this file only says what happened.

use super::{runtime, task_id};
use crate::context::Context;
use crate::error::CliResult;
use gaffer_api::Action;
use gaffer_core::Task;
use gaffer_engine::Board;

/// Carries out `action` on task `id` for `who`: through the daemon's API when one runs, else
/// on the board (no work runs then, so there is none to stop). Shared with the shell.
pub fn perform(
    board: &Board,
    daemon: Option<crate::client::Client>,
    rt: &tokio::runtime::Runtime,
    id: i64,
    action: Action,
    who: &str,
) -> CliResult<Task> {
    Ok(match daemon {
        Some(client) => rt.block_on(client.act(id, &action))?,
        None => board.perform(task_id(id), action, who)?.task,
    })
}

/// `gaffer <action> N …`: carries it out and prints the task's status.
pub fn run(ctx: &Context, id: i64, action: Action) -> CliResult<()> {
    let board = ctx.board()?;
    let task = perform(&board, ctx.daemon(&board), &runtime()?, id, action, "cli")?;
    outln!("task {}: {}", task.id, task.status())?;
    Ok(())
}

/// `gaffer say N TEXT`: the message goes to the task's agent; says when it will hear it.
pub fn say(ctx: &Context, id: i64, text: String) -> CliResult<()> {
    let board = ctx.board()?;
    let daemon = ctx.daemon(&board);
    let running = daemon.is_some();
    let task = perform(&board, daemon, &runtime()?, id, Action::Say { text }, "cli")?;
    let when = if running {
        "its agent's run going on in the daemon stops and resumes with it; otherwise its next \
         run starts with it"
    } else {
        "no daemon runs: its next run starts with it"
    };
    outln!("task {} ({}): said; {when}", task.id, task.status())?;
    Ok(())
}
