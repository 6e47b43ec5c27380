//! The embedded [`Store`]: one SQLite file in WAL mode.
//!
//! Each [`SqliteStore`] owns one connection behind a mutex; any number of them, in one process
//! or several, may open the same file. Writes run in `BEGIN IMMEDIATE` transactions (the write
//! lock is taken up front, so two writers never deadlock upgrading a read lock). The writers of
//! one process on one file wait their turn on the file's [`gate`]; contention with other
//! processes is absorbed by the busy handler and retry loop in [`retry`]: callers never see
//! "database is locked".
//!
//! Once a write has committed, the handle tells the listeners of every handle of this process on
//! the same file what it changed ([`changes`]).

mod changes;
mod children;
mod combine;
mod commit;
mod connection;
mod copy;
mod events;
mod gate;
mod hosts;
mod jobs;
mod leases;
mod migrate;
mod projects;
mod retry;
mod rows;
mod runs;
mod tasks;
mod worker_tokens;

use crate::clock::SystemClock;
use crate::{
    BoardRows, Commit, EventFilter, HeldLease, HostInfo, JobFilter, LeaseHolder, Listener,
    NewProject, NewWorkerToken, Result, Store, StoreError, TaskEdit, TaskFilter, UsageDimension,
    UsageRow, UsageTotals, WorkerToken,
};
use changes::{Changes, Touched};
use gaffer_core::{
    Clock, Event, Job, JobId, JobKind, NewEvent, NewRun, NewTask, ProcessRecord, Project,
    ProjectId, Run, RunId, Seq, Task, TaskId, TaskState,
};
use retry::{TxResult, retry, retry_since};
use rusqlite::{Connection, TransactionBehavior};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

