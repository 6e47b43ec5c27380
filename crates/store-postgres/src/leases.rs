//! Named leases: one holder at a time per name (the merge queue of a project shared by several
//! daemons). Held while `expires_ms >= now`, like a job's lease; taken over once it expired.

use crate::error::TxResult;
use crate::tx::Tx;
use gaffer_store::{LeaseHolder, rules};

pub(crate) fn hold(
    tx: &mut Tx<'_>,
    name: &str,
    owner: &str,
    lease_ms: i64,
    now: i64,
) -> TxResult<bool> {
    rules::input::lease_name(name)?;
    rules::input::owner(owner)?;
    rules::input::lease(lease_ms)?;
    // One statement: insert, or update only when the lease is ours or expired. A concurrent
    // insert of the same name waits on the primary key and then takes the update path, whose
    // condition PostgreSQL re-checks on the row as the other transaction left it.
    let changed = tx.execute(
        "INSERT INTO leases (name, owner, expires_ms, updated_ms) VALUES ($1, $2, $3, $4)
         ON CONFLICT (name) DO UPDATE
             SET owner = excluded.owner, expires_ms = excluded.expires_ms,
                 updated_ms = excluded.updated_ms
             WHERE leases.owner = excluded.owner OR leases.expires_ms < $4",
        &[&name, &owner, &now.saturating_add(lease_ms), &now],
    )?;
    Ok(changed == 1)
}

pub(crate) fn release(tx: &mut Tx<'_>, name: &str, owner: &str) -> TxResult<bool> {
    let changed = tx.execute(
        "DELETE FROM leases WHERE name = $1 AND owner = $2",
        &[&name, &owner],
    )?;
    Ok(changed == 1)
}

pub(crate) fn holder(tx: &mut Tx<'_>, name: &str) -> TxResult<Option<LeaseHolder>> {
    let row = tx.query_opt(
        "SELECT owner, expires_ms FROM leases WHERE name = $1",
        &[&name],
    )?;
    Ok(match row {
        Some(row) => Some(LeaseHolder {
            owner: row.try_get(0)?,
            expires_ms: row.try_get(1)?,
        }),
        None => None,
    })
}
