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
    // With the system clock, a shared board's transactions run at the database server's time:
    // the daemons' machines may not agree on the time (a test's fixed clock stays its own).
    let options = pg_options_with(settings, clock.is_none());
    let clock = clock.unwrap_or_else(|| Arc::new(SystemClock));
    Ok(match &settings.store.url {
        Some(url) => Arc::new(PgStore::open_with(url.expose(), &options, clock)?),
        None => Arc::new(SqliteStore::open(&paths.database(), clock)?),
    })
}

/// How `settings` open a PostgreSQL board: in `[store] schema` (default `public`).
pub fn pg_options(settings: &Settings) -> PgOptions {
    pg_options_with(settings, true)
}

/// [`pg_options`], at the server's time or not.
fn pg_options_with(settings: &Settings, server_clock: bool) -> PgOptions {
    PgOptions {
        server_clock,
        schema: settings
            .store
            .schema
            .clone()
            .unwrap_or_else(|| gaffer_store_postgres::DEFAULT_SCHEMA.to_string()),
        ..PgOptions::default()
    }
}

#[cfg(test)]
mod tests {
    use super::pg_options_with;

    #[test]
    fn a_daemon_on_the_system_clock_runs_at_the_server_s_time() {
        let settings = gaffer_config::default_settings();
        assert!(super::pg_options(&settings).server_clock);
        assert!(!pg_options_with(&settings, false).server_clock);
        assert_eq!(super::pg_options(&settings).schema, "public");
    }
}
