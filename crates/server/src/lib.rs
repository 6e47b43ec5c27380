//! The gaffer daemon's HTTP API: JSON for the board and Server-Sent Events for the event log.
//!
//! Everything the CLI and the dashboard do goes through this API (DESIGN §7). It is a thin layer:
//! reads go to the [`gaffer_engine::Board`] and its store, writes become machine inputs through
//! [`gaffer_engine::Board::act`], and the engine, when one runs in the same process, is woken
//! after each write.
//!
//! - [`router`] builds the routes for an [`AppState`]; tests call it in process.
//! - [`serve`] runs them on a listener the caller bound, on a loopback address unless the state's
//!   [`ApiToken`] was configured rather than generated. Every request but the health check and
//!   the dashboard's files needs the token; a running agent's own token (`GAFFER_RUN_TOKEN`)
//!   opens only its own task's progress, ask and propose. A guard also refuses requests from web
//!   pages on other sites (see [`guard`] and the `access` module).
//!
//! # Routes
//!
//! | route | what |
//! |---|---|
//! | `GET /healthz` | `{"ok": true, "project", "pid", "version"}` |
//! | `GET /api/projects` | every project in the store |
//! | `GET /api/status` | counts by status, where work lands, every task |
//! | `GET /api/tasks?status=coding,queued` | tasks, all when no status is given |
//! | `POST /api/tasks` | add a task (`NewTask`; only `title` is required): 201 and the task |
//! | `GET /api/tasks/{id}` | `{"task", "runs", "jobs"}` |
//! | `PATCH /api/tasks/{id}` | `{"title"?, "body"?, "labels"?, "priority"?}` while in the backlog or ready |
//! | `POST /api/tasks/{id}/cancel` | `{"reason"?}` |
//! | `POST /api/tasks/{id}/retry` | no body |
//! | `POST /api/tasks/{id}/approve` | no body |
//! | `POST /api/tasks/{id}/reject` | `{"reason", "cancel"?}` |
//! | `POST /api/tasks/{id}/answer` | `{"text"}` |
//! | `POST /api/tasks/{id}/progress` | `{"text", "run"?}`: an agent's progress line (`run.output` status) |
//! | `POST /api/tasks/{id}/ask` | `{"question", "run"?}`: an agent's question; the run ends in it |
//! | `POST /api/tasks/{id}/propose` | `{"title", "body"?, "run"?}`: an agent's proposal: 201 and the new task |
//! | `GET /api/tasks/{id}/diff` | the change, `text/plain` |
//! | `GET /api/tasks/{id}/events?after&limit` | the task's events |
//! | `GET /api/runs/{id}` | one agent run |
//! | `GET /api/runs/{id}/events?after&limit` | the run's events |
//! | `GET /api/events?after&limit&task&run&kind` | the project's event log (`kind` is a prefix) |
//! | `GET /api/events/stream?after&task&run&kind&plain` | the project's event log as SSE, replay then live |
//! | `GET /api/events/recent?limit` | `{"last_seq", "events"}`: the end of the log, to stream on from |
//! | `GET /api/usage` | tokens and cost of the project's runs |
//! | `GET /api/usage/breakdown?by=task\|role\|model\|agent\|day` | `{"by", "rows"}`: usage per value, highest cost first |
//! | `GET /api/queue` | the merge queue: train with candidates, waiting tasks, exits, figures |
//! | `GET /api/workers` | the machines that take jobs: labels, jobs held, slots, load, last heard |
//! | `GET /api/worker-tokens` | the project's worker tokens, revoked ones included (never a secret) |
//! | `POST /api/worker-tokens` | `{"name"?, "labels"}`: 201 and `{"token", "secret"}`, the secret shown this once |
//! | `POST /api/worker-tokens/{id}/revoke` | `{"revoked"}` (`false`: revoked already); 404 when there is no such token |
//! | `POST /api/scale` | `{"concurrency"}`: agents running at once |
//! | `POST /api/shutdown` | 202; the daemon stops cleanly |
//! | `GET /api/openapi.json` | this API as an OpenAPI 3.1 document ([`openapi`]) |
//! | `GET /metrics` | Prometheus text exposition (see the `metrics` module) |
//!
//! | `GET /` and `GET /assets/…` | the web dashboard (see the `dashboard` module); `/?token=T` sets its cookie |
//!
//! Who may call them (the daemon's token, a run's token, cross-site protection, the `X-Gaffer`
//! header on writes) is decided in one place before any handler runs: see the `access` module.
//!
//! The task actions answer the task as it is afterwards. Errors are JSON
//! `{"error": {"code", "message", "hint"}}`; see [`ApiError`] for the codes and statuses.

mod access;
mod dashboard;
mod error;
mod extract;
pub mod guard;
mod metrics;
pub mod openapi;
mod query;
mod rendered;
mod routes;
mod run_token;
mod serve;
mod state;
mod token;

pub use access::INTENT_HEADER;
pub use error::{ApiError, ErrorCode};
pub use serve::{ServeError, serve};
pub use state::AppState;
pub use token::{ApiToken, TOKEN_COOKIE};

use state::Ctx;

/// The API's routes over `state`. Event streams end when `state.shutdown` is cancelled.
pub fn router(state: AppState) -> axum::Router {
    let closing = state.shutdown.clone();
    routes::build(Ctx::new(state, closing))
}
