//! Agent runs and the usage they recorded.

use crate::error::TxResult;
use crate::events;
use crate::rows::{self, RUN_COLUMNS};
use crate::tx::Tx;
use gaffer_core::{Event, JobId, NewRun, ProjectId, Run, RunId, RunStatus, TaskId, Usage};
use gaffer_store::{RunFinish, StoreError, UsageDimension, UsageRow, UsageTotals, rules};
use postgres::Row;

pub(crate) fn start(tx: &mut Tx<'_>, r: &NewRun, now: i64) -> TxResult<Run> {
    let project = events::project_of_task(tx, r.task)?;
    if let Some(job) = r.job {
        let known = tx
            .query_opt("SELECT 1 FROM jobs WHERE id = $1", &[&job.0])?
            .is_some();
        if !known {
            return Err(StoreError::JobNotFound(job).into());
        }
    }
    let row = tx.query_one(
        "INSERT INTO runs (project, task, job, role, tier, agent, backend, model, worktree,
             status, started_ms)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'running', $10)
         RETURNING id",
        &[
            &project.0,
            &r.task.0,
            &r.job.map(|j| j.0),
            &r.role.as_str(),
            &i64::from(r.tier),
            &r.agent,
            &r.backend,
            &r.model,
            &r.worktree,
            &now,
        ],
    )?;
    let run = Run {
        id: RunId(row.try_get(0)?),
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
    events::insert(tx, &[rules::events::run_started(project, &run)], now)?;
    Ok(run)
}

pub(crate) fn set_session(tx: &mut Tx<'_>, run: RunId, session: &str) -> TxResult<()> {
    let changed = tx.execute(
        "UPDATE runs SET session_id = $2 WHERE id = $1",
        &[&run.0, &session],
    )?;
    if changed == 0 {
        return Err(StoreError::RunNotFound(run).into());
    }
    Ok(())
}

/// Ends a running run and writes its `run.finished` event. A run ends once: it is read under
/// its row lock, so two commits finishing one run cannot both see it running.
pub(crate) fn finish(tx: &mut Tx<'_>, f: &RunFinish, now: i64) -> TxResult<Event> {
    rules::input::run_end(f)?;
    let sql = format!("SELECT {RUN_COLUMNS} FROM runs WHERE id = $1 FOR NO KEY UPDATE");
    let current = match tx.query_opt(&sql, &[&f.run.0])? {
        Some(row) => rows::run(&row)?,
        None => return Err(StoreError::RunNotFound(f.run).into()),
    };
    rules::input::run_still_running(&current)?;
    tx.execute(
        "UPDATE runs SET status = $2, outcome = $3, input_tokens = $4, output_tokens = $5,
             cached_tokens = $6, cost_usd = $7, session_id = coalesce($8, session_id),
             ended_ms = $9
         WHERE id = $1",
        &[
            &f.run.0,
            &f.status.as_str(),
            &f.outcome,
            &rows::int(f.usage.input_tokens),
            &rows::int(f.usage.output_tokens),
            &rows::int(f.usage.cached_tokens),
            &f.usage.cost_usd,
            &f.session_id,
            &now,
        ],
    )?;
    let event = rules::events::run_finished(f, &current, now);
    let mut written = events::insert(tx, &[event], now)?;
    written
        .pop()
        .ok_or_else(|| StoreError::Database("event insert returned nothing".into()).into())
}

pub(crate) fn mark_lost(
    tx: &mut Tx<'_>,
    task: Option<TaskId>,
    reason: &str,
    now: i64,
) -> TxResult<Vec<Run>> {
    lose(
        tx,
        "($1::BIGINT IS NULL OR task = $1)",
        task.map(|t| t.0),
        reason,
        now,
    )
}

/// Marks lost the runs `job` started that are still running (a job taken over from an owner
/// whose lease expired), with a `run.lost` event each.
pub(crate) fn mark_lost_of_job(
    tx: &mut Tx<'_>,
    job: JobId,
    reason: &str,
    now: i64,
) -> TxResult<Vec<Run>> {
    if tx
        .query_opt("SELECT 1 FROM jobs WHERE id = $1", &[&job.0])?
        .is_none()
    {
        return Err(StoreError::JobNotFound(job).into());
    }
    lose(tx, "job = $1", Some(job.0), reason, now)
}

