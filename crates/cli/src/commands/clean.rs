//! `gaffer clean`: idle worktrees and dead branches removed (`Board::clean`, which recovery
//! uses too). A running daemon does it, under the locks its engine works with; without one,
//! the state directory's lock keeps a daemon from starting meanwhile.

use super::runtime;
use crate::context::Context;
use crate::daemon::StateLock;
use crate::error::CliResult;
use crate::output;
use gaffer_api::CleanReport;

pub fn run(ctx: &Context, json: bool) -> CliResult<()> {
    let board = ctx.board()?;
    let report: CleanReport = match ctx.daemon(&board) {
        Some(client) => {
            runtime()?.block_on(client.post(gaffer_api::paths::CLEAN, &serde_json::json!({})))?
        }
        None => {
            let _lock = StateLock::acquire(board.paths())?;
            board.clean(true)?
        }
    };
    if json {
        return output::json(&report);
    }
    print(&report)
}

fn print(report: &CleanReport) -> CliResult<()> {
    if report.is_empty() {
        outln!("nothing to clean")?;
    }
    list("removed worktree", &report.worktrees_removed)?;
    list("removed pool worktree", &report.pool_removed)?;
    list("deleted branch", &report.branches_deleted)?;
    for branch in &report.branches_in_use {
        outln!("kept branch {branch}: it is checked out in a worktree that is not gaffer's")?;
    }
    Ok(())
}

fn list(what: &str, items: &[String]) -> CliResult<()> {
    items.iter().try_for_each(|item| outln!("{what} {item}"))
}
