//! Agent runs and the usage they recorded.

use super::events;
use super::retry::TxResult;
use super::rows::{self, RUN_COLUMNS};
use crate::{RunFinish, StoreError, UsageDimension, UsageRow, UsageTotals, rules};
use gaffer_core::{Event, JobId, NewRun, ProjectId, Run, RunId, RunStatus, TaskId, Usage};
use rusqlite::{Connection, params};

pub(super) fn start(conn: &Connection, r: &NewRun, now: i64) -> TxResult<Run> {
    let project = events::project_of_task(conn, r.task)?;
    if let Some(job) = r.job {
        let known = conn
            .prepare_cached("SELECT 1 FROM jobs WHERE id = ?1")?
            .exists([job.0])?;
        if !known {
            return Err(StoreError::JobNotFound(job).into());
        }
    }
    conn.prepare_cached(
        "INSERT INTO runs (project, task, job, role, tier, agent, backend, model, worktree,
             status, started_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 'running', ?10)",
    )?
    .execute(params![
        project.0,
        r.task.0,
        r.job.map(|j| j.0),
        r.role.as_str(),
        r.tier,
        r.agent,
        r.backend,
        r.model,
        r.worktree,
        now
    ])?;
    let run = Run {
        id: RunId(conn.last_insert_rowid()),
        task: r.task,
        job: r.job,
        role: r.role,
        tier: r.tier,
        agent: r.agent.clone(),
        backend: r.backend.clone(),
        model: r.model.clone(),
        worktree: r.worktree.clone(),
        session_id: None,
        status: RunStatus::Running,
        outcome: None,
        usage: Usage::default(),
        started_ms: now,
        ended_ms: None,
    };
    events::insert(conn, &[rules::events::run_started(project, &run)], now)?;
    Ok(run)
}

pub(super) fn set_session(conn: &Connection, run: RunId, session: &str) -> TxResult<()> {
    let changed = conn
        .prepare_cached("UPDATE runs SET session_id = ?2 WHERE id = ?1")?
        .execute(params![run.0, session])?;
    if changed == 0 {
        return Err(StoreError::RunNotFound(run).into());
    }
    Ok(())
}

/// Ends a running run and writes its `run.finished` event. A run ends once.
pub(super) fn finish(conn: &Connection, f: &RunFinish, now: i64) -> TxResult<Event> {
    rules::input::run_end(f)?;
    let current = get(conn, f.run)?;
    rules::input::run_still_running(&current)?;
    conn.prepare_cached(
        "UPDATE runs SET status = ?2, outcome = ?3, input_tokens = ?4, output_tokens = ?5,
             cached_tokens = ?6, cost_usd = ?7, session_id = coalesce(?8, session_id),
             ended_ms = ?9
         WHERE id = ?1",
    )?
    .execute(params![
        f.run.0,
        f.status.as_str(),
        f.outcome,
        rows::int(f.usage.input_tokens),
        rows::int(f.usage.output_tokens),
        rows::int(f.usage.cached_tokens),
        f.usage.cost_usd,
        f.session_id,
        now
    ])?;
    let event = rules::events::run_finished(f, &current, now);
    let mut written = events::insert(conn, &[event], now)?;
    written
        .pop()
        .ok_or_else(|| StoreError::Database("event insert returned nothing".into()).into())
}

pub(super) fn mark_lost(
    conn: &Connection,
    task: Option<TaskId>,
    reason: &str,
    now: i64,
) -> TxResult<Vec<Run>> {
    lose(
        conn,
        "(?1 IS NULL OR task = ?1)",
        task.map(|t| t.0),
        reason,
        now,
    )
}

/// Marks the running runs of `job` lost, with an event each.
pub(super) fn mark_lost_of_job(
    conn: &Connection,
    job: JobId,
    reason: &str,
    now: i64,
) -> TxResult<Vec<Run>> {
    let known = conn
        .prepare_cached("SELECT 1 FROM jobs WHERE id = ?1")?
        .exists([job.0])?;
    if !known {
        return Err(StoreError::JobNotFound(job).into());
    }
    lose(conn, "job = ?1", Some(job.0), reason, now)
}

