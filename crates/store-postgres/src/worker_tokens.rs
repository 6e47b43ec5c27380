//! Worker tokens: what remote workers present to take a project's jobs, kept by the hash of
//! their secret ([`gaffer_store::Store::create_worker_token`] and its kin).

use crate::error::TxResult;
use crate::projects;
use crate::rows::{self, WORKER_TOKEN_COLUMNS};
use crate::tx::Tx;
use gaffer_core::ProjectId;
use gaffer_store::{NewWorkerToken, StoreError, WorkerToken, rules};

pub(crate) fn create(tx: &mut Tx<'_>, t: &NewWorkerToken, now: i64) -> TxResult<WorkerToken> {
    let labels = rules::worker_tokens::new_token(t)?;
    if !projects::exists(tx, t.project)? {
        return Err(StoreError::ProjectNotFound(t.project).into());
    }
    // A hash taken already inserts nothing (and returns no row): the same secret twice.
    let sql = format!(
        "INSERT INTO worker_tokens (project, name, labels, hash, created_ms)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (hash) DO NOTHING
         RETURNING {WORKER_TOKEN_COLUMNS}"
    );
    let found = tx.query_opt(
        &sql,
        &[
            &t.project.0,
            &t.name.trim(),
            &rows::to_json(&labels)?,
            &t.hash,
            &now,
        ],
    )?;
    match found {
        Some(row) => rows::worker_token(&row),
        None => Err(StoreError::Invalid("another worker token has this hash".into()).into()),
    }
}

pub(crate) fn of_project(tx: &mut Tx<'_>, project: ProjectId) -> TxResult<Vec<WorkerToken>> {
    let sql =
        format!("SELECT {WORKER_TOKEN_COLUMNS} FROM worker_tokens WHERE project = $1 ORDER BY id");
    let found = tx.query(&sql, &[&project.0])?;
    rows::all(found, rows::worker_token)
}

/// The token with this hash, unless it was revoked.
pub(crate) fn live_by_hash(tx: &mut Tx<'_>, hash: &str) -> TxResult<Option<WorkerToken>> {
    let sql = format!(
        "SELECT {WORKER_TOKEN_COLUMNS} FROM worker_tokens WHERE hash = $1 AND revoked_ms IS NULL"
    );
    tx.query_opt(&sql, &[&hash])?
        .map(|row| rows::worker_token(&row))
        .transpose()
}

/// Records a use of token `id` at `now` when the last recorded one is old enough (another
/// request may have recorded one since it was read); the token as it is now, unless revoked
/// meanwhile.
pub(crate) fn record_use(tx: &mut Tx<'_>, id: i64, now: i64) -> TxResult<Option<WorkerToken>> {
    tx.execute(
        "UPDATE worker_tokens SET last_used_ms = $2
         WHERE id = $1 AND revoked_ms IS NULL AND (last_used_ms IS NULL OR last_used_ms <= $3)",
        &[
            &id,
            &now,
            &(now - rules::worker_tokens::USE_RECORDED_EVERY_MS),
        ],
    )?;
    let sql = format!(
        "SELECT {WORKER_TOKEN_COLUMNS} FROM worker_tokens WHERE id = $1 AND revoked_ms IS NULL"
    );
    tx.query_opt(&sql, &[&id])?
        .map(|row| rows::worker_token(&row))
        .transpose()
}

pub(crate) fn revoke(tx: &mut Tx<'_>, project: ProjectId, id: i64, now: i64) -> TxResult<bool> {
    let changed = tx.execute(
        "UPDATE worker_tokens SET revoked_ms = $3
         WHERE project = $1 AND id = $2 AND revoked_ms IS NULL",
        &[&project.0, &id, &now],
    )?;
    Ok(changed == 1)
}
