//! The job queue and its leases.
//!
//! An owner holds a job while the job is `leased` to it and the lease has not expired
//! (`lease_expires_ms >= now`). Once it expires the job is claimable again and the old holder's
//! heartbeat, release or completion is refused: two owners never hold one job.

use super::events;
use super::retry::TxResult;
use super::rows::{self, JOB_COLUMNS};
use crate::{HeldLease, JobCompletion, JobFilter, StoreError, rules};
use gaffer_core::{Job, JobId, JobKind, JobStatus, NewJob, ProcessRecord, ProjectId, TaskId};
use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension, params, params_from_iter};
use std::collections::HashMap;

/// Queues `jobs`; each must name an existing project and, if any, a task of that project.
pub(super) fn enqueue(conn: &Connection, jobs: &[NewJob], now: i64) -> TxResult<Vec<JobId>> {
    let mut known_projects: HashMap<ProjectId, bool> = HashMap::new();
    let mut known_tasks: HashMap<TaskId, ProjectId> = HashMap::new();
    let mut ids = Vec::with_capacity(jobs.len());
    for j in jobs {
        rules::input::new_job(j)?;
        let exists = match known_projects.get(&j.project) {
            Some(&e) => e,
            None => *known_projects
                .entry(j.project)
                .or_insert(super::projects::exists(conn, j.project)?),
        };
        if !exists {
            return Err(StoreError::ProjectNotFound(j.project).into());
        }
        if let Some(task) = j.task {
            let project = match known_tasks.get(&task) {
                Some(&p) => p,
                None => *known_tasks
                    .entry(task)
                    .or_insert(events::project_of_task(conn, task)?),
            };
            rules::input::job_in_task_project(j, task, project)?;
        }
        let mut stmt = conn.prepare_cached(
            "INSERT INTO jobs (project, task, kind, spec, priority, status, attempts, max_attempts,
                 created_ms, updated_ms, needs)
             VALUES (?1, ?2, ?3, ?4, ?5, 'queued', 0, ?6, ?7, ?7, ?8)",
        )?;
        stmt.execute(params![
            j.project.0,
            j.task.map(|t| t.0),
            j.spec.kind().as_str(),
            rows::to_json(&j.spec)?,
            j.priority,
            j.max_attempts,
            now,
            rows::to_json(&rules::input::needs(&j.needs)?)?,
        ])?;
        ids.push(JobId(conn.last_insert_rowid()));
    }
    Ok(ids)
}

/// The next claimable job, before the exhaustion check.
struct Candidate {
    id: i64,
    priority: i32,
    attempts: i64,
    max_attempts: i64,
}

impl Candidate {
    /// Higher priority first, then older (smaller id) first.
    fn better_than(&self, other: &Candidate) -> bool {
        (self.priority, -self.id) > (other.priority, -other.id)
    }
}

/// A job that needs labels goes only to a claimer that has every one of them (`?n` is the
/// claimer's labels, a JSON array; most jobs need none and skip the lookup).
macro_rules! fits {
    ($n:literal) => {
        concat!(
            "(needs = '[]' OR NOT EXISTS (SELECT 1 FROM json_each(jobs.needs) \
             WHERE value NOT IN (SELECT value FROM json_each(?",
            $n,
            "))))"
        )
    };
}

/// The best candidate of one seek: highest priority, then oldest.
macro_rules! best {
    ($condition:expr) => {
        concat!(
            "SELECT id, priority, attempts, max_attempts FROM jobs WHERE ",
            $condition,
            " ORDER BY priority DESC, id LIMIT 1"
        )
    };
}

/// The best queued job of any kind (`?1`: labels).
const QUEUED_ANY: &str = best!(concat!("status = 'queued' AND ", fits!(1)));
/// The best job of any kind whose lease expired before `?1` (`?2`: labels).
const EXPIRED_ANY: &str = best!(concat!(
    "status = 'leased' AND lease_expires_ms < ?1 AND ",
    fits!(2)
));
/// The best queued job of kind `?1` (`?2`: labels).
const QUEUED_KIND: &str = best!(concat!("status = 'queued' AND kind = ?1 AND ", fits!(2)));
/// The best job of kind `?1` whose lease expired before `?2` (`?3`: labels).
const EXPIRED_KIND: &str = best!(concat!(
    "status = 'leased' AND kind = ?1 AND lease_expires_ms < ?2 AND ",
    fits!(3)
));

