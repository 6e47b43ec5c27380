//! Where gaffer keeps everything: projects, tasks, runs, the event log and the job queue.
//!
//! [`Store`] is the port; [`SqliteStore`] is the embedded implementation (WAL, migrations embedded
//! in the binary); `gaffer-store-postgres` is the PostgreSQL one, behind the same trait: callers
//! only see the trait, [`rules`] holds what every implementation checks and records the same way,
//! and `conformance` (behind the feature of that name) is a test suite any implementation must
//! pass.
//!
//! The one rule that makes crash recovery possible: a task's state never changes without its
//! event and the jobs its effects require, in the same transaction ([`Store::commit`]).
//!
//! A whole board moves between stores (`gaffer store copy`) through [`Store::export_rows`],
//! [`Store::import_rows`] and, page by page, [`Store::events_after`] and
//! [`Store::import_events`]. Waiters learn of new events and claimable jobs from
//! [`Store::subscribe`] rather than by polling alone.

mod change;
mod clock;
#[cfg(feature = "conformance")]
pub mod conformance;
mod copy;
mod error;
pub mod rules;
mod sqlite;
mod types;

pub use change::{Change, Listener};
pub use clock::SystemClock;
pub use copy::{BoardRows, JobRow, RunRow, WorkerTokenRow};
pub use error::{Result, StoreError};
pub use sqlite::SqliteStore;
pub use types::{
    Commit, EventFilter, HeldLease, HostInfo, JobCompletion, JobFilter, JobOutcome, LeaseHolder,
    NewProject, NewWorkerToken, RunFinish, TaskEdit, TaskFilter, TaskUpdate, UsageDimension,
    UsageRow, UsageTotals, WorkerToken,
};

use gaffer_core::{
    Event, Job, JobId, JobKind, NewEvent, NewRun, NewTask, ProcessRecord, Project, ProjectId, Run,
    RunId, Seq, Task, TaskId, TaskState,
};

/// Storage for one gaffer server. Implementations are safe to share between threads; every method
/// is one transaction.
pub trait Store: Send + Sync {
    /// Returns the project with this root, creating it if needed (and updating its name and
    /// target when they changed).
    fn upsert_project(&self, project: &NewProject) -> Result<Project>;
    fn project(&self, id: ProjectId) -> Result<Project>;
    fn projects(&self) -> Result<Vec<Project>>;

    /// Creates a task in `initial` state and its `task.created` event. Dependencies must exist.
    fn create_task(&self, project: ProjectId, task: &NewTask, initial: &TaskState) -> Result<Task>;
    fn task(&self, id: TaskId) -> Result<Task>;
    fn tasks(&self, filter: &TaskFilter) -> Result<Vec<Task>>;
    /// Changes what a task asks (title, body, labels, priority, kind, budget; its risk when
    /// given) if it is still at `expected_version`, bumps the version and writes a `task.edited`
    /// event with the fields that changed. Never its status: only [`Store::commit`] changes
    /// that. The branch keeps its name. Returns the task as it is now.
    fn edit_task(&self, id: TaskId, expected_version: i64, edit: &TaskEdit) -> Result<Task>;

    /// Applies a state change and everything that goes with it atomically: the new task state
    /// (checked against its version), events, jobs to enqueue, the completion of the job that
    /// produced it (checked against its lease), the end of a run, child tasks. All or nothing.
    /// Returns the events written.
    fn commit(&self, commit: &Commit) -> Result<Vec<Event>>;

    /// Appends events that do not change any state (agent output, progress).
    fn append_events(&self, events: &[NewEvent]) -> Result<Vec<Event>>;
    /// Events with `seq > after`, oldest first, at most `limit`.
    fn events_after(&self, after: Seq, limit: usize, filter: &EventFilter) -> Result<Vec<Event>>;
    fn last_seq(&self) -> Result<Seq>;

    /// Hands the oldest, highest-priority claimable job of one of `kinds` (all kinds when empty)
    /// to `owner` for `lease_ms`. Claimable: queued, or leased with an expired lease (that
    /// previous holder lost it). A job whose attempts reached its maximum is marked failed
    /// instead of handed out again, and returned by [`Store::exhausted_jobs`].
    fn claim_job(&self, owner: &str, kinds: &[JobKind], lease_ms: i64) -> Result<Option<Job>> {
        self.claim_job_for(owner, kinds, &[], lease_ms)
    }
    /// [`Store::claim_job`] for a claimer with machine `labels`: a job is handed to it only if
    /// it has every label the job needs ([`gaffer_core::NewJob::needs`]); the others are left
    /// for claimers that have them, in claim order. `claim_job` claims with no label (jobs that
    /// need none).
    fn claim_job_for(
        &self,
        owner: &str,
        kinds: &[JobKind],
        labels: &[String],
        lease_ms: i64,
    ) -> Result<Option<Job>>;
    /// Records that the machine `name` is alive with `labels`, holding `running` jobs of the
    /// `slots` it can run at once, at this load (creates or replaces its row; its `seen_ms` is
    /// the store's now).
    fn announce_host(
        &self,
        name: &str,
        labels: &[String],
        running: u32,
        slots: Option<u32>,
        load: Option<f64>,
    ) -> Result<()>;
    /// Every machine that ever announced itself, by name, as it last did.
    fn hosts(&self) -> Result<Vec<HostInfo>>;

