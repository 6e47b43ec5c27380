//! Moving a board in or out: [`crate::Store::export_rows`], [`crate::Store::import_rows`] and
//! [`crate::Store::import_events`].

use super::events;
use super::retry::TxResult;
use super::rows::{
    self, JOB_COLUMNS, PROJECT_COLUMNS, RUN_COLUMNS, TASK_COLUMNS, WORKER_TOKEN_COLUMNS,
};
use crate::{BoardRows, JobRow, RunRow, WorkerTokenRow, rules};
use gaffer_core::{Event, Job, Project, Run, Task};
use rusqlite::{Connection, params};

/// Every row but the events, inside the caller's read transaction (one snapshot).
pub(super) fn export(conn: &Connection) -> TxResult<BoardRows> {
    let projects = all(conn, PROJECT_COLUMNS, "projects", "", rows::project)?;
    let tasks = all(conn, TASK_COLUMNS, "tasks", "", rows::task)?;
    let runs = all(conn, RUN_COLUMNS, "runs", ", project", |row| {
        Ok(RunRow {
            run: rows::run(row)?,
            project: gaffer_core::ProjectId(row.get(18)?),
        })
    })?;
    let jobs = all(
        conn,
        JOB_COLUMNS,
        "jobs",
        ", exhausted, acknowledged",
        |row| {
            Ok(JobRow {
                job: rows::job(row)?,
                exhausted: row.get(15)?,
                acknowledged: row.get(16)?,
            })
        },
    )?;
    let worker_tokens = all(
        conn,
        WORKER_TOKEN_COLUMNS,
        "worker_tokens",
        ", hash",
        |row| {
            Ok(WorkerTokenRow {
                token: rows::worker_token(row)?,
                hash: row.get(7)?,
            })
        },
    )?;
    Ok(BoardRows {
        projects,
        tasks,
        runs,
        jobs,
        worker_tokens,
    })
}

/// The rows of `table` by id: the usual columns, then `extra` (starting with a comma).
fn all<T>(
    conn: &Connection,
    columns: &str,
    table: &str,
    extra: &str,
    decode: fn(&rusqlite::Row) -> TxResult<T>,
) -> TxResult<Vec<T>> {
    let sql = format!("SELECT {columns}{extra} FROM {table} ORDER BY id");
    let mut stmt = conn.prepare(&sql)?;
    rows::collect(&mut stmt, [], decode)
}

/// Writes `board` into this empty store, inside the caller's write transaction.
pub(super) fn import(conn: &Connection, board: &BoardRows) -> TxResult<()> {
    let mut held = Vec::new();
    for table in ["projects", "tasks", "runs", "jobs", "events"] {
        let n: i64 = conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))?;
        held.push((table, u64::try_from(n).unwrap_or(0)));
    }
    rules::import::into_empty(&held)?;
    rules::import::rows(board)?;
    // The rows reference each other in any order (a child's sibling dependency has a higher id);
    // they were checked above, and SQLite checks the keys again at commit.
    conn.pragma_update(None, "defer_foreign_keys", "ON")?;
    for p in &board.projects {
        project(conn, p)?;
    }
    for t in &board.tasks {
        task(conn, t)?;
    }
    for j in &board.jobs {
        job(conn, j)?;
    }
    for r in &board.runs {
        run(conn, r)?;
    }
    for w in &board.worker_tokens {
        worker_token(conn, w)?;
    }
    // Ids are INTEGER PRIMARY KEYs: SQLite hands out max(id) + 1 next, past every imported one.
    Ok(())
}

