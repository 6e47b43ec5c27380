//! `PATCH /api/tasks/{id}`: changing what a task asks before work on it starts.

use crate::error::ApiError;
use crate::extract::{ApiPath, JsonBody};
use crate::state::Ctx;
use axum::Json;
use axum::extract::State;
use gaffer_core::{Task, TaskId};
use gaffer_engine::TaskChanges;

/// `PATCH /api/tasks/{id}` with any of `title`, `body`, `labels`, `priority`, `add_deps`,
/// `remove_deps`, `write_scope`, `read_scope`: the task as it is afterwards. Only while the task
/// is in the backlog or ready (409 otherwise); fields left out stay as they are; a
/// `task.edited` event records what changed.
pub async fn edit(
    State(ctx): State<Ctx>,
    ApiPath(id): ApiPath<i64>,
    JsonBody(changes): JsonBody<TaskChanges>,
) -> Result<Json<Task>, ApiError> {
    if changes.is_empty() {
        return Err(ApiError::invalid("nothing to change").with_hint(
            "send any of title, body, labels, priority, add_deps, remove_deps, write_scope, \
             read_scope, e.g. {\"add_deps\": [3]}",
        ));
    }
    let task = ctx
        .blocking(move |board| Ok(board.edit_task(TaskId(id), changes)?))
        .await?;
    ctx.changed();
    Ok(Json(task))
}
