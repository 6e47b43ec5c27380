//! The CLI's side of the HTTP API, used when a daemon runs so that it acts at once: the one
//! client of `gaffer_api`, with its errors turned into the CLI's (exit codes and hints).

use crate::error::{CliError, CliResult, Kind};
use gaffer_api::{Action, Api, ApiError, Endpoint};
use gaffer_core::Task;
use serde::Serialize;
use serde::de::DeserializeOwned;

pub struct Client {
    base: String,
    api: Api,
}

impl Client {
    /// The daemon at `base` (`http://127.0.0.1:7420`), sending `token` with every request when
    /// there is one.
    pub fn at(base: &str, token: Option<&str>) -> Client {
        Client {
            base: base.trim_end_matches('/').to_string(),
            api: Api::new(Endpoint::Url(base.to_string()), token).sent_by("cli"),
        }
    }

    /// The same daemon, for requests another surface makes (the shell).
    pub fn sent_by(mut self, surface: &'static str) -> Client {
        self.api = self.api.sent_by(surface);
        self
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn healthy(&self) -> bool {
        self.api.healthy().await
    }

    /// Carries out `action` on task `id` in the daemon.
    pub async fn act(&self, id: i64, action: &Action) -> CliResult<Task> {
        Ok(self.api.act(id, action).await?)
    }

    pub async fn post<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> CliResult<T> {
        Ok(self.api.post_as(path, body).await?)
    }

    pub async fn patch<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> CliResult<T> {
        Ok(self.api.patch_as(path, body).await?)
    }

    pub async fn get<T: DeserializeOwned>(&self, path: &str) -> CliResult<T> {
        Ok(self.api.get_as(path).await?)
    }

    pub async fn get_stream(&self, path: &str) -> CliResult<reqwest::Response> {
        Ok(self.api.get_stream(path).await?)
    }
}

/// The API's error document as a CLI error with the same meaning.
impl From<ApiError> for CliError {
    fn from(e: ApiError) -> CliError {
        let kind = match (e.status, e.code.as_str()) {
            (None, "unreachable") => Kind::Daemon,
            // No token, a wrong one, or a request the daemon's guard refused.
            (Some(401 | 403), _) => Kind::Daemon,
            (Some(404), _) => Kind::NotFound,
            (Some(409), _) => Kind::Conflict,
            (Some(400 | 422), _) => Kind::Usage,
            _ => Kind::Internal,
        };
        let mut err = CliError::new(kind, e.message);
        if let Some(hint) = e.hint {
            err = err.hint(hint);
        }
        err
    }
}
