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
