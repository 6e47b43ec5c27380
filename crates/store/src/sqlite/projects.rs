//! Projects: one row per repository root.

use super::retry::TxResult;
use super::rows::{self, PROJECT_COLUMNS};
use crate::{NewProject, StoreError, rules};
use gaffer_core::{Project, ProjectId};
use rusqlite::{Connection, params};

pub(super) fn upsert(conn: &Connection, p: &NewProject, now: i64) -> TxResult<Project> {
    rules::input::project(p)?;
    let sql = format!(
        "INSERT INTO projects (name, root, target, created_ms) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (root) DO UPDATE SET name = excluded.name, target = excluded.target
         RETURNING {PROJECT_COLUMNS}"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    rows::first(
        &mut stmt,
        params![p.name, p.root, p.target, now],
        rows::project,
    )?
    .ok_or_else(|| StoreError::Database("upsert returned no project".into()).into())
}

pub(super) fn get(conn: &Connection, id: ProjectId) -> TxResult<Project> {
    let sql = format!("SELECT {PROJECT_COLUMNS} FROM projects WHERE id = ?1");
    let mut stmt = conn.prepare_cached(&sql)?;
    rows::first(&mut stmt, [id.0], rows::project)?
        .ok_or_else(|| StoreError::ProjectNotFound(id).into())
}

pub(super) fn all(conn: &Connection) -> TxResult<Vec<Project>> {
    let sql = format!("SELECT {PROJECT_COLUMNS} FROM projects ORDER BY id");
    let mut stmt = conn.prepare_cached(&sql)?;
    rows::collect(&mut stmt, [], rows::project)
}

pub(super) fn exists(conn: &Connection, id: ProjectId) -> TxResult<bool> {
    let mut stmt = conn.prepare_cached("SELECT 1 FROM projects WHERE id = ?1")?;
    Ok(stmt.exists([id.0])?)
}
