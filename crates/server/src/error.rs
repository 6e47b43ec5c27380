//! The one error type every handler returns, and how it looks on the wire.
//!
//! Every failure is a JSON body `{"error": {"code", "message", "hint"}}` with a matching status:
//!
//! | code        | status | meaning                                                         |
//! |-------------|--------|-----------------------------------------------------------------|
//! | `not_found` | 404    | no such task, run, project or route                             |
//! | `invalid`   | 400    | the request itself is wrong (bad JSON, bad query, bad value)     |
//! | `unauthorized` | 401 | the daemon has a token and the request did not carry it (see [`crate::access`]) |
//! | `forbidden` | 403    | the request came from a page on another site (see [`crate::guard`]) |
//! | `conflict`  | 409    | the request is fine but the board's state refuses it            |
//! | `internal`  | 500    | gaffer or its repository failed; the message says how           |
//!
//! Library errors are classified here, once, so handlers only use `?`.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use gaffer_engine::EngineError;
use gaffer_store::StoreError;
use serde::Serialize;

/// The machine-readable class of an error; clients match on this, not on the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    NotFound,
    Invalid,
    Unauthorized,
    Forbidden,
    Conflict,
    Internal,
}

impl ErrorCode {
    /// The HTTP status this class of error is sent with.
    pub fn status(self) -> StatusCode {
        match self {
            ErrorCode::NotFound => StatusCode::NOT_FOUND,
            ErrorCode::Invalid => StatusCode::BAD_REQUEST,
            ErrorCode::Unauthorized => StatusCode::UNAUTHORIZED,
            ErrorCode::Forbidden => StatusCode::FORBIDDEN,
            ErrorCode::Conflict => StatusCode::CONFLICT,
            ErrorCode::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

/// An error answered to an API client.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ApiError {
    pub code: ErrorCode,
    /// What went wrong, for people.
    pub message: String,
    /// What to do about it, when something can be done.
    pub hint: Option<String>,
    /// Overrides the status of `code` (e.g. 413 for a body that is too large).
    status: Option<StatusCode>,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ApiError {
            code,
            message: message.into(),
            hint: None,
            status: None,
        }
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        ApiError::new(ErrorCode::NotFound, message)
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        ApiError::new(ErrorCode::Invalid, message)
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        ApiError::new(ErrorCode::Conflict, message)
    }

    pub fn internal(message: impl Into<String>) -> Self {
        ApiError::new(ErrorCode::Internal, message)
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// Sends the error with `status` instead of the one its code implies.
    pub fn with_status(mut self, status: StatusCode) -> Self {
        self.status = Some(status);
        self
    }

    pub fn status(&self) -> StatusCode {
        self.status.unwrap_or_else(|| self.code.status())
    }
}

#[derive(Serialize)]
struct Envelope<'a> {
    error: Body<'a>,
}

#[derive(Serialize)]
struct Body<'a> {
    code: ErrorCode,
    message: &'a str,
    hint: Option<&'a str>,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if self.code == ErrorCode::Internal {
            tracing::error!(message = %self.message, "request failed");
        }
        let body = Envelope {
            error: Body {
                code: self.code,
                message: &self.message,
                hint: self.hint.as_deref(),
            },
        };
        (self.status(), Json(body)).into_response()
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        let message = e.to_string();
        match e {
            StoreError::TaskNotFound(_) => ApiError::not_found(message)
                .with_hint("list the tasks with GET /api/tasks (`gaffer task list`)"),
            StoreError::ProjectNotFound(_)
            | StoreError::RunNotFound(_)
            | StoreError::JobNotFound(_) => ApiError::not_found(message),
            StoreError::VersionConflict { .. } => {
                ApiError::conflict(message).with_hint("the task changed meanwhile; try again")
            }
            StoreError::LeaseLost { .. }
            | StoreError::NotEmpty(_)
            | StoreError::SeqOutOfOrder { .. } => ApiError::conflict(message),
            StoreError::Invalid(_) => ApiError::invalid(message),
            StoreError::SchemaTooNew { .. } => ApiError::internal(message)
                .with_hint("run the gaffer version that created this database, or a newer one"),
            StoreError::Corrupt(_) | StoreError::Database(_) => ApiError::internal(message),
            StoreError::Unavailable(_) => ApiError::internal(message)
                .with_status(StatusCode::SERVICE_UNAVAILABLE)
                .with_hint("the database server cannot be reached; try again"),
        }
    }
}

impl From<EngineError> for ApiError {
    fn from(e: EngineError) -> Self {
        match e {
            EngineError::Store(e) => e.into(),
            EngineError::Transition { task, .. } => {
                ApiError::conflict(e.to_string()).with_hint(format!(
                    "see where the task is with GET /api/tasks/{task} (`gaffer task show {task}`)"
                ))
            }
            EngineError::Invalid(_) => ApiError::invalid(e.to_string()),
            EngineError::InvalidInput { message, hint } => {
                ApiError::invalid(message).with_hint(hint)
            }
            EngineError::NotFound(message) => ApiError::not_found(message),
            EngineError::Forbidden(message) => ApiError::new(ErrorCode::Forbidden, message),
            EngineError::Refused { message, hint } => ApiError::conflict(message).with_hint(hint),
            EngineError::Contention(_) => {
                ApiError::conflict(e.to_string()).with_hint("the task is busy; try again")
            }
            EngineError::NoAgent { .. } => ApiError::conflict(e.to_string())
                .with_hint("configure an agent for that role under [roles] in gaffer.toml"),
            EngineError::Config(_) | EngineError::Locked { .. } => {
                ApiError::conflict(e.to_string())
            }
            EngineError::SharedBoardWithoutRemote => {
                let hint = e.hint().unwrap_or_default();
                ApiError::conflict(e.to_string()).with_hint(hint)
            }
            EngineError::Git(_)
            | EngineError::Agent(_)
            | EngineError::Process(_)
            | EngineError::Io { .. }
            | EngineError::Join(_)
            | EngineError::Sandbox(_) => ApiError::internal(e.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gaffer_core::{Status, TaskId, TransitionError};

    #[test]
    fn a_refused_input_is_a_conflict_with_the_machines_message() {
        let e: ApiError = EngineError::Transition {
            task: TaskId(7),
            source: TransitionError::NotAllowed {
                status: Status::Cancelled,
                input: "cancel",
            },
        }
        .into();
        assert_eq!(e.status(), StatusCode::CONFLICT);
        assert!(
            e.message
                .contains("`cancel` is not allowed while the task is cancelled")
        );
        assert!(e.hint.is_some_and(|h| h.contains("/api/tasks/7")));
    }

    #[test]
    fn a_missing_task_is_not_found() {
        let e: ApiError = EngineError::Store(StoreError::TaskNotFound(TaskId(3))).into();
        assert_eq!(e.code, ErrorCode::NotFound);
        assert_eq!(e.status(), StatusCode::NOT_FOUND);
    }

    #[test]
    fn a_status_override_keeps_the_code() {
        let e = ApiError::invalid("too big").with_status(StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(e.status(), StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(e.code, ErrorCode::Invalid);
    }
}
