//! Moving a board in or out: [`gaffer_store::Store::export_rows`], `import_rows` and
//! `import_events`, with the same checks as every store ([`rules::import`]).

use crate::error::TxResult;
use crate::rows::{
    self, JOB_COLUMNS, PROJECT_COLUMNS, RUN_COLUMNS, TASK_COLUMNS, WORKER_TOKEN_COLUMNS,
};
use crate::tx::Tx;
use gaffer_core::{Event, ProjectId};
use gaffer_store::{BoardRows, JobRow, RunRow, WorkerTokenRow, rules};

/// Every row but the events, inside the caller's read transaction (one snapshot).
pub(crate) fn export(tx: &mut Tx<'_>) -> TxResult<BoardRows> {
    let projects = rows::all(
        tx.query(
            &format!("SELECT {PROJECT_COLUMNS} FROM projects ORDER BY id"),
            &[],
        )?,
        rows::project,
    )?;
    let tasks = rows::all(
        tx.query(
            &format!("SELECT {TASK_COLUMNS} FROM tasks ORDER BY id"),
            &[],
        )?,
        rows::task,
    )?;
    let mut runs = Vec::new();
    for row in tx.query(
        &format!("SELECT {RUN_COLUMNS}, project FROM runs ORDER BY id"),
        &[],
    )? {
        runs.push(RunRow {
            run: rows::run(&row)?,
            project: ProjectId(row.try_get(18)?),
        });
    }
    let mut jobs = Vec::new();
    for row in tx.query(
        &format!("SELECT {JOB_COLUMNS}, exhausted, acknowledged FROM jobs ORDER BY id"),
        &[],
    )? {
        jobs.push(JobRow {
            job: rows::job(&row)?,
            exhausted: row.try_get(15)?,
            acknowledged: row.try_get(16)?,
        });
    }
    let mut worker_tokens = Vec::new();
    for row in tx.query(
        &format!("SELECT {WORKER_TOKEN_COLUMNS}, hash FROM worker_tokens ORDER BY id"),
        &[],
    )? {
        worker_tokens.push(WorkerTokenRow {
            token: rows::worker_token(&row)?,
            hash: row.try_get(7)?,
        });
    }
    Ok(BoardRows {
        projects,
        tasks,
        runs,
        jobs,
        worker_tokens,
    })
}

