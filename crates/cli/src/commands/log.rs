//! `gaffer log N`: what the agents of a task did, run by run, each followed by the verify
//! results of what it left (a failure with its failing tests; `--full`: its output too).

use super::task_id;
use crate::cli::LogArgs;
use crate::context::Context;
use crate::error::{CliError, CliResult, Kind};
use crate::output;
use crate::verify_text::{Output, verify_lines};
use gaffer_core::{RunId, event_kind};
use gaffer_store::EventFilter;

pub fn run(ctx: &Context, args: &LogArgs) -> CliResult<()> {
    let board = ctx.board()?;
    let task = board.task(task_id(args.id))?;
    let mut logs = Vec::new();
    for run in board.runs(task.id)? {
        let events = board.events_of_run(run.id)?;
        logs.push((run, events));
    }
    let verifies = board.events_after(
        gaffer_core::Seq(0),
        10_000,
        &EventFilter {
            task: Some(task.id),
            kind_prefix: Some(event_kind::VERIFY_FINISHED.to_string()),
            ..EventFilter::default()
        },
    )?;
    let after = crate::render::verifies_after(&logs, &verifies);
    let chosen: Vec<usize> = (0..logs.len())
        .filter(|&i| args.run.is_none_or(|id| logs[i].0.id == RunId(id)))
        .collect();
    if chosen.is_empty() {
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
    if args.json {
        let all: Vec<_> = chosen
            .iter()
            .map(|&i| serde_json::json!({ "run": logs[i].0, "events": logs[i].1 }))
            .collect();
        return output::json(&all);
    }
    for i in chosen {
        let (run, events) = &logs[i];
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
        output::lines(&crate::render::run_events(run, events))?;
        let more = format!("gaffer log {} --full", task.id);
        let shown = if args.full {
            Output::Full
        } else {
            Output::Elsewhere(Some(&more))
        };
        for verify in &after[i] {
            output::lines(&verify_lines(verify, shown, "  "))?;
        }
    }
    Ok(())
}
