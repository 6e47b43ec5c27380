//! The CLI's side of the HTTP API, used when a daemon runs so that it acts at once.

use crate::error::{CliError, CliResult, Kind};
use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderValue};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

pub struct Client {
    base: String,
    http: reqwest::Client,
}

impl Client {
    /// The daemon listening on `host:port` (an unspecified address such as `0.0.0.0` is reached
    /// on loopback), sending `token` with every request when there is one. Every request also
    /// carries `X-Gaffer: 1`, which the daemon asks of requests that change something.
    pub fn at(host: IpAddr, port: u16, token: Option<&str>) -> Client {
        let host = match host {
            IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
            ip => ip,
        };
        let mut headers = HeaderMap::new();
        headers.insert("x-gaffer", HeaderValue::from_static("1"));
        if let Some(mut value) =
            token.and_then(|t| HeaderValue::from_str(&format!("Bearer {t}")).ok())
        {
            value.set_sensitive(true);
            headers.insert(AUTHORIZATION, value);
        }
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .no_proxy()
            .default_headers(headers)
            .build()
            .unwrap_or_default();
        Client {
            base: format!("http://{}", SocketAddr::new(host, port)),
            http,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn healthy(&self) -> bool {
        matches!(
            self.http
                .get(self.url("/healthz"))
                .timeout(Duration::from_secs(2))
                .send()
                .await,
            Ok(r) if r.status().is_success()
        )
    }

    pub async fn post<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> CliResult<T> {
        let response = self
            .http
            .post(self.url(path))
            .json(body)
            .send()
            .await
            .map_err(unreachable)?;
        decode(response).await
    }

    pub async fn get_stream(&self, path: &str) -> CliResult<reqwest::Response> {
        self.http
            .get(self.url(path))
            .timeout(Duration::from_secs(60 * 60 * 24 * 365))
            .send()
            .await
            .map_err(unreachable)
    }
}

fn unreachable(e: reqwest::Error) -> CliError {
    CliError::new(Kind::Daemon, format!("the daemon did not answer: {e}"))
        .hint("`gaffer up` starts it; `gaffer down` clears a stale one")
}

/// Turns the API's error document into a CLI error with the same meaning.
async fn decode<T: DeserializeOwned>(response: reqwest::Response) -> CliResult<T> {
    let status = response.status();
    let text = response.text().await.map_err(unreachable)?;
    if status.is_success() {
        return serde_json::from_str(&text).map_err(|e| {
            CliError::new(
                Kind::Internal,
                format!("the daemon's answer was not understood: {e}"),
            )
        });
    }
    let body: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
    let error = &body["error"];
    let message = error["message"].as_str().unwrap_or(&text).to_string();
    let kind = match status.as_u16() {
        // No token, a wrong one, or a request the daemon's guard refused.
        401 | 403 => Kind::Daemon,
        404 => Kind::NotFound,
        409 => Kind::Conflict,
        400 | 422 => Kind::Usage,
        _ => Kind::Internal,
    };
    let mut err = CliError::new(kind, message);
    if let Some(hint) = error["hint"].as_str() {
        err = err.hint(hint);
    }
    Err(err)
}