/// Writes `board` into this empty store, inside the caller's write transaction.
pub(crate) fn import(tx: &mut Tx<'_>, board: &BoardRows) -> TxResult<()> {
    let mut held = Vec::new();
    for table in ["projects", "tasks", "runs", "jobs", "events"] {
        let n: i64 = tx
            .query_one(&format!("SELECT count(*) FROM {table}"), &[])?
            .try_get(0)?;
        held.push((table, u64::try_from(n).unwrap_or(0)));
    }
    rules::import::into_empty(&held)?;
    rules::import::rows(board)?;
    for p in &board.projects {
        tx.execute(
            "INSERT INTO projects (id, name, root, target, created_ms)
             VALUES ($1, $2, $3, $4, $5)",
            &[&p.id.0, &p.name, &p.root, &p.target, &p.created_ms],
        )?;
    }
    // By id: a parent is always older than its children. Dependencies may point either way
    // (a sibling created later), so their rows go in once every task is there.
    for t in &board.tasks {
        let plan = t.plan.as_ref().map(rows::to_json).transpose()?;
        tx.execute(
            "INSERT INTO tasks (id, project, title, body, kind, priority, labels, parent,
                 blocked_by, write_scope, read_scope, budget_usd, branch, plan, state, status,
                 version, created_ms, updated_ms)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16,
                 $17, $18, $19)",
            &[
                &t.id.0,
                &t.project.0,
                &t.title,
                &t.body,
                &t.kind.as_str(),
                &t.priority,
                &rows::to_json(&t.labels)?,
                &t.parent.map(|p| p.0),
                &rows::to_json(&t.blocked_by)?,
                &rows::to_json(&t.write_scope)?,
                &rows::to_json(&t.read_scope)?,
                &t.budget_usd,
                &t.branch,
                &plan,
                &rows::to_json(&t.state)?,
                &t.state.status.as_str(),
                &t.version,
                &t.created_ms,
                &t.updated_ms,
            ],
        )?;
    }
    for t in &board.tasks {
        for d in &t.blocked_by {
            tx.execute(
                "INSERT INTO task_deps (task, depends_on) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                &[&t.id.0, &d.0],
            )?;
        }
    }
    for row in &board.jobs {
        let j = &row.job;
        let process = j.process.as_ref().map(rows::to_json).transpose()?;
        tx.execute(
            "INSERT INTO jobs (id, project, task, kind, spec, priority, status, attempts,
                 max_attempts, lease_owner, lease_expires_ms, process, error, exhausted,
                 acknowledged, created_ms, updated_ms, needs)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17,
                 $18)",
            &[
                &j.id.0,
                &j.project.0,
                &j.task.map(|t| t.0),
                &j.spec.kind().as_str(),
                &rows::to_json(&j.spec)?,
                &j.priority,
                &j.status.as_str(),
                &rows::int(j.attempts),
                &rows::int(j.max_attempts),
                &j.lease_owner,
                &j.lease_expires_ms,
                &process,
                &j.error,
                &row.exhausted,
                &row.acknowledged,
                &j.created_ms,
                &j.updated_ms,
                &rows::to_json(&j.needs)?,
            ],
        )?;
    }
    for row in &board.runs {
        let r = &row.run;
        tx.execute(
            "INSERT INTO runs (id, project, task, job, role, tier, agent, backend, model,
                 worktree, session_id, status, outcome, input_tokens, output_tokens,
                 cached_tokens, cost_usd, started_ms, ended_ms)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16,
                 $17, $18, $19)",
            &[
                &r.id.0,
                &row.project.0,
                &r.task.0,
                &r.job.map(|j| j.0),
                &r.role.as_str(),
                &rows::int(r.tier),
                &r.agent,
                &r.backend,
                &r.model,
                &r.worktree,
                &r.session_id,
                &r.status.as_str(),
                &r.outcome,
                &rows::int(r.usage.input_tokens),
                &rows::int(r.usage.output_tokens),
                &rows::int(r.usage.cached_tokens),
                &r.usage.cost_usd,
                &r.started_ms,
                &r.ended_ms,
            ],
        )?;
    }
    for row in &board.worker_tokens {
        let t = &row.token;
        tx.execute(
            "INSERT INTO worker_tokens (id, project, name, labels, hash, created_ms, revoked_ms,
                 last_used_ms)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            &[
                &t.id,
                &t.project.0,
                &t.name,
                &rows::to_json(&t.labels)?,
                &row.hash,
                &t.created_ms,
                &t.revoked_ms,
                &t.last_used_ms,
            ],
        )?;
    }
    // Identity columns do not follow explicit ids: move each past the highest imported one.
    for table in ["projects", "tasks", "jobs", "runs", "worker_tokens"] {
        tx.query_one(
            &format!(
                "SELECT setval(pg_get_serial_sequence('{table}', 'id'),
                     COALESCE((SELECT max(id) FROM {table}), 1),
                     (SELECT max(id) FROM {table}) IS NOT NULL)"
            ),
            &[],
        )?;
    }
    if rules::import::has_claimable_job(board) {
        tx.jobs_claimable();
    }
    Ok(())
}

/// Appends `imported` with their own seqs, inside the caller's write transaction; the event
/// counter continues after the last.
pub(crate) fn import_events(tx: &mut Tx<'_>, imported: &[Event]) -> TxResult<()> {
    // The counter's row lock, as for any append: imports and appends commit in seq order.
    let last: i64 = tx
        .query_one(
            "SELECT last FROM event_counter WHERE only_row FOR UPDATE",
            &[],
        )?
        .try_get(0)?;
    rules::import::event_seqs(gaffer_core::Seq(last), imported)?;
    let Some(newest) = imported.last() else {
        return Ok(());
    };
    for e in imported {
        tx.execute(
            "INSERT INTO events (seq, at_ms, project, task, run, kind, data)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
            &[
                &e.seq.0,
                &e.at_ms,
                &e.project.map(|p| p.0),
                &e.task.map(|t| t.0),
                &e.run.map(|r| r.0),
                &e.kind,
                &rows::to_json(&e.data)?,
            ],
        )?;
    }
    tx.execute(
        "UPDATE event_counter SET last = $1 WHERE only_row",
        &[&newest.seq.0],
    )?;
    tx.events_appended(newest.seq.0);
    Ok(())
}
