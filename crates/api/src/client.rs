//! The one client of the daemon's HTTP API: where the daemon is, and calls that turn its error
//! documents into [`ApiError`]s a person or an agent can act on. The CLI, the interactive shell
//! and the MCP server all use it.

use crate::{Action, DaemonInfo};
use gaffer_core::Task;
use reqwest::header::{HeaderMap, HeaderValue};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::path::PathBuf;
use std::time::Duration;

/// How long one API call may take.
const TIMEOUT: Duration = Duration::from_secs(30);

/// The daemon's base URL, set by gaffer for every agent it runs (with [`RUN_TOKEN_ENV`]): inside
/// a sandbox there is no `daemon.json` to read.
pub const API_URL_ENV: &str = "GAFFER_API_URL";
/// The header naming the surface a request comes from, which the daemon records as who acted.
pub const CLIENT_HEADER: &str = "x-gaffer-client";
/// The agent's run token, good for reporting on its own task while the run lasts.
pub const RUN_TOKEN_ENV: &str = "GAFFER_RUN_TOKEN";

/// Where the daemon is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    /// A fixed base URL (`--server http://127.0.0.1:7420`).
    Url(String),
    /// The `daemon.json` that `gaffer up` writes in the state directory, read again at every
    /// call: the daemon may start (or restart on another port, with a new token) after the MCP
    /// server did.
    DaemonFile(PathBuf),
}

/// A failed call, worded for whoever called the tool.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ApiError {
    /// The API's error code (`not_found`, `invalid`, `conflict`, ...), or `unreachable` when
    /// the daemon did not answer.
    pub code: String,
    pub message: String,
    pub hint: Option<String>,
    /// The HTTP status, when there was an answer.
    pub status: Option<u16>,
}

impl ApiError {
    fn unreachable(message: String, hint: &str) -> ApiError {
        ApiError {
            code: "unreachable".into(),
            message,
            hint: Some(hint.into()),
            status: None,
        }
    }

    /// The message and the hint, for a tool result.
    pub fn explain(&self) -> String {
        match &self.hint {
            Some(hint) => format!("{}\nhint: {hint}", self.message),
            None => self.message.clone(),
        }
    }
}

/// A client of the daemon's API.
#[derive(Clone)]
pub struct Api {
    endpoint: Endpoint,
    /// Sent with every request when set: a run's token, or the token of a daemon at a URL.
    token: Option<String>,
    /// The token a person configured (`server.token_env`), for a daemon whose `daemon.json`
    /// names none.
    configured: Option<String>,
    http: reqwest::Client,
}

impl std::fmt::Debug for Api {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Api")
            .field("endpoint", &self.endpoint)
            .field("token", &self.token.as_ref().map(|_| "…"))
            .finish()
    }
}

/// Where to send a call, and with which token.
struct Target {
    base: String,
    token: Option<String>,
}

impl Api {
    /// A client of the daemon at `endpoint`, sending `token` as `Authorization: Bearer` when
    /// given (it wins over the token `daemon.json` names, which is sent otherwise). Every
    /// request carries `X-Gaffer: 1`, which the daemon asks of requests that change something.
    pub fn new(endpoint: Endpoint, token: Option<&str>) -> Api {
        Api {
            endpoint,
            token: usable(token),
            configured: None,
            http: http_client(None),
        }
    }

    /// Also sends `token` (the one a person configured with `server.token_env`) to a daemon
    /// whose `daemon.json` names no token of its own.
    pub fn with_configured_token(mut self, token: Option<&str>) -> Api {
        self.configured = usable(token);
        self
    }

    /// Says which of gaffer's surfaces sends its requests (`cli`, `shell`, `mcp`): the daemon
    /// records it as who acted ([`CLIENT_HEADER`]).
    pub fn sent_by(mut self, surface: &'static str) -> Api {
        self.http = http_client(Some(surface));
        self
    }

    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    /// The daemon's base URL, now.
    pub fn base_url(&self) -> Result<String, ApiError> {
        self.target().map(|t| t.base)
    }

