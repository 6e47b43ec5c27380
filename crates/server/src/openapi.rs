//! The API's own description: an OpenAPI 3.1 document, checked in next to this crate's manifest
//! (`openapi.json`) and served verbatim at `GET /api/openapi.json`.
//!
//! The document is written by hand. `tests/api/openapi.rs` keeps it honest: every route the
//! router serves is documented and every documented operation is served, and the answers of
//! the real API validate against the schemas it gives.

use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;

/// The document, as checked in.
pub const OPENAPI_JSON: &str = include_str!("../openapi.json");

/// `GET /api/openapi.json`.
pub async fn document() -> impl IntoResponse {
    ([(CONTENT_TYPE, "application/json")], OPENAPI_JSON)
}
