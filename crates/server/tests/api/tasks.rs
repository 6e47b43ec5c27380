//! Tasks: add, list, show, act on them, and the errors of doing it wrong.

use crate::harness::Api;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use serde_json::json;

#[tokio::test]
async fn healthz_names_the_project_and_process() {
    let api = Api::new();
    let reply = api.get("/healthz").await;
    assert_eq!(reply.status, StatusCode::OK);
    let body = reply.json();
    assert_eq!(body["ok"], true);
    assert_eq!(body["project"], api.board().project().name.as_str());
    assert_eq!(body["pid"], std::process::id());
}

#[tokio::test]
async fn a_task_added_is_listed_and_shown() {
    let api = Api::new();
    let body = json!({ "title": "  Fix the login page ", "labels": ["ui"], "priority": 3 });
    let reply = api.post("/api/tasks", &body.to_string()).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    let task = reply.json();
    assert_eq!(task["title"], "Fix the login page");
    assert_eq!(task["labels"], json!(["ui"]));
    assert_eq!(task["state"]["status"], "backlog");
    let id = task["id"].as_i64().unwrap();

    let all = api.get("/api/tasks").await.json();
    assert_eq!(all.as_array().unwrap().len(), 1);
    assert_eq!(all[0]["id"], id);

    let backlog = api.get("/api/tasks?status=backlog,ready").await.json();
    assert_eq!(backlog.as_array().unwrap().len(), 1);
    let coding = api.get("/api/tasks?status=coding,queued").await.json();
    assert_eq!(coding, json!([]));

    let detail = api.get(&format!("/api/tasks/{id}")).await;
    assert_eq!(detail.status, StatusCode::OK, "{}", detail.text);
    let detail = detail.json();
    assert_eq!(detail["task"]["id"], id);
    assert_eq!(detail["runs"], json!([]));
    assert!(detail["jobs"].is_array());
}

#[tokio::test]
async fn an_unknown_status_filter_is_invalid_and_lists_the_known_ones() {
    let api = Api::new();
    let reply = api.get("/api/tasks?status=coding,done").await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.error_code(), "invalid");
    assert!(reply.error_message().contains("`done`"), "{}", reply.text);
    assert!(
        reply.json()["error"]["hint"]
            .as_str()
            .unwrap()
            .contains("awaiting_approval")
    );
}

#[tokio::test]
async fn a_task_needs_a_title() {
    let api = Api::new();
    for body in ["{}", "", r#"{"title": "   "}"#] {
        let reply = api.post("/api/tasks", body).await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{body}: {}",
            reply.text
        );
        assert_eq!(reply.error_code(), "invalid");
        assert!(reply.error_message().contains("title"), "{}", reply.text);
    }
    assert_eq!(api.get("/api/tasks").await.json(), json!([]));
}

