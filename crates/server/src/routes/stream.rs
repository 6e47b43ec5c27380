//! `GET /api/events/stream`: the event log as Server-Sent Events.
//!
//! Each event is sent as
//!
//! ```text
//! id: <seq>
//! event: <kind>
//! data: <the event as JSON>
//! ```
//!
//! Where it starts: after the `Last-Event-ID` header when present (a browser's `EventSource`
//! sends it when it reconnects), else after `?after=N`, else at the end of the log (only new
//! events; a position beyond the log's end is taken as the end). Only the daemon's project's
//! events are sent (a shared store holds other projects' too), as on `GET /api/events`. It replays what is stored after that point, then goes live, without gap or
//! duplicate: each stream is a subscription to the daemon's one follower of the event log
//! ([`gaffer_feed::EventFeed`]), which pushes an event to every stream the moment it is
//! committed. `?task=ID`, `?run=ID` and `?kind=prefix` narrow it as on
//! `GET /api/events`; `?plain=1` leaves out the `event:` lines (the dashboard's `EventSource`
//! takes every kind through `onmessage`). A comment is sent every 15 seconds so that idle
//! connections stay open.

use crate::error::ApiError;
use crate::extract::ApiQuery;
use crate::rendered::Rendered;
use crate::state::Ctx;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use futures::{Stream, StreamExt};
use gaffer_core::{Event, RunId, Seq, TaskId};
use gaffer_store::EventFilter;
use serde::Deserialize;
use std::convert::Infallible;
use std::time::Duration;

/// The header a reconnecting `EventSource` sends with the last `id` it received.
const LAST_EVENT_ID: &str = "last-event-id";
const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// `GET /api/events/stream` parameters.
#[derive(Debug, Default, Deserialize)]
pub struct StreamQuery {
    pub after: Option<i64>,
    pub task: Option<i64>,
    pub run: Option<i64>,
    pub kind: Option<String>,
    /// `plain=1`: leave out the `event:` line, so that every event reaches an `EventSource`'s
    /// `onmessage` (a browser cannot listen for every event name at once; the kind is in the
    /// data anyway).
    #[serde(default)]
    pub plain: Option<u8>,
}

pub async fn stream(
    State(ctx): State<Ctx>,
    headers: HeaderMap,
    ApiQuery(q): ApiQuery<StreamQuery>,
) -> Result<Sse<impl Stream<Item = Result<SseEvent, Infallible>>>, ApiError> {
    let end = ctx.blocking(|board| Ok(board.last_seq()?)).await?;
    // A position beyond the log's end (a client that saw another board, a log restored from
    // an older copy) would pass over the next events until the log reached it: the stream
    // starts at the end instead.
    let after = match (last_event_id(&headers)?, q.after) {
        (Some(seq), _) => seq,
        (None, Some(after)) => Seq(after),
        (None, None) => end,
    }
    .min(end);
    // The daemon's own project only: a shared store holds other projects' events too.
    let filter = EventFilter {
        project: Some(ctx.board().project().id),
        task: q.task.map(TaskId),
        run: q.run.map(RunId),
        kind_prefix: q.kind.filter(|k| !k.is_empty()),
    };
    let events = ctx
        .feed()
        .subscribe(filter, after)
        .into_stream(ctx.closing.clone());
    let plain = q.plain.is_some_and(|p| p != 0);
    let rendered = ctx.rendered();
    let feed = ctx.feed().clone();
    let stream = events.map(move |event| Ok(to_sse(&event, plain, &rendered, feed.head())));
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(KEEP_ALIVE)))
}

/// The `Last-Event-ID` header as a sequence number; a value that is not one is a 400.
fn last_event_id(headers: &HeaderMap) -> Result<Option<Seq>, ApiError> {
    let Some(value) = headers.get(LAST_EVENT_ID) else {
        return Ok(None);
    };
    let text = value.to_str().unwrap_or_default().trim();
    if text.is_empty() {
        return Ok(None);
    }
    text.parse::<i64>().map(|n| Some(Seq(n))).map_err(|_| {
        ApiError::invalid(format!(
            "Last-Event-ID `{text}` is not an event sequence number"
        ))
    })
}

fn to_sse(event: &Event, plain: bool, rendered: &Rendered, head: Option<Seq>) -> SseEvent {
    // The SSE framing forbids line breaks in the event name; kinds never have them, but the log
    // accepts any text.
    let kind: String = event
        .kind
        .chars()
        .map(|c| if c == '\n' || c == '\r' { ' ' } else { c })
        .collect();
    // JSON text has no raw line breaks, so it fits one `data:` line.
    let sse = SseEvent::default()
        .id(event.seq.to_string())
        .data(rendered.json(event, head));
    if plain { sse } else { sse.event(kind) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn last_event_id_parses() {
        let mut headers = HeaderMap::new();
        assert_eq!(last_event_id(&headers).unwrap(), None);
        headers.insert(LAST_EVENT_ID, HeaderValue::from_static(" 42 "));
        assert_eq!(last_event_id(&headers).unwrap(), Some(Seq(42)));
        headers.insert(LAST_EVENT_ID, HeaderValue::from_static("x"));
        assert!(last_event_id(&headers).is_err());
    }
}