fn project(conn: &Connection, p: &Project) -> TxResult<()> {
    conn.prepare_cached(
        "INSERT INTO projects (id, name, root, target, created_ms) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![p.id.0, p.name, p.root, p.target, p.created_ms])?;
    Ok(())
}

fn task(conn: &Connection, t: &Task) -> TxResult<()> {
    conn.prepare_cached(
        "INSERT INTO tasks (id, project, title, body, kind, priority, labels, parent, blocked_by,
             write_scope, read_scope, budget_usd, branch, plan, state, status, version,
             created_ms, updated_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17,
             ?18, ?19)",
    )?
    .execute(params![
        t.id.0,
        t.project.0,
        t.title,
        t.body,
        t.kind.as_str(),
        t.priority,
        rows::to_json(&t.labels)?,
        t.parent.map(|p| p.0),
        rows::to_json(&t.blocked_by)?,
        rows::to_json(&t.write_scope)?,
        rows::to_json(&t.read_scope)?,
        t.budget_usd,
        t.branch,
        t.plan.as_ref().map(rows::to_json).transpose()?,
        rows::to_json(&t.state)?,
        t.state.status.as_str(),
        t.version,
        t.created_ms,
        t.updated_ms,
    ])?;
    let mut dep =
        conn.prepare_cached("INSERT OR IGNORE INTO task_deps (task, depends_on) VALUES (?1, ?2)")?;
    for d in &t.blocked_by {
        dep.execute([t.id.0, d.0])?;
    }
    Ok(())
}

fn job(conn: &Connection, row: &JobRow) -> TxResult<()> {
    let j: &Job = &row.job;
    conn.prepare_cached(
        "INSERT INTO jobs (id, project, task, kind, spec, priority, status, attempts,
             max_attempts, lease_owner, lease_expires_ms, process, error, exhausted,
             acknowledged, created_ms, updated_ms, needs)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17,
             ?18)",
    )?
    .execute(params![
        j.id.0,
        j.project.0,
        j.task.map(|t| t.0),
        j.spec.kind().as_str(),
        rows::to_json(&j.spec)?,
        j.priority,
        j.status.as_str(),
        j.attempts,
        j.max_attempts,
        j.lease_owner,
        j.lease_expires_ms,
        j.process.as_ref().map(rows::to_json).transpose()?,
        j.error,
        row.exhausted,
        row.acknowledged,
        j.created_ms,
        j.updated_ms,
        rows::to_json(&j.needs)?,
    ])?;
    Ok(())
}

fn run(conn: &Connection, row: &RunRow) -> TxResult<()> {
    let r: &Run = &row.run;
    conn.prepare_cached(
        "INSERT INTO runs (id, project, task, job, role, tier, agent, backend, model, worktree,
             session_id, status, outcome, input_tokens, output_tokens, cached_tokens, cost_usd,
             started_ms, ended_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17,
             ?18, ?19)",
    )?
    .execute(params![
        r.id.0,
        row.project.0,
        r.task.0,
        r.job.map(|j| j.0),
        r.role.as_str(),
        r.tier,
        r.agent,
        r.backend,
        r.model,
        r.worktree,
        r.session_id,
        r.status.as_str(),
        r.outcome,
        rows::int(r.usage.input_tokens),
        rows::int(r.usage.output_tokens),
        rows::int(r.usage.cached_tokens),
        r.usage.cost_usd,
        r.started_ms,
        r.ended_ms,
    ])?;
    Ok(())
}

fn worker_token(conn: &Connection, row: &WorkerTokenRow) -> TxResult<()> {
    let t = &row.token;
    conn.prepare_cached(
        "INSERT INTO worker_tokens (id, project, name, labels, hash, created_ms, revoked_ms,
             last_used_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?
    .execute(params![
        t.id,
        t.project.0,
        t.name,
        rows::to_json(&t.labels)?,
        row.hash,
        t.created_ms,
        t.revoked_ms,
        t.last_used_ms,
    ])?;
    Ok(())
}

/// Appends `imported` with their own seqs, inside the caller's write transaction.
pub(super) fn import_events(conn: &Connection, imported: &[Event]) -> TxResult<()> {
    rules::import::event_seqs(events::last_seq(conn)?, imported)?;
    let mut stmt = conn.prepare_cached(
        "INSERT INTO events (seq, at_ms, project, task, run, kind, data)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?;
    for e in imported {
        // AUTOINCREMENT moves its counter up to an explicit seq: later appends follow it.
        stmt.execute(params![
            e.seq.0,
            e.at_ms,
            e.project.map(|p| p.0),
            e.task.map(|t| t.0),
            e.run.map(|r| r.0),
            e.kind,
            rows::to_json(&e.data)?,
        ])?;
    }
    Ok(())
}
