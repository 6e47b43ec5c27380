//! What people do to a task: cancel, retry, approve, reject, answer.
//!
//! Each becomes one [`Input`] to the task's state machine, applied by the board and recorded
//! with `"by": "api"`. The answer is the task as it is afterwards; an input the machine refuses
//! in the task's current state is a 409 with the machine's reason.

use super::WHO;
use crate::error::ApiError;
use crate::extract::{ApiPath, JsonBody};
use crate::state::Ctx;
use axum::Json;
use axum::extract::State;
use gaffer_core::{Input, Task, TaskId};
use serde::Deserialize;

/// The reason recorded when a cancel does not give one.
const DEFAULT_CANCEL_REASON: &str = "cancelled through the API";

/// `POST /api/tasks/{id}/cancel` body (optional).
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CancelBody {
    pub reason: Option<String>,
}

/// `POST /api/tasks/{id}/reject` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RejectBody {
    /// What is wrong; handed to the coder when the task goes back to it.
    pub reason: String,
    /// Cancel the task instead of sending it back to the coder.
    #[serde(default)]
    pub cancel: bool,
}

/// `POST /api/tasks/{id}/answer` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnswerBody {
    /// The answer to the task's pending question.
    pub text: String,
}

pub async fn cancel(
    State(ctx): State<Ctx>,
    ApiPath(id): ApiPath<i64>,
    JsonBody(body): JsonBody<CancelBody>,
) -> Result<Json<Task>, ApiError> {
    let reason = body
        .reason
        .map(|r| r.trim().to_string())
        .filter(|r| !r.is_empty())
        .unwrap_or_else(|| DEFAULT_CANCEL_REASON.to_string());
    act(&ctx, TaskId(id), Input::Cancel { reason }).await
}

pub async fn retry(
    State(ctx): State<Ctx>,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Task>, ApiError> {
    act(&ctx, TaskId(id), Input::Retry).await
}

pub async fn approve(
    State(ctx): State<Ctx>,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Task>, ApiError> {
    act(&ctx, TaskId(id), Input::Approve).await
}

pub async fn reject(
    State(ctx): State<Ctx>,
    ApiPath(id): ApiPath<i64>,
    JsonBody(body): JsonBody<RejectBody>,
) -> Result<Json<Task>, ApiError> {
    let reason = non_blank(
        body.reason,
        "a rejection needs a reason",
        "say what should change",
    )?;
    let input = Input::Reject {
        reason,
        cancel: body.cancel,
    };
    act(&ctx, TaskId(id), input).await
}

pub async fn answer(
    State(ctx): State<Ctx>,
    ApiPath(id): ApiPath<i64>,
    JsonBody(body): JsonBody<AnswerBody>,
) -> Result<Json<Task>, ApiError> {
    let text = non_blank(
        body.text,
        "an answer needs text",
        "send {\"text\": \"...\"}",
    )?;
    act(&ctx, TaskId(id), Input::Answer { text }).await
}

fn non_blank(text: String, message: &str, hint: &str) -> Result<String, ApiError> {
    let text = text.trim().to_string();
    if text.is_empty() {
        return Err(ApiError::invalid(message).with_hint(hint));
    }
    Ok(text)
}

/// Applies `input`, stops the task's running work when the machine (or a cancel) asks for it,
/// wakes the engine and the event streams, and answers the task as it is now.
async fn act(ctx: &Ctx, id: TaskId, input: Input) -> Result<Json<Task>, ApiError> {
    let engine = ctx.app.engine.clone();
    let result = ctx
        .blocking(move |board| {
            let is_cancel = matches!(input, Input::Cancel { .. });
            let applied = board.act(id, input, WHO)?;
            if (is_cancel || applied.cancels_jobs())
                && let Some(engine) = &engine
            {
                engine.cancel_task_jobs(id);
            }
            Ok(board.task(id)?)
        })
        .await;
    ctx.changed();
    result.map(Json)
}
