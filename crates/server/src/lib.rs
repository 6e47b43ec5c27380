//! The gaffer daemon's HTTP API: JSON for the board and Server-Sent Events for the event log.
//!
//! Everything the CLI and the dashboard do goes through this API (DESIGN §7). It is a thin layer:
//! reads go to the [`gaffer_engine::Board`] and its store, writes become machine inputs through
//! [`gaffer_engine::Board::act`], and the engine, when one runs in the same process, is woken
//! after each write.
//!
//! - [`router`] builds the routes for an [`AppState`]; tests call it in process.
//! - [`serve`] runs them on a listener the caller bound, **on a loopback address only**: the API
//!   has no authentication yet. A guard also refuses requests from web pages on other sites
//!   (see [`guard`]).
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
//! | `POST /api/tasks/{id}/cancel` | `{"reason"?}` |
//! | `POST /api/tasks/{id}/retry` | no body |
//! | `POST /api/tasks/{id}/approve` | no body |
//! | `POST /api/tasks/{id}/reject` | `{"reason", "cancel"?}` |
//! | `POST /api/tasks/{id}/answer` | `{"text"}` |
//! | `GET /api/tasks/{id}/diff` | the change, `text/plain` |
//! | `GET /api/tasks/{id}/events?after&limit` | the task's events |
//! | `GET /api/runs/{id}` | one agent run |
//! | `GET /api/runs/{id}/events?after&limit` | the run's events |
//! | `GET /api/events?after&limit&task&run&kind` | the event log (`kind` is a prefix) |
//! | `GET /api/events/stream?after&task&run&kind` | the event log as SSE, replay then live |
//! | `GET /api/usage` | tokens and cost of the project's runs |
//! | `POST /api/scale` | `{"concurrency"}`: agents running at once |
//! | `POST /api/shutdown` | 202; the daemon stops cleanly |
//!
//! The task actions answer the task as it is afterwards. Errors are JSON
//! `{"error": {"code", "message", "hint"}}`; see [`ApiError`] for the codes and statuses.

mod error;
mod extract;
mod follow;
pub mod guard;
mod query;
mod routes;
mod serve;
mod state;

pub use error::{ApiError, ErrorCode};
pub use serve::{ServeError, serve};
pub use state::AppState;

use state::Ctx;

/// The API's routes over `state`. Event streams end when `state.shutdown` is cancelled.
pub fn router(state: AppState) -> axum::Router {
    let closing = state.shutdown.clone();
    routes::build(Ctx::new(state, closing))
}