fn best_of(
    conn: &Connection,
    sql: &str,
    args: impl rusqlite::Params,
) -> TxResult<Option<Candidate>> {
    let mut stmt = conn.prepare_cached(sql)?;
    Ok(stmt
        .query_row(args, |r| {
            Ok(Candidate {
                id: r.get(0)?,
                priority: r.get(1)?,
                attempts: r.get(2)?,
                max_attempts: r.get(3)?,
            })
        })
        .optional()?)
}

/// The best queued or expired-leased job among `kinds` (any kind if none). Each query is one
/// seek in a claim index; several kinds are looked up one by one rather than with `IN`, which
/// would force a sort.
fn next_candidate(
    conn: &Connection,
    kinds: &[JobKind],
    labels: &str,
    now: i64,
) -> TxResult<Option<Candidate>> {
    let mut best: Option<Candidate> = None;
    let mut consider = |c: Option<Candidate>| {
        if let Some(c) = c
            && best.as_ref().is_none_or(|b| c.better_than(b))
        {
            best = Some(c);
        }
    };
    if kinds.is_empty() {
        consider(best_of(conn, QUEUED_ANY, params![labels])?);
        consider(best_of(conn, EXPIRED_ANY, params![now, labels])?);
    } else {
        for kind in kinds {
            let kind = kind.as_str();
            consider(best_of(conn, QUEUED_KIND, params![kind, labels])?);
            consider(best_of(conn, EXPIRED_KIND, params![kind, now, labels])?);
        }
    }
    Ok(best)
}

/// Leases the best claimable job to `owner`: the best of the seeks of [`next_candidate`], then
/// one `UPDATE` of that row by id and one read of it. Inside the write transaction nothing else
/// can write between the seeks and the update. A candidate out of attempts is marked failed
/// (exhausted) and the next one looked for. (One `UPDATE … WHERE id = (best of the seeks)
/// RETURNING …` did the same in one statement but cost about three times the processor: SQLite
/// runs such a statement through temporary tables, for the union, the two-pass update and the
/// returned row.)
pub(super) fn claim(
    conn: &Connection,
    owner: &str,
    kinds: &[JobKind],
    labels: &[String],
    lease_ms: i64,
    now: i64,
) -> TxResult<Option<Job>> {
    rules::input::owner(owner)?;
    rules::input::lease(lease_ms)?;
    let labels = rules::input::needs(labels)?;
    let expires = now.saturating_add(lease_ms);
    let labels = if labels.is_empty() {
        "[]".to_string()
    } else {
        rows::to_json(&labels)?
    };
    while let Some(c) = next_candidate(conn, kinds, &labels, now)? {
        if c.attempts >= c.max_attempts {
            conn.prepare_cached(
                "UPDATE jobs SET status = 'failed', exhausted = 1, lease_expires_ms = NULL,
                     error = ?2, updated_ms = ?3
                 WHERE id = ?1",
            )?
            .execute(params![c.id, rules::jobs::exhausted_error(c.attempts), now])?;
            tracing::warn!(
                job = c.id,
                attempts = c.attempts,
                "job exhausted its attempts"
            );
            continue;
        }
        conn.prepare_cached(
            "UPDATE jobs SET status = 'leased', lease_owner = ?2, lease_expires_ms = ?3,
                 attempts = attempts + 1, process = NULL, updated_ms = ?4
             WHERE id = ?1",
        )?
        .execute(params![c.id, owner, expires, now])?;
        return get(conn, JobId(c.id)).map(Some);
    }
    Ok(None)
}

/// The condition under which `?owner` holds job `?id` at `?now`, for the statements below.
const HELD: &str = "id = ?1 AND status = 'leased' AND lease_owner = ?2 AND lease_expires_ms >= ?3";

