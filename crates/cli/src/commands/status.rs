//! `gaffer status` and `gaffer pending`.

use crate::context::Context;
use crate::error::CliResult;
use crate::output;
use gaffer_core::Status;

pub fn run(ctx: &Context, json: bool) -> CliResult<()> {
    let board = ctx.board()?;
    let report = board.status()?;
    let daemon = ctx.daemon(&board).map(|c| c.url(""));
    if json {
        return output::json(&serde_json::json!({ "status": report, "daemon": daemon }));
    }
    output::lines(&crate::render::status_header(&report, daemon.as_deref()))?;
    output::line("")?;
    output::task_table(&report.tasks)
}

pub fn pending(ctx: &Context, json: bool) -> CliResult<()> {
    let board = ctx.board()?;
    let mut tasks = board.tasks(&[
        Status::NeedsInput,
        Status::AwaitingApproval,
        Status::Attached,
    ])?;
    // Proposals wait for a person too: accept or decline.
    tasks.extend(
        board
            .tasks(&[Status::Backlog])?
            .into_iter()
            .filter(|t| t.kind == gaffer_core::TaskKind::Proposal),
    );
    if json {
        return output::json(&tasks);
    }
    if tasks.is_empty() {
        outln!("nothing waits for a person")?;
    }
    for t in &tasks {
        let note = t.state.note.as_deref().unwrap_or("");
        let what = match t.status() {
            Status::NeedsInput => format!("asks: {note}"),
            Status::Attached => "a person has it in hand".to_string(),
            Status::Backlog => format!("proposal: {}", crate::output::first_line(&t.body)),
            _ if t.state.held.is_some() => format!("stopped by a budget: {note}"),
            _ => format!("needs approval: {note}"),
        };
        outln!("#{} {} — {}", t.id, t.title, what.trim())?;
        match t.status() {
            Status::NeedsInput => outln!("    gaffer answer {} \"…\"", t.id),
            Status::Attached => outln!("    gaffer release {} (when done)", t.id),
            Status::Backlog => outln!(
                "    gaffer accept {0}   |   gaffer decline {0} --reason \"…\"",
                t.id
            ),
            _ if t.state.held.is_some() => outln!(
                "    gaffer task budget {0} USD   |   gaffer approve {0} (one more run)   |   \
                 gaffer reject {0} --reason \"…\"",
                t.id
            ),
            _ => outln!(
                "    gaffer approve {0}   |   gaffer reject {0} --reason \"…\"",
                t.id
            ),
        }?;
    }
    Ok(())
}
