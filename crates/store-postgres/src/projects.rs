//! Projects: one row per repository root.

use crate::error::TxResult;
use crate::rows::{self, PROJECT_COLUMNS};
use crate::tx::Tx;
use gaffer_core::{Project, ProjectId};
use gaffer_store::{NewProject, StoreError, rules};

pub(crate) fn upsert(tx: &mut Tx<'_>, p: &NewProject, now: i64) -> TxResult<Project> {
    rules::input::project(p)?;
    let sql = format!(
        "INSERT INTO projects (name, root, target, created_ms) VALUES ($1, $2, $3, $4)
         ON CONFLICT (root) DO UPDATE SET name = excluded.name, target = excluded.target
         RETURNING {PROJECT_COLUMNS}"
    );
    let row = tx.query_one(&sql, &[&p.name, &p.root, &p.target, &now])?;
    rows::project(&row)
}

pub(crate) fn get(tx: &mut Tx<'_>, id: ProjectId) -> TxResult<Project> {
    let sql = format!("SELECT {PROJECT_COLUMNS} FROM projects WHERE id = $1");
    match tx.query_opt(&sql, &[&id.0])? {
        Some(row) => rows::project(&row),
        None => Err(StoreError::ProjectNotFound(id).into()),
    }
}

pub(crate) fn all(tx: &mut Tx<'_>) -> TxResult<Vec<Project>> {
    let sql = format!("SELECT {PROJECT_COLUMNS} FROM projects ORDER BY id");
    let found = tx.query(&sql, &[])?;
    rows::all(found, rows::project)
}

pub(crate) fn exists(tx: &mut Tx<'_>, id: ProjectId) -> TxResult<bool> {
    Ok(tx
        .query_opt("SELECT 1 FROM projects WHERE id = $1", &[&id.0])?
        .is_some())
}
