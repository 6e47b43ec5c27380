//! `gaffer feed`: the event log, optionally followed live (through the daemon's SSE stream when
//! it runs, else by reading the store).

use super::runtime;
use crate::cli::FeedArgs;
use crate::context::Context;
use crate::error::{CliError, CliResult, Kind};
use crate::output;
use futures::StreamExt;
use gaffer_core::{Event, Seq, TaskId};
use gaffer_store::EventFilter;
use std::time::Duration;

pub fn run(ctx: &Context, args: &FeedArgs) -> CliResult<()> {
    let board = ctx.board()?;
    let filter = EventFilter {
        task: args.task.map(TaskId),
        ..EventFilter::default()
    };
    let mut after = match args.after {
        Some(a) => Seq(a),
        None => Seq((board.last_seq()?.0 - 50).max(0)),
    };
    let print = |e: &Event| -> CliResult<()> {
        if args.json {
            let line = serde_json::to_string(e)
                .map_err(|e| CliError::new(Kind::Internal, e.to_string()))?;
            output::line(&line)
        } else {
            output::line(&output::event_line(e))
        }
    };
    loop {
        let events = board.events_after(after, 1000, &filter)?;
        for e in &events {
            print(e)?;
            after = e.seq;
        }
        if events.len() < 1000 {
            break;
        }
    }
    if !args.follow {
        return Ok(());
    }
    if let Some(client) = ctx.daemon(&board) {
        let rt = runtime()?;
        return rt.block_on(async {
            let response = client
                .get_stream(&gaffer_api::paths::event_stream(after.0))
                .await?;
            let mut body = response.bytes_stream();
            let mut buffer = String::new();
            while let Some(chunk) = body.next().await {
                let chunk = chunk.map_err(|e| CliError::new(Kind::Daemon, e.to_string()))?;
                buffer.push_str(&String::from_utf8_lossy(&chunk));
                while let Some(end) = buffer.find("\n\n") {
                    let frame: String = buffer.drain(..end + 2).collect();
                    for line in frame.lines() {
                        if let Some(data) = line.strip_prefix("data:")
                            && let Ok(e) = serde_json::from_str::<Event>(data.trim())
                            && (filter.task.is_none() || e.task == filter.task)
                        {
                            print(&e)?;
                        }
                    }
                }
            }
            Ok(())
        });
    }
    loop {
        std::thread::sleep(Duration::from_millis(300));
        for e in board.events_after(after, 1000, &filter)? {
            print(&e)?;
            after = e.seq;
        }
    }
}
