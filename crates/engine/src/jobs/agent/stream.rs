//! Streaming a run under the watchdog: its events into the log and its transcript, and how
//! it stopped (stalled, out of time, stuck, refused tool calls).

use super::*;
use crate::board::Board;
use crate::error::{EngineError, Result};
use crate::jobs::JobContext;
use gaffer_agents::{AgentEvent, AgentSpec, Outcome, RunRequest};
use gaffer_core::{NewEvent, Run, Seq, Task, event_kind};
use gaffer_core::{
    Payload,
    payload::{Output, RunHeard, RunOutput},
};
use gaffer_store::EventFilter;
use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// Records `event` of `run` as a `run.output` event (the log, the feed, the task page).
pub(super) fn append_output(
    board: &Board,
    run: &Run,
    task: &Task,
    event: &AgentEvent,
) -> Result<()> {
    if let Some(output) = output_event(event) {
        board
            .store
            .append_events(&[NewEvent::of(Payload::RunOutput(output.into()))
                .task(task.id)
                .project(task.project)
                .run(run.id)])?;
    }
    Ok(())
}

/// Why the watchdog stopped a run.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Stop {
    /// No event for this long.
    Stalled(Duration),
    /// The agent printed `STUCK:` with this reason.
    Stuck(String),
    /// It ran for its whole time limit (`agents.<name>.timeout`).
    WallTime(Duration),
}

impl Stop {
    pub(super) fn reason(&self) -> String {
        match self {
            Stop::Stalled(after) => format!(
                "stalled: no event for {}; gaffer stopped the run",
                gaffer_config::format_duration(*after)
            ),
            Stop::Stuck(text) => format!("stuck: {text}"),
            Stop::WallTime(limit) => format!(
                "out of time: the run took its whole time limit of {}; gaffer stopped it",
                gaffer_config::format_duration(*limit)
            ),
        }
    }
}

/// What streaming a run produced.
pub(super) struct Streamed {
    pub(super) outcome: Outcome,
    /// The agent's plain text, for `PROPOSAL:` lines.
    pub(super) texts: Vec<String>,
    /// The question it asked, if any.
    pub(super) question: Option<String>,
    /// Why the watchdog stopped it, if it did.
    pub(super) stop: Option<Stop>,
    /// The tools whose calls the agent's CLI refused, one entry per refusal.
    pub(super) refused: Vec<String>,
    /// How many people's messages the run was handed at a turn and did not hear before it
    /// ended (`crate::listening`).
    pub(super) unheard: usize,
}

/// What refusals did to a run, in a few words: "permission refused 3 times (Write ×2, Bash)".
pub(super) fn refusals_summary(refused: &[String]) -> Option<String> {
    if refused.is_empty() {
        return None;
    }
    let mut tools: Vec<(&str, usize)> = Vec::new();
    for tool in refused {
        match tools.iter_mut().find(|(t, _)| t == tool) {
            Some((_, n)) => *n += 1,
            None => tools.push((tool, 1)),
        }
    }
    let tools: Vec<String> = tools
        .into_iter()
        .map(|(t, n)| {
            if n > 1 {
                format!("{t} ×{n}")
            } else {
                t.to_string()
            }
        })
        .collect();
    Some(format!(
        "permission refused {} ({})",
        match refused.len() {
            1 => "once".to_string(),
            n => format!("{n} times"),
        },
        tools.join(", ")
    ))
}

/// Starts the agent and streams its events into the run's transcript and the event log until it
/// finishes, under the watchdog: no event for `engine.stall_after`, or a `STUCK:` line, stops it.
/// A run whose backend takes messages at the agent's next turn is handed what people say to
/// the task after `since` while it goes on (`crate::listening`).
pub(super) async fn stream_run(
    ctx: &JobContext,
    agent: &AgentSpec,
    request: RunRequest,
    run: &Run,
    task: &Task,
    transcript: &mut Transcript,
    since: Seq,
) -> Result<Streamed> {
    let board = &ctx.board;
    std::fs::create_dir_all(&request.data_dir)
        .map_err(|e| EngineError::io(format!("creating {}", request.data_dir.display()), e))?;
    // The run's own token: the watchdog stops the run without stopping the job.
    let token = ctx.cancel.child_token();
    // However streaming ends (an error included), the run is told to stop: nothing of it may
    // go on once the engine stops listening to it.
    let _stop_on_exit = token.clone().drop_guard();
    let max_wall = request.max_wall;
    let deadline = tokio::time::Instant::now() + max_wall;
    let mut handle = agent.backend.start(request, token.clone())?;
    // Crash tests stop here: the agent runs, and nothing recorded its process yet.
    fail::fail_point!("run-spawned");
    if let Some(process) = &handle.process {
        ctx.record_process(process);
    }
    let listen = handle
        .inbox
        .take()
        .map(|inbox| board.listening.listen(ctx.job.id, task.id, inbox, since));
    let stall_after = board.settings.engine.stall_after;
    let mut outcome: Option<Outcome> = None;
    let mut question: Option<String> = None;
    let mut stop: Option<Stop> = None;
    let mut texts: Vec<String> = Vec::new();
    let mut refused: Vec<String> = Vec::new();
    loop {
        // Once stopped, wait a little for the backend to wind down and say how it ended.
        let wait = if token.is_cancelled() {
            STOP_GRACE
        } else {
            stall_after.min(deadline.saturating_duration_since(tokio::time::Instant::now()))
        };
        let event = match tokio::time::timeout(wait, handle.events.recv()).await {
            Ok(Some(event)) => event,
            Ok(None) => break,
            Err(_) if token.is_cancelled() => break,
            Err(_) => {
                let why = if tokio::time::Instant::now() >= deadline {
                    Stop::WallTime(max_wall)
                } else {
                    Stop::Stalled(stall_after)
                };
                record_stop(board, run, task, transcript, &why)?;
                stop = Some(why);
                token.cancel();
                continue;
            }
        };
        transcript.write(&event);
        match &event {
            AgentEvent::Started {
                session_id: Some(s),
                ..
            } => {
                board.store.set_run_session(run.id, s)?;
            }
            AgentEvent::Question { text } => question = Some(text.clone()),
            AgentEvent::Refused { tool, .. } => refused.push(tool.clone()),
            AgentEvent::Text { text } if text.contains("PROPOSAL:") => texts.push(text.clone()),
            AgentEvent::Stuck { text } if stop.is_none() => {
                stop = Some(Stop::Stuck(text.clone()));
                token.cancel();
            }
            AgentEvent::Finished { outcome: o } => {
                outcome = Some(o.clone());
                continue;
            }
            AgentEvent::Heard { text } => {
                if let Some(heard) = board.listening.heard(ctx.job.id, text) {
                    board
                        .store
                        .append_events(&[NewEvent::of(Payload::RunHeard(RunHeard {
                            said: heard.seq.0,
                            text: heard.text,
                        }))
                        .task(task.id)
                        .project(task.project)
                        .run(run.id)])?;
                }
                continue;
            }
            _ => {}
        }
        append_output(board, run, task, &event)?;
    }
    let unheard = listen.map_or(0, |l| l.finish());
    let outcome = outcome.unwrap_or_else(|| Outcome {
        error: Some("the agent's event stream ended without an outcome".into()),
        ..Outcome::default()
    });
    // A question asked through the API while the agent ran (`POST /api/tasks/{id}/ask`, which
    // the MCP tool `ask_person` calls) is in the run's events; it counts as if the agent had
    // printed it.
    if question.is_none() {
        question = asked_question(board, run)?;
    }
    Ok(Streamed {
        outcome,
        texts,
        question,
        stop,
        refused,
        unheard,
    })
}

