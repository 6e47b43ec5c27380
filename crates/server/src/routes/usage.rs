//! `GET /api/usage/breakdown?by=…`: the project's usage split by task, role, model, agent or day.

use crate::error::ApiError;
use crate::extract::ApiQuery;
use crate::state::Ctx;
use axum::Json;
use axum::extract::State;
use gaffer_store::{UsageDimension, UsageRow};
use serde::{Deserialize, Serialize};

/// `GET /api/usage/breakdown` parameters.
#[derive(Debug, Default, Deserialize)]
pub struct BreakdownQuery {
    /// `task`, `role`, `model`, `agent` or `day`.
    pub by: Option<String>,
}

/// `GET /api/usage/breakdown` answer.
#[derive(Debug, Serialize)]
pub struct Breakdown {
    pub by: UsageDimension,
    /// One row per value (task id in decimal, role name, model, agent name, or UTC day as
    /// `YYYY-MM-DD`), highest cost first.
    pub rows: Vec<UsageRow>,
}

pub async fn breakdown(
    State(ctx): State<Ctx>,
    ApiQuery(q): ApiQuery<BreakdownQuery>,
) -> Result<Json<Breakdown>, ApiError> {
    let names = || {
        let names: Vec<&str> = UsageDimension::ALL.iter().map(|d| d.as_str()).collect();
        format!("use ?by= with one of: {}", names.join(", "))
    };
    let Some(text) = q.by.filter(|b| !b.trim().is_empty()) else {
        return Err(ApiError::invalid("say what to break the usage down by").with_hint(names()));
    };
    let by = UsageDimension::parse(&text).ok_or_else(|| {
        ApiError::invalid(format!("cannot break usage down by `{text}`")).with_hint(names())
    })?;
    let rows = ctx
        .blocking(move |board| Ok(board.usage_breakdown(Some(board.project().id), by)?))
        .await?;
    Ok(Json(Breakdown { by, rows }))
}
