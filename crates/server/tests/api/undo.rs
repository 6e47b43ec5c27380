//! Undo and redirect through the API: `POST /api/tasks/{id}/revert` answers the new task that
//! carries the revert (refused for a task not merged, or reverted already); `PATCH
//! /api/tasks/{id}` adds and removes dependencies and sets scopes (a ready task given an
//! unmerged one goes back to the backlog; cycles refused with a hint); `POST
//! /api/tasks/{id}/move` reorders the merge queue's waiting line, which `GET /api/queue` shows.

use crate::harness::Api;
use crate::openapi::{check, document};
use axum::http::StatusCode;
use gaffer_core::{Input, ObjectId, Role, RunResult, TaskId};
use serde_json::json;

impl Api {
    fn act(&self, id: i64, input: Input) {
        self.board()
            .act(TaskId(id), input, "test")
            .unwrap_or_else(|e| panic!("task {id}: {e}"));
    }

    /// Drives task `id` through a coder's commit `head` and a passing verify: it waits in the
    /// merge queue (`queued`), as the engine would leave it.
    fn queue(&self, id: i64, head: &str) {
        let head = ObjectId::new(head);
        self.act(id, Input::Promote);
        self.act(id, Input::Start);
        self.act(
            id,
            Input::RunFinished {
                role: Role::Coder,
                result: RunResult::Code {
                    head: head.clone(),
                    risk: None,
                },
            },
        );
        self.act(
            id,
            Input::VerifyFinished {
                commit: head.clone(),
                tree: ObjectId::new(format!("tree-{head}")),
                passed: true,
                summary: String::new(),
                conflicts: vec![],
            },
        );
    }

    /// Lands task `id` for real: its change (`file`) merged into `main` with `--no-ff`, and
    /// the task taken through the queue's inputs to `merged` with that landing.
    fn land(&self, id: i64, file: &str) -> String {
        let repo = &self.repo;
        repo.git(&["checkout", "-q", "-b", file]);
        repo.write(file, "x\n");
        let head = repo.commit_all(file);
        repo.git(&["checkout", "-q", "main"]);
        let onto = repo.head();
        repo.git(&["merge", "-q", "--no-ff", "-m", file, file]);
        let landed = repo.head();
        let tree = repo.rev_parse(&format!("{landed}^{{tree}}"));
        self.queue(id, &head);
        let (commit, tree) = (ObjectId::new(&landed), ObjectId::new(tree));
        self.act(
            id,
            Input::BeginMerge {
                position: 1,
                since_ms: 0,
            },
        );
        self.act(
            id,
            Input::CandidateReady {
                commit: commit.clone(),
                tree: tree.clone(),
                onto: ObjectId::new(onto),
            },
        );
        self.act(
            id,
            Input::VerifyFinished {
                commit: commit.clone(),
                tree: tree.clone(),
                passed: true,
                summary: String::new(),
                conflicts: vec![],
            },
        );
        self.act(id, Input::Landed { commit, tree });
        landed
    }
}

#[tokio::test]
async fn a_merged_task_is_reverted_by_a_new_task_once() {
    let api = Api::new();
    let id = api.add_task("Add the health page").await;
    let landed = api.land(id, "health.txt");
    let reply = api.post(&format!("/api/tasks/{id}/revert"), "").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    check(&document(), "post", "/api/tasks/{id}/revert", &reply);
    let revert = reply.json();
    assert_eq!(revert["title"], "Revert \"Add the health page\"");
    assert_eq!(revert["labels"], json!([format!("reverts:{id}")]));
    assert_eq!(revert["state"]["status"], "backlog");
    assert_eq!(revert["state"]["flow"]["prepared"], true);
    let head = revert["state"]["head"].as_str().unwrap().to_string();
    // The revert commit undoes the landing on the tip, and its branch holds it.
    let branch = revert["branch"].as_str().unwrap();
    assert_eq!(api.repo.rev_parse(branch), head);
    assert_eq!(api.repo.rev_parse(&format!("{head}^")), landed);
    let files = api.repo.git(&["ls-tree", "--name-only", &head]);
    assert!(!files.contains("health.txt"), "{files}");
    let events = api.get(&format!("/api/tasks/{id}/events")).await.json();
    let said = events
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "task.revert")
        .cloned()
        .unwrap();
    assert_eq!(said["data"]["landed"], landed);
    assert!(
        said["text"].as_str().unwrap().contains("reverts task"),
        "{said}"
    );

    let again = api.post(&format!("/api/tasks/{id}/revert"), "{}").await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.text);
    assert!(
        again.error_message().contains("already reverts"),
        "{}",
        again.text
    );
    assert!(
        again.json()["error"]["hint"]
            .as_str()
            .unwrap()
            .contains("cancel")
    );
    let options = api
        .post(&format!("/api/tasks/{id}/revert"), r#"{"fresh": true}"#)
        .await;
    assert_eq!(options.status, StatusCode::BAD_REQUEST, "{}", options.text);
}

