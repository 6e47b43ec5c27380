//! What is particular to the SQLite store: the file, its settings, its schema version, and
//! several stores sharing one file.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use gaffer_core::{FixedClock, Flow, NewTask, Risk, TaskState};
use gaffer_store::{NewProject, SqliteStore, Store, StoreError, TaskFilter};
use std::path::Path;
use std::sync::Arc;
use std::thread;

fn project(store: &dyn Store) -> gaffer_core::Project {
    store
        .upsert_project(&NewProject {
            name: "p".into(),
            root: "/srv/p".into(),
            target: "main".into(),
        })
        .unwrap()
}

fn new_task(title: &str) -> NewTask {
    NewTask {
        title: title.into(),
        ..NewTask::default()
    }
}

fn pragma(path: &Path, name: &str) -> String {
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.pragma_query_value(None, name, |r| r.get::<_, rusqlite::types::Value>(0))
        .map(|v| match v {
            rusqlite::types::Value::Integer(i) => i.to_string(),
            rusqlite::types::Value::Text(t) => t,
            other => format!("{other:?}"),
        })
        .unwrap()
}

#[test]
fn data_survives_reopening_and_the_schema_is_versioned() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("gaffer.db");
    let clock = Arc::new(FixedClock::new(1_000));
    let id = {
        let store = SqliteStore::open(&path, clock.clone()).unwrap();
        let p = project(&store);
        let state = TaskState::new(Flow::default(), Risk::Low, 0);
        store
            .create_task(p.id, &new_task("kept"), &state)
            .unwrap()
            .id
    };
    let store = SqliteStore::open(&path, clock).unwrap();
    assert_eq!(store.task(id).unwrap().title, "kept");
    assert_eq!(store.path(), path.as_path());
    assert_eq!(pragma(&path, "journal_mode"), "wal");
    assert_eq!(
        pragma(&path, "user_version"),
        SqliteStore::schema_version().to_string()
    );
}

#[test]
fn a_database_from_a_newer_gaffer_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("gaffer.db");
    drop(SqliteStore::open_default(&path).unwrap());
    let newer = SqliteStore::schema_version() + 1;
    rusqlite::Connection::open(&path)
        .unwrap()
        .pragma_update(None, "user_version", newer)
        .unwrap();
    match SqliteStore::open_default(&path) {
        Err(StoreError::SchemaTooNew { found, known }) => {
            assert_eq!((found, known), (newer, SqliteStore::schema_version()));
        }
        other => panic!("expected SchemaTooNew, got {other:?}"),
    }
}

#[test]
fn stores_sharing_a_file_see_each_others_writes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("gaffer.db");
    let a = SqliteStore::open_default(&path).unwrap();
    let b = SqliteStore::open_default(&path).unwrap();
    let p = project(&a);
    let state = TaskState::new(Flow::default(), Risk::Low, 0);
    let t = b.create_task(p.id, &new_task("from b"), &state).unwrap();
    assert_eq!(a.task(t.id).unwrap().title, "from b");
    assert_eq!(a.last_seq().unwrap(), b.last_seq().unwrap());
}

#[test]
fn many_stores_may_create_the_same_new_file_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let path: Arc<Path> = dir.path().join("fresh.db").into();
    let handles: Vec<_> = (0..8)
        .map(|i| {
            let path = path.clone();
            thread::spawn(move || -> Result<(), StoreError> {
                let store = SqliteStore::open_default(&path)?;
                let p = project(&store);
                let state = TaskState::new(Flow::default(), Risk::Low, 0);
                store.create_task(p.id, &new_task(&format!("t{i}")), &state)?;
                Ok(())
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap().unwrap();
    }
    let store = SqliteStore::open_default(&path).unwrap();
    assert_eq!(store.projects().unwrap().len(), 1);
    assert_eq!(store.tasks(&TaskFilter::default()).unwrap().len(), 8);
}
