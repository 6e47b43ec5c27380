//! The event log and runs, listed.

use crate::harness::{Api, seqs};
use axum::http::StatusCode;
use gaffer_core::{NewEvent, NewRun, Role, TaskId, event_kind};
use serde_json::json;

#[tokio::test]
async fn events_are_listed_in_order_and_filtered() {
    let api = Api::new();
    let first = api.add_task("First").await;
    let second = api.add_task("Second").await;
    api.post(&format!("/api/tasks/{first}/cancel"), "").await;

    let all = api.get("/api/events").await.json();
    let all_seqs = seqs(&all);
    assert!(all_seqs.windows(2).all(|w| w[0] < w[1]), "{all_seqs:?}");
    let created: Vec<_> = all
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "task.created")
        .map(|e| e["task"].as_i64().unwrap())
        .collect();
    assert_eq!(created, vec![first, second]);

    let of_second = api.get(&format!("/api/events?task={second}")).await.json();
    assert!(!of_second.as_array().unwrap().is_empty());
    assert!(
        of_second
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["task"] == second)
    );

    let statuses = api.get("/api/events?kind=task.status").await.json();
    let statuses = statuses.as_array().unwrap();
    assert!(!statuses.is_empty());
    assert!(statuses.iter().all(|e| e["kind"] == "task.status"));

    let by_prefix = api.get("/api/events?kind=task.").await.json();
    assert_eq!(
        by_prefix.as_array().unwrap().len(),
        all.as_array().unwrap().len()
    );
}

#[tokio::test]
async fn events_page_with_after_and_limit() {
    let api = Api::new();
    for title in ["a", "b", "c"] {
        api.add_task(title).await;
    }
    let all = api.event_seqs().await;
    assert!(all.len() >= 3);

    let mut paged = Vec::new();
    let mut after = 0;
    loop {
        let page = api
            .get(&format!("/api/events?after={after}&limit=2"))
            .await
            .json();
        let page = seqs(&page);
        assert!(page.len() <= 2);
        let Some(&last) = page.last() else { break };
        paged.extend(page);
        after = last;
    }
    assert_eq!(paged, all);

    let reply = api.get("/api/events?after=soon").await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.text);
    assert_eq!(reply.error_code(), "invalid");
}

#[tokio::test]
async fn a_tasks_events_are_only_its_own() {
    let api = Api::new();
    let mine = api.add_task("Mine").await;
    api.add_task("Someone else's").await;
    api.post(&format!("/api/tasks/{mine}/cancel"), "").await;

    let events = api.get(&format!("/api/tasks/{mine}/events")).await.json();
    let kinds: Vec<_> = events
        .as_array()
        .unwrap()
        .iter()
        .inspect(|e| assert_eq!(e["task"], mine))
        .map(|e| e["kind"].as_str().unwrap().to_string())
        .collect();
    assert!(kinds.contains(&"task.created".to_string()), "{kinds:?}");
    assert!(kinds.contains(&"task.status".to_string()), "{kinds:?}");

    let first = seqs(&events)[0];
    let later = api
        .get(&format!("/api/tasks/{mine}/events?after={first}&limit=1"))
        .await
        .json();
    assert_eq!(later.as_array().unwrap().len(), 1);
    assert!(later[0]["seq"].as_i64().unwrap() > first);
}

#[tokio::test]
async fn runs_and_their_events() {
    let api = Api::new();
    let task = api.add_task("Run me").await;
    let store = &api.board().store();
    let run = store
        .start_run(&NewRun {
            task: TaskId(task),
            job: None,
            role: Role::Coder,
            tier: 0,
            agent: "claude".into(),
            backend: "claude".into(),
            model: "sonnet".into(),
            worktree: "/nowhere".into(),
        })
        .unwrap();
    store
        .append_events(&[NewEvent::new(
            event_kind::RUN_OUTPUT,
            json!({"type": "text", "text": "hi"}),
        )
        .task(TaskId(task))
        .run(run.id)])
        .unwrap();

    let reply = api.get(&format!("/api/runs/{}", run.id)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.json()["role"], "coder");
    assert_eq!(reply.json()["status"], "running");

    let events = api
        .get(&format!("/api/runs/{}/events", run.id))
        .await
        .json();
    let events = events.as_array().unwrap();
    assert!(events.iter().all(|e| e["run"] == run.id.0), "{events:?}");
    assert!(
        events
            .iter()
            .any(|e| e["kind"] == "run.output" && e["data"]["text"] == "hi")
    );

    let detail = api.get(&format!("/api/tasks/{task}")).await.json();
    assert_eq!(detail["runs"][0]["id"], run.id.0);

    for uri in ["/api/runs/999", "/api/runs/999/events"] {
        let reply = api.get(uri).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{uri}: {}", reply.text);
        assert_eq!(reply.error_code(), "not_found");
    }
}
