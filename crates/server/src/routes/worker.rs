//! `POST /api/worker`: one call of a remote worker (`gaffer worker`), with a worker token.
//! [`crate::access::check`] admits a worker token to this route only and puts the worker's
//! identity into the request; the engine checks the call against it
//! ([`gaffer_engine::worker::serve`]).

use crate::error::ApiError;
use crate::extract::JsonBody;
use crate::state::Ctx;
use axum::Json;
use axum::extract::{Extension, State};
use gaffer_engine::worker::{WorkerCall, WorkerIdentity};

/// The worker a request came from, when it carried a worker token.
#[derive(Debug, Clone)]
pub(crate) struct WorkerCaller(pub WorkerIdentity);

/// `POST /api/worker`: the call's reply, or why it was refused (403: beyond the token).
pub async fn call(
    State(ctx): State<Ctx>,
    caller: Option<Extension<WorkerCaller>>,
    JsonBody(call): JsonBody<WorkerCall>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let Some(Extension(WorkerCaller(worker))) = caller else {
        return Err(ApiError::new(
            crate::error::ErrorCode::Forbidden,
            "POST /api/worker takes a worker token",
        )
        .with_hint(
            "make one with `gaffer worker token create`, then run `gaffer worker --token …`",
        ));
    };
    let writes = call.writes();
    let reply = ctx
        .blocking(move |board| Ok(gaffer_engine::worker::serve(board, &worker, call)?))
        .await?;
    // A call that recorded runs, events or results: the event feed and the engine look again
    // (a poll for work or a read wakes nobody).
    if writes {
        ctx.changed();
    }
    Ok(Json(reply))
}
