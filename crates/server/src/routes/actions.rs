//! What people do to a task: cancel, retry, approve, reject, answer, accept, decline, its
//! budget, a revert of a merged task, a move in the merge queue's waiting line, a word to its
//! agent (say), taking it over by hand and handing it back (attach, release). Each route reads
//! its body as a [`gaffer_api::Action`] and hands it to
//! [`gaffer_engine::Board::perform`], which checks and carries it out (recorded with `"by"` the
//! surface that sent it: `cli`, `shell`, `mcp`, `dashboard`, else `api`). The answer is the task
//! as it is afterwards (for a revert, the new task; for attach, with its worktree and how to
//! resume its agent); an input the machine refuses in the task's current state is a 409 with
//! the machine's reason.

use crate::error::ApiError;
use crate::extract::{ApiPath, JsonBody, Surface};
use crate::state::Ctx;
use axum::Json;
use axum::extract::State;
use gaffer_api::{
    Action, AnswerBody, Attached, BudgetBody, CancelBody, DeclineBody, Place, RejectBody,
    RetryBody, RevertBody, SayBody,
};
use gaffer_core::{Task, TaskId};

pub async fn cancel(
    State(ctx): State<Ctx>,
    Surface(who): Surface,
    ApiPath(id): ApiPath<i64>,
    JsonBody(body): JsonBody<CancelBody>,
) -> Result<Json<Task>, ApiError> {
    perform(&ctx, who, id, body.into()).await
}

pub async fn retry(
    State(ctx): State<Ctx>,
    Surface(who): Surface,
    ApiPath(id): ApiPath<i64>,
    JsonBody(body): JsonBody<RetryBody>,
) -> Result<Json<Task>, ApiError> {
    perform(&ctx, who, id, body.into()).await
}

pub async fn approve(
    State(ctx): State<Ctx>,
    Surface(who): Surface,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Task>, ApiError> {
    perform(&ctx, who, id, Action::Approve).await
}

pub async fn reject(
    State(ctx): State<Ctx>,
    Surface(who): Surface,
    ApiPath(id): ApiPath<i64>,
    JsonBody(body): JsonBody<RejectBody>,
) -> Result<Json<Task>, ApiError> {
    perform(&ctx, who, id, body.into()).await
}

pub async fn answer(
    State(ctx): State<Ctx>,
    Surface(who): Surface,
    ApiPath(id): ApiPath<i64>,
    JsonBody(body): JsonBody<AnswerBody>,
) -> Result<Json<Task>, ApiError> {
    perform(&ctx, who, id, body.into()).await
}

pub async fn accept(
    State(ctx): State<Ctx>,
    Surface(who): Surface,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Task>, ApiError> {
    perform(&ctx, who, id, Action::Accept).await
}

pub async fn decline(
    State(ctx): State<Ctx>,
    Surface(who): Surface,
    ApiPath(id): ApiPath<i64>,
    JsonBody(body): JsonBody<DeclineBody>,
) -> Result<Json<Task>, ApiError> {
    perform(&ctx, who, id, body.into()).await
}

pub async fn budget(
    State(ctx): State<Ctx>,
    Surface(who): Surface,
    ApiPath(id): ApiPath<i64>,
    JsonBody(body): JsonBody<BudgetBody>,
) -> Result<Json<Task>, ApiError> {
    perform(&ctx, who, id, body.into()).await
}

/// The answer is the new task that carries the revert.
pub async fn revert(
    State(ctx): State<Ctx>,
    Surface(who): Surface,
    ApiPath(id): ApiPath<i64>,
    JsonBody(body): JsonBody<RevertBody>,
) -> Result<Json<Task>, ApiError> {
    perform(&ctx, who, id, body.into()).await
}

pub async fn say(
    State(ctx): State<Ctx>,
    Surface(who): Surface,
    ApiPath(id): ApiPath<i64>,
    JsonBody(body): JsonBody<SayBody>,
) -> Result<Json<Task>, ApiError> {
    perform(&ctx, who, id, body.into()).await
}

pub async fn move_in_queue(
    State(ctx): State<Ctx>,
    Surface(who): Surface,
    ApiPath(id): ApiPath<i64>,
    JsonBody(to): JsonBody<Place>,
) -> Result<Json<Task>, ApiError> {
    perform(&ctx, who, id, to.into()).await
}

pub async fn attach(
    State(ctx): State<Ctx>,
    Surface(who): Surface,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Attached>, ApiError> {
    let performed = performed(&ctx, who, id, Action::Attach).await?;
    performed
        .attached
        .map(Json)
        .ok_or_else(|| ApiError::internal("the task was attached, but nothing says where"))
}

pub async fn release(
    State(ctx): State<Ctx>,
    Surface(who): Surface,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Task>, ApiError> {
    perform(&ctx, who, id, Action::Release).await
}

/// Carries out `action` and answers the task as it is now.
async fn perform(
    ctx: &Ctx,
    who: &'static str,
    id: i64,
    action: Action,
) -> Result<Json<Task>, ApiError> {
    performed(ctx, who, id, action).await.map(|p| Json(p.task))
}

/// Carries out `action`, stops the task's running work when it asks for that, and wakes the
/// engine and the event streams.
async fn performed(
    ctx: &Ctx,
    who: &'static str,
    id: i64,
    action: Action,
) -> Result<gaffer_engine::Performed, ApiError> {
    let engine = ctx.app.engine.clone();
    let id = TaskId(id);
    let result = ctx
        .blocking(move |board| {
            let performed = board.perform(id, action, who)?;
            if let Some(engine) = &engine {
                if performed.cancels_jobs {
                    engine.cancel_task_jobs(id);
                }
                // A person's message: the task's agent run here hears it at its next turn, or stops
                // and resumes with it.
                if performed.delivers_said {
                    engine.deliver_said(id);
                }
            }
            Ok(performed)
        })
        .await;
    ctx.changed();
    result
}
