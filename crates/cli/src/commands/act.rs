//! What people do to a task (cancel, retry, approve, reject, answer, accept, decline, budget,
//! say, attach, release):
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
        "its agent's run going on in the daemon hears it at its next turn (or, for an agent that \
         cannot take it then, stops and resumes with it); otherwise its next run starts with it"
    } else {
        "no daemon runs: its next run starts with it"
    };
    outln!("task {} ({}): said; {when}", task.id, task.status())?;
    Ok(())
}

/// Takes task `id` over for `who` (through the daemon when it runs, so that its engine stops
/// the task's work at once), answering where to work and how to resume its agent. Shared with
/// the shell.
pub fn attach_task(
    board: &Board,
    daemon: Option<crate::client::Client>,
    rt: &tokio::runtime::Runtime,
    id: i64,
    who: &str,
) -> CliResult<gaffer_api::Attached> {
    let action = Action::Attach;
    match daemon {
        Some(client) => rt.block_on(client.post(&action.path(id), &action.body())),
        None => board
            .perform(task_id(id), action, who)?
            .attached
            .ok_or_else(|| {
                crate::error::CliError::new(
                    crate::error::Kind::Internal,
                    "the task was attached, but nothing says where",
                )
            }),
    }
}

/// What a person reads once they have a task in hand: where, and how to go on.
pub fn attached_lines(attached: &gaffer_api::Attached) -> Vec<String> {
    let id = attached.task.id;
    let mut lines = vec![
        format!("task {id} is in your hands: nothing of gaffer's touches it until you release it"),
        format!("  worktree  {}", attached.worktree),
        format!("  branch    {}", attached.branch),
    ];
    match &attached.resume {
        Some(resume) => {
            lines.push(format!(
                "  resume its agent ({}, session {}) there:",
                resume.agent, resume.session
            ));
            lines.push(format!(
                "    cd {} && {}",
                attached.worktree, resume.command
            ));
        }
        None => lines.push("  no agent session to resume by hand".to_string()),
    }
    lines.push(format!(
        "  when done: `gaffer release {id}` (what you leave uncommitted is committed as yours)"
    ));
    lines
}

/// `gaffer attach N`.
pub fn attach(ctx: &Context, id: i64, json: bool) -> CliResult<()> {
    let board = ctx.board()?;
    let attached = attach_task(&board, ctx.daemon(&board), &runtime()?, id, "cli")?;
    if json {
        return crate::output::json(&attached);
    }
    crate::output::lines(&attached_lines(&attached))
}

/// `gaffer release N`.
pub fn release(ctx: &Context, id: i64) -> CliResult<()> {
    let board = ctx.board()?;
    let task = perform(
        &board,
        ctx.daemon(&board),
        &runtime()?,
        id,
        Action::Release,
        "cli",
    )?;
    outln!("task {}: handed back; {}", task.id, task.status())?;
    Ok(())
}
