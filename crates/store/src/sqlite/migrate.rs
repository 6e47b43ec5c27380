//! The schema, embedded in the binary and applied in order. `PRAGMA user_version` holds the
//! number of migrations applied; a database written by a newer gaffer is refused rather than
//! misread.

use super::retry::TxResult;
use crate::StoreError;
use rusqlite::{Connection, TransactionBehavior};

/// Every migration, oldest first. Never edit one that has shipped; append a new file.
const MIGRATIONS: &[&str] = &[
    include_str!("migrations/0001_initial.sql"),
    include_str!("migrations/0002_leases.sql"),
    include_str!("migrations/0003_needs_and_hosts.sql"),
    include_str!("migrations/0004_worker_tokens.sql"),
];

/// The schema version this build writes.
pub(super) fn known_version() -> i64 {
    i64::try_from(MIGRATIONS.len()).unwrap_or(i64::MAX)
}

fn user_version(conn: &Connection) -> rusqlite::Result<i64> {
    conn.pragma_query_value(None, "user_version", |r| r.get(0))
}

/// Brings the database up to [`known_version`]. Safe to run from several processes at once: the
/// version is read again under the write lock.
pub(super) fn migrate(conn: &mut Connection) -> TxResult<()> {
    let known = known_version();
    let found = user_version(conn)?;
    if found > known {
        return Err(StoreError::SchemaTooNew { found, known }.into());
    }
    if found == known {
        return Ok(());
    }
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let found = user_version(&tx)?;
    if found > known {
        return Err(StoreError::SchemaTooNew { found, known }.into());
    }
    let start = usize::try_from(found).unwrap_or(0);
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(start) {
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", index + 1)?;
        tracing::info!(version = index + 1, "applied store migration");
    }
    tx.commit()?;
    Ok(())
}
