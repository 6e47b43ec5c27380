//! Printing for people and for programs.

use crate::error::{CliError, CliResult, Kind};
use gaffer_core::{Event, Task};
use serde::Serialize;

pub fn json<T: Serialize>(value: &T) -> CliResult<()> {
    let text = serde_json::to_string_pretty(value)
        .map_err(|e| CliError::new(Kind::Internal, e.to_string()))?;
    line(&text)
}

/// Prints one line on standard output. Unlike `println!`, which panics when the reader has gone
/// (`gaffer feed --json | head`), a broken pipe comes back as an error that `main` turns into a
/// quiet exit.
pub fn line(text: &str) -> CliResult<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{text}")?;
    Ok(())
}

/// One line per task: id, status, attempts, title.
pub fn task_table(tasks: &[Task]) -> CliResult<()> {
    if tasks.is_empty() {
        return line("no tasks");
    }
    line(&format!(
        "{:>5}  {:<18} {:>8}  TITLE",
        "ID", "STATUS", "ATTEMPTS"
    ))?;
    for t in tasks {
        let note = t
            .state
            .note
            .as_deref()
            .map(|n| format!("  — {}", first_line(n)))
            .unwrap_or_default();
        line(&format!(
            "{:>5}  {:<18} {:>8}  {}{}",
            t.id,
            t.status().as_str(),
            t.state.code_runs,
            t.title,
            note
        ))?;
    }
    Ok(())
}

/// The strings of a JSON array, comma-separated.
fn joined(value: &serde_json::Value) -> String {
    value
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|v| v.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default()
}

pub fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or("")
}

/// A one-line rendering of an event for the feed.
pub fn event_line(e: &Event) -> String {
    let task = e.task.map(|t| format!("#{t} ")).unwrap_or_default();
    let d = &e.data;
    let detail = match e.kind.as_str() {
        "task.status" => format!(
            "{} → {}{}",
            d["from"].as_str().unwrap_or("?"),
            d["to"].as_str().unwrap_or("?"),
            d["note"]
                .as_str()
                .map(|n| format!(" ({})", first_line(n)))
                .unwrap_or_default()
        ),
        "task.created" => d["title"].as_str().unwrap_or("").to_string(),
        "run.started" => format!(
            "{} run by {} ({})",
            d["role"].as_str().unwrap_or("?"),
            d["agent"].as_str().unwrap_or("?"),
            d["model"].as_str().unwrap_or("?")
        ),
        "run.output" if d["type"] == "refused" => format!(
            "refused: the agent's {} call was not allowed: {}",
            d["tool"].as_str().unwrap_or("?"),
            first_line(d["reason"].as_str().unwrap_or(""))
        ),
        "scope.outside" => format!(
            "edits outside its write scope ({}): {}{}",
            joined(&d["scope"]),
            joined(&d["paths"]),
            if d["enforce"] == "reject" {
                " — sent back to the coder"
            } else {
                " — shown to the reviewer"
            }
        ),
        "run.output" => {
            let text = d["text"].as_str().or(d["summary"].as_str()).unwrap_or("");
            format!(
                "{}: {}",
                d["type"].as_str().unwrap_or("?"),
                first_line(text)
            )
        }
        "verify.finished" => format!(
            "{} on {} ({})",
            if d["passed"].as_bool() == Some(true) {
                "passed"
            } else {
                "FAILED"
            },
            short(d["commit"].as_str().unwrap_or("")),
            d["purpose"].as_str().unwrap_or("")
        ),
        "queue.landed" => format!(
            "landed {} on {}{}",
            short(d["commit"].as_str().unwrap_or("")),
            d["branch"].as_str().unwrap_or("?"),
            match d["batch"].as_u64() {
                Some(n) if n > 1 => format!(" (one of {n} landed together)"),
                _ => String::new(),
            }
        ),
        "queue.joined" => format!("joined the merge train at {}", d["position"]),
        "queue.candidate" => format!(
            "candidate {} on {}{}",
            short(d["commit"].as_str().unwrap_or("")),
            short(d["onto"].as_str().unwrap_or("")),
            match d["ahead"].as_array() {
                Some(ahead) if !ahead.is_empty() => format!(
                    " (with {})",
                    ahead
                        .iter()
                        .map(|t| format!("#{t}"))
                        .collect::<Vec<_>>()
                        .join(" ")
                ),
                _ => String::new(),
            }
        ),
        "queue.ejected" => format!(
            "left the queue: {}{}",
            d["reason"].as_str().unwrap_or("?"),
            d["files"]
                .as_array()
                .map(|f| format!(
                    " ({})",
                    f.iter()
                        .filter_map(|f| f.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
                .unwrap_or_default()
        ),
        "queue.verified" => format!(
            "candidate {} {}{}",
            short(d["commit"].as_str().unwrap_or("")),
            if d["passed"].as_bool() == Some(true) {
                "passed"
            } else {
                "FAILED"
            },
            if d["recheck"].as_bool() == Some(true) {
                " (run again)"
            } else {
                ""
            }
        ),
        "queue.recheck" => format!(
            "candidate {} failed with everything ahead passing: running it again",
            short(d["commit"].as_str().unwrap_or(""))
        ),
        "queue.invalidated" => format!(
            "candidate {} dropped: what it was built on changed",
            short(d["commit"].as_str().unwrap_or(""))
        ),
        "queue.parked" => "waits: it conflicts with the branches ahead".to_string(),
        "queue.landing" => format!(
            "landing {} ({})",
            short(d["commit"].as_str().unwrap_or("")),
            d["tasks"]
                .as_array()
                .map(|t| t
                    .iter()
                    .map(|t| format!("#{t}"))
                    .collect::<Vec<_>>()
                    .join(" "))
                .unwrap_or_default()
        ),
        "queue.flaky" => format!(
            "flaky verify on {}: failed, then passed on the same tree",
            short(d["commit"].as_str().unwrap_or(""))
        ),
        _ => {
            let text = d.to_string();
            if text.len() > 120 {
                format!("{}…", text.chars().take(120).collect::<String>())
            } else {
                text
            }
        }
    };
    format!("{:>6}  {:<18} {task}{detail}", e.seq, e.kind)
}

pub fn short(oid: &str) -> &str {
    oid.get(..10).unwrap_or(oid)
}
