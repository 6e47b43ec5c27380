//! The job queue and its leases.
//!
//! An owner holds a job while the job is `leased` to it and the lease has not expired
//! (`lease_expires_ms >= now`). Once it expires the job is claimable again and the old holder's
//! heartbeat, release or completion is refused: two owners never hold one job.
//!
//! Claims take the best claimable row with `FOR NO KEY UPDATE SKIP LOCKED`: concurrent claimers
//! never wait for each other, each skipping the rows the others are taking. Every other write
//! to a job locks its row first (or is one `UPDATE … WHERE <condition>`), and PostgreSQL
//! re-checks the condition on the row as the previous holder of the lock left it.

use crate::error::TxResult;
use crate::rows::{self, JOB_COLUMNS};
use crate::tx::Tx;
use crate::{events, projects};
use gaffer_core::{Job, JobId, JobKind, JobStatus, NewJob, ProcessRecord, ProjectId, TaskId};
use gaffer_store::{HeldLease, JobCompletion, JobFilter, StoreError, rules};
use postgres::types::ToSql;
use std::collections::HashMap;

/// Queues `jobs` (in one statement, ids in list order); each must name an existing project and,
/// if any, a task of that project.
pub(crate) fn enqueue(tx: &mut Tx<'_>, jobs: &[NewJob], now: i64) -> TxResult<()> {
    if jobs.is_empty() {
        return Ok(());
    }
    let mut known_projects: HashMap<ProjectId, bool> = HashMap::new();
    let mut known_tasks: HashMap<TaskId, ProjectId> = HashMap::new();
    let mut columns = Columns::with_capacity(jobs.len());
    for j in jobs {
        rules::input::new_job(j)?;
        let exists = match known_projects.get(&j.project) {
            Some(&e) => e,
            None => *known_projects
                .entry(j.project)
                .or_insert(projects::exists(tx, j.project)?),
        };
        if !exists {
            return Err(StoreError::ProjectNotFound(j.project).into());
        }
        if let Some(task) = j.task {
            let project = match known_tasks.get(&task) {
                Some(&p) => p,
                None => *known_tasks
                    .entry(task)
                    .or_insert(events::project_of_task(tx, task)?),
            };
            rules::input::job_in_task_project(j, task, project)?;
        }
        columns.push(j)?;
    }
    tx.execute(
        "INSERT INTO jobs (project, task, kind, spec, priority, status, attempts, max_attempts,
             created_ms, updated_ms, needs)
         SELECT project, task, kind, spec, priority, 'queued', 0, max_attempts, $7, $7, needs
         FROM unnest($1::BIGINT[], $2::BIGINT[], $3::TEXT[], $4::TEXT[], $5::INTEGER[],
                     $6::BIGINT[], $8::TEXT[]) WITH ORDINALITY
              AS j (project, task, kind, spec, priority, max_attempts, needs, n)
         ORDER BY n",
        &[
            &columns.project,
            &columns.task,
            &columns.kind,
            &columns.spec,
            &columns.priority,
            &columns.max_attempts,
            &now,
            &columns.needs,
        ],
    )?;
    tx.jobs_claimable();
    Ok(())
}

/// New jobs as columns, for one `INSERT … SELECT FROM unnest(…)`.
struct Columns {
    project: Vec<i64>,
    task: Vec<Option<i64>>,
    kind: Vec<String>,
    spec: Vec<String>,
    priority: Vec<i32>,
    max_attempts: Vec<i64>,
    needs: Vec<String>,
}

impl Columns {
    fn with_capacity(n: usize) -> Columns {
        Columns {
            project: Vec::with_capacity(n),
            task: Vec::with_capacity(n),
            kind: Vec::with_capacity(n),
            spec: Vec::with_capacity(n),
            priority: Vec::with_capacity(n),
            max_attempts: Vec::with_capacity(n),
            needs: Vec::with_capacity(n),
        }
    }

    fn push(&mut self, j: &NewJob) -> TxResult<()> {
        self.project.push(j.project.0);
        self.task.push(j.task.map(|t| t.0));
        self.kind.push(j.spec.kind().as_str().to_string());
        self.spec.push(rows::to_json(&j.spec)?);
        self.priority.push(j.priority);
        self.max_attempts.push(i64::from(j.max_attempts));
        self.needs
            .push(rows::to_json(&rules::input::needs(&j.needs)?)?);
        Ok(())
    }
}

