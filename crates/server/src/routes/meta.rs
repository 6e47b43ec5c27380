//! The daemon itself: health, projects, the board at a glance, usage, scaling and shutdown.

use crate::error::ApiError;
use crate::extract::JsonBody;
use crate::state::Ctx;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use gaffer_core::Project;
use gaffer_engine::StatusReport;
use gaffer_store::UsageTotals;
use serde::{Deserialize, Serialize};

/// `GET /healthz`.
#[derive(Debug, Serialize)]
pub struct Health {
    pub ok: bool,
    /// The project's name.
    pub project: String,
    /// The daemon's process id.
    pub pid: u32,
    /// gaffer's version.
    pub version: &'static str,
}

pub async fn healthz(State(ctx): State<Ctx>) -> Json<Health> {
    Json(Health {
        ok: true,
        project: ctx.board().project().name.clone(),
        pid: std::process::id(),
        version: env!("CARGO_PKG_VERSION"),
    })
}

/// `GET /api/projects`.
pub async fn projects(State(ctx): State<Ctx>) -> Result<Json<Vec<Project>>, ApiError> {
    let projects = ctx.blocking(|board| Ok(board.projects()?)).await?;
    Ok(Json(projects))
}

/// `GET /api/status`: counts by status, where work lands, and every task.
pub async fn status(State(ctx): State<Ctx>) -> Result<Json<StatusReport>, ApiError> {
    let report = ctx.blocking(|board| Ok(board.status()?)).await?;
    Ok(Json(report))
}

/// `GET /api/usage`: tokens and cost of every run of the project.
pub async fn usage(State(ctx): State<Ctx>) -> Result<Json<UsageTotals>, ApiError> {
    let totals = ctx
        .blocking(|board| Ok(board.usage_totals(Some(board.project().id))?))
        .await?;
    Ok(Json(totals))
}

/// `POST /api/scale` body.
#[derive(Debug, Deserialize)]
pub struct Scale {
    /// How many agents may run at once (at least 1).
    pub concurrency: usize,
}

/// `POST /api/scale` answer: the concurrency now in effect.
#[derive(Debug, Serialize)]
pub struct Scaled {
    pub concurrency: usize,
}

pub async fn scale(
    State(ctx): State<Ctx>,
    JsonBody(scale): JsonBody<Scale>,
) -> Result<Json<Scaled>, ApiError> {
    if scale.concurrency == 0 {
        return Err(ApiError::invalid("concurrency must be at least 1")
            .with_hint("to stop all work, use POST /api/shutdown (`gaffer down`)"));
    }
    let Some(engine) = &ctx.app.engine else {
        return Err(ApiError::conflict("no engine runs in this server")
            .with_hint("start the daemon with `gaffer up`"));
    };
    engine.set_concurrency(scale.concurrency);
    Ok(Json(Scaled {
        concurrency: engine.concurrency(),
    }))
}

/// `POST /api/shutdown` answer.
#[derive(Debug, Serialize)]
pub struct ShuttingDown {
    pub ok: bool,
    pub message: &'static str,
}

/// `POST /api/shutdown`: asks the daemon to stop (it finishes answering, interrupts running work,
/// which resumes on the next start, and exits).
pub async fn shutdown(State(ctx): State<Ctx>) -> (StatusCode, Json<ShuttingDown>) {
    tracing::info!("shutdown requested through the API");
    ctx.app.shutdown.cancel();
    (
        StatusCode::ACCEPTED,
        Json(ShuttingDown {
            ok: true,
            message: "shutting down",
        }),
    )
}
