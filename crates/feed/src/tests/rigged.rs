//! A store that fails, panics or writes on cue, around a real one: for the follower's and the
//! subscriptions' recoveries and for the seam's order.

use gaffer_core::{
    Event, Job, JobId, JobKind, NewEvent, NewRun, NewTask, ProcessRecord, Project, ProjectId, Run,
    RunId, Seq, Task, TaskId, TaskState,
};
use gaffer_store::{
    BoardRows, Commit, EventFilter, HostInfo, JobFilter, LeaseHolder, Listener, NewProject,
    NewWorkerToken, Result, Store, StoreError, TaskEdit, TaskFilter, UsageDimension, UsageRow,
    UsageTotals, WorkerToken,
};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// Run inside a read of the log with a kind filter, once, instead of the read: it gets the
/// real store and the read's arguments and returns what the read returns.
pub(crate) type Hook =
    Box<dyn FnOnce(&dyn Store, Seq, usize, &EventFilter) -> Result<Vec<Event>> + Send>;

#[derive(Default)]
pub(crate) struct Rig {
    /// `events_after` calls that fail from now (counted down).
    pub fail_reads: AtomicUsize,
    /// `events_after` calls that panic from now (counted down).
    pub panic_reads: AtomicUsize,
    /// `hears_other_processes` calls that panic from now (counted down): it is called on the
    /// follower's own task, not on the blocking pool.
    pub panic_hears: AtomicUsize,
    /// Every `events_after` call so far.
    pub reads: AtomicUsize,
    pub hook: Mutex<Option<Hook>>,
}

fn take_one(counter: &AtomicUsize) -> bool {
    counter
        .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| n.checked_sub(1))
        .is_ok()
}

pub(crate) struct Rigged {
    inner: Arc<dyn Store>,
    pub rig: Arc<Rig>,
}

impl Rigged {
    pub(crate) fn around(inner: Arc<dyn Store>) -> (Arc<dyn Store>, Arc<Rig>) {
        let rig = Arc::new(Rig::default());
        let store = Rigged {
            inner,
            rig: Arc::clone(&rig),
        };
        (Arc::new(store), rig)
    }
}

