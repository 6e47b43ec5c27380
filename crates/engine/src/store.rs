//! Which store a board keeps its state in: chosen here, once, when a board opens. Everything
//! else sees only the [`Store`] trait: the SQLite file in the state directory by default, the
//! PostgreSQL database `[store] url` names when several daemons share one board.

use crate::error::Result;
use crate::paths::StatePaths;
use gaffer_config::Settings;
use gaffer_core::Clock;
use gaffer_store::{SqliteStore, Store, SystemClock};
use gaffer_store_postgres::{PgOptions, PgStore};
use std::sync::Arc;

/// Opens the store `settings` choose for the project at `paths`, its times from `clock` (the
/// system clock when `None`): the PostgreSQL database of `[store] url` when set (migrated to
/// this build's schema), else the SQLite file in the state directory
/// ([`StatePaths::database`]).
pub fn open(
    settings: &Settings,
    paths: &StatePaths,
    clock: Option<Arc<dyn Clock>>,
) -> Result<Arc<dyn Store>> {
    let clock = clock.unwrap_or_else(|| Arc::new(SystemClock));
    Ok(match &settings.store.url {
        Some(url) => Arc::new(PgStore::open_with(
            url.expose(),
            &pg_options(settings),
            clock,
        )?),
        None => Arc::new(SqliteStore::open(&paths.database(), clock)?),
    })
}

/// How `settings` open a PostgreSQL board: in `[store] schema` (default `public`).
pub fn pg_options(settings: &Settings) -> PgOptions {
    PgOptions {
        schema: settings
            .store
            .schema
            .clone()
            .unwrap_or_else(|| gaffer_store_postgres::DEFAULT_SCHEMA.to_string()),
        ..PgOptions::default()
    }
}
