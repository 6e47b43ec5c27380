//! The store conformance suite against [`SqliteStore`]: one test per check.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use gaffer_core::FixedClock;
use gaffer_store::{SqliteStore, Store};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Fresh databases in one temporary directory, removed when the factory is dropped.
fn sqlite() -> impl Fn(Arc<FixedClock>) -> Box<dyn Store> {
    let dir = tempfile::tempdir().unwrap();
    let n = AtomicUsize::new(0);
    move |clock| {
        let path = dir
            .path()
            .join(format!("{}.db", n.fetch_add(1, Ordering::SeqCst)));
        Box::new(SqliteStore::open(&path, clock).unwrap())
    }
}

/// Connections to one fresh file (each its own `SqliteStore`, as separate processes would have).
fn one_file() -> impl Fn() -> Box<dyn Store> + Sync {
    let dir = tempfile::tempdir().unwrap();
    move || Box::new(SqliteStore::open_default(&dir.path().join("board.db")).unwrap())
}

gaffer_store::conformance_tests!(sqlite(), shared: one_file());

/// `run_all` runs the same checks in one go (what a quick smoke test of a new backend uses).
#[test]
fn run_all_passes() {
    let make = sqlite();
    gaffer_store::conformance::run_all(&make);
    assert_eq!(gaffer_store::conformance::CHECKS.len(), 34);
}
