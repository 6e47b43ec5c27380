//! `gaffer queue`: the merge queue. The train in landing order with the candidate each task is
//! tested on, the tasks waiting to join, why tasks left lately, and the queue's figures.
//! `gaffer queue move N --to P | --before M | --after M` reorders the waiting line
//! (`Action::Move`, carried out by `Board::move_in_queue`).

use super::{act, runtime};
use crate::cli::QueueMoveArgs;
use crate::context::Context;
use crate::error::CliResult;
use crate::output::{self, first_line, short};
use gaffer_api::{Action, Place};
use gaffer_core::TaskId;
use gaffer_engine::{QueueEntryReport, QueueReport};

/// `gaffer queue move`: puts the task at its place and prints the waiting line.
pub fn move_task(ctx: &Context, args: &QueueMoveArgs) -> CliResult<()> {
    let to = match (args.to, args.before, args.after) {
        (Some(place), _, _) => Place::To(place),
        (_, Some(before), _) => Place::Before(TaskId(before)),
        // clap requires one of the three.
        (_, _, after) => Place::After(TaskId(after.unwrap_or_default())),
    };
    let board = ctx.board()?;
    let task = act::perform(
        &board,
        ctx.daemon(&board),
        &runtime()?,
        args.id,
        Action::Move { to },
        "cli",
    )?;
    if args.json {
        return output::json(&task);
    }
    let line = board.queue()?.waiting;
    let place = line
        .iter()
        .position(|e| e.task == task.id)
        .map_or(0, |i| i + 1);
    outln!(
        "task {}: place {place} of {} waiting to join the train: {}",
        task.id,
        line.len(),
        ids(&line.iter().map(|e| e.task).collect::<Vec<_>>())
    )?;
    Ok(())
}

pub fn run(ctx: &Context, json: bool) -> CliResult<()> {
    let board = ctx.board()?;
    let report = board.queue()?;
    if json {
        return output::json(&report);
    }
    print(&report)
}

fn print(report: &QueueReport) -> CliResult<()> {
    let m = &report.metrics;
    output::line(&format!(
        "landing on {} at {} ({} strategy, up to {} candidates at once, batches {}{})",
        report.landing.branch,
        short(&report.tip),
        report.strategy,
        report.max_candidates,
        if report.batch == "auto" {
            format!("auto: up to {} branches now", report.batch_now)
        } else {
            format!("of up to {}", report.batch)
        },
        report
            .remote
            .as_ref()
            .map(|r| format!(", pushed to {r}"))
            .unwrap_or_default()
    ))?;
    output::line(&format!(
        "queue   {} in the train, {} waiting; {} landed in the last hour ({:.1}/h){}",
        m.in_train,
        m.waiting,
        m.landed_last_hour,
        m.landings_per_hour,
        m.mean_time_in_queue_ms
            .map(|ms| format!(", {} in the queue on average", duration(ms)))
            .unwrap_or_default()
    ))?;
    let h = &report.host;
    output::line(&format!(
        "verify  {} of {} heavy slots busy, {} waiting{}",
        h.verify_running,
        h.heavy_slots,
        h.verify_waiting,
        h.held_back
            .as_ref()
            .map(|why| format!(" — held back: {why}"))
            .unwrap_or_default()
    ))?;
    if let Some(landing) = &report.landing_now {
        output::line(&format!(
            "landing {} now",
            short(landing["commit"].as_str().unwrap_or(""))
        ))?;
    }

    output::line("")?;
    if report.train.is_empty() && report.waiting.is_empty() {
        output::line("the queue is empty")?;
    }
    for b in &report.bisecting {
        output::line(&format!(
            "bisecting batch {}: suspects {}; testing {}",
            short(&b.group),
            ids(&b.suspects),
            if b.testing.is_empty() {
                "-".to_string()
            } else {
                ids(&b.testing)
            }
        ))?;
    }
    if !report.train.is_empty() {
        output::line(&format!(
            "{:>4}  {:>5}  {:<12} {:<10} {:<14} TITLE",
            "POS", "ID", "STATE", "CANDIDATE", "TESTS WITH"
        ))?;
        for e in &report.train {
            if e.batch.first() == Some(&e.task) {
                output::line(&format!(
                    "      batch of {}: {}{}",
                    e.batch.len(),
                    ids(&e.batch),
                    if e.suspect.is_some() {
                        " (bisecting: a part of a failed batch)"
                    } else {
                        ""
                    }
                ))?;
            }
            entry(e)?;
        }
    }
    if !report.waiting.is_empty() {
        output::line("")?;
        output::line("waiting to join, in order (`gaffer queue move` reorders them):")?;
        for (i, e) in report.waiting.iter().enumerate() {
            let deps = if e.waiting_on.is_empty() {
                String::new()
            } else {
                format!(" (after {})", ids(&e.waiting_on))
            };
            let placed = if e.place.is_some() {
                " (placed by a person)"
            } else {
                ""
            };
            output::line(&format!(
                "{:>4}  {:>5}  priority {:<3} {} in the queue  {}{deps}{placed}",
                i + 1,
                format!("#{}", e.task),
                e.priority,
                duration(e.in_queue_ms),
                e.title
            ))?;
        }
    }
    if !report.left.is_empty() {
        output::line("")?;
        output::line("left the queue lately:")?;
        for exit in &report.left {
            let task = exit.task.map(|t| format!("#{t}")).unwrap_or_default();
            output::line(&format!(
                "  {task:>5}  {:<14} {}{}",
                exit.reason,
                exit.title,
                if exit.evidence.is_empty() {
                    String::new()
                } else {
                    format!(" — {}", first_line(last_line(&exit.evidence)))
                }
            ))?;
        }
    }
    Ok(())
}

fn entry(e: &QueueEntryReport) -> CliResult<()> {
    let candidate = e
        .candidate
        .as_ref()
        .map(|c| short(c.commit.as_str()).to_string())
        .unwrap_or_else(|| "-".into());
    let with = if e.ahead.is_empty() {
        "the tip".to_string()
    } else {
        format!("tip + {}", ids(&e.ahead))
    };
    let with = match e.batch.len() {
        0 => with,
        n => format!("{with} (batch of {n})"),
    };
    let suspect = if e.suspect.is_some() {
        " (suspect)"
    } else {
        ""
    };
    let job = e
        .verify_job
        .map(|j| format!(" [verify job {j}]"))
        .unwrap_or_default();
    let flaky = if e.candidate.as_ref().is_some_and(|c| c.flaky) {
        " (flaky verify)"
    } else {
        ""
    };
    output::line(&format!(
        "{:>4}  {:>5}  {:<12} {:<10} {:<14} {}{job}{flaky}{suspect}",
        e.position.map(|p| p.to_string()).unwrap_or_default(),
        format!("#{}", e.task),
        e.state,
        candidate,
        with,
        e.title
    ))?;
    if e.state == "parked"
        && let Some(note) = &e.note
    {
        output::line(&format!("{:>25}{}", "", first_line(note)))?;
    }
    Ok(())
}

fn ids(ids: &[gaffer_core::TaskId]) -> String {
    ids.iter()
        .map(|t| format!("#{t}"))
        .collect::<Vec<_>>()
        .join(" ")
}

fn last_line(text: &str) -> &str {
    text.lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
}

fn duration(ms: i64) -> String {
    let secs = ms / 1000;
    match secs {
        s if s < 60 => format!("{s}s"),
        s if s < 3600 => format!("{}m{:02}s", s / 60, s % 60),
        s => format!("{}h{:02}m", s / 3600, (s / 60) % 60),
    }
}
