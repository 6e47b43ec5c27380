//! Opening one SQLite connection the way every part of the store expects it.

use super::gate::CATCH_UP_PAGES;
use super::migrate::migrate;
use super::retry::{self, TxResult};
use rusqlite::{Connection, OpenFlags};
use std::path::Path;

/// Opens (creating if needed) the database at `path`: WAL journal (readers never block the
/// writer), `synchronous=NORMAL` (durable across process crashes; a power loss may drop the
/// last commits but never corrupts), foreign keys enforced, a busy timeout, and the
/// schema migrated to this build's version.
pub(super) fn open(path: &Path) -> TxResult<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_URI
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let mut conn = Connection::open_with_flags(path, flags)?;
    // First, so that even the pragmas below wait for a lock held by another process.
    conn.busy_handler(Some(retry::busy))?;
    let mode: String = conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        tracing::warn!(mode, path = %path.display(), "SQLite refused WAL journal mode");
    }
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    // The last connection to close would otherwise checkpoint the WAL and delete it: four
    // fsyncs that a short-lived CLI process (`gaffer task add` without a daemon) pays on every
    // exit. SQLite's automatic checkpoints (every 1,000 pages) keep the WAL bounded instead.
    conn.set_db_config(
        rusqlite::config::DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE,
        true,
    )?;
    // Checkpoints are the process's checkpointer thread's (`gate`): a writer checkpoints in its
    // own commit only past this mark, when that thread could not keep up or does not run.
    conn.pragma_update(None, "wal_autocheckpoint", 4 * CATCH_UP_PAGES)?;
    // Every hot statement is prepared once per connection (`prepare_cached`); room for all.
    conn.set_prepared_statement_cache_capacity(128);
    migrate(&mut conn)?;
    Ok(conn)
}

/// A connection to the (existing, migrated) database at `path` for its checkpointer: WAL mode is
/// the file's, and it never writes rows, so nothing else is set but the busy handler.
pub(super) fn open_for_checkpoints(path: &Path) -> TxResult<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_URI
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags)?;
    conn.busy_handler(Some(retry::busy))?;
    conn.set_db_config(
        rusqlite::config::DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE,
        true,
    )?;
    Ok(conn)
}