/// The claimable rows (queued, or leased with an expired lease) in claim order: highest
/// priority first, then oldest (smallest id). `$1` is now; `$2`, when present, the kinds.
const CLAIMABLE: &str = "SELECT id, attempts, max_attempts FROM jobs
     WHERE status IN ('queued', 'leased') AND (status = 'queued' OR lease_expires_ms < $1)";
const CLAIM_ORDER: &str = "ORDER BY priority DESC, id LIMIT 1 FOR NO KEY UPDATE SKIP LOCKED";

pub(crate) fn claim(
    tx: &mut Tx<'_>,
    owner: &str,
    kinds: &[JobKind],
    labels: &[String],
    lease_ms: i64,
    now: i64,
) -> TxResult<Option<Job>> {
    rules::input::owner(owner)?;
    rules::input::lease(lease_ms)?;
    let labels = rules::input::needs(labels)?;
    let kinds: Vec<&str> = kinds.iter().map(|k| k.as_str()).collect();
    // A job that needs labels goes only to a claimer that has every one of them (JSON array
    // containment). A claimer without labels takes only jobs that need none: a plain equality,
    // which keeps the claim a walk of the index in claim order (the containment test, even
    // behind an OR, made every claim several times slower).
    let fits = |n: usize| {
        if labels.is_empty() {
            "AND needs = '[]'".to_string()
        } else {
            format!("AND (needs = '[]' OR needs::jsonb <@ (${n}::text)::jsonb)")
        }
    };
    let labels = rows::to_json(&labels)?;
    // One kind is an equality, so that its claim index (kind, priority, id) is walked in claim
    // order; several walk the index of all kinds and filter.
    let any = format!("{CLAIMABLE} {} {CLAIM_ORDER}", fits(2));
    let of_kind = format!("{CLAIMABLE} AND kind = $2 {} {CLAIM_ORDER}", fits(3));
    let of_kinds = format!("{CLAIMABLE} AND kind = ANY($2) {} {CLAIM_ORDER}", fits(3));
    let unlabelled = labels == "[]";
    loop {
        let candidate = match (kinds.as_slice(), unlabelled) {
            ([], true) => tx.query_opt(&any, &[&now])?,
            ([], false) => tx.query_opt(&any, &[&now, &labels])?,
            ([kind], true) => tx.query_opt(&of_kind, &[&now, kind])?,
            ([kind], false) => tx.query_opt(&of_kind, &[&now, kind, &labels])?,
            (_, true) => tx.query_opt(&of_kinds, &[&now, &kinds])?,
            (_, false) => tx.query_opt(&of_kinds, &[&now, &kinds, &labels])?,
        };
        let Some(row) = candidate else {
            return Ok(None);
        };
        let id: i64 = row.try_get(0)?;
        let attempts: i64 = row.try_get(1)?;
        let max_attempts: i64 = row.try_get(2)?;
        if attempts >= max_attempts {
            tx.execute(
                "UPDATE jobs SET status = 'failed', exhausted = TRUE, lease_expires_ms = NULL,
                     error = $2, updated_ms = $3
                 WHERE id = $1",
                &[&id, &rules::jobs::exhausted_error(attempts), &now],
            )?;
            tracing::warn!(job = id, attempts, "job exhausted its attempts");
            continue;
        }
        let sql = format!(
            "UPDATE jobs SET status = 'leased', lease_owner = $2, lease_expires_ms = $3,
                 attempts = attempts + 1, process = NULL, updated_ms = $4
             WHERE id = $1
             RETURNING {JOB_COLUMNS}"
        );
        let expires = now.saturating_add(lease_ms);
        let row = tx.query_one(&sql, &[&id, &owner, &expires, &now])?;
        return rows::job(&row).map(Some);
    }
}

/// The condition under which `$2` holds job `$1` at `$3`, for the statements below.
const HELD: &str = "id = $1 AND status = 'leased' AND lease_owner = $2 AND lease_expires_ms >= $3";

pub(crate) fn heartbeat(
    tx: &mut Tx<'_>,
    job: JobId,
    owner: &str,
    lease_ms: i64,
    now: i64,
) -> TxResult<bool> {
    rules::input::lease(lease_ms)?;
    let sql = format!("UPDATE jobs SET lease_expires_ms = $4, updated_ms = $3 WHERE {HELD}");
    let changed = tx.execute(&sql, &[&job.0, &owner, &now, &now.saturating_add(lease_ms)])?;
    if changed == 0 {
        ensure_exists(tx, job)?;
    }
    Ok(changed == 1)
}