    /// Stores a worker token of `token.project` (its name, labels sorted without repeats, the
    /// hash of its secret; see [`rules::worker_tokens::new_token`], refused with
    /// [`StoreError::Invalid`] otherwise, or when another token has the same hash). Returns it
    /// as stored; nothing is said on the event log (the caller may).
    fn create_worker_token(&self, token: &NewWorkerToken) -> Result<WorkerToken>;
    /// Every worker token of `project`, revoked ones included, by id.
    fn worker_tokens(&self, project: ProjectId) -> Result<Vec<WorkerToken>>;
    /// The token with this hash when it exists and is not revoked; records its use
    /// (last_used_ms = now, written at most once a minute so that every request is not a write:
    /// [`rules::worker_tokens::USE_RECORDED_EVERY_MS`]).
    fn worker_token_by_hash(&self, hash: &str) -> Result<Option<WorkerToken>>;
    /// Revokes token `id` of `project`; false when there is none (or it was already revoked).
    fn revoke_worker_token(&self, project: ProjectId, id: i64) -> Result<bool>;
    /// Extends the lease; `false` when `owner` no longer holds the job.
    fn heartbeat(&self, job: JobId, owner: &str, lease_ms: i64) -> Result<bool>;
    /// [`Store::heartbeat`] for many leases in one transaction (one engine's running jobs, each
    /// claimed under its own owner name): extends every lease still held by its owner to
    /// `lease_ms` from now and returns the leases that were not (expired, taken by another,
    /// released, finished, or no such job), in the order given; nothing else changes. The
    /// default renews them one by one (stores override it with one transaction).
    fn heartbeat_jobs(&self, leases: &[HeldLease], lease_ms: i64) -> Result<Vec<HeldLease>> {
        rules::input::lease(lease_ms)?;
        let mut lost = Vec::new();
        for lease in leases {
            match self.heartbeat(lease.job, &lease.owner, lease_ms) {
                Ok(true) => {}
                Ok(false) | Err(StoreError::JobNotFound(_)) => lost.push(lease.clone()),
                Err(e) => return Err(e),
            }
        }
        Ok(lost)
    }
    /// Gives a leased job back to the queue without counting the attempt against it.
    fn release_job(&self, job: JobId, owner: &str) -> Result<bool>;
    /// Gives back every job held by owners other than `keep_owner` whose owner name starts with
    /// `owner_prefix` (the dead instances of this host's daemon); returns them as they were.
    fn release_jobs_of_dead_owners(&self, owner_prefix: &str, keep_owner: &str)
    -> Result<Vec<Job>>;
    /// Records the process running a leased job (so a restart can kill it).
    fn set_job_process(&self, job: JobId, owner: &str, process: &ProcessRecord) -> Result<bool>;
    /// Jobs that failed by running out of attempts and were not yet acknowledged; acknowledging
    /// happens through [`Commit::complete_job`] with any owner.
    fn exhausted_jobs(&self) -> Result<Vec<Job>>;
    fn job(&self, id: JobId) -> Result<Job>;
    fn jobs(&self, filter: &JobFilter) -> Result<Vec<Job>>;

    /// Takes the named lease (`queue:<project>`: who drives a project's merge queue) for
    /// `owner` until `lease_ms` from now when it is free or its holder's time ran out, or
    /// extends it when `owner` already holds it; `false` (nothing changed) while another owner
    /// holds it. A lease is held while its expiry is at or after now, as a job's is.
    fn hold_lease(&self, name: &str, owner: &str, lease_ms: i64) -> Result<bool>;
    /// Gives the named lease up; `false` when `owner` did not hold it (nothing changed).
    fn release_lease(&self, name: &str, owner: &str) -> Result<bool>;
    /// The last holder of the named lease and until when (expired when before now); `None`
    /// when nobody took it or it was released.
    fn lease_holder(&self, name: &str) -> Result<Option<LeaseHolder>>;

