//! [`Store`] for [`PgStore`]: each method is one transaction on a connection thread. Arguments
//! are cloned into the transaction (it runs on another thread and may run more than once).

use crate::{
    PgStore, commit, copy, events, hosts, jobs, leases, projects, runs, tasks, worker_tokens,
};
use gaffer_core::{
    Event, Job, JobId, JobKind, NewEvent, NewRun, NewTask, ProcessRecord, Project, ProjectId, Run,
    RunId, Seq, Task, TaskId, TaskState,
};
use gaffer_store::{
    BoardRows, Commit, EventFilter, HeldLease, HostInfo, JobFilter, LeaseHolder, Listener,
    NewProject, NewWorkerToken, Result, Store, TaskEdit, TaskFilter, UsageDimension, UsageRow,
    UsageTotals, WorkerToken, rules,
};

impl Store for PgStore {
    fn upsert_project(&self, project: &NewProject) -> Result<Project> {
        let project = project.clone();
        self.write(move |tx, now| projects::upsert(tx, &project, now))
    }

    fn project(&self, id: ProjectId) -> Result<Project> {
        self.read(move |tx, _| projects::get(tx, id))
    }

    fn projects(&self) -> Result<Vec<Project>> {
        self.read(|tx, _| projects::all(tx))
    }

    fn create_task(&self, project: ProjectId, task: &NewTask, initial: &TaskState) -> Result<Task> {
        let (task, initial) = (task.clone(), initial.clone());
        self.write(move |tx, now| tasks::create(tx, project, &task, &initial, now))
    }

    fn task(&self, id: TaskId) -> Result<Task> {
        self.read(move |tx, _| tasks::get(tx, id))
    }

    fn tasks(&self, filter: &TaskFilter) -> Result<Vec<Task>> {
        let filter = filter.clone();
        self.read(move |tx, _| tasks::list(tx, &filter))
    }

    fn edit_task(&self, id: TaskId, expected_version: i64, edit: &TaskEdit) -> Result<Task> {
        let edit = edit.clone();
        self.write(move |tx, now| tasks::edit(tx, id, expected_version, &edit, now))
    }

    fn commit(&self, commit: &Commit) -> Result<Vec<Event>> {
        let commit = commit.clone();
        self.write(move |tx, now| commit::apply(tx, &commit, now))
    }

    fn append_events(&self, events: &[NewEvent]) -> Result<Vec<Event>> {
        let events = events.to_vec();
        self.write(move |tx, now| events::insert(tx, &events, now))
    }

    fn events_after(&self, after: Seq, limit: usize, filter: &EventFilter) -> Result<Vec<Event>> {
        let filter = filter.clone();
        self.read(move |tx, _| events::after(tx, after, limit, &filter))
    }

    fn last_seq(&self) -> Result<Seq> {
        self.read(|tx, _| events::last_seq(tx))
    }

    fn claim_job_for(
        &self,
        owner: &str,
        kinds: &[JobKind],
        labels: &[String],
        lease_ms: i64,
    ) -> Result<Option<Job>> {
        let (owner, kinds, labels) = (owner.to_string(), kinds.to_vec(), labels.to_vec());
        self.write(move |tx, now| jobs::claim(tx, &owner, &kinds, &labels, lease_ms, now))
    }

    fn announce_host(
        &self,
        name: &str,
        labels: &[String],
        running: u32,
        slots: Option<u32>,
        load: Option<f64>,
    ) -> Result<()> {
        let (name, labels) = (name.to_string(), labels.to_vec());
        self.write(move |tx, now| hosts::announce(tx, &name, &labels, running, slots, load, now))
    }

    fn hosts(&self) -> Result<Vec<HostInfo>> {
        self.read(|tx, _| hosts::all(tx))
    }

    fn create_worker_token(&self, token: &NewWorkerToken) -> Result<WorkerToken> {
        let token = token.clone();
        self.write(move |tx, now| worker_tokens::create(tx, &token, now))
    }

    fn worker_tokens(&self, project: ProjectId) -> Result<Vec<WorkerToken>> {
        self.read(move |tx, _| worker_tokens::of_project(tx, project))
    }

    fn worker_token_by_hash(&self, hash: &str) -> Result<Option<WorkerToken>> {
        // A read answers most calls; a write only when the use is worth recording.
        let hash = hash.to_string();
        let found = self.read(move |tx, now| {
            Ok(worker_tokens::live_by_hash(tx, &hash)?.map(|t| {
                let due = rules::worker_tokens::use_is_due(t.last_used_ms, now);
                (t, due)
            }))
        })?;
        match found {
            Some((token, true)) => {
                self.write(move |tx, now| worker_tokens::record_use(tx, token.id, now))
            }
            Some((token, false)) => Ok(Some(token)),
            None => Ok(None),
        }
    }

    fn revoke_worker_token(&self, project: ProjectId, id: i64) -> Result<bool> {
        self.write(move |tx, now| worker_tokens::revoke(tx, project, id, now))
    }