pub(super) fn heartbeat(
    conn: &Connection,
    job: JobId,
    owner: &str,
    lease_ms: i64,
    now: i64,
) -> TxResult<bool> {
    rules::input::lease(lease_ms)?;
    let sql = format!("UPDATE jobs SET lease_expires_ms = ?4, updated_ms = ?3 WHERE {HELD}");
    let changed = conn.prepare_cached(&sql)?.execute(params![
        job.0,
        owner,
        now,
        now.saturating_add(lease_ms)
    ])?;
    if changed == 0 {
        ensure_exists(conn, job)?;
    }
    Ok(changed == 1)
}

/// Renews every lease of `leases` still held by its owner; returns the others, in the order
/// given. One cached statement, run once per lease, in the caller's transaction.
pub(super) fn heartbeat_many(
    conn: &Connection,
    leases: &[HeldLease],
    lease_ms: i64,
    now: i64,
) -> TxResult<Vec<HeldLease>> {
    rules::input::lease(lease_ms)?;
    let sql = format!("UPDATE jobs SET lease_expires_ms = ?4, updated_ms = ?3 WHERE {HELD}");
    let mut stmt = conn.prepare_cached(&sql)?;
    let expires = now.saturating_add(lease_ms);
    let mut lost = Vec::new();
    for lease in leases {
        if stmt.execute(params![lease.job.0, lease.owner, now, expires])? == 0 {
            lost.push(lease.clone());
        }
    }
    Ok(lost)
}

pub(super) fn set_process(
    conn: &Connection,
    job: JobId,
    owner: &str,
    process: &ProcessRecord,
    now: i64,
) -> TxResult<bool> {
    let sql = format!("UPDATE jobs SET process = ?4, updated_ms = ?3 WHERE {HELD}");
    let changed =
        conn.prepare_cached(&sql)?
            .execute(params![job.0, owner, now, rows::to_json(process)?])?;
    if changed == 0 {
        ensure_exists(conn, job)?;
    }
    Ok(changed == 1)
}

/// Back to the queue, the attempt not counted. Emits `job.released`.
pub(super) fn release(conn: &Connection, job: JobId, owner: &str, now: i64) -> TxResult<bool> {
    let sql = format!("SELECT {JOB_COLUMNS} FROM jobs WHERE {HELD}");
    let mut stmt = conn.prepare_cached(&sql)?;
    match rows::first(&mut stmt, params![job.0, owner, now], rows::job)? {
        Some(j) => {
            requeue(conn, &j, rules::jobs::RELEASED_BY_HOLDER, now)?;
            Ok(true)
        }
        None => {
            ensure_exists(conn, job)?;
            Ok(false)
        }
    }
}

