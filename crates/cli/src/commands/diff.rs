//! `gaffer diff N`.

use super::task_id;
use crate::context::Context;
use crate::error::CliResult;
use std::io::Write;

pub fn run(ctx: &Context, id: i64) -> CliResult<()> {
    let board = ctx.board()?;
    let diff = board.diff(task_id(id))?;
    if diff.is_empty() {
        outln!("task {id} has no change yet")?;
        return Ok(());
    }
    std::io::stdout().write_all(diff.as_bytes())?;
    Ok(())
}
