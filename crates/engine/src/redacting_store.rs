//! The store as the engine, the server and the CLI see it: every write passes through the
//! project's redactor first, so no secret gaffer knows reaches the database, and from there the
//! API, the dashboard, `gaffer log`, notifications or MCP. Reads pass through unchanged (what is
//! stored is already clean). Imports are writes too: a board copied in through this wrapper is
//! redacted like one written through it (its source may predate a secret gaffer knows now).

use crate::secrets::Secrets;
use gaffer_core::{
    Event, Job, JobId, JobKind, NewEvent, NewRun, NewTask, ProcessRecord, Project, ProjectId, Run,
    RunId, Seq, Task, TaskId, TaskState,
};
use gaffer_store::{
    BoardRows, Commit, EventFilter, HeldLease, HostInfo, JobFilter, LeaseHolder, Listener,
    NewProject, NewWorkerToken, Result, Store, TaskEdit, TaskFilter, UsageDimension, UsageRow,
    UsageTotals, WorkerToken,
};
use std::sync::Arc;

pub(crate) struct RedactingStore {
    inner: Arc<dyn Store>,
    secrets: Arc<Secrets>,
}

impl RedactingStore {
    pub(crate) fn new(inner: Arc<dyn Store>, secrets: Arc<Secrets>) -> RedactingStore {
        RedactingStore { inner, secrets }
    }

    fn event(&self, event: &NewEvent) -> NewEvent {
        let mut event = event.clone();
        self.secrets.redact_json(&mut event.data);
        event
    }

    /// `rows` with what the writes below redact redacted the same way: what a task asks, its
    /// state and plan, job specs, run outcomes. A task's branch is kept: it names a real branch.
    fn rows(&self, rows: &BoardRows) -> BoardRows {
        let mut rows = rows.clone();
        for task in &mut rows.tasks {
            task.title = self.secrets.redact(&task.title).into_owned();
            task.body = self.secrets.redact(&task.body).into_owned();
            task.labels = self.secrets.scrub(&task.labels);
            task.write_scope = self.secrets.scrub(&task.write_scope);
            task.read_scope = self.secrets.scrub(&task.read_scope);
            task.state = self.secrets.scrub(&task.state);
            if let Some(plan) = &mut task.plan {
                self.secrets.redact_json(plan);
            }
        }
        for row in &mut rows.jobs {
            row.job.spec = self.secrets.scrub(&row.job.spec);
        }
        for row in &mut rows.runs {
            row.run.outcome = row
                .run
                .outcome
                .as_deref()
                .map(|o| self.secrets.redact(o).into_owned());
        }
        rows
    }
}

