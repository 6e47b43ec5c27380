//! `/api/worker-tokens`: making a token answers its secret once; listing never shows a secret;
//! revoking says whether it did, 404 for no such token; only the daemon's token reaches them.

use crate::harness::{Api, Reply};
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use serde_json::{Value, json};

async fn as_bearer(api: &Api, method: Method, uri: &str, bearer: &str, body: &str) -> Reply {
    let request = Request::builder()
        .method(method)
        .uri(uri)
        .header(header::AUTHORIZATION, format!("Bearer {bearer}"))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .unwrap();
    api.call(request).await
}

#[tokio::test]
async fn a_token_is_made_listed_and_revoked() {
    let api = Api::new();
    assert_eq!(api.get("/api/worker-tokens").await.json(), json!([]));

    let reply = api
        .post(
            "/api/worker-tokens",
            r#"{"name": "gpu box", "labels": ["linux", "gpu"]}"#,
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    let made = reply.json();
    let secret = made["secret"].as_str().unwrap().to_string();
    assert!(secret.starts_with("gfw_") && secret.len() == 68, "{secret}");
    let token = &made["token"];
    assert_eq!(token["name"], "gpu box");
    assert_eq!(token["labels"], json!(["gpu", "linux"]));
    assert_eq!(token["revoked_ms"], Value::Null);
    assert!(token.get("hash").is_none(), "{token}");
    let id = token["id"].as_i64().unwrap();

    let unnamed = api.post("/api/worker-tokens", r#"{"labels": []}"#).await;
    assert_eq!(unnamed.status, StatusCode::CREATED, "{}", unnamed.text);
    assert_eq!(unnamed.json()["token"]["name"], "worker");
    let other_secret = unnamed.json()["secret"].as_str().unwrap().to_string();

    let listed = api.get("/api/worker-tokens").await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.text);
    assert_eq!(listed.json().as_array().unwrap().len(), 2);
    assert_eq!(listed.json()[0], *token);
    for shown in [&secret, &other_secret] {
        assert!(!listed.text.contains(&shown[4..]), "a secret is listed");
    }
    assert!(!listed.text.contains("hash"), "{}", listed.text);
    let events = api.get("/api/events?kind=worker_token.").await;
    assert!(
        events.text.contains("worker_token.created"),
        "{}",
        events.text
    );
    assert!(
        !events.text.contains(&secret[4..]),
        "a secret is in the log"
    );
    assert!(
        api.board().worker_by_token(&secret).unwrap().is_some(),
        "the secret is the worker's"
    );

    let uri = format!("/api/worker-tokens/{id}/revoke");
    let reply = api.post(&uri, "").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.json(), json!({"revoked": true}));
    assert_eq!(api.post(&uri, "").await.json(), json!({"revoked": false}));
    assert!(api.board().worker_by_token(&secret).unwrap().is_none());
    assert!(api.get("/api/worker-tokens").await.json()[0]["revoked_ms"].is_i64());

    let missing = api.post("/api/worker-tokens/999/revoke", "").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND, "{}", missing.text);
    assert_eq!(missing.error_code(), "not_found");
    assert!(missing.error_message().contains("no worker token 999"));
    assert!(
        missing.json()["error"]["hint"]
            .as_str()
            .unwrap()
            .contains("worker token list")
    );
}

#[tokio::test]
async fn bad_bodies_are_refused_with_a_hint() {
    let api = Api::new();
    for body in [
        r#"{"labels": ["two words"]}"#,
        r#"{"labels": ["a,b"]}"#,
        r#"{"labels": [""]}"#,
        r#"{"name": "a\nb", "labels": []}"#,
        r#"{"name": "x"}"#,
        r#"{"labels": [], "secret": "mine"}"#,
    ] {
        let reply = api.post("/api/worker-tokens", body).await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{body}: {}",
            reply.text
        );
        assert_eq!(reply.error_code(), "invalid", "{body}");
        assert!(
            reply.json()["error"]["hint"].is_string(),
            "{body}: {}",
            reply.text
        );
    }
    assert_eq!(api.get("/api/worker-tokens").await.json(), json!([]));
}

/// A run's token, a worker's own token and no token reach none of these routes.
#[tokio::test]
async fn only_the_daemons_token_manages_worker_tokens() {
    let api = Api::new();
    let made = api
        .post("/api/worker-tokens", r#"{"labels": []}"#)
        .await
        .json();
    let worker = made["secret"].as_str().unwrap().to_string();
    let id = made["token"]["id"].as_i64().unwrap();
    let task = api.add_task("Some work").await;
    let run = api.start_run(task);
    let run_token = api
        .board()
        .run_access()
        .issue(gaffer_core::TaskId(task), run);
    let revoke = format!("/api/worker-tokens/{id}/revoke");
    for bearer in [worker.as_str(), run_token.as_str(), "nonsense"] {
        for (method, uri, body) in [
            (Method::GET, "/api/worker-tokens", ""),
            (Method::POST, "/api/worker-tokens", r#"{"labels": []}"#),
            (Method::POST, revoke.as_str(), ""),
        ] {
            let reply = as_bearer(&api, method.clone(), uri, bearer, body).await;
            assert!(
                matches!(
                    reply.status,
                    StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN
                ),
                "{method} {uri} with {bearer}: {} {}",
                reply.status,
                reply.text
            );
        }
    }
    assert_eq!(
        api.get("/api/worker-tokens")
            .await
            .json()
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert!(api.board().worker_by_token(&worker).unwrap().is_some());
}