/// Records in the log and the transcript that the watchdog stopped the run, and why.
pub(super) fn record_stop(
    board: &Board,
    run: &Run,
    task: &Task,
    transcript: &mut Transcript,
    stop: &Stop,
) -> Result<()> {
    let event = AgentEvent::Status {
        text: format!("watchdog: {}", stop.reason()),
    };
    transcript.write(&event);
    append_output(board, run, task, &event)
}

/// The last question recorded for `run`: a `run.output` event of type `question`.
pub(super) fn asked_question(board: &Board, run: &Run) -> Result<Option<String>> {
    let filter = EventFilter {
        run: Some(run.id),
        kind_prefix: Some(event_kind::RUN_OUTPUT.into()),
        ..EventFilter::default()
    };
    let mut after = Seq(0);
    let mut found = None;
    loop {
        let events = board.store.events_after(after, 1000, &filter)?;
        let Some(last) = events.last() else {
            return Ok(found);
        };
        after = last.seq;
        for event in &events {
            if let Ok(Payload::RunOutput(RunOutput {
                output: Output::Question { text },
                ..
            })) = event.payload()
            {
                found = Some(text);
            }
        }
    }
}

/// The normalized event as stored in the log (all but `Started`/`Finished`).
pub(super) fn output_event(event: &AgentEvent) -> Option<Output> {
    Some(match event.clone() {
        // A message heard is `run.heard`, recorded where it is matched to the person's.
        AgentEvent::Started { .. } | AgentEvent::Finished { .. } | AgentEvent::Heard { .. } => {
            return None;
        }
        AgentEvent::Text { text } => Output::Text { text },
        AgentEvent::ToolCall { name, summary } => Output::ToolCall { name, summary },
        AgentEvent::ToolResult { summary, is_error } => Output::ToolResult { summary, is_error },
        AgentEvent::Status { text } => Output::Status { text },
        AgentEvent::Question { text } => Output::Question { text },
        AgentEvent::Stuck { text } => Output::Stuck { text },
        AgentEvent::Refused { tool, reason } => Output::Refused { tool, reason },
        AgentEvent::Usage { usage } => Output::Usage { usage },
    })
}

/// The run's own record on disk: the full prompt (`prompt.md`), the role's system prompt
/// (`system.md`) and every event, one JSON per line (`events.jsonl`), all with secrets redacted.
pub(super) struct Transcript {
    pub(super) file: Option<std::fs::File>,
    pub(super) secrets: Arc<crate::secrets::Secrets>,
}

impl Transcript {
    pub(super) fn create(
        dir: &Path,
        prompt: &str,
        system: &str,
        secrets: Arc<crate::secrets::Secrets>,
    ) -> Transcript {
        let file = std::fs::create_dir_all(dir)
            .and_then(|_| std::fs::write(dir.join("prompt.md"), secrets.redact(prompt).as_ref()))
            .and_then(|_| std::fs::write(dir.join("system.md"), secrets.redact(system).as_ref()))
            .and_then(|_| std::fs::File::create(dir.join("events.jsonl")));
        match file {
            Ok(file) => Transcript {
                file: Some(file),
                secrets,
            },
            Err(e) => {
                tracing::warn!("cannot write the run transcript in {}: {e}", dir.display());
                Transcript {
                    file: None,
                    secrets,
                }
            }
        }
    }

    pub(super) fn write(&mut self, event: &AgentEvent) {
        if let (Some(file), Ok(line)) = (&mut self.file, serde_json::to_string(event)) {
            let _ = writeln!(file, "{}", self.secrets.redact(&line));
        }
    }
}
