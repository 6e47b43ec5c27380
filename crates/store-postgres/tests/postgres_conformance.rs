//! The store conformance suite against [`PgStore`]: one test per check, each store in a fresh
//! schema of the test server ([`gaffer_test_support::postgres`]). Without a server (and outside
//! CI) every test says so on stderr and passes without checking anything.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use gaffer_core::FixedClock;
use gaffer_store::Store;
use gaffer_store_postgres::{PgOptions, PgStore};
use gaffer_test_support::postgres::server;
use std::sync::Arc;

/// A fresh, empty store per call: a new schema on the test server. Two connections each are
/// plenty for one check's calls (they come one at a time) and keep the many stores of the
/// lease model cheap to open.
fn factory() -> impl Fn(Arc<FixedClock>) -> Box<dyn Store> {
    move |clock| {
        let Some(server) = server() else {
            panic!("no PostgreSQL server: the factory is only called when there is one");
        };
        let options = PgOptions {
            schema: server.fresh_schema(),
            connections: 2,
            ..PgOptions::default()
        };
        Box::new(PgStore::open_with(server.url(), &options, clock).unwrap())
    }
}

/// Handles on one fresh schema, each its own `PgStore` (as separate processes would have).
fn connect() -> impl Fn() -> Box<dyn Store> + Sync {
    let shared = server().map(|s| (s.url().to_string(), s.fresh_schema()));
    move || {
        let (url, schema) = shared.as_ref().expect("a PostgreSQL server");
        Box::new(PgStore::open_in_schema(url, schema, Arc::new(gaffer_store::SystemClock)).unwrap())
    }
}

// Each test returns early (after `server` said why on stderr) when there is no server.
gaffer_store::conformance_tests!(
    {
        if server().is_none() {
            return;
        }
        factory()
    },
    shared: {
        if server().is_none() {
            return;
        }
        connect()
    }
);
