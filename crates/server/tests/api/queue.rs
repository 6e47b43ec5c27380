//! `GET /api/queue`: the merge queue as the board has it.

use crate::harness::Api;
use axum::http::StatusCode;
use gaffer_core::{Flow, NewTask, ObjectId, Risk, Status, TaskState, VerifiedTree};

#[tokio::test]
async fn the_queue_lists_waiting_tasks_in_order_with_its_figures() {
    let api = Api::new();
    let reply = api.get("/api/queue").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let empty = reply.json();
    assert_eq!(empty["metrics"]["length"], 0);
    assert_eq!(empty["train"], serde_json::json!([]));
    assert_eq!(empty["strategy"], "merge");

    // Two verified branches waiting to join, the second of higher priority.
    let head = api.repo.head();
    for (title, priority) in [("first", 0), ("urgent", 5)] {
        let mut state = TaskState::new(Flow::default(), Risk::Low, 0);
        state.status = Status::Queued;
        state.head = Some(ObjectId::new(head.clone()));
        state.verified = Some(VerifiedTree {
            commit: ObjectId::new(head.clone()),
            tree: ObjectId::new(api.repo.rev_parse("HEAD^{tree}")),
        });
        let task = NewTask {
            title: title.into(),
            priority,
            ..NewTask::default()
        };
        api.board()
            .store()
            .create_task(api.board().project().id, &task, &state)
            .unwrap();
    }
    let queue = api.get("/api/queue").await.json();
    assert_eq!(queue["metrics"]["length"], 2);
    assert_eq!(queue["metrics"]["waiting"], 2);
    let titles: Vec<&str> = queue["waiting"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, ["urgent", "first"], "priority first: {queue:#}");
    assert_eq!(queue["waiting"][0]["state"], "waiting");
    assert!(queue["host"]["heavy_slots"].as_u64().unwrap() >= 1);
}

/// `GET /api/workers`: every machine as last heard, with whether it counts as up.
#[tokio::test]
async fn workers_lists_the_machines_with_their_labels_and_liveness() {
    let api = Api::new();
    assert_eq!(api.get("/api/workers").await.json(), serde_json::json!([]));
    let store = api.board().store();
    store
        .announce_host(
            "daemon:gpu-box:1:",
            &["gpu".to_string()],
            2,
            Some(4),
            Some(0.25),
        )
        .unwrap();
    let reply = api.get("/api/workers").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let workers = reply.json();
    assert_eq!(workers[0]["name"], "daemon:gpu-box:1:");
    assert_eq!(workers[0]["labels"], serde_json::json!(["gpu"]));
    assert_eq!(workers[0]["running"], 2);
    assert_eq!(workers[0]["slots"], 4);
    assert_eq!(workers[0]["live"], true);
}
