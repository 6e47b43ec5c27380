//! Turning rows into domain values, and domain values into column values. Anything stored that
//! does not decode is reported as [`StoreError::Corrupt`] with the table, row and column.

use crate::error::TxResult;
use gaffer_core::{
    Event, Job, JobId, JobSpec, JobStatus, ProcessRecord, Project, ProjectId, Run, RunId,
    RunStatus, Seq, Task, TaskId, Usage,
};
use gaffer_store::{StoreError, WorkerToken};
use postgres::Row;
use postgres::types::FromSqlOwned;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::str::FromStr;

pub(crate) const PROJECT_COLUMNS: &str = "id, name, root, target, created_ms";

pub(crate) const TASK_COLUMNS: &str = "id, project, title, body, kind, priority, labels, parent, \
     blocked_by, write_scope, read_scope, budget_usd, branch, plan, state, version, created_ms, \
     updated_ms";

pub(crate) const JOB_COLUMNS: &str = "id, project, task, spec, priority, status, attempts, \
     max_attempts, lease_owner, lease_expires_ms, process, error, created_ms, updated_ms, needs";

pub(crate) const RUN_COLUMNS: &str = "id, task, job, role, tier, agent, backend, model, worktree, \
     session_id, status, outcome, input_tokens, output_tokens, cached_tokens, cost_usd, \
     started_ms, ended_ms";

pub(crate) const EVENT_COLUMNS: &str = "seq, at_ms, project, task, run, kind, data";

/// Never the hash: only a copy of the board reads it, by name.
pub(crate) const WORKER_TOKEN_COLUMNS: &str =
    "id, project, name, labels, created_ms, revoked_ms, last_used_ms";

fn corrupt(table: &str, id: i64, column: &str, why: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{table} {id}, column {column}: {why}"))
}

/// Serializes a value for a JSON column.
pub(crate) fn to_json<T: Serialize + ?Sized>(value: &T) -> TxResult<String> {
    serde_json::to_string(value)
        .map_err(|e| StoreError::Invalid(format!("cannot encode as JSON: {e}")).into())
}

/// Stores an unsigned counter in a BIGINT column (saturating far beyond any real value).
pub(crate) fn int<T: TryInto<i64>>(n: T) -> i64 {
    n.try_into().unwrap_or(i64::MAX)
}

fn get<T: FromSqlOwned>(row: &Row, idx: usize) -> TxResult<T> {
    Ok(row.try_get(idx)?)
}

fn column(row: &Row, idx: usize) -> &str {
    row.columns().get(idx).map_or("?", |c| c.name())
}

fn json<T: DeserializeOwned>(row: &Row, idx: usize, table: &str, id: i64) -> TxResult<T> {
    let text: String = get(row, idx)?;
    serde_json::from_str(&text).map_err(|e| corrupt(table, id, column(row, idx), e).into())
}

fn json_opt<T: DeserializeOwned>(
    row: &Row,
    idx: usize,
    table: &str,
    id: i64,
) -> TxResult<Option<T>> {
    let text: Option<String> = get(row, idx)?;
    text.map(|t| serde_json::from_str(&t))
        .transpose()
        .map_err(|e| corrupt(table, id, column(row, idx), e).into())
}

/// A job's recorded process. One that does not decode is reported and read as none rather than
/// as a corrupt job: it only helps a restart kill what the job ran, and a job must stay readable.
fn process(row: &Row, idx: usize, id: i64) -> TxResult<Option<ProcessRecord>> {
    let text: Option<String> = get(row, idx)?;
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
    let text: String = get(row, idx)?;
    text.parse()
        .map_err(|e| corrupt(table, id, column(row, idx), e).into())
}

fn unsigned<T: TryFrom<i64>>(row: &Row, idx: usize, table: &str, id: i64) -> TxResult<T> {
    let n: i64 = get(row, idx)?;
    T::try_from(n)
        .map_err(|_| corrupt(table, id, column(row, idx), format!("{n} out of range")).into())
}

pub(crate) fn project(row: &Row) -> TxResult<Project> {
    Ok(Project {
        id: ProjectId(get(row, 0)?),
        name: get(row, 1)?,
        root: get(row, 2)?,
        target: get(row, 3)?,
        created_ms: get(row, 4)?,
    })
}

