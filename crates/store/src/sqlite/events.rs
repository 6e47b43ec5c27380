//! The append-only event log.

use super::retry::TxResult;
use super::rows::{self, EVENT_COLUMNS};
use crate::{EventFilter, StoreError, rules};
use gaffer_core::{Event, NewEvent, ProjectId, RunId, Seq, TaskId};
use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension, params, params_from_iter};

/// Appends `events` at time `now`, in order, and returns them as stored, their missing
/// references completed ([`rules::events::complete_refs`]).
pub(super) fn insert(conn: &Connection, events: &[NewEvent], now: i64) -> TxResult<Vec<Event>> {
    let mut out = Vec::with_capacity(events.len());
    for e in events {
        let mut e = e.clone();
        rules::input::event(&e)?;
        rules::events::complete_refs(
            &mut e,
            |run| task_of_run(conn, run),
            |task| project_of_task(conn, task),
        )?;
        out.push(insert_one(conn, e, now)?);
    }
    Ok(out)
}

fn insert_one(conn: &Connection, e: NewEvent, now: i64) -> TxResult<Event> {
    let data = rows::to_json(&e.data)?;
    let mut stmt = conn.prepare_cached(
        "INSERT INTO events (at_ms, project, task, run, kind, data) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    stmt.execute(params![
        now,
        e.project.map(|p| p.0),
        e.task.map(|t| t.0),
        e.run.map(|r| r.0),
        e.kind,
        data
    ])?;
    Ok(Event {
        seq: Seq(conn.last_insert_rowid()),
        at_ms: now,
        project: e.project,
        task: e.task,
        run: e.run,
        kind: e.kind,
        data: e.data,
    })
}

pub(super) fn project_of_task(conn: &Connection, task: TaskId) -> TxResult<ProjectId> {
    let mut stmt = conn.prepare_cached("SELECT project FROM tasks WHERE id = ?1")?;
    stmt.query_row([task.0], |r| r.get(0))
        .optional()?
        .map(ProjectId)
        .ok_or_else(|| StoreError::TaskNotFound(task).into())
}

fn task_of_run(conn: &Connection, run: RunId) -> TxResult<TaskId> {
    let mut stmt = conn.prepare_cached("SELECT task FROM runs WHERE id = ?1")?;
    stmt.query_row([run.0], |r| r.get(0))
        .optional()?
        .map(TaskId)
        .ok_or_else(|| StoreError::RunNotFound(run).into())
}

pub(super) fn after(
    conn: &Connection,
    after: Seq,
    limit: usize,
    filter: &EventFilter,
) -> TxResult<Vec<Event>> {
    let mut sql = format!("SELECT {EVENT_COLUMNS} FROM events WHERE seq > ?");
    let mut args: Vec<Value> = vec![Value::Integer(after.0)];
    if let Some(p) = filter.project {
        sql.push_str(" AND project = ?");
        args.push(Value::Integer(p.0));
    }
    if let Some(t) = filter.task {
        sql.push_str(" AND task = ?");
        args.push(Value::Integer(t.0));
    }
    if let Some(r) = filter.run {
        sql.push_str(" AND run = ?");
        args.push(Value::Integer(r.0));
    }
    if let Some(prefix) = &filter.kind_prefix {
        // Not LIKE: `_` and `%` are common in kinds and must match literally.
        sql.push_str(" AND substr(kind, 1, length(?)) = ?");
        args.push(Value::Text(prefix.clone()));
        args.push(Value::Text(prefix.clone()));
    }
    sql.push_str(" ORDER BY seq LIMIT ?");
    args.push(Value::Integer(rows::int(limit)));
    let mut stmt = conn.prepare_cached(&sql)?;
    rows::collect(&mut stmt, params_from_iter(args), rows::event)
}

pub(super) fn last_seq(conn: &Connection) -> TxResult<Seq> {
    let mut stmt = conn.prepare_cached("SELECT coalesce(max(seq), 0) FROM events")?;
    Ok(Seq(stmt.query_row([], |r| r.get(0))?))
}