/// A [`Store`] backed by one SQLite database file.
pub struct SqliteStore {
    conn: Mutex<Connection>,
    clock: Arc<dyn Clock>,
    path: PathBuf,
    changes: Changes,
    gate: gate::Gate,
    /// Claims and commits waiting for the connection (`combine`).
    queue: combine::Queue,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl SqliteStore {
    /// Opens or creates the database at `path` and migrates it to this build's schema. Times
    /// come from `clock`. Fails with [`crate::StoreError::SchemaTooNew`] if a newer gaffer wrote
    /// the file.
    pub fn open(path: &Path, clock: Arc<dyn Clock>) -> Result<SqliteStore> {
        let conn = retry(|| connection::open(path))?;
        Ok(SqliteStore {
            conn: Mutex::new(conn),
            clock,
            path: path.to_path_buf(),
            changes: Changes::join(path),
            gate: gate::Gate::join(path),
            queue: combine::Queue::default(),
        })
    }

    /// [`SqliteStore::open`] with the system clock.
    pub fn open_default(path: &Path) -> Result<SqliteStore> {
        Self::open(path, Arc::new(SystemClock))
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The schema version this build writes (`PRAGMA user_version`).
    pub fn schema_version() -> i64 {
        migrate::known_version()
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave a transaction half-applied: an open
        // transaction rolls back when dropped. The connection is still good.
        self.conn
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Runs `f` in a write transaction (`BEGIN IMMEDIATE`), retried whole on contention.
    fn write<T>(&self, f: impl FnMut(&Connection, i64) -> TxResult<T>) -> Result<T> {
        self.write_then(f, |_| Touched::NONE)
    }

    /// [`SqliteStore::write`], then, once committed, tells the listeners what `touched` says the
    /// transaction changed, judging by its value.
    fn write_then<T>(
        &self,
        mut f: impl FnMut(&Connection, i64) -> TxResult<T>,
        touched: impl FnOnce(&T) -> Touched,
    ) -> Result<T> {
        let value = {
            // The time spent waiting for the connection and the turn counts against the
            // write's budget for waiting on the database.
            let started = Instant::now();
            let mut conn = self.lock();
            let Some(_turn) = self.gate.enter_since(started) else {
                drop(conn);
                self.queue.nudge_waiting();
                return Err(retry::no_turn());
            };
            retry_since(started, || {
                let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
                let value = f(&tx, self.clock.now_ms())?;
                tx.commit()?;
                Ok(value)
            })
        };
        // Claims and commits waiting for the connection try it now.
        self.queue.nudge_waiting();
        let value = value?;
        self.gate.committed();
        self.changes.publish(touched(&value));
        Ok(value)
    }

    /// Runs `op` in a write transaction together with the claims and commits waiting for this
    /// handle, or takes its result when a holder of the connection already ran it (`combine`).
    /// A caller whose request waits does not queue for the connection: it waits for its
    /// answer, trying the connection whenever it is free, so a caller that keeps coming back
    /// cannot keep it from returning. Listeners hear of a batch's changes before any of its
    /// callers returns.
    fn combined(&self, op: combine::Op) -> Result<combine::Done> {
        let slot = self.queue.push(op);
        // The time spent waiting for the connection and the turn counts against the write's
        // budget for waiting on the database.
        let started = Instant::now();
        loop {
            if let Some(done) = slot.take() {
                return done;
            }
            let mut conn = match self.conn.try_lock() {
                Ok(conn) => conn,
                Err(std::sync::TryLockError::Poisoned(poisoned)) => poisoned.into_inner(),
                Err(std::sync::TryLockError::WouldBlock) => {
                    // Woken with the answer, or nudged when the connection is let go.
                    if let Some(done) = slot.wait(COMBINED_WAIT) {
                        return done;
                    }
                    continue;
                }
            };
            if let Some(done) = slot.take() {
                return done;
            }
            // Alone in the queue right after a batch that answered others: they are likely
            // runnable and about to queue again. Letting them run first (one `sched_yield`,
            // which returns at once on an idle processor) puts their requests in this batch
            // instead of a batch each (on a loaded machine, mostly batches of one before).
            if self.queue.alone_after_company() {
                std::thread::yield_now();
            }
            let batch = match self.gate.enter_since(started) {
                Some(_turn) => {
                    combine::run_queued(&mut conn, &self.queue, self.clock.as_ref(), started)
                }
                None => combine::refuse_queued(&self.queue, retry::no_turn),
            };
            self.gate.committed();
            // Listeners must not call back into the store: they may run with the connection
            // held. They hear of the batch before any of its callers is answered.
            self.changes.publish(batch.touched);
            batch.answer();
            // Requests queued while the batch ran: run them now, while the connection is at
            // hand and the gate free, rather than wake one of their callers to do it (a few
            // rounds at most, so that this caller too gets back to its work).
            for _ in 1..ROUNDS {
                if self.queue.is_empty() {
                    break;
                }
                let Some(turn) = self.gate.try_enter() else {
                    break;
                };
                let batch = combine::run_queued(
                    &mut conn,
                    &self.queue,
                    self.clock.as_ref(),
                    Instant::now(),
                );
                drop(turn);
                self.gate.committed();
                self.changes.publish(batch.touched);
                batch.answer();
            }
            drop(conn);
            // Requests queued while this batch ran: their callers try the connection now.
            self.queue.nudge_waiting();
            // The batch held this request unless a holder that took it panicked: answered
            // under the connection, so it is there now or never.
            return slot.take().unwrap_or_else(|| {
                Err(StoreError::Database(
                    "a write was lost: the thread running it panicked".into(),
                ))
            });
        }
    }

    /// Runs `f` in a read transaction: one consistent snapshot, never blocking writers.
    fn read<T>(&self, mut f: impl FnMut(&Connection, i64) -> TxResult<T>) -> Result<T> {
        let value = {
            let mut conn = self.lock();
            retry(|| {
                let tx = conn.transaction_with_behavior(TransactionBehavior::Deferred)?;
                let value = f(&tx, self.clock.now_ms())?;
                tx.commit()?;
                Ok(value)
            })
        };
        // Claims and commits waiting for the connection try it now (they do not queue on it:
        // without this, back-to-back reads could keep them waiting).
        self.queue.nudge_waiting();
        value
    }
}

/// How many batches the caller that took the connection runs at most before it lets it go.
const ROUNDS: usize = 4;

/// How long a combined request's caller waits for its answer before it tries the connection
/// again (it is woken earlier when the answer comes or the connection is let go by a batch).
const COMBINED_WAIT: std::time::Duration = std::time::Duration::from_micros(500);

/// A combined write answered as another kind of write: a bug, said rather than panicked.
fn mismatch() -> StoreError {
    StoreError::Database("a combined write got another write's result".into())
}

impl Store for SqliteStore {
    fn upsert_project(&self, project: &NewProject) -> Result<Project> {
        self.write(|c, now| projects::upsert(c, project, now))
    }

    fn project(&self, id: ProjectId) -> Result<Project> {
        self.read(|c, _| projects::get(c, id))
    }

    fn projects(&self) -> Result<Vec<Project>> {
        self.read(|c, _| projects::all(c))
    }

    fn create_task(&self, project: ProjectId, task: &NewTask, initial: &TaskState) -> Result<Task> {
        self.write_then(
            |c, now| Ok(tasks::create(c, project, task, initial, now)?.0),
            |_| Touched::EVENTS,
        )
    }

    fn task(&self, id: TaskId) -> Result<Task> {
        self.read(|c, _| tasks::get(c, id))
    }

    fn tasks(&self, filter: &TaskFilter) -> Result<Vec<Task>> {
        self.read(|c, _| tasks::list(c, filter))
    }

    fn edit_task(&self, id: TaskId, expected_version: i64, edit: &TaskEdit) -> Result<Task> {
        // An edit that changes nothing writes no event (and keeps the version).
        self.write_then(
            |c, now| tasks::edit(c, id, expected_version, edit, now),
            |t| Touched {
                events: t.version != expected_version,
                jobs: false,
            },
        )
    }

    fn commit(&self, commit: &Commit) -> Result<Vec<Event>> {
        match self.combined(combine::Op::Commit(Box::new(commit.clone())))? {
            combine::Done::Committed(written) => Ok(written),
            combine::Done::Claimed(_) => Err(mismatch()),
        }
    }

    fn append_events(&self, events: &[NewEvent]) -> Result<Vec<Event>> {
        self.write_then(
            |c, now| events::insert(c, events, now),
            |written| Touched {
                events: !written.is_empty(),
                jobs: false,
            },
        )
    }

    fn events_after(&self, after: Seq, limit: usize, filter: &EventFilter) -> Result<Vec<Event>> {
        self.read(|c, _| events::after(c, after, limit, filter))
    }

    fn last_seq(&self) -> Result<Seq> {
        self.read(|c, _| events::last_seq(c))
    }

    fn claim_job_for(
        &self,
        owner: &str,
        kinds: &[JobKind],
        labels: &[String],
        lease_ms: i64,
    ) -> Result<Option<Job>> {
        let op = combine::Op::Claim {
            owner: owner.to_string(),
            kinds: kinds.to_vec(),
            labels: labels.to_vec(),
            lease_ms,
        };
        match self.combined(op)? {
            combine::Done::Claimed(job) => Ok(job.map(|j| *j)),
            combine::Done::Committed(_) => Err(mismatch()),
        }
    }

    fn announce_host(
        &self,
        name: &str,
        labels: &[String],
        running: u32,
        slots: Option<u32>,
        load: Option<f64>,
    ) -> Result<()> {
        self.write(|c, now| hosts::announce(c, name, labels, running, slots, load, now))
    }

    fn hosts(&self) -> Result<Vec<HostInfo>> {
        self.read(|c, _| hosts::all(c))
    }

    fn create_worker_token(&self, token: &NewWorkerToken) -> Result<WorkerToken> {
        self.write(|c, now| worker_tokens::create(c, token, now))
    }

    fn worker_tokens(&self, project: ProjectId) -> Result<Vec<WorkerToken>> {
        self.read(|c, _| worker_tokens::of_project(c, project))
    }

    fn worker_token_by_hash(&self, hash: &str) -> Result<Option<WorkerToken>> {
        // A read answers most calls; the write lock is taken only when the use is worth
        // recording.
        let found = self.read(|c, now| {
            Ok(worker_tokens::live_by_hash(c, hash)?.map(|t| {
                let due = crate::rules::worker_tokens::use_is_due(t.last_used_ms, now);
                (t, due)
            }))
        })?;
        match found {
            Some((token, true)) => self.write(|c, now| worker_tokens::record_use(c, token.id, now)),
            Some((token, false)) => Ok(Some(token)),
            None => Ok(None),
        }
    }

    fn revoke_worker_token(&self, project: ProjectId, id: i64) -> Result<bool> {
        self.write(|c, now| worker_tokens::revoke(c, project, id, now))
    }

    fn heartbeat(&self, job: JobId, owner: &str, lease_ms: i64) -> Result<bool> {
        self.write(|c, now| jobs::heartbeat(c, job, owner, lease_ms, now))
    }

    fn heartbeat_jobs(&self, leases: &[HeldLease], lease_ms: i64) -> Result<Vec<HeldLease>> {
        self.write(|c, now| jobs::heartbeat_many(c, leases, lease_ms, now))
    }

    fn release_job(&self, job: JobId, owner: &str) -> Result<bool> {
        // A release writes `job.released` and puts the job back in the queue.
        self.write_then(
            |c, now| jobs::release(c, job, owner, now),
            |&released| {
                if released {
                    Touched::BOTH
                } else {
                    Touched::NONE
                }
            },
        )
    }

    fn release_jobs_of_dead_owners(
        &self,
        owner_prefix: &str,
        keep_owner: &str,
    ) -> Result<Vec<Job>> {
        self.write_then(
            |c, now| jobs::release_dead_owners(c, owner_prefix, keep_owner, now),
            |released| {
                if released.is_empty() {
                    Touched::NONE
                } else {
                    Touched::BOTH
                }
            },
        )
    }

    fn set_job_process(&self, job: JobId, owner: &str, process: &ProcessRecord) -> Result<bool> {
        self.write(|c, now| jobs::set_process(c, job, owner, process, now))
    }

    fn exhausted_jobs(&self) -> Result<Vec<Job>> {
        self.read(|c, _| jobs::exhausted(c))
    }

    fn job(&self, id: JobId) -> Result<Job> {
        self.read(|c, _| jobs::get(c, id))
    }

    fn jobs(&self, filter: &JobFilter) -> Result<Vec<Job>> {
        self.read(|c, _| jobs::list(c, filter))
    }

    fn hold_lease(&self, name: &str, owner: &str, lease_ms: i64) -> Result<bool> {
        self.write(|c, now| leases::hold(c, name, owner, lease_ms, now))
    }

    fn release_lease(&self, name: &str, owner: &str) -> Result<bool> {
        self.write(|c, _| leases::release(c, name, owner))
    }

    fn lease_holder(&self, name: &str) -> Result<Option<LeaseHolder>> {
        self.read(|c, _| leases::holder(c, name))
    }

    fn start_run(&self, run: &NewRun) -> Result<Run> {
        self.write_then(|c, now| runs::start(c, run, now), |_| Touched::EVENTS)
    }

    fn set_run_session(&self, run: RunId, session: &str) -> Result<()> {
        self.write(|c, _| runs::set_session(c, run, session))
    }

    fn mark_runs_lost(&self, task: Option<TaskId>, reason: &str) -> Result<Vec<Run>> {
        self.write_then(
            |c, now| runs::mark_lost(c, task, reason, now),
            |lost| Touched {
                events: !lost.is_empty(),
                jobs: false,
            },
        )
    }

    fn mark_runs_of_job_lost(&self, job: JobId, reason: &str) -> Result<Vec<Run>> {
        self.write_then(
            |c, now| runs::mark_lost_of_job(c, job, reason, now),
            |lost| Touched {
                events: !lost.is_empty(),
                jobs: false,
            },
        )
    }

    fn run(&self, id: RunId) -> Result<Run> {
        self.read(|c, _| runs::get(c, id))
    }

    fn runs(&self, task: TaskId) -> Result<Vec<Run>> {
        self.read(|c, _| runs::of_task(c, task))
    }

    fn usage_totals(&self, project: Option<ProjectId>) -> Result<UsageTotals> {
        self.read(|c, _| runs::usage_totals(c, project))
    }

    fn usage_since(&self, project: Option<ProjectId>, since_ms: i64) -> Result<UsageTotals> {
        self.read(|c, _| runs::usage_since(c, project, since_ms))
    }

    fn usage_breakdown(
        &self,
        project: Option<ProjectId>,
        by: UsageDimension,
    ) -> Result<Vec<UsageRow>> {
        self.read(|c, _| runs::usage_breakdown(c, project, by))
    }

    fn export_rows(&self) -> Result<BoardRows> {
        self.read(|c, _| copy::export(c))
    }

    fn import_rows(&self, rows: &BoardRows) -> Result<()> {
        self.write_then(
            |c, _| copy::import(c, rows),
            |_| Touched {
                events: false,
                jobs: crate::rules::import::has_claimable_job(rows),
            },
        )
    }

    fn import_events(&self, events: &[Event]) -> Result<()> {
        self.write_then(
            |c, _| copy::import_events(c, events),
            |_| Touched {
                events: !events.is_empty(),
                jobs: false,
            },
        )
    }

    fn subscribe(&self, listener: Listener) {
        self.changes.subscribe(listener);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gaffer_core::FixedClock;

    #[test]
    fn reads_and_writes_nudge_the_claims_and_commits_waiting_for_the_connection() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(
            &dir.path().join("board.db"),
            Arc::new(FixedClock::new(1_000_000)),
        )
        .unwrap();
        // A commit queued while the connection was held, its caller waiting for a nudge.
        let slot = store.queue.push(combine::Op::Commit(Box::default()));
        store.projects().unwrap();
        assert_eq!(slot.nudges(), 1, "a read lets go of the connection");
        store
            .upsert_project(&NewProject {
                name: "p".into(),
                root: "/srv/p".into(),
                target: "main".into(),
            })
            .unwrap();
        assert_eq!(slot.nudges(), 2, "so does a write");
    }
}
