//! `POST /api/tasks/{id}/propose`: an agent working on task `id` files an idea for an improvement
//! outside its task (the MCP tool `propose` calls it inside a run). Like a `PROPOSAL:` line the
//! agent prints, it becomes a task of kind `proposal` in the backlog, which waits for a person to
//! accept or decline it, with a note saying who proposed it and a `task.proposed` event on the
//! task the agent works on.
//!
//! Being a route of the task rather than `POST /api/tasks`, it is one that a run's token may call
//! (see [`crate::run_token`]): an agent may propose, but not add a task that would run.

use super::agent::reporting_run;
use crate::error::ApiError;
use crate::extract::{ApiPath, JsonBody};
use crate::run_token::RunCaller;
use crate::state::Ctx;
use axum::extract::State;
use axum::http::StatusCode;
use axum::{Extension, Json};
use gaffer_core::{Task, TaskId};
use serde::Deserialize;

/// `POST /api/tasks/{id}/propose` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProposeBody {
    /// A short imperative title for the improvement.
    pub title: String,
    /// What to change, where, and why it is worth it.
    #[serde(default)]
    pub body: String,
    /// The run proposing (`GAFFER_RUN`); by default the task's running run, if any.
    #[serde(default)]
    pub run: Option<i64>,
}

/// Files the proposal: 201 and the new task. 409 when an open proposal has the same title.
pub async fn propose(
    State(ctx): State<Ctx>,
    caller: Option<Extension<RunCaller>>,
    ApiPath(id): ApiPath<i64>,
    JsonBody(body): JsonBody<ProposeBody>,
) -> Result<(StatusCode, Json<Task>), ApiError> {
    let run = reporting_run(caller, body.run)?;
    let proposal = ctx
        .blocking(move |board| Ok(board.propose(TaskId(id), run, &body.title, &body.body)?))
        .await?;
    ctx.changed();
    Ok((StatusCode::CREATED, Json(proposal)))
}