/// Renews every lease of `leases` still held by its owner, in one statement; returns the others,
/// in the order given. The rows are updated in id order (`ORDER BY` under
/// `FOR NO KEY UPDATE`), so that two batches never wait on each other in a cycle.
pub(crate) fn heartbeat_many(
    tx: &mut Tx<'_>,
    leases: &[HeldLease],
    lease_ms: i64,
    now: i64,
) -> TxResult<Vec<HeldLease>> {
    rules::input::lease(lease_ms)?;
    if leases.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<i64> = leases.iter().map(|l| l.job.0).collect();
    let owners: Vec<&str> = leases.iter().map(|l| l.owner.as_str()).collect();
    let rows = tx.query(
        "WITH held AS (
             SELECT j.id FROM jobs j
             JOIN unnest($1::bigint[], $2::text[]) AS l(id, owner)
               ON j.id = l.id AND j.lease_owner = l.owner
             WHERE j.status = 'leased' AND j.lease_expires_ms >= $3
             ORDER BY j.id
             FOR NO KEY UPDATE OF j
         )
         UPDATE jobs SET lease_expires_ms = $4, updated_ms = $3
         FROM held WHERE jobs.id = held.id
         RETURNING jobs.id, jobs.lease_owner",
        &[&ids, &owners, &now, &now.saturating_add(lease_ms)],
    )?;
    let renewed = rows
        .iter()
        .map(|r| Ok((r.try_get::<_, i64>(0)?, r.try_get::<_, String>(1)?)))
        .collect::<Result<std::collections::HashSet<(i64, String)>, postgres::Error>>()?;
    Ok(leases
        .iter()
        .filter(|l| !renewed.contains(&(l.job.0, l.owner.clone())))
        .cloned()
        .collect())
}

pub(crate) fn set_process(
    tx: &mut Tx<'_>,
    job: JobId,
    owner: &str,
    process: &ProcessRecord,
    now: i64,
) -> TxResult<bool> {
    let sql = format!("UPDATE jobs SET process = $4, updated_ms = $3 WHERE {HELD}");
    let changed = tx.execute(&sql, &[&job.0, &owner, &now, &rows::to_json(process)?])?;
    if changed == 0 {
        ensure_exists(tx, job)?;
    }
    Ok(changed == 1)
}

/// Back to the queue, the attempt not counted. Emits `job.released`.
pub(crate) fn release(tx: &mut Tx<'_>, job: JobId, owner: &str, now: i64) -> TxResult<bool> {
    let sql = format!("SELECT {JOB_COLUMNS} FROM jobs WHERE {HELD} FOR NO KEY UPDATE");
    match tx.query_opt(&sql, &[&job.0, &owner, &now])? {
        Some(row) => {
            let j = rows::job(&row)?;
            requeue(tx, &j, rules::jobs::RELEASED_BY_HOLDER, now)?;
            Ok(true)
        }
        None => {
            ensure_exists(tx, job)?;
            Ok(false)
        }
    }
}

pub(crate) fn release_dead_owners(
    tx: &mut Tx<'_>,
    prefix: &str,
    keep: &str,
    now: i64,
) -> TxResult<Vec<Job>> {
    let sql = format!(
        "SELECT {JOB_COLUMNS} FROM jobs
         WHERE status = 'leased' AND lease_owner <> $2 AND starts_with(lease_owner, $1)
         ORDER BY id
         FOR NO KEY UPDATE"
    );
    let found = tx.query(&sql, &[&prefix, &keep])?;
    let jobs = rows::all(found, rows::job)?;
    for j in &jobs {
        requeue(tx, j, rules::jobs::OWNER_GONE, now)?;
    }
    Ok(jobs)
}

/// Puts a leased job back in the queue without counting its current attempt.
fn requeue(tx: &mut Tx<'_>, j: &Job, reason: &str, now: i64) -> TxResult<()> {
    tx.execute(
        "UPDATE jobs SET status = 'queued', lease_owner = NULL, lease_expires_ms = NULL,
             process = NULL, attempts = greatest(attempts - 1, 0), updated_ms = $2
         WHERE id = $1",
        &[&j.id.0, &now],
    )?;
    events::insert(tx, &[rules::events::job_released(j, reason)], now)?;
    tx.jobs_claimable();
    Ok(())
}

