//! `gaffer workers`: the machines that take this board's jobs (daemons; their labels, the jobs
//! they hold, their load, when they were last heard). A machine not heard from for a minute (or
//! three leases) is shown as gone: its jobs move to the others as their leases run out.

use crate::context::Context;
use crate::error::CliResult;
use crate::output;

pub fn run(ctx: &Context, json: bool) -> CliResult<()> {
    let board = ctx.board()?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0);
    let hosts = board.workers()?;
    if json {
        return output::json(&hosts);
    }
    if hosts.is_empty() {
        outln!("no machine has taken jobs on this board yet (start one with `gaffer up`)")?;
        return Ok(());
    }
    outln!(
        "{:<44} {:<6} {:<16} {:>7} {:>6}  last heard",
        "machine",
        "state",
        "labels",
        "jobs",
        "load"
    )?;
    for h in &hosts {
        let ago = (now - h.seen_ms).max(0) / 1000;
        outln!(
            "{:<44} {:<6} {:<16} {:>7} {:>6}  {}s ago",
            h.name,
            if h.live { "up" } else { "gone" },
            if h.labels.is_empty() {
                "-".to_string()
            } else {
                h.labels.join(",")
            },
            // Held of the slots it has: `2/4`.
            match h.slots {
                Some(slots) => format!("{}/{slots}", h.running),
                None => h.running.to_string(),
            },
            h.load
                .map(|l| format!("{l:.2}"))
                .unwrap_or_else(|| "-".into()),
            ago
        )?;
    }
    Ok(())
}
