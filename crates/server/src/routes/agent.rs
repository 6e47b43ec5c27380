//! What an agent that gaffer runs says back while it works, through the API (the MCP tools
//! `report_progress` and `ask_person` call these): a progress line, or a question for a person.
//! An agent calls them with its run's token (`GAFFER_RUN_TOKEN`, see [`crate::run_token`]): the
//! report is then recorded on that run, whatever the body says.
//!
//! `Board::report_progress` and `Board::ask` check and record them. Both are recorded as events
//! of the task's running agent run, in the same shape the agent's
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
use gaffer_core::{RunId, TaskId};
use serde::Deserialize;

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
    let run = reporting_run(caller, body.run)?;
    let event = ctx
        .blocking(move |board| Ok(board.report_progress(TaskId(id), run, &body.text)?))
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
    let run = reporting_run(caller, body.run)?;
    let event = ctx
        .blocking(move |board| Ok(board.ask(TaskId(id), run, &body.question)?))
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
