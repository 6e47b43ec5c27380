//! `GET /api/events/recent?limit=N`: the end of the event log, and where a stream should go on.
//!
//! The dashboard starts with this: it shows the last events at once, then opens
//! `GET /api/events/stream?after=<last_seq>`, which continues exactly after them.

use crate::error::ApiError;
use crate::extract::ApiQuery;
use crate::state::Ctx;
use axum::Json;
use axum::extract::State;
use gaffer_api::{ReadableEvent, readable};
use gaffer_core::Seq;
use gaffer_store::EventFilter;
use serde::{Deserialize, Serialize};

/// Events answered when the client does not say.
const DEFAULT_RECENT: usize = 200;
/// The most events one request returns.
const MAX_RECENT: usize = 2000;

/// `GET /api/events/recent` parameters.
#[derive(Debug, Default, Deserialize)]
pub struct RecentQuery {
    pub limit: Option<usize>,
}

/// `GET /api/events/recent` answer.
#[derive(Debug, Serialize)]
pub struct Recent {
    /// The last sequence number in the log when this was read (0 when it is empty): stream
    /// with `after=last_seq` to continue without a gap or a repeat.
    pub last_seq: Seq,
    /// Up to `limit` events before and at `last_seq`, oldest first.
    pub events: Vec<ReadableEvent>,
}

pub async fn recent(
    State(ctx): State<Ctx>,
    ApiQuery(q): ApiQuery<RecentQuery>,
) -> Result<Json<Recent>, ApiError> {
    let limit = q.limit.unwrap_or(DEFAULT_RECENT).min(MAX_RECENT);
    let recent = ctx
        .blocking(move |board| {
            let last_seq = board.last_seq()?;
            let from = Seq(last_seq.0.saturating_sub(i64::try_from(limit).unwrap_or(0)));
            let mut events = board.events_after(from, limit, &EventFilter::default())?;
            events.retain(|e| e.seq <= last_seq);
            Ok(Recent {
                last_seq,
                events: readable(events),
            })
        })
        .await?;
    Ok(Json(recent))
}
