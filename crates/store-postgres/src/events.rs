//! The append-only event log.
//!
//! Seqs come from the one-row `event_counter` table (see the migration): taking its row lock
//! makes event-writing transactions commit in seq order, so a reader that has seen seq `n`
//! will never later find a smaller one appear.

use crate::error::TxResult;
use crate::rows::{self, EVENT_COLUMNS};
use crate::tx::Tx;
use gaffer_core::{Event, NewEvent, ProjectId, RunId, Seq, TaskId};
use gaffer_store::{EventFilter, StoreError, rules};
use postgres::types::ToSql;
use std::cell::RefCell;

/// Appends `events` at time `now`, in order, and returns them as stored, their missing
/// references completed ([`rules::events::complete_refs`]).
pub(crate) fn insert(tx: &mut Tx<'_>, events: &[NewEvent], now: i64) -> TxResult<Vec<Event>> {
    if events.is_empty() {
        return Ok(Vec::new());
    }
    let mut complete = Vec::with_capacity(events.len());
    for e in events {
        let mut e = e.clone();
        rules::input::event(&e)?;
        // Both lookups need the transaction; they run one after the other.
        let cell = RefCell::new(&mut *tx);
        rules::events::complete_refs(
            &mut e,
            |run| task_of_run(&mut cell.borrow_mut(), run),
            |task| project_of_task(&mut cell.borrow_mut(), task),
        )?;
        complete.push(e);
    }
    let count = rows::int(complete.len());
    let last: i64 = tx
        .query_one(
            "UPDATE event_counter SET last = last + $1 RETURNING last",
            &[&count],
        )?
        .try_get(0)?;
    let mut out = Vec::with_capacity(complete.len());
    for (seq, e) in (last - count + 1..).zip(complete) {
        let data = rows::to_json(&e.data)?;
        tx.execute(
            "INSERT INTO events (seq, at_ms, project, task, run, kind, data)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
            &[
                &seq,
                &now,
                &e.project.map(|p| p.0),
                &e.task.map(|t| t.0),
                &e.run.map(|r| r.0),
                &e.kind,
                &data,
            ],
        )?;
        out.push(Event {
            seq: Seq(seq),
            at_ms: now,
            project: e.project,
            task: e.task,
            run: e.run,
            kind: e.kind,
            data: e.data,
        });
    }
    tx.events_appended(last);
    Ok(out)
}

pub(crate) fn project_of_task(tx: &mut Tx<'_>, task: TaskId) -> TxResult<ProjectId> {
    match tx.query_opt("SELECT project FROM tasks WHERE id = $1", &[&task.0])? {
        Some(row) => Ok(ProjectId(row.try_get(0)?)),
        None => Err(StoreError::TaskNotFound(task).into()),
    }
}

fn task_of_run(tx: &mut Tx<'_>, run: RunId) -> TxResult<TaskId> {
    match tx.query_opt("SELECT task FROM runs WHERE id = $1", &[&run.0])? {
        Some(row) => Ok(TaskId(row.try_get(0)?)),
        None => Err(StoreError::RunNotFound(run).into()),
    }
}

pub(crate) fn after(
    tx: &mut Tx<'_>,
    after: Seq,
    limit: usize,
    filter: &EventFilter,
) -> TxResult<Vec<Event>> {
    // Only the conditions asked for, so that each variant is planned for the index it can use.
    let mut sql = format!("SELECT {EVENT_COLUMNS} FROM events WHERE seq > $1");
    let mut args: Vec<Box<dyn ToSql + Sync>> = vec![Box::new(after.0)];
    let mut arg = |sql: &mut String, condition: &str, value: Box<dyn ToSql + Sync>| {
        args.push(value);
        sql.push_str(&condition.replace('?', &format!("${}", args.len())));
    };
    if let Some(p) = filter.project {
        arg(&mut sql, " AND project = ?", Box::new(p.0));
    }
    if let Some(t) = filter.task {
        arg(&mut sql, " AND task = ?", Box::new(t.0));
    }
    if let Some(r) = filter.run {
        arg(&mut sql, " AND run = ?", Box::new(r.0));
    }
    if let Some(prefix) = &filter.kind_prefix {
        // Not LIKE: `_` and `%` are common in kinds and must match literally.
        arg(
            &mut sql,
            " AND starts_with(kind, ?)",
            Box::new(prefix.clone()),
        );
    }
    arg(
        &mut sql,
        " ORDER BY seq LIMIT ?",
        Box::new(rows::int(limit)),
    );
    let params: Vec<&(dyn ToSql + Sync)> = args.iter().map(|a| a.as_ref()).collect();
    let found = tx.query(&sql, &params)?;
    rows::all(found, rows::event)
}

pub(crate) fn last_seq(tx: &mut Tx<'_>) -> TxResult<Seq> {
    Ok(Seq(tx
        .query_one("SELECT last FROM event_counter", &[])?
        .try_get(0)?))
}
