//! What an agent that gaffer runs says back while it works, through the API (the MCP tools
//! `report_progress` and `ask_person` call these): a progress line, or a question for a person.
//! An agent calls them with its run's token (`GAFFER_RUN_TOKEN`, see [`crate::run_token`]): the
//! report is then recorded on that run, whatever the body says.
//!
//! Both are recorded as events of the task's running agent run, in the same shape the agent's
//! own `STATUS:` and `QUESTION:` lines take (`run.output` with `{"type": "status" | "question",
//! "text", "via": "api"}`), so the feed, the log and the dashboard show them the same way.
//!
//! A question does not change the task's state by itself: when the run ends, the engine looks
//! for a question among the run's events, and the run's result is that question. The task goes
//! to `needs_input`, and once a person answers, the agent resumes its session with the answer.
//! So an agent that asks should end its turn soon after: the answer cannot arrive while it runs.

use crate::error::ApiError;
use crate::extract::{ApiPath, JsonBody};
use crate::run_token::RunCaller;
use crate::state::Ctx;
use axum::extract::State;
use axum::http::StatusCode;
use axum::{Extension, Json};
use gaffer_api::ReadableEvent;
use gaffer_core::payload::{Output, RunOutput};
use gaffer_core::{Event, NewEvent, Payload, Run, RunId, RunStatus, TaskId};
use serde::Deserialize;

/// The longest progress line or question accepted, in bytes.
const MAX_TEXT: usize = 16 * 1024;

/// `POST /api/tasks/{id}/progress` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProgressBody {
    /// What the agent is doing, in a line or two.
    pub text: String,
    /// The run reporting (`GAFFER_RUN`); by default the task's running run, if any.
    #[serde(default)]
    pub run: Option<i64>,
}

/// `POST /api/tasks/{id}/ask` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AskBody {
    /// The question for a person.
    pub question: String,
    /// The run asking (`GAFFER_RUN`); by default the task's running run.
    #[serde(default)]
    pub run: Option<i64>,
}

/// `POST /api/tasks/{id}/progress`: records a progress line (a `run.output` status event of the
/// running run, or of the task when no run is going): 201 and the event.
pub async fn progress(
    State(ctx): State<Ctx>,
    caller: Option<Extension<RunCaller>>,
    ApiPath(id): ApiPath<i64>,
    JsonBody(body): JsonBody<ProgressBody>,
) -> Result<(StatusCode, Json<ReadableEvent>), ApiError> {
    let text = checked(body.text, "a progress report needs text")?;
    let (task, wanted) = (TaskId(id), reporting_run(caller, body.run)?);
    let event = ctx
        .blocking(move |board| {
            let project = board.task(task)?.project;
            let run = running_run(board, task, wanted)?;
            let mut event = NewEvent::of(Payload::RunOutput(RunOutput {
                output: Output::Status { text },
                via: Some("api".into()),
            }))
            .task(task)
            .project(project);
            event.run = run.map(|r| r.id);
            one(board.store().append_events(&[event])?)
        })
        .await?;
    ctx.changed();
    Ok((StatusCode::CREATED, Json(event.into())))
}

/// `POST /api/tasks/{id}/ask`: records a question of the task's running agent run (a
/// `run.output` question event), which becomes the run's result when it ends: 201 and the
/// event. 409 when no agent of the task is running.
pub async fn ask(
    State(ctx): State<Ctx>,
    caller: Option<Extension<RunCaller>>,
    ApiPath(id): ApiPath<i64>,
    JsonBody(body): JsonBody<AskBody>,
) -> Result<(StatusCode, Json<ReadableEvent>), ApiError> {
    let question = checked(body.question, "a question needs text")?;
    let (task, wanted) = (TaskId(id), reporting_run(caller, body.run)?);
    let event = ctx
        .blocking(move |board| {
            let project = board.task(task)?.project;
            let Some(run) = running_run(board, task, wanted)? else {
                return Err(ApiError::conflict(format!(
                    "no agent of task {task} is running, so there is no run to ask from"
                ))
                .with_hint(
                    "questions come from an agent gaffer runs; to reach a person otherwise, \
                     add a task of kind `question`",
                ));
            };
            let event = NewEvent::of(Payload::RunOutput(RunOutput {
                output: Output::Question { text: question },
                via: Some("api".into()),
            }))
            .task(task)
            .project(project)
            .run(run.id);
            one(board.store().append_events(&[event])?)
        })
        .await?;
    ctx.changed();
    Ok((StatusCode::CREATED, Json(event.into())))
}

/// The run a report is for: the caller's own when it came with a run's token, else the one the
/// body names, if any.
pub(super) fn reporting_run(
    caller: Option<Extension<RunCaller>>,
    named: Option<i64>,
) -> Result<Option<RunId>, ApiError> {
    let named = named.map(RunId);
    match caller {
        Some(Extension(caller)) => caller.run_for(named).map(Some),
        None => Ok(named),
    }
}

/// Trimmed, not blank, not too long.
pub(super) fn checked(text: String, message: &str) -> Result<String, ApiError> {
    let text = text.trim().to_string();
    if text.is_empty() {
        return Err(ApiError::invalid(message).with_hint("send a line of text"));
    }
    if text.len() > MAX_TEXT {
        return Err(ApiError::invalid(format!(
            "the text is {} bytes long; at most {MAX_TEXT} are accepted",
            text.len()
        ))
        .with_hint("summarize; the details belong in the agent's own output"));
    }
    Ok(text)
}

/// The task's running run: `wanted` if given (it must be one of the task's runs and still
/// running), else the newest running one, if any.
pub(super) fn running_run(
    board: &gaffer_engine::Board,
    task: TaskId,
    wanted: Option<RunId>,
) -> Result<Option<Run>, ApiError> {
    let runs = board.runs(task)?;
    match wanted {
        Some(id) => {
            let Some(run) = runs.into_iter().find(|r| r.id == id) else {
                return Err(ApiError::not_found(format!(
                    "run {id} is not a run of task {task}"
                )));
            };
            if run.status != RunStatus::Running {
                return Err(ApiError::conflict(format!(
                    "run {id} of task {task} has ended ({})",
                    run.status.as_str()
                )));
            }
            Ok(Some(run))
        }
        None => Ok(runs
            .into_iter()
            .rev()
            .find(|r| r.status == RunStatus::Running)),
    }
}

pub(super) fn one(mut events: Vec<Event>) -> Result<Event, ApiError> {
    events
        .pop()
        .ok_or_else(|| ApiError::internal("the store recorded no event"))
}