    /// Starts a run record (status running) and its `run.started` event.
    fn start_run(&self, run: &NewRun) -> Result<Run>;
    /// Sets the agent's session id once known.
    fn set_run_session(&self, run: RunId, session: &str) -> Result<()>;
    /// Marks running runs of `task` (or of all tasks) as lost, with an event each; returns them.
    fn mark_runs_lost(&self, task: Option<TaskId>, reason: &str) -> Result<Vec<Run>>;
    /// Marks the runs of `job` still running as lost, with a `run.lost` event each; returns
    /// them (none when it had none). For a job whose holder died or lost its lease: its runs
    /// will never end otherwise. [`StoreError::JobNotFound`] when there is no such job.
    fn mark_runs_of_job_lost(&self, job: JobId, reason: &str) -> Result<Vec<Run>>;
    fn run(&self, id: RunId) -> Result<Run>;
    fn runs(&self, task: TaskId) -> Result<Vec<Run>>;
    /// Sums of the usage recorded by every run (of `project`, or of all projects).
    fn usage_totals(&self, project: Option<ProjectId>) -> Result<UsageTotals>;
    /// The same sums over the runs that started at or after `since_ms` (budgets per day).
    fn usage_since(&self, project: Option<ProjectId>, since_ms: i64) -> Result<UsageTotals>;
    /// The same sums split by `by`: one row per distinct value, ordered by cost (highest first),
    /// then by key. The rows add up to [`Store::usage_totals`] for the same `project`.
    fn usage_breakdown(
        &self,
        project: Option<ProjectId>,
        by: UsageDimension,
    ) -> Result<Vec<UsageRow>>;

    /// Every row of the board but the event log, from one consistent snapshot, each list
    /// ordered by id (see [`BoardRows`]). Importing them into an empty store of any kind with
    /// [`Store::import_rows`] makes every read of that store return what this one returns.
    fn export_rows(&self) -> Result<BoardRows>;
    /// Writes `rows` as they are (ids, versions, states, leases, processes, usage, exhaustion
    /// marks; nothing is re-derived, no event is written) in one transaction. Only into an
    /// empty store: one holding any project, task, run, job or event refuses with
    /// [`StoreError::NotEmpty`] and stays as it was. Rows that are not a board on their own
    /// ([`rules::import::rows`]) are refused with [`StoreError::Invalid`]. Afterwards new
    /// projects, tasks, runs and jobs get ids above every imported id of their table. So a copy
    /// imports rows first, then the events.
    fn import_rows(&self, rows: &BoardRows) -> Result<()>;
    /// Appends `events` exactly as given (seq, time, references, kind, data; nothing completed
    /// or checked beyond order) in one transaction. Their seqs must be strictly increasing and
    /// above [`Store::last_seq`], or nothing is written and the first one out of order is
    /// refused with [`StoreError::SeqOutOfOrder`]. Gaps are kept. Later appends get seqs above
    /// the last imported one. An empty slice does nothing.
    fn import_events(&self, events: &[Event]) -> Result<()>;

    /// Calls `listener` after each transaction that has committed, through this handle or any
    /// other that the store knows of, and that appended events ([`Change::Events`]) or made a
    /// job claimable ([`Change::Jobs`]: enqueued, released, or imported queued or leased):
    /// once per transaction and kind at most, never for a transaction that rolled back, never
    /// for reads. Precisely: `Events` after `create_task`, an `edit_task` that changed
    /// something, a `commit` that wrote an event, a non-empty `append_events`, a `release_job`
    /// that released, a `release_jobs_of_dead_owners` that released any, `start_run`, a
    /// `mark_runs_lost` that lost any, a non-empty `import_events`; `Jobs` after a `commit` that
    /// enqueued, a `release_job` or `release_jobs_of_dead_owners` that released, an
    /// `import_rows` with a queued or leased job; nothing after any other write
    /// (`upsert_project`, `claim_job`, `heartbeat`, `set_job_process`, `set_run_session`,
    /// `announce_host`, the worker tokens' writes).
    /// A lease running out is no change (time passing writes nothing): waiters on
    /// jobs still wake at the earliest lease expiry. The listener stays for the life of this
    /// handle; it must be cheap and must not call back into the store (it typically pokes a
    /// `tokio::sync::Notify`); it may run on any thread, the writer's or the store's own.
    ///
    /// Which other handles a store hears: PostgreSQL hears every writer (LISTEN/NOTIFY);
    /// SQLite hears the handles of this process on the same file, so callers keep a slow poll
    /// for other processes.
    fn subscribe(&self, listener: Listener);

    /// Whether [`Store::subscribe`] hears the writes of every process and host (PostgreSQL's
    /// LISTEN/NOTIFY), so that a waiter's poll is only a safety net; false (the default) when
    /// other processes' writes are found only by reading (SQLite).
    fn hears_other_processes(&self) -> bool {
        false
    }
}