impl Store for Rigged {
    fn events_after(&self, after: Seq, limit: usize, filter: &EventFilter) -> Result<Vec<Event>> {
        self.rig.reads.fetch_add(1, Ordering::AcqRel);
        if take_one(&self.rig.fail_reads) {
            return Err(StoreError::Unavailable("rigged to fail".into()));
        }
        if take_one(&self.rig.panic_reads) {
            panic!("rigged to panic in a read");
        }
        if filter.kind_prefix.is_some() {
            let hook = self
                .rig
                .hook
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .take();
            if let Some(hook) = hook {
                return hook(self.inner.as_ref(), after, limit, filter);
            }
        }
        self.inner.events_after(after, limit, filter)
    }
    fn last_seq(&self) -> Result<Seq> {
        self.inner.last_seq()
    }
    fn hears_other_processes(&self) -> bool {
        if take_one(&self.rig.panic_hears) {
            panic!("rigged to panic on the follower's task");
        }
        self.inner.hears_other_processes()
    }
    fn upsert_project(&self, project: &NewProject) -> Result<Project> {
        self.inner.upsert_project(project)
    }
    fn project(&self, id: ProjectId) -> Result<Project> {
        self.inner.project(id)
    }
    fn projects(&self) -> Result<Vec<Project>> {
        self.inner.projects()
    }
    fn create_task(&self, project: ProjectId, task: &NewTask, initial: &TaskState) -> Result<Task> {
        self.inner.create_task(project, task, initial)
    }
    fn task(&self, id: TaskId) -> Result<Task> {
        self.inner.task(id)
    }
    fn tasks(&self, filter: &TaskFilter) -> Result<Vec<Task>> {
        self.inner.tasks(filter)
    }
    fn edit_task(&self, id: TaskId, expected_version: i64, edit: &TaskEdit) -> Result<Task> {
        self.inner.edit_task(id, expected_version, edit)
    }
    fn commit(&self, commit: &Commit) -> Result<Vec<Event>> {
        self.inner.commit(commit)
    }
    fn append_events(&self, events: &[NewEvent]) -> Result<Vec<Event>> {
        self.inner.append_events(events)
    }
    fn claim_job_for(
        &self,
        owner: &str,
        kinds: &[JobKind],
        labels: &[String],
        lease_ms: i64,
    ) -> Result<Option<Job>> {
        self.inner.claim_job_for(owner, kinds, labels, lease_ms)
    }
    fn announce_host(
        &self,
        name: &str,
        labels: &[String],
        running: u32,
        slots: Option<u32>,
        load: Option<f64>,
    ) -> Result<()> {
        self.inner.announce_host(name, labels, running, slots, load)
    }
    fn hosts(&self) -> Result<Vec<HostInfo>> {
        self.inner.hosts()
    }
    fn create_worker_token(&self, token: &NewWorkerToken) -> Result<WorkerToken> {
        self.inner.create_worker_token(token)
    }
    fn worker_tokens(&self, project: ProjectId) -> Result<Vec<WorkerToken>> {
        self.inner.worker_tokens(project)
    }
    fn worker_token_by_hash(&self, hash: &str) -> Result<Option<WorkerToken>> {
        self.inner.worker_token_by_hash(hash)
    }
    fn revoke_worker_token(&self, project: ProjectId, id: i64) -> Result<bool> {
        self.inner.revoke_worker_token(project, id)
    }
    fn heartbeat(&self, job: JobId, owner: &str, lease_ms: i64) -> Result<bool> {
        self.inner.heartbeat(job, owner, lease_ms)
    }
    fn release_job(&self, job: JobId, owner: &str) -> Result<bool> {
        self.inner.release_job(job, owner)
    }
    fn release_jobs_of_dead_owners(
        &self,
        owner_prefix: &str,
        keep_owner: &str,
    ) -> Result<Vec<Job>> {
        self.inner
            .release_jobs_of_dead_owners(owner_prefix, keep_owner)
    }
    fn set_job_process(&self, job: JobId, owner: &str, process: &ProcessRecord) -> Result<bool> {
        self.inner.set_job_process(job, owner, process)
    }
    fn exhausted_jobs(&self) -> Result<Vec<Job>> {
        self.inner.exhausted_jobs()
    }
    fn job(&self, id: JobId) -> Result<Job> {
        self.inner.job(id)
    }
    fn jobs(&self, filter: &JobFilter) -> Result<Vec<Job>> {
        self.inner.jobs(filter)
    }
    fn hold_lease(&self, name: &str, owner: &str, lease_ms: i64) -> Result<bool> {
        self.inner.hold_lease(name, owner, lease_ms)
    }
    fn release_lease(&self, name: &str, owner: &str) -> Result<bool> {
        self.inner.release_lease(name, owner)
    }
    fn lease_holder(&self, name: &str) -> Result<Option<LeaseHolder>> {
        self.inner.lease_holder(name)
    }
    fn start_run(&self, run: &NewRun) -> Result<Run> {
        self.inner.start_run(run)
    }
    fn set_run_session(&self, run: RunId, session: &str) -> Result<()> {
        self.inner.set_run_session(run, session)
    }
    fn mark_runs_lost(&self, task: Option<TaskId>, reason: &str) -> Result<Vec<Run>> {
        self.inner.mark_runs_lost(task, reason)
    }
    fn mark_runs_of_job_lost(&self, job: JobId, reason: &str) -> Result<Vec<Run>> {
        self.inner.mark_runs_of_job_lost(job, reason)
    }
    fn run(&self, id: RunId) -> Result<Run> {
        self.inner.run(id)
    }
    fn runs(&self, task: TaskId) -> Result<Vec<Run>> {
        self.inner.runs(task)
    }
    fn usage_totals(&self, project: Option<ProjectId>) -> Result<UsageTotals> {
        self.inner.usage_totals(project)
    }
    fn usage_since(&self, project: Option<ProjectId>, since_ms: i64) -> Result<UsageTotals> {
        self.inner.usage_since(project, since_ms)
    }
    fn usage_breakdown(
        &self,
        project: Option<ProjectId>,
        by: UsageDimension,
    ) -> Result<Vec<UsageRow>> {
        self.inner.usage_breakdown(project, by)
    }
    fn export_rows(&self) -> Result<BoardRows> {
        self.inner.export_rows()
    }
    fn import_rows(&self, rows: &BoardRows) -> Result<()> {
        self.inner.import_rows(rows)
    }
    fn import_events(&self, events: &[Event]) -> Result<()> {
        self.inner.import_events(events)
    }
    fn subscribe(&self, listener: Listener) {
        self.inner.subscribe(listener)
    }
}