pub(super) fn release_dead_owners(
    conn: &Connection,
    prefix: &str,
    keep: &str,
    now: i64,
) -> TxResult<Vec<Job>> {
    let sql = format!(
        "SELECT {JOB_COLUMNS} FROM jobs
         WHERE status = 'leased' AND lease_owner <> ?2
           AND substr(lease_owner, 1, length(?1)) = ?1
         ORDER BY id"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let jobs = rows::collect(&mut stmt, params![prefix, keep], rows::job)?;
    for j in &jobs {
        requeue(conn, j, rules::jobs::OWNER_GONE, now)?;
    }
    Ok(jobs)
}

/// Puts a leased job back in the queue without counting its current attempt.
fn requeue(conn: &Connection, j: &Job, reason: &str, now: i64) -> TxResult<()> {
    conn.prepare_cached(
        "UPDATE jobs SET status = 'queued', lease_owner = NULL, lease_expires_ms = NULL,
             process = NULL, attempts = max(attempts - 1, 0), updated_ms = ?2
         WHERE id = ?1",
    )?
    .execute(params![j.id.0, now])?;
    events::insert(conn, &[rules::events::job_released(j, reason)], now)?;
    Ok(())
}

/// Finishes the job behind a commit: its holder completes it, or anyone acknowledges an
/// exhausted one. Anything else is [`StoreError::LeaseLost`].
pub(super) fn complete(conn: &Connection, c: &JobCompletion, now: i64) -> TxResult<()> {
    let done = rules::jobs::completed_status(c.outcome);
    // The common case, one statement: the holder completes its job.
    let completed = conn
        .prepare_cached(
            "UPDATE jobs SET status = ?4, error = ?5, lease_expires_ms = NULL, updated_ms = ?3
             WHERE id = ?1 AND status = 'leased' AND lease_owner = ?2 AND lease_expires_ms >= ?3",
        )?
        .execute(params![c.job.0, c.owner, now, done.as_str(), c.error])?;
    if completed == 1 {
        return Ok(());
    }
    // Not held by `c.owner`: an exhausted job to acknowledge, or a lease lost.
    let row: Option<(String, bool, bool)> = conn
        .prepare_cached("SELECT status, exhausted, acknowledged FROM jobs WHERE id = ?1")?
        .query_row([c.job.0], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?;
    let Some((status, exhausted, acknowledged)) = row else {
        return Err(StoreError::JobNotFound(c.job).into());
    };
    if status == JobStatus::Failed.as_str() && exhausted && !acknowledged {
        conn.prepare_cached("UPDATE jobs SET acknowledged = 1, updated_ms = ?2 WHERE id = ?1")?
            .execute(params![c.job.0, now])?;
        return Ok(());
    }
    Err(StoreError::LeaseLost {
        job: c.job,
        owner: c.owner.clone(),
    }
    .into())
}

/// Cancels the queued and leased jobs of `task` other than `except`; returns how many.
pub(super) fn cancel_of(
    conn: &Connection,
    task: TaskId,
    except: Option<JobId>,
    now: i64,
) -> TxResult<usize> {
    Ok(conn
        .prepare_cached(
            "UPDATE jobs SET status = 'cancelled', lease_expires_ms = NULL, updated_ms = ?3
             WHERE task = ?1 AND status IN ('queued', 'leased') AND id IS NOT ?2",
        )?
        .execute(params![task.0, except.map(|j| j.0), now])?)
}

fn ensure_exists(conn: &Connection, job: JobId) -> TxResult<()> {
    if conn
        .prepare_cached("SELECT 1 FROM jobs WHERE id = ?1")?
        .exists([job.0])?
    {
        Ok(())
    } else {
        Err(StoreError::JobNotFound(job).into())
    }
}

pub(super) fn exhausted(conn: &Connection) -> TxResult<Vec<Job>> {
    let sql = format!(
        "SELECT {JOB_COLUMNS} FROM jobs WHERE exhausted = 1 AND acknowledged = 0 ORDER BY id"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    rows::collect(&mut stmt, [], rows::job)
}

pub(super) fn get(conn: &Connection, id: JobId) -> TxResult<Job> {
    let mut stmt = conn.prepare_cached(concat!(
        "SELECT ",
        rows::job_columns!(),
        " FROM jobs WHERE id = ?1"
    ))?;
    rows::first(&mut stmt, [id.0], rows::job)?.ok_or_else(|| StoreError::JobNotFound(id).into())
}

pub(super) fn list(conn: &Connection, filter: &JobFilter) -> TxResult<Vec<Job>> {
    let mut sql = format!("SELECT {JOB_COLUMNS} FROM jobs WHERE 1 = 1");
    let mut args: Vec<Value> = Vec::new();
    if let Some(t) = filter.task {
        sql.push_str(" AND task = ?");
        args.push(Value::Integer(t.0));
    }
    if !filter.statuses.is_empty() {
        let marks = vec!["?"; filter.statuses.len()].join(", ");
        sql.push_str(&format!(" AND status IN ({marks})"));
        args.extend(
            filter
                .statuses
                .iter()
                .map(|s| Value::Text(s.as_str().into())),
        );
    }
    sql.push_str(" ORDER BY id");
    let mut stmt = conn.prepare_cached(&sql)?;
    rows::collect(&mut stmt, params_from_iter(args), rows::job)
}
