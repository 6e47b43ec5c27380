//! Turning rows into domain values, and domain values into column values. Anything stored that
//! does not decode is reported as [`StoreError::Corrupt`] with the table, row and column.

use super::retry::TxResult;
use crate::{StoreError, WorkerToken};
use gaffer_core::{
    Event, Job, JobId, JobSpec, JobStatus, ProcessRecord, Project, ProjectId, Run, RunId,
    RunStatus, Seq, Task, TaskId, Usage,
};
use rusqlite::Row;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::str::FromStr;

pub(super) const PROJECT_COLUMNS: &str = "id, name, root, target, created_ms";

pub(super) const TASK_COLUMNS: &str = "id, project, title, body, kind, priority, labels, parent, \
     blocked_by, write_scope, read_scope, budget_usd, branch, plan, state, version, created_ms, \
     updated_ms";

/// [`JOB_COLUMNS`] as a literal, for statements built with `concat!`.
macro_rules! job_columns {
    () => {
        "id, project, task, spec, priority, status, attempts, max_attempts, lease_owner, \
         lease_expires_ms, process, error, created_ms, updated_ms, needs"
    };
}
pub(super) use job_columns;

pub(super) const JOB_COLUMNS: &str = job_columns!();

pub(super) const RUN_COLUMNS: &str = "id, task, job, role, tier, agent, backend, model, worktree, \
     session_id, status, outcome, input_tokens, output_tokens, cached_tokens, cost_usd, \
     started_ms, ended_ms";

pub(super) const EVENT_COLUMNS: &str = "seq, at_ms, project, task, run, kind, data";

/// Never the hash: only a copy of the board reads it, by name.
pub(super) const WORKER_TOKEN_COLUMNS: &str =
    "id, project, name, labels, created_ms, revoked_ms, last_used_ms";

fn corrupt(table: &str, id: i64, column: &str, why: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{table} {id}, column {column}: {why}"))
}

/// Serializes a value for a JSON column.
pub(super) fn to_json<T: Serialize + ?Sized>(value: &T) -> TxResult<String> {
    serde_json::to_string(value)
        .map_err(|e| StoreError::Invalid(format!("cannot encode as JSON: {e}")).into())
}

fn json<T: DeserializeOwned>(row: &Row, idx: usize, table: &str, id: i64) -> TxResult<T> {
    let text: String = row.get(idx)?;
    serde_json::from_str(&text).map_err(|e| corrupt(table, id, column(row, idx), e).into())
}

fn json_opt<T: DeserializeOwned>(
    row: &Row,
    idx: usize,
    table: &str,
    id: i64,
) -> TxResult<Option<T>> {
    let text: Option<String> = row.get(idx)?;
    text.map(|t| serde_json::from_str(&t))
        .transpose()
        .map_err(|e| corrupt(table, id, column(row, idx), e).into())
}

/// A job's recorded process. One that does not decode is reported and read as none rather than
/// as a corrupt job: it only helps a restart kill what the job ran, and a job must stay readable.
fn process(row: &Row, idx: usize, id: i64) -> TxResult<Option<ProcessRecord>> {
    let text: Option<String> = row.get(idx)?;
    Ok(text.and_then(|t| match serde_json::from_str(&t) {
        Ok(record) => Some(record),
        Err(e) => {
            tracing::warn!(
                job = id,
                "ignoring a recorded process that does not decode: {e}"
            );
            None
        }
    }))
}

fn parsed<T: FromStr>(row: &Row, idx: usize, table: &str, id: i64) -> TxResult<T>
where
    T::Err: std::fmt::Display,
{
    let text: String = row.get(idx)?;
    text.parse()
        .map_err(|e| corrupt(table, id, column(row, idx), e).into())
}

fn unsigned<T: TryFrom<i64>>(row: &Row, idx: usize, table: &str, id: i64) -> TxResult<T> {
    let n: i64 = row.get(idx)?;
    T::try_from(n)
        .map_err(|_| corrupt(table, id, column(row, idx), format!("{n} out of range")).into())
}

fn column<'a>(row: &'a Row, idx: usize) -> &'a str {
    row.as_ref().column_name(idx).unwrap_or("?")
}

/// Stores an unsigned counter in an INTEGER column (saturating far beyond any real value).
pub(super) fn int<T: TryInto<i64>>(n: T) -> i64 {
    n.try_into().unwrap_or(i64::MAX)
}

pub(super) fn project(row: &Row) -> TxResult<Project> {
    Ok(Project {
        id: ProjectId(row.get(0)?),
        name: row.get(1)?,
        root: row.get(2)?,
        target: row.get(3)?,
        created_ms: row.get(4)?,
    })
}

