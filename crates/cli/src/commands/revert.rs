//! `gaffer revert N`: undo a merged task. `Board::revert` (through the daemon when it runs) makes
//! the revert and the task that carries it; this file says what was made and where it goes.

use super::{act, runtime};
use crate::cli::RevertArgs;
use crate::context::Context;
use crate::error::CliResult;
use crate::output::{self, short};
use gaffer_api::Action;

pub fn run(ctx: &Context, args: &RevertArgs) -> CliResult<()> {
    let board = ctx.board()?;
    let task = act::perform(
        &board,
        ctx.daemon(&board),
        &runtime()?,
        args.id,
        Action::Revert,
        "cli",
    )?;
    if args.json {
        return output::json(&task);
    }
    outln!(
        "task {} reverts task {}: {} ({} at {})",
        task.id,
        args.id,
        task.status(),
        task.branch,
        short(task.state.head.as_ref().map_or("", |h| h.as_str()))
    )?;
    outln!(
        "it lands through verify and the merge queue like any change: `gaffer task show {}`",
        task.id
    )?;
    Ok(())
}
