//! Worker tokens at the door: one opens `POST /api/worker` and nothing else, a revoked or
//! unknown one is refused at once, and a worker sees only its own project.

use crate::harness::Api;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use gaffer_core::{NewTask, TaskState};
use gaffer_store::NewProject;

impl Api {
    /// `POST uri` with `body`, carrying `token` instead of the daemon's.
    async fn post_as(&self, token: &str, uri: &str, body: &str) -> crate::harness::Reply {
        let request = Request::post(uri)
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .body(Body::from(body.to_string()))
            .unwrap();
        self.call(request).await
    }

    async fn get_as(&self, token: &str, uri: &str) -> crate::harness::Reply {
        let request = Request::get(uri)
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .body(Body::empty())
            .unwrap();
        self.call(request).await
    }

    fn worker_secret(&self, labels: &[&str]) -> (i64, String) {
        let labels: Vec<String> = labels.iter().map(|l| l.to_string()).collect();
        let (token, secret) = self.board().create_worker_token("", &labels).unwrap();
        (token.id, secret)
    }
}

#[tokio::test]
async fn a_worker_token_opens_the_worker_route_only() {
    let api = Api::shared();
    let task = api.add_task("Fix the login").await;
    let (_, secret) = api.worker_secret(&["gpu"]);

    let reply = api
        .post_as(&secret, "/api/worker", r#"{"call": "last_seq"}"#)
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let reply = api
        .post_as(
            &secret,
            "/api/worker",
            &format!(r#"{{"call": "task", "task": {task}}}"#),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.json()["title"], "Fix the login");

    // Nothing a person does, nothing to read beside its calls.
    for (method, uri, body) in [
        (
            "POST",
            format!("/api/tasks/{task}/approve"),
            "{}".to_string(),
        ),
        (
            "POST",
            format!("/api/tasks/{task}/answer"),
            r#"{"text": "yes"}"#.to_string(),
        ),
        (
            "POST",
            format!("/api/tasks/{task}/cancel"),
            "{}".to_string(),
        ),
        (
            "POST",
            "/api/tasks".to_string(),
            r#"{"title": "mine"}"#.to_string(),
        ),
        (
            "POST",
            "/api/worker-tokens".to_string(),
            r#"{"labels": []}"#.to_string(),
        ),
        ("GET", "/api/tasks".to_string(), String::new()),
        ("GET", format!("/api/tasks/{task}"), String::new()),
        ("GET", "/api/events".to_string(), String::new()),
        ("GET", "/api/projects".to_string(), String::new()),
        ("GET", "/api/worker-tokens".to_string(), String::new()),
    ] {
        let reply = if method == "POST" {
            api.post_as(&secret, &uri, &body).await
        } else {
            api.get_as(&secret, &uri).await
        };
        assert_eq!(
            reply.status,
            StatusCode::FORBIDDEN,
            "{method} {uri}: {}",
            reply.text
        );
        assert_eq!(reply.error_code(), "forbidden");
    }
    // A call beyond the token: a label it does not grant.
    let reply = api
        .post_as(
            &secret,
            "/api/worker",
            r#"{"call": "claim", "owner": "worker:1:m:1", "kinds": ["run"], "labels": ["gtk"], "lease_ms": 1000}"#,
        )
        .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.text);
    // The daemon's own token is not a worker's.
    let reply = api.post("/api/worker", r#"{"call": "last_seq"}"#).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.text);
}

#[tokio::test]
async fn a_revoked_or_unknown_worker_token_is_refused_at_once() {
    let api = Api::shared();
    let (id, secret) = api.worker_secret(&[]);
    let call = r#"{"call": "last_seq"}"#;
    assert_eq!(
        api.post_as(&secret, "/api/worker", call).await.status,
        StatusCode::OK
    );
    assert!(api.board().revoke_worker_token(id).unwrap());
    let reply = api.post_as(&secret, "/api/worker", call).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{}", reply.text);
    let unknown = format!("gfw_{}", "0".repeat(64));
    let reply = api.post_as(&unknown, "/api/worker", call).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{}", reply.text);
}

#[tokio::test]
async fn a_board_no_other_machine_shares_serves_no_worker() {
    let api = Api::new();
    let (_, secret) = api.worker_secret(&[]);
    let reply = api
        .post_as(&secret, "/api/worker", r#"{"call": "last_seq"}"#)
        .await;
    assert_eq!(reply.status, StatusCode::CONFLICT, "{}", reply.text);
    assert!(reply.text.contains("not shared"), "{}", reply.text);
}

#[tokio::test]
async fn a_worker_sees_no_other_project() {
    let api = Api::shared();
    let store = api.board().store();
    let other = store
        .upsert_project(&NewProject {
            name: "other".into(),
            root: "/elsewhere".into(),
            target: "main".into(),
        })
        .unwrap();
    let theirs = store
        .create_task(
            other.id,
            &NewTask {
                title: "Secret plans".into(),
                ..NewTask::default()
            },
            &TaskState::new(gaffer_core::Flow::default(), gaffer_core::Risk::Low, 0),
        )
        .unwrap();
    let (_, secret) = api.worker_secret(&[]);
    let reply = api
        .post_as(
            &secret,
            "/api/worker",
            &format!(r#"{{"call": "task", "task": {}}}"#, theirs.id),
        )
        .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND, "{}", reply.text);
    let reply = api
        .post_as(&secret, "/api/worker", r#"{"call": "events", "after": 0, "limit": 100, "task": null, "run": null, "kind_prefix": null}"#)
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert!(
        !reply.text.contains("Secret plans"),
        "another project's events: {}",
        reply.text
    );
    // The other project's own worker token does not open this daemon.
    let hash = gaffer_engine::worker_token_hash("gfw_other");
    store
        .create_worker_token(&gaffer_store::NewWorkerToken {
            project: other.id,
            name: "theirs".into(),
            labels: vec![],
            hash,
        })
        .unwrap();
    let reply = api
        .post_as("gfw_other", "/api/worker", r#"{"call": "last_seq"}"#)
        .await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{}", reply.text);
}