pub(super) fn task(row: &Row) -> TxResult<Task> {
    let id: i64 = row.get(0)?;
    let t = "task";
    Ok(Task {
        id: TaskId(id),
        project: ProjectId(row.get(1)?),
        title: row.get(2)?,
        body: row.get(3)?,
        kind: parsed(row, 4, t, id)?,
        priority: row.get(5)?,
        labels: json(row, 6, t, id)?,
        parent: row.get::<_, Option<i64>>(7)?.map(TaskId),
        blocked_by: json(row, 8, t, id)?,
        write_scope: json(row, 9, t, id)?,
        read_scope: json(row, 10, t, id)?,
        budget_usd: row.get(11)?,
        branch: row.get(12)?,
        plan: json_opt(row, 13, t, id)?,
        state: json(row, 14, t, id)?,
        version: row.get(15)?,
        created_ms: row.get(16)?,
        updated_ms: row.get(17)?,
    })
}

pub(super) fn job(row: &Row) -> TxResult<Job> {
    let id: i64 = row.get(0)?;
    let t = "job";
    let status: String = row.get(5)?;
    Ok(Job {
        id: JobId(id),
        project: ProjectId(row.get(1)?),
        task: row.get::<_, Option<i64>>(2)?.map(TaskId),
        spec: json::<JobSpec>(row, 3, t, id)?,
        priority: row.get(4)?,
        status: JobStatus::parse(&status)
            .ok_or_else(|| corrupt(t, id, "status", format!("unknown status `{status}`")))?,
        attempts: unsigned(row, 6, t, id)?,
        max_attempts: unsigned(row, 7, t, id)?,
        lease_owner: row.get(8)?,
        lease_expires_ms: row.get(9)?,
        process: process(row, 10, id)?,
        error: row.get(11)?,
        created_ms: row.get(12)?,
        updated_ms: row.get(13)?,
        needs: json::<Vec<String>>(row, 14, t, id)?,
    })
}

pub(super) fn run(row: &Row) -> TxResult<Run> {
    let id: i64 = row.get(0)?;
    let t = "run";
    let status: String = row.get(10)?;
    Ok(Run {
        id: RunId(id),
        task: TaskId(row.get(1)?),
        job: row.get::<_, Option<i64>>(2)?.map(JobId),
        role: parsed(row, 3, t, id)?,
        tier: unsigned(row, 4, t, id)?,
        agent: row.get(5)?,
        backend: row.get(6)?,
        model: row.get(7)?,
        worktree: row.get(8)?,
        session_id: row.get(9)?,
        status: RunStatus::parse(&status)
            .ok_or_else(|| corrupt(t, id, "status", format!("unknown status `{status}`")))?,
        outcome: row.get(11)?,
        usage: Usage {
            input_tokens: unsigned(row, 12, t, id)?,
            output_tokens: unsigned(row, 13, t, id)?,
            cached_tokens: unsigned(row, 14, t, id)?,
            cost_usd: row.get(15)?,
        },
        started_ms: row.get(16)?,
        ended_ms: row.get(17)?,
    })
}

pub(super) fn worker_token(row: &Row) -> TxResult<WorkerToken> {
    let id: i64 = row.get(0)?;
    Ok(WorkerToken {
        id,
        project: ProjectId(row.get(1)?),
        name: row.get(2)?,
        labels: json(row, 3, "worker token", id)?,
        created_ms: row.get(4)?,
        revoked_ms: row.get(5)?,
        last_used_ms: row.get(6)?,
    })
}

pub(super) fn event(row: &Row) -> TxResult<Event> {
    let seq: i64 = row.get(0)?;
    Ok(Event {
        seq: Seq(seq),
        at_ms: row.get(1)?,
        project: row.get::<_, Option<i64>>(2)?.map(ProjectId),
        task: row.get::<_, Option<i64>>(3)?.map(TaskId),
        run: row.get::<_, Option<i64>>(4)?.map(RunId),
        kind: row.get(5)?,
        data: json(row, 6, "event", seq)?,
    })
}

/// Runs a query and decodes every row with `decode`.
pub(super) fn collect<T>(
    stmt: &mut rusqlite::Statement<'_>,
    params: impl rusqlite::Params,
    decode: fn(&Row) -> TxResult<T>,
) -> TxResult<Vec<T>> {
    let mut rows = stmt.query(params)?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        out.push(decode(row)?);
    }
    Ok(out)
}

/// Runs a query expected to return at most one row.
pub(super) fn first<T>(
    stmt: &mut rusqlite::Statement<'_>,
    params: impl rusqlite::Params,
    decode: fn(&Row) -> TxResult<T>,
) -> TxResult<Option<T>> {
    let mut rows = stmt.query(params)?;
    match rows.next()? {
        Some(row) => Ok(Some(decode(row)?)),
        None => Ok(None),
    }
}