/// Finishes the job behind a commit: its holder completes it, or anyone acknowledges an
/// exhausted one. Anything else is [`StoreError::LeaseLost`].
pub(crate) fn complete(tx: &mut Tx<'_>, c: &JobCompletion, now: i64) -> TxResult<()> {
    let row = tx.query_opt(
        "SELECT status, lease_owner, lease_expires_ms, exhausted, acknowledged
         FROM jobs WHERE id = $1 FOR NO KEY UPDATE",
        &[&c.job.0],
    )?;
    let Some(row) = row else {
        return Err(StoreError::JobNotFound(c.job).into());
    };
    let status: String = row.try_get(0)?;
    let owner: Option<String> = row.try_get(1)?;
    let expires: Option<i64> = row.try_get(2)?;
    let exhausted: bool = row.try_get(3)?;
    let acknowledged: bool = row.try_get(4)?;
    if status == JobStatus::Failed.as_str() && exhausted && !acknowledged {
        tx.execute(
            "UPDATE jobs SET acknowledged = TRUE, updated_ms = $2 WHERE id = $1",
            &[&c.job.0, &now],
        )?;
        return Ok(());
    }
    let held = status == JobStatus::Leased.as_str()
        && owner.as_deref() == Some(c.owner.as_str())
        && expires.is_some_and(|e| e >= now);
    if !held {
        return Err(StoreError::LeaseLost {
            job: c.job,
            owner: c.owner.clone(),
        }
        .into());
    }
    let status = rules::jobs::completed_status(c.outcome);
    tx.execute(
        "UPDATE jobs SET status = $2, error = $3, lease_expires_ms = NULL, updated_ms = $4
         WHERE id = $1",
        &[&c.job.0, &status.as_str(), &c.error, &now],
    )?;
    Ok(())
}

/// Cancels the queued and leased jobs of `task` other than `except`; returns how many.
pub(crate) fn cancel_of(
    tx: &mut Tx<'_>,
    task: TaskId,
    except: Option<JobId>,
    now: i64,
) -> TxResult<u64> {
    tx.execute(
        "UPDATE jobs SET status = 'cancelled', lease_expires_ms = NULL, updated_ms = $3
         WHERE task = $1 AND status IN ('queued', 'leased') AND id IS DISTINCT FROM $2",
        &[&task.0, &except.map(|j| j.0), &now],
    )
}

fn ensure_exists(tx: &mut Tx<'_>, job: JobId) -> TxResult<()> {
    if tx
        .query_opt("SELECT 1 FROM jobs WHERE id = $1", &[&job.0])?
        .is_some()
    {
        Ok(())
    } else {
        Err(StoreError::JobNotFound(job).into())
    }
}

pub(crate) fn exhausted(tx: &mut Tx<'_>) -> TxResult<Vec<Job>> {
    let sql =
        format!("SELECT {JOB_COLUMNS} FROM jobs WHERE exhausted AND NOT acknowledged ORDER BY id");
    let found = tx.query(&sql, &[])?;
    rows::all(found, rows::job)
}

pub(crate) fn get(tx: &mut Tx<'_>, id: JobId) -> TxResult<Job> {
    let sql = format!("SELECT {JOB_COLUMNS} FROM jobs WHERE id = $1");
    match tx.query_opt(&sql, &[&id.0])? {
        Some(row) => rows::job(&row),
        None => Err(StoreError::JobNotFound(id).into()),
    }
}

pub(crate) fn list(tx: &mut Tx<'_>, filter: &JobFilter) -> TxResult<Vec<Job>> {
    let mut sql = format!("SELECT {JOB_COLUMNS} FROM jobs WHERE TRUE");
    let mut args: Vec<Box<dyn ToSql + Sync>> = Vec::new();
    if let Some(t) = filter.task {
        args.push(Box::new(t.0));
        sql.push_str(&format!(" AND task = ${}", args.len()));
    }
    if !filter.statuses.is_empty() {
        let statuses: Vec<String> = filter.statuses.iter().map(|s| s.as_str().into()).collect();
        args.push(Box::new(statuses));
        sql.push_str(&format!(" AND status = ANY(${})", args.len()));
    }
    sql.push_str(" ORDER BY id");
    let params: Vec<&(dyn ToSql + Sync)> = args.iter().map(|a| a.as_ref()).collect();
    let found = tx.query(&sql, &params)?;
    rows::all(found, rows::job)
}