    /// The base URL and the token, from `daemon.json` as it is now when that is the endpoint.
    fn target(&self) -> Result<Target, ApiError> {
        match &self.endpoint {
            Endpoint::Url(url) => Ok(Target {
                base: url.trim_end_matches('/').to_string(),
                token: self.token.clone().or_else(|| self.configured.clone()),
            }),
            Endpoint::DaemonFile(path) => {
                let found = read_daemon_file(path)?;
                Ok(Target {
                    base: found.url(),
                    token: self
                        .token
                        .clone()
                        .or_else(|| usable(found.token()))
                        .or_else(|| self.configured.clone()),
                })
            }
        }
    }

    pub async fn get(&self, path: &str) -> Result<Value, ApiError> {
        let target = self.target()?;
        let url = format!("{}{path}", target.base);
        self.send(self.http.get(&url), &url, target.token).await
    }

    pub async fn post<B: Serialize>(&self, path: &str, body: &B) -> Result<Value, ApiError> {
        let target = self.target()?;
        let url = format!("{}{path}", target.base);
        self.send(self.http.post(&url).json(body), &url, target.token)
            .await
    }

    pub async fn patch<B: Serialize>(&self, path: &str, body: &B) -> Result<Value, ApiError> {
        let target = self.target()?;
        let url = format!("{}{path}", target.base);
        self.send(self.http.patch(&url).json(body), &url, target.token)
            .await
    }

    /// Carries out `action` on task `task`; the answer is the task as it is afterwards.
    pub async fn act(&self, task: i64, action: &Action) -> Result<Task, ApiError> {
        let value = self.post(&action.path(task), &action.body()).await?;
        decode(value)
    }

    /// `POST path` with `body`, the answer read as a `T`.
    pub async fn post_as<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T, ApiError> {
        decode(self.post(path, body).await?)
    }

    /// `PATCH path` with `body`, the answer read as a `T`.
    pub async fn patch_as<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T, ApiError> {
        decode(self.patch(path, body).await?)
    }

    /// `GET path`, the answer read as a `T`.
    pub async fn get_as<T: DeserializeOwned>(&self, path: &str) -> Result<T, ApiError> {
        decode(self.get(path).await?)
    }

    /// The daemon answers its health check.
    pub async fn healthy(&self) -> bool {
        let Ok(target) = self.target() else {
            return false;
        };
        matches!(
            self.http
                .get(format!("{}/healthz", target.base))
                .timeout(Duration::from_secs(2))
                .send()
                .await,
            Ok(r) if r.status().is_success()
        )
    }

    /// `GET path` as a stream that may last as long as the daemon (the event stream).
    pub async fn get_stream(&self, path: &str) -> Result<reqwest::Response, ApiError> {
        let target = self.target()?;
        let url = format!("{}{path}", target.base);
        let request = self
            .http
            .get(&url)
            .timeout(Duration::from_secs(60 * 60 * 24 * 365));
        let request = match target.token {
            Some(token) => request.bearer_auth(token),
            None => request,
        };
        request.send().await.map_err(|e| unanswered(&url, &e))
    }

    async fn send(
        &self,
        request: reqwest::RequestBuilder,
        url: &str,
        token: Option<String>,
    ) -> Result<Value, ApiError> {
        // `bearer_auth` marks the header sensitive, so it never shows in a debug print.
        let request = match token {
            Some(token) => request.bearer_auth(token),
            None => request,
        };
        let response = request.send().await.map_err(|e| unanswered(url, &e))?;
        let status = response.status();
        let text = response.text().await.map_err(|e| {
            ApiError::unreachable(
                format!("the gaffer daemon's answer from {url} broke off: {e}"),
                "try again",
            )
        })?;
        let body: Value = if text.trim().is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        if status.is_success() {
            return Ok(body);
        }
        let error = &body["error"];
        Err(ApiError {
            code: error["code"].as_str().unwrap_or("error").to_string(),
            message: error["message"]
                .as_str()
                .map(str::to_string)
                .unwrap_or_else(|| format!("{url} answered {status}: {body}")),
            hint: error["hint"].as_str().map(str::to_string),
            status: Some(status.as_u16()),
        })
    }
}

/// The HTTP client every request goes through: `X-Gaffer: 1`, which the daemon asks of requests
/// that change something, and the surface sending them when one is named.
fn http_client(surface: Option<&'static str>) -> reqwest::Client {
    let mut headers = HeaderMap::new();
    headers.insert("x-gaffer", HeaderValue::from_static("1"));
    if let Some(surface) = surface {
        headers.insert(CLIENT_HEADER, HeaderValue::from_static(surface));
    }
    reqwest::Client::builder()
        .timeout(TIMEOUT)
        .no_proxy()
        .default_headers(headers)
        .build()
        .unwrap_or_default()
}

