//! `gaffer log N`: what the agents of a task did, run by run.

use super::task_id;
use crate::cli::LogArgs;
use crate::context::Context;
use crate::error::{CliError, CliResult, Kind};
use crate::output;
use gaffer_core::RunId;

pub fn run(ctx: &Context, args: &LogArgs) -> CliResult<()> {
    let board = ctx.board()?;
    let task = board.task(task_id(args.id))?;
    let runs: Vec<_> = board
        .runs(task.id)?
        .into_iter()
        .filter(|r| args.run.is_none_or(|id| r.id == RunId(id)))
        .collect();
    if runs.is_empty() {
        if let Some(run) = args.run {
            return Err(CliError::new(
                Kind::NotFound,
                format!("task {} has no run {run}", task.id),
            )
            .hint(format!("`gaffer log {}` shows all of its runs", task.id)));
        }
        if args.json {
            return output::json(&serde_json::json!([]));
        }
        outln!("task {} has no runs yet", task.id)?;
        return Ok(());
    }
    let mut all = Vec::new();
    for run in &runs {
        let events = board.events_of_run(run.id)?;
        if args.json {
            all.push(serde_json::json!({ "run": run, "events": events }));
            continue;
        }
        output::line(&crate::render::run_header(run))?;
        if args.raw {
            let dir = board.paths().run_dir(run.id);
            for file in ["prompt.md", "events.jsonl"] {
                let path = dir.join(file);
                let text = std::fs::read_to_string(&path).map_err(|e| {
                    CliError::new(Kind::NotFound, format!("{}: {e}", path.display()))
                })?;
                outln!("{}:\n{}", file, text.trim_end())?;
            }
            continue;
        }
        output::lines(&crate::render::run_events(run, &events))?;
    }
    if args.json {
        return output::json(&all);
    }
    Ok(())
}
