//! Text for the shell's panes: the status, what waits for people, usage, a task, its log. Read
//! from the store, as the CLI's commands do; each returns lines for a [`super::app::Pane`].

use crate::error::CliResult;
use crate::output::task_event_line;
use crate::render;
use crate::verify_text;
use gaffer_core::{Event, Run, Seq, Status, Task, TaskId};
use gaffer_engine::Board;
use gaffer_store::{EventFilter, UsageDimension};

/// `/status`: project, daemon, where work lands, counts, every task.
pub fn status(board: &Board, daemon: Option<&str>) -> CliResult<Vec<String>> {
    let report = board.status()?;
    let mut lines = render::status_header(&report, daemon);
    lines.push(String::new());
    lines.extend(render::task_table(&report.tasks));
    Ok(lines)
}

/// `/pending`: questions and approvals, with what to type.
pub fn pending(board: &Board) -> CliResult<Vec<String>> {
    let tasks = board.tasks(&[
        Status::NeedsInput,
        Status::AwaitingApproval,
        Status::Attached,
    ])?;
    if tasks.is_empty() {
        return Ok(vec!["nothing waits for a person".into()]);
    }
    let mut lines = Vec::new();
    for t in &tasks {
        let note = t.state.note.as_deref().unwrap_or("").trim();
        match t.status() {
            Status::NeedsInput => {
                lines.push(format!("#{} {} — asks: {note}", t.id, t.title));
                lines.push(format!("    /answer {} …", t.id));
            }
            Status::Attached => {
                lines.push(format!("#{} {} — a person has it in hand", t.id, t.title));
                lines.push(format!("    /release {} (when done)", t.id));
            }
            _ => {
                lines.push(format!("#{} {} — needs approval: {note}", t.id, t.title));
                lines.push(format!("    /approve {0}   |   /reject {0} …", t.id));
            }
        }
    }
    Ok(lines)
}

/// `/usage`: totals, then every breakdown.
pub fn usage(board: &Board) -> CliResult<Vec<String>> {
    let project = Some(board.project().id);
    let total = board.usage_totals(project)?;
    let breakdowns = UsageDimension::ALL
        .into_iter()
        .map(|by| Ok((by, board.usage_breakdown(project, by)?)))
        .collect::<CliResult<Vec<_>>>()?;
    Ok(render::usage(&total, &breakdowns))
}

/// The selected task's runs and most recent events (without agent output), for the detail
/// panel.
pub fn detail_parts(board: &Board, id: TaskId, recent: usize) -> CliResult<(Vec<Run>, Vec<Event>)> {
    let runs = board.runs(id)?;
    let events = task_events(board, id)?;
    let skip = events.len().saturating_sub(recent);
    Ok((runs, events.into_iter().skip(skip).collect()))
}

fn task_events(board: &Board, id: TaskId) -> CliResult<Vec<Event>> {
    let events = board.events_after(
        Seq(0),
        10_000,
        &EventFilter {
            task: Some(id),
            ..EventFilter::default()
        },
    )?;
    Ok(events
        .into_iter()
        .filter(|e| e.kind != "run.output")
        .collect())
}

/// `/show N` and Enter: the task, its runs, its whole history.
pub fn show(board: &Board, id: TaskId) -> CliResult<Vec<String>> {
    let task = board.task(id)?;
    let runs = board.runs(id)?;
    let mut lines = summary(&task);
    if !task.body.trim().is_empty() {
        lines.push(String::new());
        lines.extend(task.body.trim().lines().map(String::from));
    }
    if !runs.is_empty() {
        lines.push(String::new());
        lines.push("runs:".into());
        lines.extend(runs.iter().map(render::run_line));
    }
    let events = task_events(board, id)?;
    if let Some(failure) = verify_text::last_failure(&events) {
        lines.push(String::new());
        lines.push("last verify:".into());
        lines.extend(verify_text::verify_lines(
            failure,
            verify_text::Output::Elsewhere(None),
            "  ",
        ));
    }
    lines.push(String::new());
    lines.push("history:".into());
    for e in &events {
        lines.push(format!("  {}", task_event_line(e)));
    }
    Ok(lines)
}

/// The facts about a task, one per line, and what a person can do now.
pub fn summary(task: &Task) -> Vec<String> {
    let mut lines = vec![
        format!("#{} {}", task.id, task.title),
        format!("status    {}", task.status()),
    ];
    if let Some(note) = &task.state.note {
        for (i, line) in verify_text::note_lines(note, false).iter().enumerate() {
            let label = if i == 0 { "note" } else { "" };
            lines.push(format!("{label:<9} {line}"));
        }
    }
    if !task.labels.is_empty() {
        lines.push(format!("labels    {}", task.labels.join(", ")));
    }
    lines.push(format!(
        "risk      {}   kind {}   priority {}",
        task.state.risk, task.kind, task.priority
    ));
    lines.push(format!("branch    {}", task.branch));
    lines.push(format!("attempts  {}", task.state.attempts_summary()));
    if !task.blocked_by.is_empty() {
        let deps: Vec<String> = task.blocked_by.iter().map(|d| d.to_string()).collect();
        lines.push(format!("after     {}", deps.join(", ")));
    }
    if let Some(landed) = &task.state.landed {
        lines.push(format!("landed    {}", landed.commit));
    }
    if let Some(next) = next_step(task) {
        lines.push(format!("next      {next}"));
    }
    lines
}

/// What a person can type about this task now, if anything waits for them.
pub fn next_step(task: &Task) -> Option<String> {
    let id = task.id;
    match task.status() {
        Status::AwaitingApproval => Some(format!("/approve {id}  or  /reject {id} REASON")),
        Status::NeedsInput => Some(format!("/answer {id} TEXT")),
        Status::Attached => Some(format!("/release {id}  hands it back to the engine")),
        Status::Failed => Some(format!("/retry {id}  (/log {id} shows why)")),
        Status::Planning | Status::PlanReview | Status::Coding | Status::Reviewing => {
            Some(format!("/say {id} TEXT  tells its agent something"))
        }
        _ => None,
    }
}

/// `/log N`: every run of the task with its events and outcome.
pub fn log(board: &Board, id: TaskId) -> CliResult<Vec<String>> {
    let task = board.task(id)?;
    let runs = board.runs(task.id)?;
    if runs.is_empty() {
        return Ok(vec![format!("task {} has no runs yet", task.id)]);
    }
    let mut logs = Vec::new();
    for run in runs {
        let events = board.events_of_run(run.id)?;
        logs.push((run, events));
    }
    let verifies = board.events_after(
        Seq(0),
        10_000,
        &EventFilter {
            task: Some(task.id),
            kind_prefix: Some(gaffer_core::event_kind::VERIFY_FINISHED.to_string()),
            ..EventFilter::default()
        },
    )?;
    let after = render::verifies_after(&logs, &verifies);
    let mut lines = Vec::new();
    for ((run, events), verifies) in logs.iter().zip(after) {
        lines.push(render::run_header(run));
        lines.extend(render::run_events(run, events));
        for verify in verifies {
            lines.extend(verify_text::verify_lines(
                verify,
                verify_text::Output::Elsewhere(None),
                "  ",
            ));
        }
        lines.push(String::new());
    }
    Ok(lines)
}

/// `/diff N`: the change as lines (empty when there is none yet).
pub fn diff(board: &Board, id: TaskId) -> CliResult<Vec<String>> {
    let text = board.diff(id)?;
    Ok(text.lines().map(|l| l.replace('\t', "    ")).collect())
}
