//! Which store a board keeps its state in: chosen here, once, when a board opens. Everything
//! else sees only the [`Store`] trait, so another store (PostgreSQL) is added by choosing it
//! here (from the settings) and passing `gaffer_store::conformance`.

use crate::error::Result;
use crate::paths::StatePaths;
use gaffer_config::Settings;
use gaffer_core::Clock;
use gaffer_store::{SqliteStore, Store, SystemClock};
use std::sync::Arc;

/// Opens the store `settings` choose for the project at `paths`, its times from `clock` (the
/// system clock when `None`). Today that is always the SQLite file in the state directory
/// ([`StatePaths::database`]); no setting chooses another yet.
pub fn open(
    _settings: &Settings,
    paths: &StatePaths,
    clock: Option<Arc<dyn Clock>>,
) -> Result<Arc<dyn Store>> {
    let clock = clock.unwrap_or_else(|| Arc::new(SystemClock));
    Ok(Arc::new(SqliteStore::open(&paths.database(), clock)?))
}
