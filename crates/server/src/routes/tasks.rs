//! Tasks: list, add, show, diff.

use crate::error::ApiError;
use crate::extract::{ApiPath, ApiQuery, JsonBody};
use crate::query;
use crate::state::Ctx;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use gaffer_core::{Job, NewTask, Run, Task, TaskId};
use gaffer_store::JobFilter;
use serde::{Deserialize, Serialize};

/// `GET /api/tasks` parameters.
#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    /// Comma-separated statuses (`coding,queued`); all tasks when absent.
    pub status: Option<String>,
}

/// `GET /api/tasks?status=coding,queued`.
pub async fn list(
    State(ctx): State<Ctx>,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Json<Vec<Task>>, ApiError> {
    let statuses = query::statuses(q.status.as_deref())?;
    let tasks = ctx
        .blocking(move |board| Ok(board.tasks(&statuses)?))
        .await?;
    Ok(Json(tasks))
}

/// `POST /api/tasks` with a [`NewTask`] body (only `title` is required): 201 and the task.
pub async fn add(
    State(ctx): State<Ctx>,
    JsonBody(new): JsonBody<NewTask>,
) -> Result<(StatusCode, Json<Task>), ApiError> {
    let task = ctx.blocking(move |board| Ok(board.add_task(new)?)).await?;
    ctx.changed();
    Ok((StatusCode::CREATED, Json(task)))
}

/// `GET /api/tasks/{id}` answer.
#[derive(Debug, Serialize)]
pub struct TaskDetail {
    pub task: Task,
    /// Every agent run of the task, oldest first.
    pub runs: Vec<Run>,
    /// Every job of the task, in any status.
    pub jobs: Vec<Job>,
}

pub async fn show(
    State(ctx): State<Ctx>,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<TaskDetail>, ApiError> {
    let id = TaskId(id);
    let detail = ctx
        .blocking(move |board| {
            let task = board.task(id)?;
            let runs = board.runs(id)?;
            let jobs = board.jobs(&JobFilter {
                task: Some(id),
                statuses: Vec::new(),
            })?;
            Ok(TaskDetail { task, runs, jobs })
        })
        .await?;
    Ok(Json(detail))
}

/// `GET /api/tasks/{id}/diff`: the task's change as a unified diff, `text/plain` (empty while
/// nothing was committed).
pub async fn diff(
    State(ctx): State<Ctx>,
    ApiPath(id): ApiPath<i64>,
) -> Result<impl IntoResponse, ApiError> {
    let diff = ctx
        .blocking(move |board| Ok(board.diff(TaskId(id))?))
        .await?;
    Ok(([(CONTENT_TYPE, "text/plain; charset=utf-8")], diff))
}
