//! Named leases: one holder at a time per name (the merge queue of a project shared by several
//! daemons). Held while `expires_ms >= now`, like a job's lease; taken over once it expired.

use super::retry::TxResult;
use crate::{LeaseHolder, rules};
use rusqlite::{Connection, OptionalExtension, params};

pub(super) fn hold(
    conn: &Connection,
    name: &str,
    owner: &str,
    lease_ms: i64,
    now: i64,
) -> TxResult<bool> {
    rules::input::lease_name(name)?;
    rules::input::owner(owner)?;
    rules::input::lease(lease_ms)?;
    // One statement: insert, or update only when the lease is ours or expired. The write lock
    // (`BEGIN IMMEDIATE`) makes the check and the update one step for every other handle.
    let changed = conn
        .prepare_cached(
            "INSERT INTO leases (name, owner, expires_ms, updated_ms) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (name) DO UPDATE
                 SET owner = excluded.owner, expires_ms = excluded.expires_ms,
                     updated_ms = excluded.updated_ms
                 WHERE leases.owner = excluded.owner OR leases.expires_ms < ?4",
        )?
        .execute(params![name, owner, now.saturating_add(lease_ms), now])?;
    Ok(changed == 1)
}

pub(super) fn release(conn: &Connection, name: &str, owner: &str) -> TxResult<bool> {
    let changed = conn
        .prepare_cached("DELETE FROM leases WHERE name = ?1 AND owner = ?2")?
        .execute(params![name, owner])?;
    Ok(changed == 1)
}

pub(super) fn holder(conn: &Connection, name: &str) -> TxResult<Option<LeaseHolder>> {
    Ok(conn
        .prepare_cached("SELECT owner, expires_ms FROM leases WHERE name = ?1")?
        .query_row([name], |r| {
            Ok(LeaseHolder {
                owner: r.get(0)?,
                expires_ms: r.get(1)?,
            })
        })
        .optional()?)
}
