//! Text for people that the CLI's commands print and the shell's panes show: written once, as
//! lines, so `gaffer status` and `/status`, `gaffer usage` and `/usage`, `gaffer log` and
//! `/log` read the same.

use crate::output::{first_line, task_event_line};
use gaffer_core::{Event, Run, Task};
use gaffer_engine::StatusReport;
use gaffer_store::{UsageDimension, UsageRow, UsageTotals};

/// The board's header: the project, the daemon (its URL when it runs), where work lands, how
/// runs are confined when they are not, and the counts by status.
pub fn status_header(report: &StatusReport, daemon: Option<&str>) -> Vec<String> {
    let mut lines = vec![format!(
        "project {} ({})",
        report.project.name, report.project.root
    )];
    lines.push(match daemon {
        Some(url) => format!("daemon  running at {url}"),
        None => "daemon  not running (`gaffer up` starts it)".into(),
    });
    lines.push(match &report.landing.checked_out_in {
        Some(path) => format!(
            "landing on {} because {} is checked out in {}; `gaffer pull` brings it in",
            report.landing.branch,
            report.landing.target,
            path.display()
        ),
        None => format!("landing on {}", report.landing.branch),
    });
    // Unconfined runs are said loudly, every time.
    if !report.sandbox.confined {
        lines.push(format!("sandbox {}", report.sandbox.description));
    }
    let counts: Vec<String> = report
        .counts
        .iter()
        .map(|(s, n)| format!("{n} {s}"))
        .collect();
    if !counts.is_empty() {
        lines.push(format!("tasks   {}", counts.join(", ")));
    }
    lines
}

/// One line per task: id, status, attempts, title and note.
pub fn task_table(tasks: &[Task]) -> Vec<String> {
    if tasks.is_empty() {
        return vec!["no tasks".into()];
    }
    let mut lines = vec![format!(
        "{:>5}  {:<18} {:>8}  TITLE",
        "ID", "STATUS", "ATTEMPTS"
    )];
    for t in tasks {
        let note = t
            .state
            .note
            .as_deref()
            .map(|n| format!("  — {}", first_line(n)))
            .unwrap_or_default();
        lines.push(format!(
            "{:>5}  {:<18} {:>8}  {}{}",
            t.id,
            t.status().as_str(),
            t.state.code_runs,
            t.title,
            note
        ));
    }
    lines
}

/// Usage in total, then by each of `breakdowns`.
pub fn usage(total: &UsageTotals, breakdowns: &[(UsageDimension, Vec<UsageRow>)]) -> Vec<String> {
    let mut lines = vec![format!(
        "total: {} runs, {} input + {} cached + {} output tokens, ${:.4}",
        total.runs,
        total.usage.input_tokens,
        total.usage.cached_tokens,
        total.usage.output_tokens,
        total.usage.cost_usd
    )];
    for (by, rows) in breakdowns {
        lines.push(String::new());
        lines.push(format!(
            "{:<24} {:>5} {:>12} {:>12} {:>12} {:>10}",
            format!("by {}", by.as_str()),
            "runs",
            "input",
            "cached",
            "output",
            "cost"
        ));
        if rows.is_empty() {
            lines.push("  (no runs)".into());
        }
        for r in rows {
            lines.push(format!(
                "{:<24} {:>5} {:>12} {:>12} {:>12} {:>10.4}",
                r.key,
                r.runs,
                r.usage.input_tokens,
                r.usage.cached_tokens,
                r.usage.output_tokens,
                r.usage.cost_usd
            ));
        }
    }
    lines
}

/// One run in a list of a task's runs: id, role, agent, status, tokens and cost.
pub fn run_line(r: &Run) -> String {
    format!(
        "  run {:<4} {:<8} {:<12} {:<9} {} in/{} out tokens, ${:.4}",
        r.id,
        r.role.as_str(),
        r.agent,
        r.status.as_str(),
        r.usage.input_tokens,
        r.usage.output_tokens,
        r.usage.cost_usd
    )
}

/// A run's header in a task's log: id, role, agent, model, status.
pub fn run_header(run: &Run) -> String {
    format!(
        "── run {} · {} · {} ({}) · {} ──",
        run.id,
        run.role.as_str(),
        run.agent,
        run.model,
        run.status.as_str()
    )
}

/// What a run did: its events, one sentence each, and its outcome.
pub fn run_events(run: &Run, events: &[Event]) -> Vec<String> {
    let mut lines: Vec<String> = events
        .iter()
        .map(|e| format!("  {}", task_event_line(e)))
        .collect();
    if let Some(outcome) = &run.outcome {
        lines.push(format!("  outcome: {}", outcome.trim()));
    }
    lines
}

/// Which verify results follow which run in a task's log: each verify after the last run that
/// started before it (`runs`: each run with its events, in order; `verifies`: the task's
/// `verify.finished` events). One list per run.
pub fn verifies_after<'a>(
    runs: &[(Run, Vec<Event>)],
    verifies: &'a [Event],
) -> Vec<Vec<&'a Event>> {
    let starts: Vec<i64> = runs
        .iter()
        .map(|(_, events)| events.first().map_or(i64::MAX, |e| e.seq.0))
        .collect();
    let mut after = vec![Vec::new(); runs.len()];
    for verify in verifies {
        let last_before = starts.iter().rposition(|start| *start < verify.seq.0);
        if let Some(i) = last_before {
            after[i].push(verify);
        }
    }
    after
}