#[tokio::test]
async fn malformed_json_is_a_400_with_the_parsers_message() {
    let api = Api::new();
    let reply = api.post("/api/tasks", r#"{"title": "#).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.error_code(), "invalid");
    assert!(reply.error_message().contains("EOF"), "{}", reply.text);

    let reply = api.post("/api/tasks", r#"{"title": 5}"#).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(
        reply.error_message().contains("invalid type"),
        "{}",
        reply.text
    );

    let reply = api
        .post("/api/tasks", r#"{"title": "x", "risk": "extreme"}"#)
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(reply.error_message().contains("extreme"), "{}", reply.text);
}

#[tokio::test]
async fn a_body_without_a_content_type_is_read_as_json() {
    let api = Api::new();
    let request = Request::post("/api/tasks")
        .header("x-gaffer", "1")
        .body(Body::from(r#"{"title": "from curl -d"}"#))
        .unwrap();
    let reply = api.call(request).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
}

#[tokio::test]
async fn an_unknown_task_is_not_found() {
    let api = Api::new();
    for reply in [
        api.get("/api/tasks/999").await,
        api.get("/api/tasks/999/events").await,
        api.get("/api/tasks/999/diff").await,
        api.post("/api/tasks/999/cancel", "").await,
        api.post("/api/tasks/999/approve", "").await,
    ] {
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{}", reply.text);
        assert_eq!(reply.error_code(), "not_found");
        assert!(reply.error_message().contains("999"), "{}", reply.text);
    }
}

#[tokio::test]
async fn an_id_that_is_not_a_number_is_invalid() {
    let api = Api::new();
    let reply = api.get("/api/tasks/abc").await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.error_code(), "invalid");
}

#[tokio::test]
async fn an_unknown_route_is_a_json_404() {
    let api = Api::new();
    let reply = api.get("/api/nothing-here").await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(reply.error_code(), "not_found");
    assert!(reply.error_message().contains("/api/nothing-here"));
}

#[tokio::test]
async fn cancelling_twice_is_a_conflict() {
    let api = Api::with_engine();
    let id = api.add_task("Not needed after all").await;

    let reply = api
        .post(
            &format!("/api/tasks/{id}/cancel"),
            r#"{"reason": "duplicate of 3"}"#,
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.json()["state"]["status"], "cancelled");

    let again = api.post(&format!("/api/tasks/{id}/cancel"), "").await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.text);
    assert_eq!(again.error_code(), "conflict");
    assert!(
        again.error_message().contains("not allowed"),
        "{}",
        again.text
    );
    assert!(
        again.json()["error"]["hint"]
            .as_str()
            .unwrap()
            .contains(&format!("/api/tasks/{id}"))
    );

    // The cancel is recorded as the API's doing.
    let events = api.get(&format!("/api/tasks/{id}/events")).await.json();
    let notice = events
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "task.notice" && e["data"]["by"] == "api")
        .unwrap_or_else(|| panic!("no notice by the api in {events}"));
    assert_eq!(notice["data"]["action"], "cancel");
}

#[tokio::test]
async fn a_cancel_without_a_body_works_without_an_engine() {
    let api = Api::new();
    let id = api.add_task("Stop this").await;
    let request = Request::post(format!("/api/tasks/{id}/cancel"))
        .header("x-gaffer", "1")
        .body(Body::empty())
        .unwrap();
    let reply = api.call(request).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.json()["state"]["status"], "cancelled");
}

