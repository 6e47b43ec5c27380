//! `GET /api/queue`: the merge queue as the board has it.

use crate::harness::Api;
use axum::http::StatusCode;
use gaffer_core::{
    Candidate, CandidateStatus, Flow, NewTask, ObjectId, QueueSlot, Risk, Status, TaskId,
    TaskState, VerifiedTree,
};

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

/// A batch under test and the bisection of a failed one, as the dashboard and `gaffer queue`
/// show them: which tasks are tested together, which runs the verify, which are suspects and
/// which part of them is tested now.
#[tokio::test]
async fn the_queue_shows_a_batch_and_a_bisection() {
    let api = Api::new();
    let tip = ObjectId::new(api.repo.head());
    let failed = ObjectId::new("f".repeat(40));
    let (half, batch) = (ObjectId::new("a".repeat(40)), ObjectId::new("b".repeat(40)));
    // Tasks 1 and 2 are the first half of failed batch `f…` (with 3), tested together on the
    // tip; 3 waits behind them, a suspect too; 4 and 5 are a batch of their own behind.
    let candidate = |commit: &ObjectId, onto: &ObjectId, batch: &[i64]| Candidate {
        commit: commit.clone(),
        tree: commit.clone(),
        onto: onto.clone(),
        status: CandidateStatus::Pending,
        flaky: false,
        batch: batch.iter().map(|t| TaskId(*t)).collect(),
        change: None,
    };
    let tasks = [
        (
            1,
            Some(failed.clone()),
            Some(candidate(&half, &tip, &[1, 2])),
        ),
        (
            2,
            Some(failed.clone()),
            Some(candidate(&half, &tip, &[1, 2])),
        ),
        (3, Some(failed.clone()), None),
        (4, None, Some(candidate(&batch, &half, &[4, 5]))),
        (5, None, Some(candidate(&batch, &half, &[4, 5]))),
    ];
    for (n, suspect, candidate) in tasks {
        let mut state = TaskState::new(Flow::default(), Risk::Low, 0);
        state.status = Status::Merging;
        state.head = Some(tip.clone());
        state.queue = Some(QueueSlot {
            position: n,
            since_ms: 0,
            parked_on: None,
            group: if suspect.is_some() {
                vec![TaskId(1), TaskId(2), TaskId(3)]
            } else {
                vec![]
            },
            suspect,
        });
        state.candidate = candidate;
        let task = NewTask {
            title: format!("change {n}"),
            ..NewTask::default()
        };
        let created = api
            .board()
            .store()
            .create_task(api.board().project().id, &task, &state)
            .unwrap();
        assert_eq!(created.id, TaskId(n as i64));
    }
    let reply = api.get("/api/queue").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let queue = reply.json();
    let train = queue["train"].as_array().unwrap();
    assert_eq!(train.len(), 5, "{queue:#}");
    assert_eq!(train[0]["batch"], serde_json::json!([1, 2]));
    assert_eq!(train[0]["lead"], false);
    assert_eq!(train[1]["lead"], true);
    assert_eq!(train[0]["suspect"], failed.as_str());
    assert_eq!(train[2]["suspect"], failed.as_str());
    assert_eq!(train[2]["state"], "building");
    assert_eq!(train[3]["batch"], serde_json::json!([4, 5]));
    assert_eq!(train[3]["suspect"], serde_json::Value::Null);
    assert_eq!(train[3]["ahead"], serde_json::json!([1, 2]));
    assert_eq!(
        queue["bisecting"],
        serde_json::json!([{ "group": failed.as_str(), "suspects": [1, 2, 3], "testing": [1, 2] }])
    );
    // The setting as configured (the default: batches when they pay); the batches above are
    // the board's, whatever it says now.
    assert_eq!(queue["batch"], "auto");
    assert!(queue["batch_now"].as_u64().unwrap() >= 1);
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