/// Marks lost the running runs that `which` (a condition on `$1`, the id) selects, with a
/// `run.lost` event each, oldest first.
fn lose(
    tx: &mut Tx<'_>,
    which: &str,
    id: Option<i64>,
    reason: &str,
    now: i64,
) -> TxResult<Vec<Run>> {
    let sql = format!(
        "UPDATE runs SET status = 'lost', outcome = $2, ended_ms = $3
         WHERE status = 'running' AND {which}
         RETURNING {RUN_COLUMNS}"
    );
    let found = tx.query(&sql, &[&id, &reason, &now])?;
    let mut lost = rows::all(found, rows::run)?;
    lost.sort_by_key(|r| r.id);
    for r in &lost {
        events::insert(tx, &[rules::events::run_lost(r, reason)], now)?;
    }
    Ok(lost)
}

pub(crate) fn get(tx: &mut Tx<'_>, id: RunId) -> TxResult<Run> {
    let sql = format!("SELECT {RUN_COLUMNS} FROM runs WHERE id = $1");
    match tx.query_opt(&sql, &[&id.0])? {
        Some(row) => rows::run(&row),
        None => Err(StoreError::RunNotFound(id).into()),
    }
}

pub(crate) fn of_task(tx: &mut Tx<'_>, task: TaskId) -> TxResult<Vec<Run>> {
    let sql = format!("SELECT {RUN_COLUMNS} FROM runs WHERE task = $1 ORDER BY id");
    let found = tx.query(&sql, &[&task.0])?;
    rows::all(found, rows::run)
}

pub(crate) fn usage_totals(tx: &mut Tx<'_>, project: Option<ProjectId>) -> TxResult<UsageTotals> {
    usage_since(tx, project, i64::MIN)
}

/// The sums of the selected runs, as `count, input, output, cached, cost` columns.
const SUMS: &str = "count(*), coalesce(sum(input_tokens), 0)::BIGINT,
     coalesce(sum(output_tokens), 0)::BIGINT, coalesce(sum(cached_tokens), 0)::BIGINT,
     coalesce(sum(cost_usd), 0)::DOUBLE PRECISION";

/// `(runs, usage)` from the [`SUMS`] columns starting at `first`.
fn sums(row: &Row, first: usize) -> TxResult<(u64, Usage)> {
    let count = |idx: usize| -> TxResult<u64> {
        let n: i64 = row.try_get(first + idx)?;
        Ok(u64::try_from(n).unwrap_or(0))
    };
    Ok((
        count(0)?,
        Usage {
            input_tokens: count(1)?,
            output_tokens: count(2)?,
            cached_tokens: count(3)?,
            cost_usd: row.try_get(first + 4)?,
        },
    ))
}

/// Usage summed over the runs (of `project`, or all) that started at or after `since_ms`.
pub(crate) fn usage_since(
    tx: &mut Tx<'_>,
    project: Option<ProjectId>,
    since_ms: i64,
) -> TxResult<UsageTotals> {
    let sql = format!(
        "SELECT {SUMS} FROM runs WHERE ($1::BIGINT IS NULL OR project = $1) AND started_ms >= $2"
    );
    let row = tx.query_one(&sql, &[&project.map(|p| p.0), &since_ms])?;
    let (runs, usage) = sums(&row, 0)?;
    Ok(UsageTotals { runs, usage })
}

/// Usage summed per value of `by`, highest cost first, then by key (compared byte by byte, as
/// SQLite does, whatever the database's collation).
pub(crate) fn usage_breakdown(
    tx: &mut Tx<'_>,
    project: Option<ProjectId>,
    by: UsageDimension,
) -> TxResult<Vec<UsageRow>> {
    // The grouping expression comes from this fixed list, never from the caller's text.
    let key = match by {
        UsageDimension::Task => "task::TEXT",
        UsageDimension::Role => "role",
        UsageDimension::Model => "model",
        UsageDimension::Agent => "agent",
        UsageDimension::Day => {
            "to_char(to_timestamp(started_ms / 1000) AT TIME ZONE 'UTC', 'YYYY-MM-DD')"
        }
    };
    let sql = format!(
        "SELECT ({key}) COLLATE \"C\" AS k, {SUMS}
         FROM runs WHERE $1::BIGINT IS NULL OR project = $1
         GROUP BY k
         ORDER BY 6 DESC, k"
    );
    let found = tx.query(&sql, &[&project.map(|p| p.0)])?;
    found
        .iter()
        .map(|row| {
            let (runs, usage) = sums(row, 1)?;
            Ok(UsageRow {
                key: row.try_get::<_, Option<String>>(0)?.unwrap_or_default(),
                runs,
                usage,
            })
        })
        .collect()
}
