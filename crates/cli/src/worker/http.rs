//! A remote worker's calls over HTTP: `POST <server>/api/worker` with the worker token, outbound
//! only. `ureq` is a blocking client: the engine's store calls are synchronous and made from
//! async code (as SQLite's and PostgreSQL's are), where `reqwest`'s blocking client panics.

use gaffer_engine::worker::{Transport, WorkerCall};
use gaffer_store::StoreError;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// How long one call may take before the daemon counts as out of reach.
const CALL_TIMEOUT: Duration = Duration::from_secs(30);

/// The daemon at `url`, reached with a worker token.
pub struct HttpTransport {
    agent: ureq::Agent,
    url: String,
    token: String,
    /// The daemon said the token is not (or no longer) valid: the worker stops.
    refused: AtomicBool,
}

impl HttpTransport {
    /// `server`: the daemon's base URL (`http://host:port`).
    pub fn new(server: &str, token: String) -> HttpTransport {
        let config = ureq::Agent::config_builder()
            .timeout_global(Some(CALL_TIMEOUT))
            .http_status_as_error(false)
            .build();
        HttpTransport {
            agent: config.into(),
            url: format!("{}/api/worker", server.trim_end_matches('/')),
            token,
            refused: AtomicBool::new(false),
        }
    }

    /// Whether the daemon refused the token (revoked, or never made).
    pub fn refused(&self) -> bool {
        self.refused.load(Ordering::SeqCst)
    }
}

impl Transport for HttpTransport {
    fn call(&self, call: &WorkerCall) -> gaffer_store::Result<serde_json::Value> {
        let unreachable =
            |e: &dyn std::fmt::Display| StoreError::Unavailable(format!("{}: {e}", self.url));
        let mut response = self
            .agent
            .post(&self.url)
            .header("Authorization", &format!("Bearer {}", self.token))
            .header("X-Gaffer", "1")
            .send_json(call)
            .map_err(|e| unreachable(&e))?;
        let status = response.status().as_u16();
        let body: serde_json::Value = response
            .body_mut()
            .read_json()
            .map_err(|e| unreachable(&e))?;
        if status == 200 {
            return Ok(body);
        }
        let message = match (
            body["error"]["message"].as_str(),
            body["error"]["hint"].as_str(),
        ) {
            (Some(message), Some(hint)) => format!("{message} ({hint})"),
            (Some(message), None) => message.to_string(),
            _ => format!("HTTP {status}"),
        };
        Err(match (status, call.held_job()) {
            (401, _) => {
                self.refused.store(true, Ordering::SeqCst);
                StoreError::Invalid(format!("the daemon refused this worker's token: {message}"))
            }
            (409, Some((job, owner))) => StoreError::LeaseLost {
                job,
                owner: owner.to_string(),
            },
            (500.., _) => StoreError::Unavailable(format!("the daemon failed: {message}")),
            _ => StoreError::Invalid(format!("the daemon refused: {message}")),
        })
    }
}
