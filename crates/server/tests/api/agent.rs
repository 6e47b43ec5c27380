//! What agents report back (`progress`, `ask`) and editing a task before work starts.

use crate::harness::Api;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use gaffer_core::{NewRun, Role, RunId, TaskId};
use serde_json::{Value, json};

impl Api {
    pub async fn patch(&self, uri: &str, body: &str) -> crate::harness::Reply {
        let request = Request::patch(uri)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_string()))
            .unwrap();
        self.call(request).await
    }

    /// Starts an agent run of `task` in the store, as the engine does.
    pub fn start_run(&self, task: i64) -> RunId {
        self.board()
            .store()
            .start_run(&NewRun {
                task: TaskId(task),
                job: None,
                role: Role::Coder,
                tier: 0,
                agent: "scripted".into(),
                backend: "scripted".into(),
                model: "mock".into(),
                worktree: "/tmp/w".into(),
            })
            .unwrap()
            .id
    }
}

#[tokio::test]
async fn progress_is_a_status_line_of_the_running_run() {
    let api = Api::new();
    let id = api.add_task("Fix the login").await;
    // No run yet: the line is recorded on the task.
    let reply = api
        .post(
            &format!("/api/tasks/{id}/progress"),
            r#"{"text": " looking around "}"#,
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    let event = reply.json();
    assert_eq!(event["kind"], "run.output");
    assert_eq!(event["task"], id);
    assert_eq!(event["run"], Value::Null);
    assert_eq!(
        event["data"],
        json!({"type": "status", "text": "looking around", "via": "api"})
    );

    let run = api.start_run(id);
    let reply = api
        .post(
            &format!("/api/tasks/{id}/progress"),
            r#"{"text": "writing tests"}"#,
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    assert_eq!(reply.json()["run"], run.0);
    let events = api.get(&format!("/api/runs/{run}/events")).await.json();
    assert!(
        events
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["data"]["text"] == "writing tests"),
        "{events:#}"
    );

    for (body, code) in [
        (r#"{"text": "  "}"#, "invalid"),
        (r#"{"words": "x"}"#, "invalid"),
        (r#"{"text": "x", "run": 999}"#, "not_found"),
    ] {
        let reply = api.post(&format!("/api/tasks/{id}/progress"), body).await;
        assert_eq!(reply.error_code(), code, "{body}: {}", reply.text);
    }
    let long = json!({ "text": "x".repeat(20_000) }).to_string();
    let reply = api.post(&format!("/api/tasks/{id}/progress"), &long).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.text);
    let reply = api
        .post("/api/tasks/999/progress", r#"{"text": "x"}"#)
        .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND, "{}", reply.text);
}

#[tokio::test]
async fn a_question_needs_a_running_run_and_is_recorded_on_it() {
    let api = Api::new();
    let id = api.add_task("Fix the login").await;
    let reply = api
        .post(
            &format!("/api/tasks/{id}/ask"),
            r#"{"question": "Which provider?"}"#,
        )
        .await;
    assert_eq!(reply.status, StatusCode::CONFLICT, "{}", reply.text);
    assert!(
        reply.error_message().contains("no agent of task"),
        "{}",
        reply.text
    );

    let run = api.start_run(id);
    let reply = api
        .post(
            &format!("/api/tasks/{id}/ask"),
            &json!({"question": "Which provider?", "run": run.0}).to_string(),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    let event = reply.json();
    assert_eq!(event["run"], run.0);
    assert_eq!(
        event["data"],
        json!({"type": "question", "text": "Which provider?", "via": "api"})
    );
    // The task's state does not change until the run ends (the engine turns the question into
    // the run's result).
    let task = api.get(&format!("/api/tasks/{id}")).await.json();
    assert_eq!(task["task"]["state"]["status"], "backlog");

    // A run that ended cannot ask any more.
    let other = api.add_task("Another").await;
    let reply = api
        .post(
            &format!("/api/tasks/{other}/ask"),
            &json!({"question": "Mine?", "run": run.0}).to_string(),
        )
        .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND, "{}", reply.text);
}

#[tokio::test]
async fn a_task_is_edited_before_work_starts_only() {
    let api = Api::new();
    let id = api.add_task("Fix the login").await;
    let reply = api
        .patch(
            &format!("/api/tasks/{id}"),
            r#"{"title": "Fix the login page", "priority": 4, "labels": ["ui"]}"#,
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let task = reply.json();
    assert_eq!(task["title"], "Fix the login page");
    assert_eq!(task["priority"], 4);
    assert_eq!(task["labels"], json!(["ui"]));
    assert_eq!(task["version"], 2);
    let edited = api
        .get(&format!("/api/tasks/{id}/events"))
        .await
        .json()
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "task.edited")
        .cloned()
        .unwrap();
    assert_eq!(
        edited["data"]["changed"],
        json!(["labels", "priority", "title"])
    );

    for (body, code) in [
        ("{}", "invalid"),
        (r#"{"title": " "}"#, "invalid"),
        (r#"{"status": "merged"}"#, "invalid"),
    ] {
        let reply = api.patch(&format!("/api/tasks/{id}"), body).await;
        assert_eq!(reply.error_code(), code, "{body}: {}", reply.text);
    }
    let reply = api.patch("/api/tasks/999", r#"{"priority": 1}"#).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND, "{}", reply.text);

    // Once the task has left the backlog (here: cancelled), it is too late.
    let reply = api.post(&format!("/api/tasks/{id}/cancel"), "").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let reply = api
        .patch(&format!("/api/tasks/{id}"), r#"{"priority": 9}"#)
        .await;
    assert_eq!(reply.status, StatusCode::CONFLICT, "{}", reply.text);
    assert!(
        reply
            .error_message()
            .contains("`edit` is not allowed while the task is cancelled"),
        "{}",
        reply.text
    );
}
