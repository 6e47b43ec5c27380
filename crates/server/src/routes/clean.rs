//! `POST /api/clean`: idle worktrees and dead branches removed by the daemon itself, under the
//! locks its engine works with (`gaffer clean` while it runs).

use crate::error::ApiError;
use crate::state::Ctx;
use axum::Json;
use axum::extract::State;
use gaffer_api::CleanReport;

pub async fn clean(State(ctx): State<Ctx>) -> Result<Json<CleanReport>, ApiError> {
    tracing::info!("clean requested through the API");
    let report = ctx.blocking(|board| Ok(board.clean(true)?)).await?;
    Ok(Json(report))
}
