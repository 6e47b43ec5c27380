//! Helpers: start a server, post JSON, parse SSE.

use std::time::Duration;

use gaffer_mock_llm::{MockServer, Script};
use serde_json::Value;

/// One parsed SSE event.
#[derive(Debug, Clone)]
pub struct SseEvent {
    pub event: Option<String>,
    pub data: String,
}

impl SseEvent {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.data)
            .unwrap_or_else(|e| panic!("event data is not JSON ({e}): {}", self.data))
    }
}

pub async fn start(script: Script) -> MockServer {
    MockServer::start(script).await.expect("server starts")
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .expect("client")
}

/// POSTs `body` to `url` with extra headers.
pub async fn post(url: &str, body: &Value, headers: &[(&str, &str)]) -> reqwest::Response {
    let mut request = client().post(url).json(body);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.expect("request sent")
}

/// POSTs and returns the status and the body text.
pub async fn post_text(url: &str, body: &Value, headers: &[(&str, &str)]) -> (u16, String) {
    let response = post(url, body, headers).await;
    let status = response.status().as_u16();
    (status, response.text().await.expect("body"))
}

/// POSTs and returns the JSON body, asserting 200.
pub async fn post_json(url: &str, body: &Value) -> Value {
    let (status, text) = post_text(url, body, &[]).await;
    assert_eq!(status, 200, "{text}");
    serde_json::from_str(&text).expect("JSON body")
}

/// POSTs and returns the SSE events, asserting 200 and an event-stream content type.
pub async fn post_sse(url: &str, body: &Value, headers: &[(&str, &str)]) -> Vec<SseEvent> {
    let response = post(url, body, headers).await;
    assert_eq!(response.status().as_u16(), 200);
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    assert!(
        content_type.starts_with("text/event-stream"),
        "{content_type}"
    );
    parse_sse(&response.text().await.expect("body"))
}

/// Splits an SSE body into events (blank-line separated; `event:` and `data:` lines).
pub fn parse_sse(text: &str) -> Vec<SseEvent> {
    text.split("\n\n")
        .filter(|block| !block.trim().is_empty())
        .map(|block| {
            let mut event = None;
            let mut data = Vec::new();
            for line in block.lines() {
                if let Some(name) = line.strip_prefix("event: ") {
                    event = Some(name.to_string());
                } else if let Some(value) = line.strip_prefix("data: ") {
                    data.push(value.to_string());
                } else {
                    data.push(line.to_string());
                }
            }
            SseEvent {
                event,
                data: data.join("\n"),
            }
        })
        .collect()
}
