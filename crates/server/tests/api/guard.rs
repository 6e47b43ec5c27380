//! Requests from web pages on other sites are refused.

use crate::harness::Api;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};

async fn with_header(api: &Api, method: &str, name: header::HeaderName, value: &str) -> StatusCode {
    let request = Request::builder()
        .method(method)
        .uri(if method == "GET" {
            "/api/tasks"
        } else {
            "/api/shutdown"
        })
        .header(name, value)
        // Writes must show intent (see `dashboard.rs`); this file tests where requests come from.
        .header("x-gaffer", "1")
        .body(Body::empty())
        .unwrap();
    api.call(request).await.status
}

#[tokio::test]
async fn a_foreign_origin_is_forbidden() {
    let api = Api::new();
    let status = with_header(&api, "POST", header::ORIGIN, "https://evil.example").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(!api.state.shutdown.is_cancelled());
    let status = with_header(&api, "GET", header::ORIGIN, "null").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_rebound_host_name_is_forbidden() {
    let api = Api::new();
    let status = with_header(&api, "GET", header::HOST, "evil.example:7420").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn loopback_origins_and_hosts_pass() {
    let api = Api::new();
    let status = with_header(&api, "GET", header::HOST, "127.0.0.1:7420").await;
    assert_eq!(status, StatusCode::OK);
    let status = with_header(&api, "GET", header::ORIGIN, "http://localhost:7420").await;
    assert_eq!(status, StatusCode::OK);
    let status = with_header(&api, "POST", header::ORIGIN, "http://127.0.0.1:7420").await;
    assert_eq!(status, StatusCode::ACCEPTED);
}
