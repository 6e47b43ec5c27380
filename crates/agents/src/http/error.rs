//! Why one request to a model failed, and whether trying again can help.

use std::time::Duration;

/// A failed model request.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum HttpError {
    /// The provider answered with an HTTP error status.
    #[error("the provider answered HTTP {status}: {message}")]
    Status {
        status: u16,
        message: String,
        /// What the `retry-after` (or `retry-after-ms`) header asked for.
        retry_after: Option<Duration>,
    },
    /// The connection could not be made or broke.
    #[error("cannot reach the provider at {url}: {message}")]
    Connect { url: String, message: String },
    /// No answer (headers or the next piece of the stream) within the request timeout.
    #[error("the provider sent nothing for {0:?} (request_timeout)")]
    Timeout(Duration),
    /// The stream or body could not be understood.
    #[error("the provider sent a malformed response: {0}")]
    Malformed(String),
    /// The stream reported an error itself (after a 200 status).
    #[error("the provider reported an error in the stream: {message}")]
    InStream { message: String, retryable: bool },
    /// The request could not be built (a bad header in the options, for example).
    #[error("cannot build the request: {0}")]
    Request(String),
}

impl HttpError {
    /// Whether the same request may succeed if sent again: 408, 409, 429, 5xx, connection
    /// errors, timeouts, malformed streams and transient errors reported in the stream.
    pub fn is_retryable(&self) -> bool {
        match self {
            HttpError::Status { status, .. } => {
                matches!(status, 408 | 409 | 429) || (500..600).contains(status)
            }
            HttpError::Connect { .. } | HttpError::Timeout(_) | HttpError::Malformed(_) => true,
            HttpError::InStream { retryable, .. } => *retryable,
            HttpError::Request(_) => false,
        }
    }

    /// Whether the provider said it is rate-limiting (HTTP 429), which pauses the provider.
    pub fn is_rate_limit(&self) -> bool {
        matches!(self, HttpError::Status { status: 429, .. })
    }

    /// The delay the provider asked for, if any.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            HttpError::Status { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}

/// The human part of an error body: `error.message`, `error` when a string, `message`, or the
/// body itself (shortened).
pub fn error_message(body: &str) -> String {
    let parsed: Option<serde_json::Value> = serde_json::from_str(body).ok();
    let from_json = parsed.as_ref().and_then(|v| {
        let error = v.get("error");
        error
            .and_then(|e| e.get("message"))
            .or_else(|| error.filter(|e| e.is_string()))
            .or_else(|| v.get("message"))
            .or_else(|| v.get("detail"))
            .and_then(|m| m.as_str())
            .map(str::to_string)
    });
    let text = from_json.unwrap_or_else(|| body.trim().to_string());
    if text.is_empty() {
        "(empty body)".to_string()
    } else {
        shorten(&text, 500)
    }
}

/// `text` cut to at most `max` characters, with `…` when cut.
pub fn shorten(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_taken_from_common_error_shapes() {
        assert_eq!(
            error_message(r#"{"error":{"message":"boom","type":"server_error"}}"#),
            "boom"
        );
        assert_eq!(
            error_message(
                r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#
            ),
            "Overloaded"
        );
        assert_eq!(
            error_message(r#"{"error":"model not found"}"#),
            "model not found"
        );
        assert_eq!(error_message("Bad Gateway\n"), "Bad Gateway");
        assert_eq!(error_message(""), "(empty body)");
    }

    #[test]
    fn retryable_classes() {
        let status = |s| HttpError::Status {
            status: s,
            message: String::new(),
            retry_after: None,
        };
        assert!(status(429).is_retryable() && status(429).is_rate_limit());
        assert!(status(500).is_retryable() && status(503).is_retryable());
        assert!(!status(400).is_retryable() && !status(401).is_retryable());
        assert!(HttpError::Malformed("x".into()).is_retryable());
        assert!(!HttpError::Request("x".into()).is_retryable());
    }

    #[test]
    fn shorten_cuts_on_characters() {
        assert_eq!(shorten("héllo", 2), "hé…");
        assert_eq!(shorten("hi", 2), "hi");
    }
}
