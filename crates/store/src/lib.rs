//! Where gaffer keeps everything: projects, tasks, runs, the event log and the job queue.
//!
//! [`Store`] is the port; [`SqliteStore`] is the embedded implementation (WAL, migrations embedded
//! in the binary). A PostgreSQL implementation can follow behind the same trait: callers only see
//! the trait, [`rules`] holds what every implementation checks and records the same way, and
//! `conformance` (behind the feature of that name) is a test suite any implementation must pass.
//!
//! The one rule that makes crash recovery possible: a task's state never changes without its
//! event and the jobs its effects require, in the same transaction ([`Store::commit`]).

mod clock;
#[cfg(feature = "conformance")]
pub mod conformance;
mod error;
pub mod rules;
mod sqlite;
mod types;

pub use clock::SystemClock;
pub use error::{Result, StoreError};
pub use sqlite::SqliteStore;
pub use types::{
    Commit, EventFilter, JobCompletion, JobFilter, JobOutcome, LeaseHolder, NewProject, RunFinish,
    TaskEdit, TaskFilter, TaskUpdate, UsageDimension, UsageRow, UsageTotals,
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
    fn claim_job(&self, owner: &str, kinds: &[JobKind], lease_ms: i64) -> Result<Option<Job>>;
    /// Extends the lease; `false` when `owner` no longer holds the job.
    fn heartbeat(&self, job: JobId, owner: &str, lease_ms: i64) -> Result<bool>;
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
}
