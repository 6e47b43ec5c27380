//! Sending one model request and reading its (streamed) answer.

use crate::http::error::{HttpError, error_message, shorten};
use crate::http::options::HttpAgentOptions;
use crate::http::provider::{ModelResponse, Provider};
use crate::http::retry::retry_after;
use crate::http::sse::SseParser;
use std::time::Duration;
use tokio::time::timeout;

/// Error bodies are read up to this size.
const MAX_ERROR_BODY: usize = 64 * 1024;
/// Whole (non-streamed) JSON answers are read up to this size.
const MAX_WHOLE_BODY: usize = 64 * 1024 * 1024;

/// POSTs `body` and decodes the answer. `options.request_timeout` bounds the wait for the
/// headers and for every next chunk of the body.
pub async fn send(
    http: &reqwest::Client,
    provider: &dyn Provider,
    options: &HttpAgentOptions,
    body: &serde_json::Value,
) -> Result<ModelResponse, HttpError> {
    let url = provider.url(&options.base_url);
    let mut request = http
        .post(&url)
        .header("content-type", "application/json")
        .header("accept", "text/event-stream");
    for (name, value) in provider
        .headers(options.api_key.as_deref())
        .iter()
        .chain(&options.extra_headers)
    {
        request = request.header(name.as_str(), value.as_str());
    }
    let request = request
        .body(body.to_string())
        .build()
        .map_err(|e| HttpError::Request(e.to_string()))?;
    let wait = options.request_timeout;
    let mut response = timeout(wait, http.execute(request))
        .await
        .map_err(|_| HttpError::Timeout(wait))?
        .map_err(|e| connect_error(&url, &e))?;

    let status = response.status();
    if !status.is_success() {
        let after = retry_after(response.headers());
        let body = read_capped(&mut response, wait, &url, MAX_ERROR_BODY).await;
        let message = match body {
            Ok(bytes) => error_message(&String::from_utf8_lossy(&bytes)),
            Err(e) => format!("(the error body could not be read: {e})"),
        };
        return Err(HttpError::Status {
            status: status.as_u16(),
            message,
            retry_after: after,
        });
    }

    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    if content_type.starts_with("application/json") {
        let bytes = read_capped(&mut response, wait, &url, MAX_WHOLE_BODY).await?;
        let value: serde_json::Value = serde_json::from_slice(&bytes).map_err(|e| {
            HttpError::Malformed(format!(
                "the answer is not valid JSON ({e}): `{}`",
                shorten(&String::from_utf8_lossy(&bytes), 200)
            ))
        })?;
        return provider.decode_whole(&value);
    }

    let mut parser = SseParser::new();
    let mut decoder = provider.decoder();
    loop {
        let chunk = next_chunk(&mut response, wait, &url).await?;
        let (events, end) = match chunk {
            Some(bytes) => (parser.push(&bytes)?, false),
            None => (parser.finish()?, true),
        };
        for event in &events {
            if decoder.event(event)? {
                return decoder.finish();
            }
        }
        if end {
            return decoder.finish();
        }
    }
}

async fn next_chunk(
    response: &mut reqwest::Response,
    wait: Duration,
    url: &str,
) -> Result<Option<bytes::Bytes>, HttpError> {
    timeout(wait, response.chunk())
        .await
        .map_err(|_| HttpError::Timeout(wait))?
        .map_err(|e| connect_error(url, &e))
}

async fn read_capped(
    response: &mut reqwest::Response,
    wait: Duration,
    url: &str,
    cap: usize,
) -> Result<Vec<u8>, HttpError> {
    let mut out = Vec::new();
    while let Some(chunk) = next_chunk(response, wait, url).await? {
        out.extend_from_slice(&chunk);
        if out.len() > cap {
            out.truncate(cap);
            break;
        }
    }
    Ok(out)
}

fn connect_error(url: &str, error: &reqwest::Error) -> HttpError {
    let mut message = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    HttpError::Connect {
        url: url.to_string(),
        message,
    }
}
