//! The machines that take jobs: each says it is alive, with its labels and load
//! ([`gaffer_store::Store::announce_host`]); `gaffer workers` and the engine's routing read them.

use crate::error::TxResult;
use crate::rows;
use crate::tx::Tx;
use gaffer_store::{HostInfo, StoreError, rules};

pub(crate) fn announce(
    tx: &mut Tx<'_>,
    name: &str,
    labels: &[String],
    running: u32,
    slots: Option<u32>,
    load: Option<f64>,
    now: i64,
) -> TxResult<()> {
    rules::input::owner(name)?;
    let labels = rows::to_json(&rules::input::needs(labels)?)?;
    tx.execute(
        "INSERT INTO hosts (name, labels, running, slots, load, seen_ms)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (name) DO UPDATE SET labels = excluded.labels, running = excluded.running,
             slots = excluded.slots, load = excluded.load, seen_ms = excluded.seen_ms",
        &[
            &name,
            &labels,
            &i64::from(running),
            &slots.map(i64::from),
            &load,
            &now,
        ],
    )?;
    Ok(())
}

pub(crate) fn all(tx: &mut Tx<'_>) -> TxResult<Vec<HostInfo>> {
    let mut out = Vec::new();
    for row in tx.query(
        "SELECT name, labels, running, load, seen_ms, slots FROM hosts ORDER BY name",
        &[],
    )? {
        let name: String = row.try_get(0)?;
        let labels: String = row.try_get(1)?;
        let running: i64 = row.try_get(2)?;
        let slots: Option<i64> = row.try_get(5)?;
        out.push(HostInfo {
            labels: serde_json::from_str(&labels)
                .map_err(|e| StoreError::Corrupt(format!("hosts {name}, column labels: {e}")))?,
            running: u32::try_from(running).unwrap_or(u32::MAX),
            load: row.try_get(3)?,
            seen_ms: row.try_get(4)?,
            slots: slots.map(|s| u32::try_from(s).unwrap_or(u32::MAX)),
            name,
        });
    }
    Ok(out)
}
