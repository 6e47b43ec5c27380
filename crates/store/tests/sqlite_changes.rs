//! What is particular to SQLite's change listeners: they hear the handles of this process on
//! the same file (however the path is spelled), not other files, not handles already dropped,
//! and a listener that panics does not make a committed write look failed.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use gaffer_core::NewEvent;
use gaffer_store::{Change, SqliteStore, Store};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

fn counting(store: &dyn Store) -> Arc<AtomicUsize> {
    let n = Arc::new(AtomicUsize::new(0));
    let counter = n.clone();
    store.subscribe(Arc::new(move |change| {
        if change == Change::Events {
            counter.fetch_add(1, Ordering::SeqCst);
        }
    }));
    n
}

fn append(store: &dyn Store) {
    store
        .append_events(&[NewEvent::new("note", serde_json::json!({}))])
        .unwrap();
}

#[test]
fn listeners_hear_the_same_file_only_while_their_handle_lives() {
    let dir = tempfile::tempdir().unwrap();
    let a = SqliteStore::open_default(&dir.path().join("board.db")).unwrap();
    // The same file by another spelling of its path.
    let b = SqliteStore::open_default(&dir.path().join(".").join("board.db")).unwrap();
    let other = SqliteStore::open_default(&dir.path().join("other.db")).unwrap();
    let (heard_a, heard_b, heard_other) = (counting(&a), counting(&b), counting(&other));

    append(&b);
    assert_eq!(heard_a.load(Ordering::SeqCst), 1);
    assert_eq!(heard_b.load(Ordering::SeqCst), 1);
    assert_eq!(heard_other.load(Ordering::SeqCst), 0);

    drop(a);
    append(&b);
    assert_eq!(
        heard_a.load(Ordering::SeqCst),
        1,
        "a dropped handle hears nothing"
    );
    assert_eq!(heard_b.load(Ordering::SeqCst), 2);

    // A file opened anew after every handle closed gets a hub again.
    drop(b);
    let c = SqliteStore::open_default(&dir.path().join("board.db")).unwrap();
    let d = SqliteStore::open_default(&dir.path().join("board.db")).unwrap();
    let heard_c = counting(&c);
    append(&d);
    assert_eq!(heard_c.load(Ordering::SeqCst), 1);
}

#[test]
fn a_panicking_listener_leaves_the_write_committed() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open_default(&dir.path().join("board.db")).unwrap();
    store.subscribe(Arc::new(|_| panic!("a listener that breaks")));
    let heard = counting(&store);
    append(&store);
    assert_eq!(store.last_seq().unwrap().0, 1);
    assert_eq!(
        heard.load(Ordering::SeqCst),
        1,
        "the other listeners still hear it"
    );
}
