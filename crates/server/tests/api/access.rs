//! The API always has a token, and a running agent's own token opens only its own task's
//! reports (progress, ask, propose).

use crate::harness::{Api, Reply};
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use gaffer_core::{RunId, TaskId};
use serde_json::json;

/// A request with `bearer` as its only credential.
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
async fn without_a_configured_token_the_generated_one_is_required() {
    let api = Api::new().anonymous();
    assert!(api.state.token.is_generated());
    for uri in [
        "/api/tasks",
        "/api/status",
        "/api/events/stream",
        "/metrics",
        "/api/openapi.json",
    ] {
        let reply = api.get(uri).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{uri}");
        assert_eq!(reply.error_code(), "unauthorized", "{uri}");
        assert!(
            reply.json()["error"]["hint"]
                .as_str()
                .unwrap()
                .contains("gaffer dashboard"),
            "{}",
            reply.text
        );
    }
    let reply = api.post("/api/tasks", r#"{"title": "x"}"#).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    let token = api.state.token.reveal().to_string();
    let reply = as_bearer(&api, Method::GET, "/api/tasks", &token, "").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    // Health and the dashboard's files stay open.
    for uri in ["/healthz", "/", "/assets/js/app.js"] {
        assert_eq!(api.get(uri).await.status, StatusCode::OK, "{uri}");
    }
}

#[tokio::test]
async fn a_generated_token_keeps_the_loopback_guard() {
    let api = Api::new();
    let request = Request::get("/api/tasks")
        .header(header::HOST, "192.168.1.5:7420")
        .body(Body::empty())
        .unwrap();
    assert_eq!(api.call(request).await.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn opening_the_dashboard_sets_a_cookie_of_its_port() {
    let api = Api::new().anonymous();
    let token = api.state.token.reveal().to_string();
    let response = api
        .send(
            Request::get(format!("/?token={token}"))
                .header(header::HOST, "127.0.0.1:7420")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let cookie = response.headers()[header::SET_COOKIE].to_str().unwrap();
    assert!(
        cookie.starts_with(&format!("gaffer_token_7420={token};")),
        "{cookie}"
    );
    // Another daemon's cookie beside it does not get in the way.
    let pair = cookie.split(';').next().unwrap();
    let request = Request::get("/api/tasks")
        .header(header::HOST, "127.0.0.1:7420")
        .header(header::COOKIE, format!("gaffer_token_7421=other; {pair}"))
        .body(Body::empty())
        .unwrap();
    assert_eq!(api.call(request).await.status, StatusCode::OK);
}

#[tokio::test]
async fn a_run_token_reports_on_its_own_task() {
    let api = Api::new();
    let own = api.add_task("Fix the login").await;
    let run = api.start_run(own);
    let token = api.board().run_access().issue(TaskId(own), run);

    let reply = as_bearer(
        &api,
        Method::POST,
        &format!("/api/tasks/{own}/progress"),
        &token,
        r#"{"text": "writing tests"}"#,
    )
    .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    assert_eq!(reply.json()["run"], run.0);

    let reply = as_bearer(
        &api,
        Method::POST,
        &format!("/api/tasks/{own}/propose"),
        &token,
        r#"{"title": "Cache the parsed config", "body": "It is parsed on every request."}"#,
    )
    .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    let proposal = reply.json();
    assert_eq!(proposal["kind"], "proposal");
    assert_eq!(proposal["state"]["status"], "backlog");
    let body = proposal["body"].as_str().unwrap();
    assert!(body.starts_with("It is parsed on every request."), "{body}");
    assert!(
        body.contains(&format!("run {run} of task #{own}) through the API")),
        "{body}"
    );
    let events = api.get(&format!("/api/tasks/{own}/events")).await.json();
    let proposed = events
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "task.proposed")
        .unwrap_or_else(|| panic!("no task.proposed event: {events:#}"))
        .clone();
    assert_eq!(proposed["run"], run.0);
    assert_eq!(proposed["data"]["proposal"], proposal["id"]);

    let reply = as_bearer(
        &api,
        Method::POST,
        &format!("/api/tasks/{own}/ask"),
        &token,
        r#"{"question": "Which login provider?"}"#,
    )
    .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    assert_eq!(reply.json()["run"], run.0);
    assert_eq!(reply.json()["data"]["type"], "question");
}

#[tokio::test]
async fn a_run_token_opens_nothing_else() {
    let api = Api::new();
    let own = api.add_task("Fix the login").await;
    let other = api.add_task("Someone else's").await;
    let run = api.start_run(own);
    let elsewhere = api.start_run(other);
    let token = api.board().run_access().issue(TaskId(own), run);

    let progress = r#"{"text": "x"}"#;
    let forbidden = [
        (
            Method::POST,
            format!("/api/tasks/{other}/progress"),
            progress,
        ),
        (
            Method::POST,
            format!("/api/tasks/{other}/ask"),
            r#"{"question": "x"}"#,
        ),
        (
            Method::POST,
            format!("/api/tasks/{other}/propose"),
            r#"{"title": "x"}"#,
        ),
        (Method::POST, format!("/api/tasks/{own}/approve"), ""),
        (
            Method::POST,
            format!("/api/tasks/{own}/answer"),
            r#"{"text": "x"}"#,
        ),
        (Method::POST, format!("/api/tasks/{own}/cancel"), ""),
        (Method::POST, "/api/tasks".into(), r#"{"title": "x"}"#),
        (Method::POST, "/api/shutdown".into(), ""),
        (
            Method::PATCH,
            format!("/api/tasks/{own}"),
            r#"{"title": "x"}"#,
        ),
        (Method::GET, format!("/api/tasks/{own}"), ""),
        (Method::GET, format!("/api/tasks/{other}"), ""),
        (Method::GET, "/api/tasks".into(), ""),
        (Method::GET, format!("/api/runs/{run}/events"), ""),
        (Method::GET, "/api/events".into(), ""),
        (Method::GET, "/api/events/stream".into(), ""),
        (Method::GET, "/metrics".into(), ""),
    ];
    for (method, uri, body) in forbidden {
        let reply = as_bearer(&api, method.clone(), &uri, &token, body).await;
        assert_eq!(
            reply.status,
            StatusCode::FORBIDDEN,
            "{method} {uri}: {}",
            reply.text
        );
        assert_eq!(reply.error_code(), "forbidden", "{method} {uri}");
    }
    // Its own task, but another run's name in the body.
    let body = json!({ "text": "x", "run": elsewhere.0 }).to_string();
    let reply = as_bearer(
        &api,
        Method::POST,
        &format!("/api/tasks/{own}/progress"),
        &token,
        &body,
    )
    .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.text);
    // Nothing of that was done.
    let shown = api.get(&format!("/api/tasks/{own}")).await.json();
    assert_eq!(shown["task"]["state"]["status"], "backlog");
    assert!(!api.state.shutdown.is_cancelled());
    let tasks = api.get("/api/tasks").await.json();
    assert_eq!(tasks.as_array().unwrap().len(), 2, "{tasks:#}");
    // A browser cookie never carries a run's token.
    let request = Request::post(format!("/api/tasks/{own}/progress"))
        .header(header::COOKIE, format!("gaffer_token={token}"))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(progress))
        .unwrap();
    assert_eq!(api.call(request).await.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_revoked_run_token_is_refused() {
    let api = Api::new();
    let own = api.add_task("Fix the login").await;
    let run = api.start_run(own);
    let token = api.board().run_access().issue(TaskId(own), run);
    api.board().run_access().revoke(run);
    let reply = as_bearer(
        &api,
        Method::POST,
        &format!("/api/tasks/{own}/progress"),
        &token,
        r#"{"text": "still here?"}"#,
    )
    .await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{}", reply.text);
    api.board().run_access().revoke(RunId(999));
}
