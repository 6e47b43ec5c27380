//! The event log: listing it, whole or for one task.

use crate::error::ApiError;
use crate::extract::{ApiPath, ApiQuery};
use crate::query::Page;
use crate::state::Ctx;
use axum::Json;
use axum::extract::State;
use gaffer_api::{ReadableEvent, readable};
use gaffer_core::{ProjectId, RunId, TaskId};
use gaffer_store::EventFilter;
use serde::Deserialize;

/// `GET /api/events` parameters.
#[derive(Debug, Default, Deserialize)]
pub struct EventsQuery {
    pub after: Option<i64>,
    pub limit: Option<usize>,
    /// Only the events of this task.
    pub task: Option<i64>,
    /// Only the events of this run.
    pub run: Option<i64>,
    /// Only the events whose kind starts with this (`run.`, `task.status`).
    pub kind: Option<String>,
}

impl EventsQuery {
    pub fn page(&self) -> Page {
        Page {
            after: self.after,
            limit: self.limit,
        }
    }

    /// The filter of the query within `project`: a daemon serves its own project's events, not
    /// those of every project on a shared store.
    pub fn filter(&self, project: ProjectId) -> EventFilter {
        EventFilter {
            project: Some(project),
            task: self.task.map(TaskId),
            run: self.run.map(RunId),
            kind_prefix: self.kind.clone().filter(|k| !k.is_empty()),
        }
    }
}

/// `GET /api/events?after=N&limit=M&task=ID&run=ID&kind=prefix`: events oldest first. To page,
/// ask again with `after` set to the last `seq` received.
pub async fn list(
    State(ctx): State<Ctx>,
    ApiQuery(q): ApiQuery<EventsQuery>,
) -> Result<Json<Vec<ReadableEvent>>, ApiError> {
    let (page, filter) = (q.page(), q.filter(ctx.board().project().id));
    let events = ctx
        .blocking(move |board| Ok(board.events_after(page.after(), page.limit(), &filter)?))
        .await?;
    Ok(Json(readable(events)))
}

/// `GET /api/tasks/{id}/events?after=N&limit=M`: the events of one task (404 if it does not
/// exist).
pub async fn of_task(
    State(ctx): State<Ctx>,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(page): ApiQuery<Page>,
) -> Result<Json<Vec<ReadableEvent>>, ApiError> {
    let id = TaskId(id);
    let events = ctx
        .blocking(move |board| {
            board.task(id)?;
            let filter = EventFilter {
                task: Some(id),
                ..EventFilter::default()
            };
            Ok(board.events_after(page.after(), page.limit(), &filter)?)
        })
        .await?;
    Ok(Json(readable(events)))
}
