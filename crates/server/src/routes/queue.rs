//! The merge queue.

use crate::error::ApiError;
use crate::state::Ctx;
use axum::Json;
use axum::extract::State;
use gaffer_engine::QueueReport;

/// `GET /api/queue`: the merge train in landing order with the candidate each task is tested
/// on (the prefix it includes, its verify job), the tasks waiting to join, why tasks left the
/// queue lately, the queue's figures (length, time in queue, landings per hour) and the host's
/// heavy-work budget.
pub async fn show(State(ctx): State<Ctx>) -> Result<Json<QueueReport>, ApiError> {
    let report = ctx.blocking(|board| Ok(board.queue()?)).await?;
    Ok(Json(report))
}

/// `GET /api/workers`: the machines that take this board's jobs (their labels, the jobs they
/// hold, their load, when they were last heard and whether that counts as up).
pub async fn workers(
    State(ctx): State<Ctx>,
) -> Result<Json<Vec<gaffer_engine::WorkerReport>>, ApiError> {
    let report = ctx.blocking(|board| Ok(board.workers()?)).await?;
    Ok(Json(report))
}
