//! The request log: every request the server received, what it was and how it was answered,
//! kept in memory and optionally appended to a JSON Lines file.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Write;
use std::path::Path;
use std::sync::Mutex;

use axum::http::HeaderMap;
use serde::{Deserialize, Serialize};

use crate::error::ServerError;
use crate::script::{Stall, Usage};
use crate::select::SelectedBy;

/// Headers whose values are secrets: logged as `[redacted]`, so a test can still see that a
/// key was sent without the log holding it.
const SECRET_HEADERS: &[&str] = &[
    "authorization",
    "proxy-authorization",
    "x-api-key",
    "api-key",
    "cookie",
    "x-goog-api-key",
];

/// What logged secrets are replaced with.
pub const REDACTED: &str = "[redacted]";

/// Which API a request was for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Api {
    /// `POST /v1/chat/completions`.
    ChatCompletions,
    /// `POST /v1/messages`.
    Messages,
    /// `POST /v1/messages/count_tokens`.
    CountTokens,
    /// `POST /v1/responses`.
    Responses,
    /// `GET /v1/models`.
    Models,
    /// `GET /healthz`.
    Health,
    /// Anything else (answered 404).
    Unknown,
}

/// How a request was answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Outcome {
    /// Answered normally (for the model APIs: with the turn).
    Answered,
    /// Answered with the turn's malformed line in it.
    Malformed,
    /// Answered with one of the turn's scripted errors.
    Error {
        /// The HTTP status sent.
        status: u16,
    },
    /// The turn stalls (see [`Stall`]).
    Stalled {
        /// How.
        stall: Stall,
    },
    /// The request itself was refused (not JSON, unknown path).
    Rejected {
        /// The HTTP status sent.
        status: u16,
        /// Why.
        message: String,
    },
}

/// One logged request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RequestRecord {
    /// Order of arrival, from 1.
    pub seq: u64,
    /// HTTP method.
    pub method: String,
    /// Path, without the query string.
    pub path: String,
    /// The query string, if any (Claude Code sends `beta=true`).
    pub query: Option<String>,
    /// Request headers, lower-case names; secrets replaced by [`REDACTED`].
    pub headers: BTreeMap<String, String>,
    /// The JSON body (`null` when there was none or it was not JSON).
    pub body: serde_json::Value,
    /// The start of the body (4 KiB at most) when it was not JSON, to show what came instead.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw_body: Option<String>,
    /// Which API the path belongs to.
    pub api: Api,
    /// Whether the request asked for a streaming answer.
    pub stream: bool,
    /// The conversation that answered, if any.
    pub conversation: Option<String>,
    /// Why that conversation.
    pub selected_by: Option<SelectedBy>,
    /// The turn index counted from the request's history.
    pub turn: Option<usize>,
    /// `false` when the conversation had run out of turns (or none answered) and the `done`
    /// text was sent instead.
    pub scripted: bool,
    /// Which attempt at this conversation and turn this was, from 1.
    pub attempt: Option<u32>,
    /// How it was answered.
    pub outcome: Outcome,
    /// The token usage the answer reported, when a model API answered with the turn
    /// (`answered` or `malformed`); `None` for errors, stalls and other routes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<Usage>,
}

impl RequestRecord {
    /// The header's value, by lower-case name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }
}

/// The log itself: records in memory, and the optional file they are appended to.
#[derive(Debug, Default)]
pub(crate) struct RequestLog {
    records: Mutex<Vec<RequestRecord>>,
    file: Option<Mutex<File>>,
}

impl RequestLog {
    /// A log that also appends to `path` (created if missing).
    pub fn with_file(path: &Path) -> Result<Self, ServerError> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|source| ServerError::LogFile {
                path: path.to_path_buf(),
                source,
            })?;
        Ok(Self {
            records: Mutex::default(),
            file: Some(Mutex::new(file)),
        })
    }

    /// Keeps a record, and appends it to the file. A failed write is reported through
    /// `tracing` and does not fail the request.
    pub fn push(&self, record: RequestRecord) {
        if let Some(file) = &self.file {
            match serde_json::to_string(&record) {
                Ok(mut line) => {
                    line.push('\n');
                    let mut file = file.lock().unwrap_or_else(|poison| poison.into_inner());
                    if let Err(error) = file.write_all(line.as_bytes()) {
                        tracing::warn!(%error, "cannot append to the mock model server's request log");
                    }
                }
                Err(error) => tracing::warn!(%error, "cannot serialize a request record"),
            }
        }
        self.lock().push(record);
    }

    /// A copy of every record so far.
    pub fn snapshot(&self) -> Vec<RequestRecord> {
        self.lock().clone()
    }

    /// Forgets the records kept in memory (the file keeps them).
    pub fn clear(&self) {
        self.lock().clear();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<RequestRecord>> {
        self.records
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }
}

/// Headers as a map of lower-case names to values (repeated headers joined by `, `), secrets
/// redacted.
pub(crate) fn loggable_headers(headers: &HeaderMap) -> BTreeMap<String, String> {
    let mut out: BTreeMap<String, String> = BTreeMap::new();
    for (name, value) in headers {
        let name = name.as_str().to_ascii_lowercase();
        let value = if SECRET_HEADERS.contains(&name.as_str()) {
            REDACTED.to_string()
        } else {
            String::from_utf8_lossy(value.as_bytes()).into_owned()
        };
        out.entry(name)
            .and_modify(|existing| {
                existing.push_str(", ");
                existing.push_str(&value);
            })
            .or_insert(value);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn secrets_are_redacted_and_repeats_joined() {
        let mut headers = HeaderMap::new();
        headers.insert(
            "authorization",
            HeaderValue::from_static("Bearer sk-secret"),
        );
        headers.insert("x-api-key", HeaderValue::from_static("sk-ant-secret"));
        headers.append("x-thing", HeaderValue::from_static("a"));
        headers.append("x-thing", HeaderValue::from_static("b"));
        let logged = loggable_headers(&headers);
        assert_eq!(logged["authorization"], REDACTED);
        assert_eq!(logged["x-api-key"], REDACTED);
        assert_eq!(logged["x-thing"], "a, b");
        assert!(!format!("{logged:?}").contains("secret"));
    }
}