/// Marks lost the running runs that `which` (a condition on `?1`, the id) selects, with a
/// `run.lost` event each, oldest first.
fn lose(
    conn: &Connection,
    which: &str,
    id: Option<i64>,
    reason: &str,
    now: i64,
) -> TxResult<Vec<Run>> {
    let sql = format!(
        "UPDATE runs SET status = 'lost', outcome = ?2, ended_ms = ?3
         WHERE status = 'running' AND {which}
         RETURNING {RUN_COLUMNS}"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut lost = rows::collect(&mut stmt, params![id, reason, now], rows::run)?;
    lost.sort_by_key(|r| r.id);
    for r in &lost {
        events::insert(conn, &[rules::events::run_lost(r, reason)], now)?;
    }
    Ok(lost)
}

pub(super) fn get(conn: &Connection, id: RunId) -> TxResult<Run> {
    let sql = format!("SELECT {RUN_COLUMNS} FROM runs WHERE id = ?1");
    let mut stmt = conn.prepare_cached(&sql)?;
    rows::first(&mut stmt, [id.0], rows::run)?.ok_or_else(|| StoreError::RunNotFound(id).into())
}

pub(super) fn of_task(conn: &Connection, task: TaskId) -> TxResult<Vec<Run>> {
    let sql = format!("SELECT {RUN_COLUMNS} FROM runs WHERE task = ?1 ORDER BY id");
    let mut stmt = conn.prepare_cached(&sql)?;
    rows::collect(&mut stmt, [task.0], rows::run)
}

pub(super) fn usage_totals(conn: &Connection, project: Option<ProjectId>) -> TxResult<UsageTotals> {
    usage_since(conn, project, i64::MIN)
}

/// Usage summed over the runs (of `project`, or all) that started at or after `since_ms`.
pub(super) fn usage_since(
    conn: &Connection,
    project: Option<ProjectId>,
    since_ms: i64,
) -> TxResult<UsageTotals> {
    let mut stmt = conn.prepare_cached(
        "SELECT count(*), coalesce(sum(input_tokens), 0), coalesce(sum(output_tokens), 0),
             coalesce(sum(cached_tokens), 0), coalesce(sum(cost_usd), 0.0)
         FROM runs WHERE (?1 IS NULL OR project = ?1) AND started_ms >= ?2",
    )?;
    let row: (i64, i64, i64, i64, f64) = stmt
        .query_row(params![project.map(|p| p.0), since_ms], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })?;
    let count = |n: i64| u64::try_from(n).unwrap_or(0);
    Ok(UsageTotals {
        runs: count(row.0),
        usage: Usage {
            input_tokens: count(row.1),
            output_tokens: count(row.2),
            cached_tokens: count(row.3),
            cost_usd: row.4,
        },
    })
}

/// Usage summed per value of `by`, highest cost first, then by key.
pub(super) fn usage_breakdown(
    conn: &Connection,
    project: Option<ProjectId>,
    by: UsageDimension,
) -> TxResult<Vec<UsageRow>> {
    // The grouping expression comes from this fixed list, never from the caller's text.
    let key = match by {
        UsageDimension::Task => "CAST(task AS TEXT)",
        UsageDimension::Role => "role",
        UsageDimension::Model => "model",
        UsageDimension::Agent => "agent",
        UsageDimension::Day => "strftime('%Y-%m-%d', started_ms / 1000, 'unixepoch')",
    };
    let sql = format!(
        "SELECT {key} AS k, count(*), coalesce(sum(input_tokens), 0),
             coalesce(sum(output_tokens), 0), coalesce(sum(cached_tokens), 0),
             coalesce(sum(cost_usd), 0.0) AS cost
         FROM runs WHERE ?1 IS NULL OR project = ?1
         GROUP BY k
         ORDER BY cost DESC, k"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    rows::collect(&mut stmt, [project.map(|p| p.0)], |r| {
        let count = |n: i64| u64::try_from(n).unwrap_or(0);
        Ok(UsageRow {
            key: r.get::<_, Option<String>>(0)?.unwrap_or_default(),
            runs: count(r.get(1)?),
            usage: Usage {
                input_tokens: count(r.get(2)?),
                output_tokens: count(r.get(3)?),
                cached_tokens: count(r.get(4)?),
                cost_usd: r.get(5)?,
            },
        })
    })
}
