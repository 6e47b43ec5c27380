//! Agent runs: one run, and its own stream of events (messages, tool calls, status lines).

use crate::error::ApiError;
use crate::extract::{ApiPath, ApiQuery};
use crate::query::Page;
use crate::state::Ctx;
use axum::Json;
use axum::extract::State;
use gaffer_api::{ReadableEvent, readable};
use gaffer_core::{Run, RunId};
use gaffer_store::EventFilter;

/// `GET /api/runs/{id}`.
pub async fn show(
    State(ctx): State<Ctx>,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Run>, ApiError> {
    let run = ctx.blocking(move |board| Ok(board.run(RunId(id))?)).await?;
    Ok(Json(run))
}

/// `GET /api/runs/{id}/events?after=N&limit=M`: the run's events, oldest first (404 if the run
/// does not exist).
pub async fn events(
    State(ctx): State<Ctx>,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(page): ApiQuery<Page>,
) -> Result<Json<Vec<ReadableEvent>>, ApiError> {
    let id = RunId(id);
    let events = ctx
        .blocking(move |board| {
            board.run(id)?;
            let filter = EventFilter {
                run: Some(id),
                ..EventFilter::default()
            };
            Ok(board.events_after(page.after(), page.limit(), &filter)?)
        })
        .await?;
    Ok(Json(readable(events)))
}