    fn heartbeat(&self, job: JobId, owner: &str, lease_ms: i64) -> Result<bool> {
        let owner = owner.to_string();
        self.write(move |tx, now| jobs::heartbeat(tx, job, &owner, lease_ms, now))
    }

    fn heartbeat_jobs(&self, leases: &[HeldLease], lease_ms: i64) -> Result<Vec<HeldLease>> {
        let leases = leases.to_vec();
        self.write(move |tx, now| jobs::heartbeat_many(tx, &leases, lease_ms, now))
    }

    fn release_job(&self, job: JobId, owner: &str) -> Result<bool> {
        let owner = owner.to_string();
        self.write(move |tx, now| jobs::release(tx, job, &owner, now))
    }

    fn release_jobs_of_dead_owners(
        &self,
        owner_prefix: &str,
        keep_owner: &str,
    ) -> Result<Vec<Job>> {
        let (prefix, keep) = (owner_prefix.to_string(), keep_owner.to_string());
        self.write(move |tx, now| jobs::release_dead_owners(tx, &prefix, &keep, now))
    }

    fn set_job_process(&self, job: JobId, owner: &str, process: &ProcessRecord) -> Result<bool> {
        let (owner, process) = (owner.to_string(), process.clone());
        self.write(move |tx, now| jobs::set_process(tx, job, &owner, &process, now))
    }

    fn exhausted_jobs(&self) -> Result<Vec<Job>> {
        self.read(|tx, _| jobs::exhausted(tx))
    }

    fn job(&self, id: JobId) -> Result<Job> {
        self.read(move |tx, _| jobs::get(tx, id))
    }

    fn jobs(&self, filter: &JobFilter) -> Result<Vec<Job>> {
        let filter = filter.clone();
        self.read(move |tx, _| jobs::list(tx, &filter))
    }

    fn start_run(&self, run: &NewRun) -> Result<Run> {
        let run = run.clone();
        self.write(move |tx, now| runs::start(tx, &run, now))
    }

    fn set_run_session(&self, run: RunId, session: &str) -> Result<()> {
        let session = session.to_string();
        self.write(move |tx, _| runs::set_session(tx, run, &session))
    }

    fn mark_runs_lost(&self, task: Option<TaskId>, reason: &str) -> Result<Vec<Run>> {
        let reason = reason.to_string();
        self.write(move |tx, now| runs::mark_lost(tx, task, &reason, now))
    }

    fn run(&self, id: RunId) -> Result<Run> {
        self.read(move |tx, _| runs::get(tx, id))
    }

    fn runs(&self, task: TaskId) -> Result<Vec<Run>> {
        self.read(move |tx, _| runs::of_task(tx, task))
    }

    fn usage_totals(&self, project: Option<ProjectId>) -> Result<UsageTotals> {
        self.read(move |tx, _| runs::usage_totals(tx, project))
    }

    fn usage_since(&self, project: Option<ProjectId>, since_ms: i64) -> Result<UsageTotals> {
        self.read(move |tx, _| runs::usage_since(tx, project, since_ms))
    }

    fn usage_breakdown(
        &self,
        project: Option<ProjectId>,
        by: UsageDimension,
    ) -> Result<Vec<UsageRow>> {
        self.read(move |tx, _| runs::usage_breakdown(tx, project, by))
    }

    fn export_rows(&self) -> Result<BoardRows> {
        self.read(|tx, _| copy::export(tx))
    }

    fn import_rows(&self, rows: &BoardRows) -> Result<()> {
        let rows = rows.clone();
        self.write(move |tx, _| copy::import(tx, &rows))
    }

    fn import_events(&self, events: &[Event]) -> Result<()> {
        let events = events.to_vec();
        self.write(move |tx, _| copy::import_events(tx, &events))
    }

    fn subscribe(&self, listener: Listener) {
        self.listeners.subscribe(&self.settings, listener);
    }

    fn hears_other_processes(&self) -> bool {
        true
    }

    fn hold_lease(&self, name: &str, owner: &str, lease_ms: i64) -> Result<bool> {
        let (name, owner) = (name.to_string(), owner.to_string());
        self.write(move |tx, now| leases::hold(tx, &name, &owner, lease_ms, now))
    }

    fn release_lease(&self, name: &str, owner: &str) -> Result<bool> {
        let (name, owner) = (name.to_string(), owner.to_string());
        self.write(move |tx, _| leases::release(tx, &name, &owner))
    }

    fn lease_holder(&self, name: &str) -> Result<Option<LeaseHolder>> {
        let name = name.to_string();
        self.read(move |tx, _| leases::holder(tx, &name))
    }

    fn mark_runs_of_job_lost(&self, job: JobId, reason: &str) -> Result<Vec<Run>> {
        let reason = reason.to_string();
        self.write(move |tx, now| runs::mark_lost_of_job(tx, job, &reason, now))
    }
}
