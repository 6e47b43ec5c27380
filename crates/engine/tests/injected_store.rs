#![allow(clippy::unwrap_used, clippy::expect_used)]
//! A board opened on a store it is given keeps its state there, and only there.

use gaffer_core::NewTask;
use gaffer_engine::{Board, BoardOptions, TaskChanges};
use gaffer_store::{SqliteStore, Store};
use gaffer_test_support::TestRepo;
use std::sync::Arc;

#[test]
fn a_board_on_an_injected_store_writes_only_there() {
    let repo = TestRepo::new();
    let elsewhere = repo.scratch("elsewhere.db");
    let injected: Arc<dyn Store> = Arc::new(SqliteStore::open_default(&elsewhere).unwrap());
    let board = Board::open_with_store(
        repo.path(),
        gaffer_config::default_settings(),
        BoardOptions {
            git_env: repo.env(),
            clock: None,
            ..BoardOptions::default()
        },
        Arc::clone(&injected),
    )
    .unwrap();
    let task = board
        .add_task(NewTask {
            title: "kept elsewhere".into(),
            ..NewTask::default()
        })
        .unwrap();
    board
        .edit_task(
            task.id,
            TaskChanges {
                body: Some("edited".into()),
                ..TaskChanges::default()
            },
        )
        .unwrap();

    let stored = injected.task(task.id).unwrap();
    assert_eq!(
        (stored.title.as_str(), stored.body.as_str()),
        ("kept elsewhere", "edited")
    );
    assert_eq!(stored.project, board.project().id);
    assert!(
        !board.paths().database().exists(),
        "the default database was created beside the injected store"
    );
}
