//! `POST /api/clean`: the daemon removes idle worktrees and dead branches itself.

use crate::harness::Api;
use axum::http::StatusCode;

#[tokio::test]
async fn clean_removes_what_ended_and_keeps_what_works() {
    let api = Api::with_engine();
    let board = api.board().clone();
    let start = board.git().rev_parse("HEAD").unwrap().unwrap();
    let live = api.add_task("Keep working").await;
    let ended = api.add_task("Give up").await;
    let reply = api
        .post(&format!("/api/tasks/{ended}/cancel"), r#"{"reason": "no"}"#)
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let branch_of = |id: i64| {
        let task = board.task(gaffer_core::TaskId(id)).unwrap();
        task.branch.clone()
    };
    let mut worktrees = Vec::new();
    for branch in [
        branch_of(live),
        branch_of(ended),
        "gaffer/t-99-nobody".into(),
    ] {
        let name = branch.trim_start_matches("gaffer/").to_string();
        worktrees.push(board.worktrees().checkout(&name, &branch, &start).unwrap());
    }
    api.repo.git(&["branch", "gaffer/landed/main"]);

    let reply = api.post("/api/clean", "").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let report = reply.json();
    let removed: Vec<&str> = report["worktrees_removed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(removed.len(), 2, "{report}");
    assert!(worktrees[0].exists());
    assert!(!worktrees[1].exists() && !worktrees[2].exists());
    let mut deleted: Vec<String> = report["branches_deleted"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    deleted.sort();
    assert_eq!(
        deleted,
        vec![branch_of(ended), "gaffer/t-99-nobody".to_string()]
    );
    let branches = api.repo.git(&["branch", "--list", "gaffer/*"]);
    assert!(branches.contains(&branch_of(live)), "{branches}");
    assert!(branches.contains("gaffer/landed/main"), "{branches}");
    let listed = api.repo.git(&["worktree", "list"]);
    assert!(!listed.contains("t-99-nobody"), "{listed}");

    // Again: nothing left to remove.
    let again = api.post("/api/clean", "").await.json();
    assert_eq!(again["worktrees_removed"], serde_json::json!([]));
    assert_eq!(again["branches_deleted"], serde_json::json!([]));
}
