//! The machines that take jobs: each says it is alive, with its labels and load
//! ([`crate::Store::announce_host`]); `gaffer workers` and the engine's routing read them back.

use super::retry::TxResult;
use super::rows;
use crate::{HostInfo, rules};
use rusqlite::{Connection, params};

pub(super) fn announce(
    conn: &Connection,
    name: &str,
    labels: &[String],
    running: u32,
    slots: Option<u32>,
    load: Option<f64>,
    now: i64,
) -> TxResult<()> {
    rules::input::owner(name)?;
    let labels = rules::input::needs(labels)?;
    conn.prepare_cached(
        "INSERT INTO hosts (name, labels, running, slots, load, seen_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (name) DO UPDATE SET labels = excluded.labels, running = excluded.running,
             slots = excluded.slots, load = excluded.load, seen_ms = excluded.seen_ms",
    )?
    .execute(params![
        name,
        rows::to_json(&labels)?,
        running,
        slots,
        load,
        now
    ])?;
    Ok(())
}

pub(super) fn all(conn: &Connection) -> TxResult<Vec<HostInfo>> {
    let mut stmt = conn.prepare_cached(
        "SELECT name, labels, running, load, seen_ms, slots FROM hosts ORDER BY name",
    )?;
    let mut out = Vec::new();
    let mut found = stmt.query([])?;
    while let Some(row) = found.next()? {
        let name: String = row.get(0)?;
        let labels: String = row.get(1)?;
        out.push(HostInfo {
            labels: serde_json::from_str(&labels).map_err(|e| {
                crate::StoreError::Corrupt(format!("hosts {name}, column labels: {e}"))
            })?,
            running: row.get(2)?,
            load: row.get(3)?,
            seen_ms: row.get(4)?,
            slots: row.get(5)?,
            name,
        });
    }
    Ok(out)
}
