//! Worker tokens: what remote workers present to take this project's jobs. Listing, making and
//! revoking them needs the daemon's own token (a run's token reaches none of these routes, see
//! `crate::access`). The secret is in the answer that makes a token, and nowhere else, ever.

use crate::error::ApiError;
use crate::extract::{ApiPath, JsonBody};
use crate::state::Ctx;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use gaffer_api::{CreatedWorkerToken, NewWorkerTokenBody, Revoked};
use gaffer_engine::EngineError;
use gaffer_store::WorkerToken;

/// `GET /api/worker-tokens`: every token of the project, revoked ones included, by id (never a
/// secret, nor its hash).
pub async fn list(State(ctx): State<Ctx>) -> Result<Json<Vec<WorkerToken>>, ApiError> {
    let tokens = ctx.blocking(|board| Ok(board.worker_tokens()?)).await?;
    Ok(Json(tokens))
}

/// `POST /api/worker-tokens` with `{"name"?, "labels"}`: 201, the token and its secret, shown
/// this once. 400 for a label that is not one word, or a name that is not one short line.
pub async fn create(
    State(ctx): State<Ctx>,
    JsonBody(body): JsonBody<NewWorkerTokenBody>,
) -> Result<(StatusCode, Json<CreatedWorkerToken<WorkerToken>>), ApiError> {
    let (token, secret) = ctx
        .blocking(move |board| {
            let name = body.name.as_deref().unwrap_or_default();
            Ok(board.create_worker_token(name, &body.labels)?)
        })
        .await?;
    tracing::info!(id = token.id, name = %token.name, "worker token made through the API");
    ctx.changed();
    Ok((
        StatusCode::CREATED,
        Json(CreatedWorkerToken { token, secret }),
    ))
}

/// `POST /api/worker-tokens/{id}/revoke`: `{"revoked": true}`, or `false` when it was revoked
/// already; 404 when the project has no such token.
pub async fn revoke(
    State(ctx): State<Ctx>,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Revoked>, ApiError> {
    let revoked = ctx
        .blocking(move |board| match board.revoke_worker_token(id) {
            Ok(revoked) => Ok(revoked),
            Err(EngineError::NotFound(message)) => Err(ApiError::not_found(message)
                .with_hint("list them with GET /api/worker-tokens (`gaffer worker token list`)")),
            Err(e) => Err(e.into()),
        })
        .await?;
    if revoked {
        tracing::info!(id, "worker token revoked through the API");
        ctx.changed();
    }
    Ok(Json(Revoked { revoked }))
}