#[tokio::test]
async fn inputs_the_machine_refuses_are_conflicts() {
    let api = Api::new();
    let id = api.add_task("Still in the backlog").await;
    for (action, body) in [
        ("approve", ""),
        ("retry", ""),
        ("answer", r#"{"text": "use the blue one"}"#),
        ("reject", r#"{"reason": "too broad"}"#),
    ] {
        let reply = api.post(&format!("/api/tasks/{id}/{action}"), body).await;
        assert_eq!(
            reply.status,
            StatusCode::CONFLICT,
            "{action}: {}",
            reply.text
        );
        assert_eq!(reply.error_code(), "conflict");
        assert!(reply.error_message().contains("backlog"), "{}", reply.text);
    }
    let task = api.get(&format!("/api/tasks/{id}")).await.json();
    assert_eq!(task["task"]["state"]["status"], "backlog");
}

#[tokio::test]
async fn action_bodies_are_checked() {
    let api = Api::new();
    let id = api.add_task("Check my bodies").await;
    let cases = [
        ("reject", "", "missing field `reason`"),
        ("reject", r#"{"reason": "  "}"#, "needs a reason"),
        ("answer", "{}", "missing field `text`"),
        ("answer", r#"{"text": ""}"#, "needs text"),
        ("say", "{}", "missing field `text`"),
        ("say", r#"{"text": " "}"#, "needs text"),
        ("cancel", r#"{"reasn": "typo"}"#, "unknown field `reasn`"),
    ];
    for (action, body, expected) in cases {
        let reply = api.post(&format!("/api/tasks/{id}/{action}"), body).await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{action} {body}: {}",
            reply.text
        );
        assert!(
            reply.error_message().contains(expected),
            "{action} {body}: {}",
            reply.text
        );
    }
}

/// A word to a task's agent is recorded on the task as the surface that sent it; a task no
/// agent works on any more refuses it.
#[tokio::test]
async fn a_message_to_the_agent_is_recorded_and_refused_once_the_task_ended() {
    let api = Api::with_engine();
    let id = api.add_task("Steer me").await;
    let reply = api
        .post(
            &format!("/api/tasks/{id}/say"),
            r#"{"text": "use the v2 API"}"#,
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.json()["id"], id);
    let events = api.get(&format!("/api/tasks/{id}/events")).await.json();
    let said = events
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "task.said")
        .unwrap_or_else(|| panic!("nothing said in {events}"))
        .clone();
    assert_eq!(said["data"]["text"], "use the v2 API");
    assert_eq!(said["data"]["by"], "api");
    assert_eq!(said["text"], "api said to the agent: “use the v2 API”");

    api.post(&format!("/api/tasks/{id}/cancel"), "").await;
    let refused = api
        .post(&format!("/api/tasks/{id}/say"), r#"{"text": "hello?"}"#)
        .await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.text);
    assert!(
        refused.error_message().contains("cancelled"),
        "{}",
        refused.text
    );
    assert!(
        refused.json()["error"]["hint"].is_string(),
        "{}",
        refused.text
    );
}

#[tokio::test]
async fn the_diff_of_a_task_without_commits_is_empty_text() {
    let api = Api::new();
    let id = api.add_task("Nothing written yet").await;
    let reply = api.get(&format!("/api/tasks/{id}/diff")).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert!(
        reply.content_type.starts_with("text/plain"),
        "{}",
        reply.content_type
    );
    assert_eq!(reply.text, "");
}

#[tokio::test]
async fn status_projects_and_usage() {
    let api = Api::new();
    api.add_task("One").await;
    api.add_task("Two").await;

    let status = api.get("/api/status").await;
    assert_eq!(status.status, StatusCode::OK, "{}", status.text);
    let status = status.json();
    assert_eq!(status["tasks"].as_array().unwrap().len(), 2);
    assert_eq!(status["counts"], json!([["backlog", 2]]));
    assert_eq!(status["landing"]["target"], "main");

    let projects = api.get("/api/projects").await.json();
    assert_eq!(projects.as_array().unwrap().len(), 1);
    assert_eq!(projects[0]["name"], api.board().project().name.as_str());

    let usage = api.get("/api/usage").await;
    assert_eq!(usage.status, StatusCode::OK, "{}", usage.text);
    assert_eq!(usage.json()["runs"], 0);
}

#[tokio::test]
async fn scaling_needs_an_engine_and_at_least_one_agent() {
    let api = Api::new();
    let reply = api.post("/api/scale", r#"{"concurrency": 3}"#).await;
    assert_eq!(reply.status, StatusCode::CONFLICT, "{}", reply.text);

    let api = Api::with_engine();
    let reply = api.post("/api/scale", r#"{"concurrency": 3}"#).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.json()["concurrency"], 3);
    assert_eq!(api.state.engine.as_ref().unwrap().concurrency(), 3);

    let reply = api.post("/api/scale", r#"{"concurrency": 0}"#).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.text);
    let reply = api.post("/api/scale", r#"{"concurrency": -1}"#).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.text);
}

#[tokio::test]
async fn shutdown_cancels_the_token() {
    let api = Api::new();
    assert!(!api.state.shutdown.is_cancelled());
    let reply = api.post("/api/shutdown", "").await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.text);
    assert!(api.state.shutdown.is_cancelled());
}

#[tokio::test]
async fn an_action_is_recorded_as_the_surface_that_sent_it() {
    let api = Api::new();
    let events_of = |id: i64| format!("/api/tasks/{id}/events");
    for (sent, recorded) in [
        (Some("cli"), "cli"),
        (Some("shell"), "shell"),
        (Some("mcp"), "mcp"),
        (Some("dashboard"), "dashboard"),
        (Some("someone-else"), "api"),
        (None, "api"),
    ] {
        let id = api.add_task("Stop this").await;
        let mut request = Request::post(format!("/api/tasks/{id}/cancel"))
            .header("x-gaffer", "1")
            .header(header::CONTENT_TYPE, "application/json");
        if let Some(surface) = sent {
            request = request.header(gaffer_api::CLIENT_HEADER, surface);
        }
        let reply = api.call(request.body(Body::from("{}")).unwrap()).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
        let events = api.get(&events_of(id)).await.json();
        let by: Vec<&str> = events
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["kind"] == "task.notice")
            .filter_map(|e| e["data"]["by"].as_str())
            .collect();
        assert_eq!(by, [recorded], "sent {sent:?}: {events}");
    }
}