impl Store for RedactingStore {
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
        self.inner.create_task(
            project,
            &self.secrets.scrub(task),
            &self.secrets.scrub(initial),
        )
    }
    fn task(&self, id: TaskId) -> Result<Task> {
        self.inner.task(id)
    }
    fn tasks(&self, filter: &TaskFilter) -> Result<Vec<Task>> {
        self.inner.tasks(filter)
    }
    fn edit_task(&self, id: TaskId, expected_version: i64, edit: &TaskEdit) -> Result<Task> {
        let mut edit = edit.clone();
        edit.title = edit.title.map(|t| self.secrets.redact(&t).into_owned());
        edit.body = edit.body.map(|b| self.secrets.redact(&b).into_owned());
        edit.labels = edit.labels.map(|labels| self.secrets.scrub(&labels));
        edit.write_scope = edit.write_scope.map(|scope| self.secrets.scrub(&scope));
        edit.read_scope = edit.read_scope.map(|scope| self.secrets.scrub(&scope));
        self.inner.edit_task(id, expected_version, &edit)
    }
    fn commit(&self, commit: &Commit) -> Result<Vec<Event>> {
        let mut commit = commit.clone();
        if let Some(update) = &mut commit.task {
            update.state = self.secrets.scrub(&update.state);
            if let Some(plan) = &mut update.plan {
                self.secrets.redact_json(plan);
            }
        }
        commit.events = commit.events.iter().map(|e| self.event(e)).collect();
        // A job's error may quote a tool's or a remote's output.
        if let Some(done) = &mut commit.complete_job {
            done.error = done
                .error
                .as_ref()
                .map(|e| self.secrets.redact(e).into_owned());
        }
        for job in &mut commit.enqueue {
            job.spec = self.secrets.scrub(&job.spec);
        }
        if let Some(finish) = &mut commit.finish_run {
            finish.outcome = finish
                .outcome
                .as_deref()
                .map(|o| self.secrets.redact(o).into_owned());
        }
        for (task, state) in &mut commit.children {
            *task = self.secrets.scrub(task);
            *state = self.secrets.scrub(state);
        }
        self.inner.commit(&commit)
    }
    fn append_events(&self, events: &[NewEvent]) -> Result<Vec<Event>> {
        let events: Vec<NewEvent> = events.iter().map(|e| self.event(e)).collect();
        self.inner.append_events(&events)
    }
    fn events_after(&self, after: Seq, limit: usize, filter: &EventFilter) -> Result<Vec<Event>> {
        self.inner.events_after(after, limit, filter)
    }
    fn last_seq(&self) -> Result<Seq> {
        self.inner.last_seq()
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
    // Worker tokens pass through: a token holds a name and labels a person chose and the hash
    // of a secret gaffer made, nothing the redactor knows.
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
    fn heartbeat_jobs(&self, leases: &[HeldLease], lease_ms: i64) -> Result<Vec<HeldLease>> {
        self.inner.heartbeat_jobs(leases, lease_ms)
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
    fn hold_lease(&self, name: &str, owner: &str, lease_ms: i64) -> Result<bool> {
        self.inner.hold_lease(name, owner, lease_ms)
    }
    fn release_lease(&self, name: &str, owner: &str) -> Result<bool> {
        self.inner.release_lease(name, owner)
    }
    fn lease_holder(&self, name: &str) -> Result<Option<LeaseHolder>> {
        self.inner.lease_holder(name)
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
        self.inner.import_rows(&self.rows(rows))
    }
    fn import_events(&self, events: &[Event]) -> Result<()> {
        // Redacted like appended events; their seqs and times are kept.
        let events: Vec<Event> = events
            .iter()
            .map(|e| {
                let mut e = e.clone();
                self.secrets.redact_json(&mut e.data);
                e
            })
            .collect();
        self.inner.import_events(&events)
    }
    fn subscribe(&self, listener: Listener) {
        self.inner.subscribe(listener);
    }
    fn hears_other_processes(&self) -> bool {
        self.inner.hears_other_processes()
    }
}

/// The wrapper is a store like any other: it passes the whole conformance suite over SQLite.
#[cfg(test)]
mod conformance {
    #![allow(clippy::unwrap_used)]

    use super::RedactingStore;
    use crate::secrets::Secrets;
    use gaffer_core::FixedClock;
    use gaffer_store::{SqliteStore, Store};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn redacting(inner: SqliteStore) -> Box<dyn Store> {
        let secrets = Arc::new(Secrets::from_settings(&gaffer_config::default_settings()));
        Box::new(RedactingStore::new(Arc::new(inner), secrets))
    }

    fn fresh() -> impl Fn(Arc<FixedClock>) -> Box<dyn Store> {
        let dir = tempfile::tempdir().unwrap();
        let n = AtomicUsize::new(0);
        move |clock| {
            let path = dir
                .path()
                .join(format!("{}.db", n.fetch_add(1, Ordering::SeqCst)));
            redacting(SqliteStore::open(&path, clock).unwrap())
        }
    }

    fn one_file() -> impl Fn() -> Box<dyn Store> + Sync {
        let dir = tempfile::tempdir().unwrap();
        move || redacting(SqliteStore::open_default(&dir.path().join("board.db")).unwrap())
    }

    gaffer_store::conformance_tests!(fresh(), shared: one_file());
}

/// A board imported through the wrapper is redacted like one written through it.
#[cfg(test)]
mod import {
    #![allow(clippy::unwrap_used)]

    use super::RedactingStore;
    use crate::secrets::Secrets;
    use gaffer_core::{Flow, NewEvent, NewTask, Risk, Seq, TaskState};
    use gaffer_store::{EventFilter, NewProject, SqliteStore, Store};
    use std::sync::Arc;

    const SECRET: &str = "daemon-token-0123456789";

    #[test]
    fn imported_rows_and_events_are_redacted_with_ids_and_seqs_kept() {
        let dir = tempfile::tempdir().unwrap();
        // The source was written before the secret was known.
        let source = SqliteStore::open_default(&dir.path().join("source.db")).unwrap();
        let p = source
            .upsert_project(&NewProject {
                name: "p".into(),
                root: "/srv/p".into(),
                target: "main".into(),
            })
            .unwrap();
        let state = TaskState::new(Flow::default(), Risk::Low, 0);
        let title = format!("use {SECRET}");
        let t = source
            .create_task(
                p.id,
                &NewTask {
                    title: title.clone(),
                    ..NewTask::default()
                },
                &state,
            )
            .unwrap();
        source
            .append_events(&[
                NewEvent::new("note", serde_json::json!({ "said": SECRET })).task(t.id)
            ])
            .unwrap();

        let secrets = Arc::new(Secrets::from_settings(&gaffer_config::default_settings()));
        secrets.add("GAFFER_DAEMON_TOKEN", SECRET);
        let target = RedactingStore::new(
            Arc::new(SqliteStore::open_default(&dir.path().join("target.db")).unwrap()),
            secrets,
        );
        target.import_rows(&source.export_rows().unwrap()).unwrap();
        let log = source
            .events_after(Seq(0), 100, &EventFilter::default())
            .unwrap();
        target.import_events(&log).unwrap();

        let copied = target.task(t.id).unwrap();
        assert!(!copied.title.contains(SECRET), "{}", copied.title);
        assert_eq!(copied.branch, t.branch, "the branch names the real branch");
        let copied_log = target
            .events_after(Seq(0), 100, &EventFilter::default())
            .unwrap();
        let seqs = |events: &[gaffer_core::Event]| events.iter().map(|e| e.seq).collect::<Vec<_>>();
        assert_eq!(seqs(&copied_log), seqs(&log));
        assert!(!serde_json::to_string(&copied_log).unwrap().contains(SECRET));
    }
}

/// Text with a NUL (an agent's output may hold one) is stored the same in every store: the
/// NUL becomes U+FFFD, which PostgreSQL's text can hold.
#[cfg(test)]
mod nul {
    #![allow(clippy::unwrap_used)]

    use super::RedactingStore;
    use crate::secrets::Secrets;
    use gaffer_core::{Flow, NewTask, Risk, TaskState};
    use gaffer_store::{NewProject, SqliteStore, Store};
    use std::sync::Arc;

    #[test]
    fn a_nul_in_a_title_is_stored_as_a_replacement_character() {
        let dir = tempfile::tempdir().unwrap();
        let inner = SqliteStore::open_default(&dir.path().join("board.db")).unwrap();
        let secrets = Arc::new(Secrets::from_settings(&gaffer_config::default_settings()));
        let store = RedactingStore::new(Arc::new(inner), secrets);
        let p = store
            .upsert_project(&NewProject {
                name: "p".into(),
                root: "/p".into(),
                target: "main".into(),
            })
            .unwrap();
        let task = store
            .create_task(
                p.id,
                &NewTask {
                    title: "a\0b".into(),
                    body: "c\0".into(),
                    ..NewTask::default()
                },
                &TaskState::new(Flow::default(), Risk::Low, 0),
            )
            .unwrap();
        assert_eq!(task.title, "a\u{FFFD}b");
        assert_eq!(store.task(task.id).unwrap().body, "c\u{FFFD}");
    }
}
