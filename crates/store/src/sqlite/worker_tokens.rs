//! Worker tokens: what remote workers present to take a project's jobs, kept by the hash of
//! their secret ([`crate::Store::create_worker_token`] and its kin).

use super::retry::TxResult;
use super::rows::{self, WORKER_TOKEN_COLUMNS};
use crate::{NewWorkerToken, StoreError, WorkerToken, rules};
use gaffer_core::ProjectId;
use rusqlite::{Connection, params};

pub(super) fn create(conn: &Connection, t: &NewWorkerToken, now: i64) -> TxResult<WorkerToken> {
    let labels = rules::worker_tokens::new_token(t)?;
    if !super::projects::exists(conn, t.project)? {
        return Err(StoreError::ProjectNotFound(t.project).into());
    }
    // A hash taken already inserts nothing (and returns no row): the same secret twice.
    let sql = format!(
        "INSERT INTO worker_tokens (project, name, labels, hash, created_ms)
         VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (hash) DO NOTHING
         RETURNING {WORKER_TOKEN_COLUMNS}"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let params = params![
        t.project.0,
        t.name.trim(),
        rows::to_json(&labels)?,
        t.hash,
        now
    ];
    rows::first(&mut stmt, params, rows::worker_token)?
        .ok_or_else(|| StoreError::Invalid("another worker token has this hash".into()).into())
}

pub(super) fn of_project(conn: &Connection, project: ProjectId) -> TxResult<Vec<WorkerToken>> {
    let sql =
        format!("SELECT {WORKER_TOKEN_COLUMNS} FROM worker_tokens WHERE project = ?1 ORDER BY id");
    let mut stmt = conn.prepare_cached(&sql)?;
    rows::collect(&mut stmt, [project.0], rows::worker_token)
}

/// The token with this hash, unless it was revoked.
pub(super) fn live_by_hash(conn: &Connection, hash: &str) -> TxResult<Option<WorkerToken>> {
    let sql = format!(
        "SELECT {WORKER_TOKEN_COLUMNS} FROM worker_tokens WHERE hash = ?1 AND revoked_ms IS NULL"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    rows::first(&mut stmt, [hash], rows::worker_token)
}

/// Records a use of token `id` at `now` when the last recorded one is old enough (another
/// request may have recorded one since it was read); the token as it is now, unless revoked
/// meanwhile.
pub(super) fn record_use(conn: &Connection, id: i64, now: i64) -> TxResult<Option<WorkerToken>> {
    conn.prepare_cached(
        "UPDATE worker_tokens SET last_used_ms = ?2
         WHERE id = ?1 AND revoked_ms IS NULL AND (last_used_ms IS NULL OR last_used_ms <= ?3)",
    )?
    .execute(params![
        id,
        now,
        now - rules::worker_tokens::USE_RECORDED_EVERY_MS
    ])?;
    let sql = format!(
        "SELECT {WORKER_TOKEN_COLUMNS} FROM worker_tokens WHERE id = ?1 AND revoked_ms IS NULL"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    rows::first(&mut stmt, [id], rows::worker_token)
}

pub(super) fn revoke(conn: &Connection, project: ProjectId, id: i64, now: i64) -> TxResult<bool> {
    let changed = conn
        .prepare_cached(
            "UPDATE worker_tokens SET revoked_ms = ?3
             WHERE project = ?1 AND id = ?2 AND revoked_ms IS NULL",
        )?
        .execute(params![project.0, id, now])?;
    Ok(changed == 1)
}