/// The daemon did not answer at `url`.
fn unanswered(url: &str, e: &reqwest::Error) -> ApiError {
    ApiError::unreachable(
        format!("the gaffer daemon did not answer at {url}: {e}"),
        "start it with `gaffer up` in the repository; `gaffer down` clears a stale one",
    )
}

/// An answer read as the type the route returns.
fn decode<T: DeserializeOwned>(value: Value) -> Result<T, ApiError> {
    serde_json::from_value(value).map_err(|e| ApiError {
        code: "internal".into(),
        message: format!("the daemon's answer was not understood: {e}"),
        hint: Some(
            "is the daemon the same version as this gaffer? `gaffer down` then `gaffer up`".into(),
        ),
        status: None,
    })
}

/// A token worth sending: trimmed, not blank.
fn usable(token: Option<&str>) -> Option<String> {
    token
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_string)
}

/// The daemon `daemon.json` names, worded for whoever called when it names none.
fn read_daemon_file(path: &std::path::Path) -> Result<DaemonInfo, ApiError> {
    let info = DaemonInfo::read(path).map_err(|e| {
        ApiError::unreachable(
            format!("gaffer is not running for this repository ({e})"),
            "start it with `gaffer up` (or `gaffer up --detach`) in the repository",
        )
    })?;
    if info.port == 0 {
        return Err(ApiError::unreachable(
            format!("{} names no port", path.display()),
            "restart the daemon: `gaffer down` then `gaffer up`",
        ));
    }
    Ok(info)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_port_comes_from_daemon_json() {
        let dir = std::env::temp_dir().join(format!("gaffer-mcp-port-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("daemon.json");
        let api = Api::new(Endpoint::DaemonFile(file.clone()), None);
        let e = api.base_url().unwrap_err();
        assert_eq!(e.code, "unreachable");
        assert!(e.explain().contains("gaffer up"), "{}", e.explain());
        std::fs::write(&file, r#"{"pid": 1, "port": 7421, "started_ms": 0}"#).unwrap();
        assert_eq!(api.base_url().unwrap(), "http://127.0.0.1:7421");
        std::fs::write(&file, r#"{"pid": 1, "port": 7421, "host": "0.0.0.0"}"#).unwrap();
        assert_eq!(api.base_url().unwrap(), "http://127.0.0.1:7421");
        std::fs::write(&file, r#"{"pid": 1, "port": 7421, "host": "::1"}"#).unwrap();
        assert_eq!(api.base_url().unwrap(), "http://[::1]:7421");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_token_comes_from_daemon_json_unless_one_is_given() {
        let dir = std::env::temp_dir().join(format!("gaffer-mcp-token-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("daemon.json");
        let token = |api: &Api| api.target().unwrap().token;
        std::fs::write(&file, r#"{"pid": 1, "port": 7421, "token": "generated"}"#).unwrap();
        let plain = Api::new(Endpoint::DaemonFile(file.clone()), None);
        assert_eq!(token(&plain).as_deref(), Some("generated"));
        let configured = plain.clone().with_configured_token(Some("configured"));
        assert_eq!(token(&configured).as_deref(), Some("generated"));
        let run = Api::new(Endpoint::DaemonFile(file.clone()), Some(" run-token "));
        assert_eq!(token(&run).as_deref(), Some("run-token"));
        std::fs::write(&file, r#"{"pid": 1, "port": 7421}"#).unwrap();
        assert_eq!(token(&plain), None);
        assert_eq!(token(&configured).as_deref(), Some("configured"));
        let url = Api::new(
            Endpoint::Url("http://127.0.0.1:9".into()),
            Some("run-token"),
        );
        assert_eq!(token(&url).as_deref(), Some("run-token"));
        assert!(!format!("{url:?}").contains("run-token"));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_fixed_url_loses_its_trailing_slash() {
        let api = Api::new(Endpoint::Url("http://127.0.0.1:9/".into()), None);
        assert_eq!(api.base_url().unwrap(), "http://127.0.0.1:9");
    }
}