#[tokio::test]
async fn a_task_not_merged_is_not_reverted() {
    let api = Api::new();
    let id = api.add_task("Fix the login").await;
    let reply = api.post(&format!("/api/tasks/{id}/revert"), "").await;
    assert_eq!(reply.status, StatusCode::CONFLICT, "{}", reply.text);
    assert!(
        reply.error_message().contains("not merged"),
        "{}",
        reply.text
    );
    let reply = api.post("/api/tasks/999/revert", "").await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND, "{}", reply.text);
}

#[tokio::test]
async fn dependencies_and_scopes_are_edited_before_work_starts() {
    let api = Api::new();
    let first = api.add_task("Schema").await;
    let second = api.add_task("Use the schema").await;
    api.act(second, Input::Promote);
    let reply = api
        .patch(
            &format!("/api/tasks/{second}"),
            &json!({"add_deps": [first], "write_scope": ["src/**"], "read_scope": []}).to_string(),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let task = reply.json();
    assert_eq!(task["blocked_by"], json!([first]));
    assert_eq!(task["write_scope"], json!(["src/**"]));
    assert_eq!(
        task["state"]["status"], "backlog",
        "back until its dependency merged"
    );

    // The other way round is a cycle.
    let reply = api
        .patch(
            &format!("/api/tasks/{first}"),
            &json!({"add_deps": [second]}).to_string(),
        )
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.text);
    assert!(
        reply.error_message().contains("wait for itself"),
        "{}",
        reply.text
    );
    assert!(reply.json()["error"]["hint"].is_string());
    for body in [r#"{"add_deps": [999]}"#, r#"{"deps": [1]}"#] {
        let reply = api.patch(&format!("/api/tasks/{first}"), body).await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{body}: {}",
            reply.text
        );
    }
    let reply = api
        .patch(
            &format!("/api/tasks/{second}"),
            &json!({"remove_deps": [first]}).to_string(),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.json()["blocked_by"], json!([]));
}

#[tokio::test]
async fn the_waiting_line_is_reordered_and_shown() {
    let api = Api::new();
    let ids = [
        api.add_task("alpha").await,
        api.add_task("bravo").await,
        api.add_task("charlie").await,
    ];
    for (id, head) in ids.iter().zip(["a1", "b1", "c1"]) {
        api.queue(*id, head);
    }
    let line = |queue: serde_json::Value| -> Vec<i64> {
        queue["waiting"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["task"].as_i64().unwrap())
            .collect()
    };
    let [a, b, c] = ids;
    let reply = api
        .post(&format!("/api/tasks/{c}/move"), r#"{"to": 1}"#)
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.json()["state"]["place"]["rank"], 1);
    let reply = api
        .post(
            &format!("/api/tasks/{a}/move"),
            &json!({"after": b}).to_string(),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    check(&document(), "post", "/api/tasks/{id}/move", &reply);
    let queue = api.get("/api/queue").await;
    check(&document(), "get", "/api/queue", &queue);
    let queue = queue.json();
    assert_eq!(line(queue.clone()), [c, b, a]);
    assert_eq!(queue["waiting"][0]["place"], 1);

    for (body, status) in [
        ("{}", StatusCode::BAD_REQUEST),
        (r#"{"to": 1, "before": 2}"#, StatusCode::BAD_REQUEST),
        (
            &json!({"before": 999}).to_string() as &str,
            StatusCode::CONFLICT,
        ),
    ] {
        let reply = api.post(&format!("/api/tasks/{a}/move"), body).await;
        assert_eq!(reply.status, status, "{body}: {}", reply.text);
    }
    let idle = api.add_task("delta").await;
    let reply = api
        .post(&format!("/api/tasks/{idle}/move"), r#"{"to": 1}"#)
        .await;
    assert_eq!(reply.status, StatusCode::CONFLICT, "{}", reply.text);
    assert!(
        reply.error_message().contains("not waiting"),
        "{}",
        reply.text
    );
}
