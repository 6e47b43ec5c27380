//! The route table. Each submodule holds the handlers of one resource.

mod actions;
mod agent;
mod clean;
mod edit;
mod events;
mod meta;
mod propose;
mod queue;
mod recent;
mod runs;
mod stream;
mod tasks;
mod usage;
pub(crate) mod worker;
mod worker_tokens;

use crate::access;
use crate::error::ApiError;
use crate::state::Ctx;
use crate::{metrics, openapi};
use axum::Router;
use axum::http::Uri;
use axum::middleware;
use axum::routing::{get, post};

/// Who the board records as the author of inputs that come through the API.
pub(crate) const WHO: &str = "api";

/// Every route, with the loopback guard in front.
pub(crate) fn build(ctx: Ctx) -> Router {
    let api = Router::new()
        .route("/projects", get(meta::projects))
        .route("/status", get(meta::status))
        .route("/usage", get(meta::usage))
        .route("/usage/breakdown", get(usage::breakdown))
        .route("/queue", get(queue::show))
        .route("/workers", get(queue::workers))
        .route(
            "/worker-tokens",
            get(worker_tokens::list).post(worker_tokens::create),
        )
        .route("/worker-tokens/{id}/revoke", post(worker_tokens::revoke))
        .route("/scale", post(meta::scale))
        .route("/shutdown", post(meta::shutdown))
        .route("/clean", post(clean::clean))
        .route("/tasks", get(tasks::list).post(tasks::add))
        .route("/tasks/{id}", get(tasks::show).patch(edit::edit))
        .route("/tasks/{id}/diff", get(tasks::diff))
        .route("/tasks/{id}/events", get(events::of_task))
        .route("/tasks/{id}/cancel", post(actions::cancel))
        .route("/tasks/{id}/retry", post(actions::retry))
        .route("/tasks/{id}/approve", post(actions::approve))
        .route("/tasks/{id}/reject", post(actions::reject))
        .route("/tasks/{id}/answer", post(actions::answer))
        .route("/tasks/{id}/accept", post(actions::accept))
        .route("/tasks/{id}/decline", post(actions::decline))
        .route("/tasks/{id}/budget", post(actions::budget))
        .route("/tasks/{id}/revert", post(actions::revert))
        .route("/tasks/{id}/move", post(actions::move_in_queue))
        .route("/tasks/{id}/say", post(actions::say))
        .route("/tasks/{id}/attach", post(actions::attach))
        .route("/tasks/{id}/release", post(actions::release))
        .route("/tasks/{id}/progress", post(agent::progress))
        .route("/tasks/{id}/ask", post(agent::ask))
        .route("/tasks/{id}/propose", post(propose::propose))
        .route("/openapi.json", get(openapi::document))
        .route("/runs/{id}", get(runs::show))
        .route("/runs/{id}/events", get(runs::events))
        .route("/events", get(events::list))
        .route("/events/stream", get(stream::stream))
        .route("/events/recent", get(recent::recent))
        .route("/worker", post(worker::call));
    Router::new()
        .route("/healthz", get(meta::healthz))
        .route("/metrics", get(metrics::metrics))
        .nest("/api", api)
        .merge(crate::dashboard::routes())
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(ctx.clone(), access::check))
        .with_state(ctx)
}

async fn not_found(uri: Uri) -> ApiError {
    ApiError::not_found(format!("no route for {}", uri.path()))
        .with_hint("the API lives under /api; see GET /api/status")
}