pub(crate) fn task(row: &Row) -> TxResult<Task> {
    let id: i64 = get(row, 0)?;
    let t = "task";
    Ok(Task {
        id: TaskId(id),
        project: ProjectId(get(row, 1)?),
        title: get(row, 2)?,
        body: get(row, 3)?,
        kind: parsed(row, 4, t, id)?,
        priority: get(row, 5)?,
        labels: json(row, 6, t, id)?,
        parent: get::<Option<i64>>(row, 7)?.map(TaskId),
        blocked_by: json(row, 8, t, id)?,
        write_scope: json(row, 9, t, id)?,
        read_scope: json(row, 10, t, id)?,
        budget_usd: get(row, 11)?,
        branch: get(row, 12)?,
        plan: json_opt(row, 13, t, id)?,
        state: json(row, 14, t, id)?,
        version: get(row, 15)?,
        created_ms: get(row, 16)?,
        updated_ms: get(row, 17)?,
    })
}

pub(crate) fn job(row: &Row) -> TxResult<Job> {
    let id: i64 = get(row, 0)?;
    let t = "job";
    let status: String = get(row, 5)?;
    Ok(Job {
        id: JobId(id),
        project: ProjectId(get(row, 1)?),
        task: get::<Option<i64>>(row, 2)?.map(TaskId),
        spec: json::<JobSpec>(row, 3, t, id)?,
        priority: get(row, 4)?,
        status: JobStatus::parse(&status)
            .ok_or_else(|| corrupt(t, id, "status", format!("unknown status `{status}`")))?,
        attempts: unsigned(row, 6, t, id)?,
        max_attempts: unsigned(row, 7, t, id)?,
        lease_owner: get(row, 8)?,
        lease_expires_ms: get(row, 9)?,
        process: process(row, 10, id)?,
        error: get(row, 11)?,
        created_ms: get(row, 12)?,
        updated_ms: get(row, 13)?,
        needs: json::<Vec<String>>(row, 14, t, id)?,
    })
}

pub(crate) fn run(row: &Row) -> TxResult<Run> {
    let id: i64 = get(row, 0)?;
    let t = "run";
    let status: String = get(row, 10)?;
    Ok(Run {
        id: RunId(id),
        task: TaskId(get(row, 1)?),
        job: get::<Option<i64>>(row, 2)?.map(JobId),
        role: parsed(row, 3, t, id)?,
        tier: unsigned(row, 4, t, id)?,
        agent: get(row, 5)?,
        backend: get(row, 6)?,
        model: get(row, 7)?,
        worktree: get(row, 8)?,
        session_id: get(row, 9)?,
        status: RunStatus::parse(&status)
            .ok_or_else(|| corrupt(t, id, "status", format!("unknown status `{status}`")))?,
        outcome: get(row, 11)?,
        usage: Usage {
            input_tokens: unsigned(row, 12, t, id)?,
            output_tokens: unsigned(row, 13, t, id)?,
            cached_tokens: unsigned(row, 14, t, id)?,
            cost_usd: get(row, 15)?,
        },
        started_ms: get(row, 16)?,
        ended_ms: get(row, 17)?,
    })
}

pub(crate) fn worker_token(row: &Row) -> TxResult<WorkerToken> {
    let id: i64 = get(row, 0)?;
    Ok(WorkerToken {
        id,
        project: ProjectId(get(row, 1)?),
        name: get(row, 2)?,
        labels: json(row, 3, "worker token", id)?,
        created_ms: get(row, 4)?,
        revoked_ms: get(row, 5)?,
        last_used_ms: get(row, 6)?,
    })
}

pub(crate) fn event(row: &Row) -> TxResult<Event> {
    let seq: i64 = get(row, 0)?;
    Ok(Event {
        seq: Seq(seq),
        at_ms: get(row, 1)?,
        project: get::<Option<i64>>(row, 2)?.map(ProjectId),
        task: get::<Option<i64>>(row, 3)?.map(TaskId),
        run: get::<Option<i64>>(row, 4)?.map(RunId),
        kind: get(row, 5)?,
        data: json(row, 6, "event", seq)?,
    })
}

/// Decodes every row with `decode`.
pub(crate) fn all<T>(rows: Vec<Row>, decode: fn(&Row) -> TxResult<T>) -> TxResult<Vec<T>> {
    rows.iter().map(decode).collect()
}
