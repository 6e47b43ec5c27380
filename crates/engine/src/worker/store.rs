//! The worker's side: a [`Store`] whose every call goes to the daemon over a [`Transport`], so
//! that the engine's job code runs unchanged on a worker. Only what executing a job needs is
//! answered; everything else (creating or editing tasks, the merge queue's leases, the board's
//! jobs) is refused here, and would be by the daemon too.

use super::Reporter;
use super::protocol::{Welcome, WorkerCall};
use crate::conclude::JobReport;
use crate::error::{EngineError, Result as EngineResult};
use gaffer_core::{
    Event, Job, JobId, JobKind, NewEvent, NewRun, NewTask, ProcessRecord, Project, ProjectId, Run,
    RunId, Seq, Task, TaskId, TaskState,
};
use gaffer_store::{
    BoardRows, Commit, EventFilter, HeldLease, HostInfo, JobFilter, LeaseHolder, Listener,
    NewProject, NewWorkerToken, Result, Store, StoreError, TaskEdit, TaskFilter, UsageDimension,
    UsageRow, UsageTotals, WorkerToken,
};
use serde::de::DeserializeOwned;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// How a worker's calls reach the daemon: HTTP with the worker's token (the CLI's), or, in
/// tests, straight into [`super::serve`].
pub trait Transport: Send + Sync {
    /// Sends `call`; the daemon's reply, or why there is none. A refusal of a call that names a
    /// job and its owner ([`WorkerCall::held_job`]) because the owner no longer holds the job is
    /// [`StoreError::LeaseLost`]; a daemon out of reach is [`StoreError::Unavailable`].
    fn call(&self, call: &WorkerCall) -> Result<serde_json::Value>;
}

/// A board's store as a remote worker sees it.
pub struct WorkerStore {
    transport: Arc<dyn Transport>,
    welcome: Welcome,
    /// The daemon said it does not know batched heartbeats: they go one lease at a time.
    heartbeats_one_by_one: AtomicBool,
}

impl WorkerStore {
    /// Says hello to the daemon: who this worker is, and which project it works for.
    pub fn connect(transport: Arc<dyn Transport>) -> Result<WorkerStore> {
        let welcome = typed(transport.call(&WorkerCall::Hello)?)?;
        Ok(WorkerStore {
            transport,
            welcome,
            heartbeats_one_by_one: AtomicBool::new(false),
        })
    }

    pub fn welcome(&self) -> &Welcome {
        &self.welcome
    }

    fn ask<T: DeserializeOwned>(&self, call: WorkerCall) -> Result<T> {
        typed(self.transport.call(&call)?)
    }

    fn project_of_board(&self, id: ProjectId) -> Result<Project> {
        if id == self.welcome.project.id {
            Ok(self.welcome.project.clone())
        } else {
            Err(StoreError::ProjectNotFound(id))
        }
    }
}

fn typed<T: DeserializeOwned>(value: serde_json::Value) -> Result<T> {
    serde_json::from_value(value)
        .map_err(|e| StoreError::Invalid(format!("the daemon's reply is not understood: {e}")))
}

/// Whether a refusal says the daemon does not know the call (one from before it was added: its
/// request body names a variant it cannot read), as opposed to refusing what it asks.
fn unknown_call(why: &str) -> bool {
    why.contains("unknown variant")
}

/// What a worker may not do.
fn refused(what: &str) -> StoreError {
    StoreError::Invalid(format!("a remote worker cannot {what}"))
}

impl super::Remote for WorkerStore {
    fn propose(&self, run: RunId, proposals: &[(String, String)]) -> EngineResult<Vec<Task>> {
        self.ask(WorkerCall::Propose {
            run,
            proposals: proposals.to_vec(),
        })
        .map_err(EngineError::from)
    }
}

impl Reporter for WorkerStore {
    /// Sends the report, again and again while the daemon is out of reach (a restart, a
    /// network blip), for as long as a lease lasts: the job's heartbeat keeps its lease alive
    /// meanwhile, and a result thrown away would mean doing the work again.
    fn report(&self, job: &Job, holder: &str, report: JobReport) -> EngineResult<()> {
        let call = WorkerCall::Report {
            job: job.id,
            owner: holder.to_string(),
            report,
        };
        let deadline = std::time::Instant::now()
            + std::time::Duration::from_millis(self.welcome.lease_ms.max(1_000) as u64);
        let mut pause = std::time::Duration::from_millis(250);
        loop {
            match self.transport.call(&call) {
                Ok(_) => return Ok(()),
                Err(StoreError::Unavailable(why)) if std::time::Instant::now() < deadline => {
                    tracing::warn!(job = %job.id, "the daemon is out of reach ({why}); reporting again");
                    std::thread::sleep(pause);
                    pause = (pause * 2).min(std::time::Duration::from_secs(5));
                }
                Err(e) => return Err(e.into()),
            }
        }
    }
}

impl Store for WorkerStore {
    fn upsert_project(&self, project: &NewProject) -> Result<Project> {
        // The board a worker opens is the daemon's: its clone must name the same remote.
        if project.root == self.welcome.project.root {
            Ok(self.welcome.project.clone())
        } else {
            Err(StoreError::Invalid(format!(
                "this worker's clone is of {}, but the daemon's project is {}",
                project.root, self.welcome.project.root
            )))
        }
    }
    fn project(&self, id: ProjectId) -> Result<Project> {
        self.project_of_board(id)
    }
    fn projects(&self) -> Result<Vec<Project>> {
        Ok(vec![self.welcome.project.clone()])
    }
    fn create_task(&self, _: ProjectId, _: &NewTask, _: &TaskState) -> Result<Task> {
        Err(refused("create tasks"))
    }
    fn task(&self, task: TaskId) -> Result<Task> {
        self.ask(WorkerCall::Task { task })
    }
    fn tasks(&self, filter: &TaskFilter) -> Result<Vec<Task>> {
        if filter.project.is_some_and(|p| p != self.welcome.project.id) {
            return Ok(Vec::new());
        }
        let tasks: Vec<Task> = self.ask(WorkerCall::Tasks {
            statuses: filter.statuses.clone(),
        })?;
        Ok(tasks
            .into_iter()
            .filter(|t| filter.parent.is_none() || t.parent == filter.parent)
            .collect())
    }
    fn edit_task(&self, _: TaskId, _: i64, _: &TaskEdit) -> Result<Task> {
        Err(refused("edit tasks"))
    }
    fn commit(&self, commit: &Commit) -> Result<Vec<Event>> {
        // The one commit job code makes itself: a run's end. Results go as reports.
        match commit {
            Commit {
                finish_run: Some(finish),
                task: None,
                events,
                enqueue,
                complete_job: None,
                cancel_jobs_of: None,
                children,
            } if events.is_empty() && enqueue.is_empty() && children.is_empty() => {
                self.ask(WorkerCall::FinishRun {
                    finish: finish.clone(),
                })
            }
            _ => Err(refused("change a task's state (its job's report does)")),
        }
    }
    fn append_events(&self, events: &[NewEvent]) -> Result<Vec<Event>> {
        self.ask(WorkerCall::AppendEvents {
            events: events.to_vec(),
        })
    }
    fn events_after(&self, after: Seq, limit: usize, filter: &EventFilter) -> Result<Vec<Event>> {
        self.ask(WorkerCall::Events {
            after,
            limit,
            task: filter.task,
            run: filter.run,
            kind_prefix: filter.kind_prefix.clone(),
        })
    }
    fn last_seq(&self) -> Result<Seq> {
        self.ask(WorkerCall::LastSeq)
    }
    fn claim_job_for(
        &self,
        owner: &str,
        kinds: &[JobKind],
        labels: &[String],
        lease_ms: i64,
    ) -> Result<Option<Job>> {
        self.ask(WorkerCall::Claim {
            owner: owner.to_string(),
            kinds: kinds.to_vec(),
            labels: labels.to_vec(),
            lease_ms,
        })
    }
    fn announce_host(
        &self,
        name: &str,
        labels: &[String],
        running: u32,
        slots: Option<u32>,
        load: Option<f64>,
    ) -> Result<()> {
        self.ask::<serde_json::Value>(WorkerCall::Announce {
            name: name.to_string(),
            labels: labels.to_vec(),
            running,
            load,
            slots,
        })
        .map(|_| ())
    }
    fn create_worker_token(&self, _: &NewWorkerToken) -> Result<WorkerToken> {
        Err(refused("make worker tokens"))
    }
    fn worker_tokens(&self, _: ProjectId) -> Result<Vec<WorkerToken>> {
        Err(refused("read worker tokens"))
    }
    fn worker_token_by_hash(&self, _: &str) -> Result<Option<WorkerToken>> {
        Err(refused("read worker tokens"))
    }
    fn revoke_worker_token(&self, _: ProjectId, _: i64) -> Result<bool> {
        Err(refused("revoke worker tokens"))
    }
    fn hosts(&self) -> Result<Vec<HostInfo>> {
        Err(refused("list the board's machines"))
    }
    fn heartbeat(&self, job: JobId, owner: &str, lease_ms: i64) -> Result<bool> {
        self.ask(WorkerCall::Heartbeat {
            job,
            owner: owner.to_string(),
            lease_ms,
        })
    }
    fn heartbeat_jobs(&self, leases: &[HeldLease], lease_ms: i64) -> Result<Vec<HeldLease>> {
        if leases.is_empty() {
            return Ok(Vec::new());
        }
        if !self.heartbeats_one_by_one.load(Ordering::Relaxed) {
            let batch = self.ask(WorkerCall::Heartbeats {
                leases: leases.to_vec(),
                lease_ms,
            });
            match batch {
                // A daemon from before batched heartbeats does not know the call: one per
                // lease, from now on. Any other refusal (a revoked token, say) is the caller's.
                Err(StoreError::Invalid(why)) if unknown_call(&why) => {
                    tracing::debug!("batched heartbeats unknown ({why}); renewing lease by lease");
                    self.heartbeats_one_by_one.store(true, Ordering::Relaxed);
                }
                other => return other,
            }
        }
        let mut lost = Vec::new();
        for lease in leases {
            match self.heartbeat(lease.job, &lease.owner, lease_ms) {
                Ok(true) => {}
                Ok(false) | Err(StoreError::LeaseLost { .. } | StoreError::JobNotFound(_)) => {
                    lost.push(lease.clone());
                }
                Err(e) => return Err(e),
            }
        }
        Ok(lost)
    }
    fn release_job(&self, job: JobId, owner: &str) -> Result<bool> {
        self.ask(WorkerCall::Release {
            job,
            owner: owner.to_string(),
        })
    }
    fn release_jobs_of_dead_owners(&self, _: &str, _: &str) -> Result<Vec<Job>> {
        // A worker's dead instances' jobs move when their leases run out.
        Ok(Vec::new())
    }
    fn set_job_process(&self, job: JobId, owner: &str, process: &ProcessRecord) -> Result<bool> {
        self.ask(WorkerCall::SetProcess {
            job,
            owner: owner.to_string(),
            process: process.clone(),
        })
    }
    fn exhausted_jobs(&self) -> Result<Vec<Job>> {
        Err(refused("conclude other machines' jobs"))
    }
    fn job(&self, _: JobId) -> Result<Job> {
        Err(refused("read the board's jobs"))
    }
    fn jobs(&self, _: &JobFilter) -> Result<Vec<Job>> {
        Err(refused("read the board's jobs"))
    }
    fn hold_lease(&self, _: &str, _: &str, _: i64) -> Result<bool> {
        Err(refused("drive the merge queue"))
    }
    fn release_lease(&self, _: &str, _: &str) -> Result<bool> {
        Ok(false)
    }
    fn lease_holder(&self, _: &str) -> Result<Option<LeaseHolder>> {
        Err(refused("read the board's leases"))
    }
    fn start_run(&self, run: &NewRun) -> Result<Run> {
        self.ask(WorkerCall::StartRun { run: run.clone() })
    }
    fn set_run_session(&self, run: RunId, session: &str) -> Result<()> {
        self.ask::<serde_json::Value>(WorkerCall::SetRunSession {
            run,
            session: session.to_string(),
        })
        .map(|_| ())
    }
    fn mark_runs_lost(&self, _: Option<TaskId>, _: &str) -> Result<Vec<Run>> {
        Err(refused("mark other machines' runs lost"))
    }
    fn mark_runs_of_job_lost(&self, job: JobId, reason: &str) -> Result<Vec<Run>> {
        self.ask(WorkerCall::TakeOver {
            job,
            reason: reason.to_string(),
        })
    }
    fn run(&self, run: RunId) -> Result<Run> {
        self.ask(WorkerCall::Run { run })
    }
    fn runs(&self, task: TaskId) -> Result<Vec<Run>> {
        self.ask(WorkerCall::Runs { task })
    }
    fn usage_totals(&self, _: Option<ProjectId>) -> Result<UsageTotals> {
        Err(refused("read the board's usage"))
    }
    fn usage_since(&self, _: Option<ProjectId>, since_ms: i64) -> Result<UsageTotals> {
        self.ask(WorkerCall::UsageSince { since_ms })
    }
    fn usage_breakdown(&self, _: Option<ProjectId>, _: UsageDimension) -> Result<Vec<UsageRow>> {
        Err(refused("read the board's usage"))
    }
    fn export_rows(&self) -> Result<BoardRows> {
        Err(refused("export the board"))
    }
    fn import_rows(&self, _: &BoardRows) -> Result<()> {
        Err(refused("import a board"))
    }
    fn import_events(&self, _: &[Event]) -> Result<()> {
        Err(refused("import events"))
    }
    fn subscribe(&self, _: Listener) {
        // Nothing to hear: a worker looks for jobs on its own tick.
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::worker::protocol::WorkerIdentity;
    use std::sync::Mutex;

    /// A daemon from before batched heartbeats: it refuses the `heartbeats` call and answers
    /// `heartbeat` for the job it says the owner holds.
    struct OldDaemon {
        calls: Mutex<Vec<String>>,
        /// The daemon's answer to a batched heartbeat.
        batched: fn() -> Result<serde_json::Value>,
    }

    impl Transport for OldDaemon {
        fn call(&self, call: &WorkerCall) -> Result<serde_json::Value> {
            let project = Project {
                id: ProjectId(1),
                name: "p".into(),
                root: "/srv/p".into(),
                target: "main".into(),
                created_ms: 0,
            };
            match call {
                WorkerCall::Hello => Ok(serde_json::to_value(Welcome {
                    worker: WorkerIdentity {
                        token: 1,
                        name: "w".into(),
                        project: project.id,
                        labels: vec![],
                    },
                    project,
                    remote_name: "origin".into(),
                    remote_url: "https://example.invalid/p.git".into(),
                    target: "main".into(),
                    lease_ms: 30_000,
                    heartbeat_ms: 10_000,
                })
                .unwrap()),
                WorkerCall::Heartbeats { .. } => {
                    self.calls.lock().unwrap().push("heartbeats".into());
                    (self.batched)()
                }
                WorkerCall::Heartbeat { job, .. } => {
                    self.calls.lock().unwrap().push(format!("heartbeat {job}"));
                    Ok(serde_json::json!(job.0 == 1))
                }
                other => panic!("unexpected call {other:?}"),
            }
        }
    }

    #[test]
    fn heartbeats_fall_back_to_one_call_per_lease_on_a_daemon_that_does_not_batch() {
        let daemon = Arc::new(OldDaemon {
            calls: Mutex::new(vec![]),
            batched: || {
                Err(StoreError::Invalid(
                    "the daemon refused: Failed to deserialize the JSON body: unknown variant \
                     `heartbeats`, expected one of `hello`, `heartbeat`"
                        .into(),
                ))
            },
        });
        let store = WorkerStore::connect(daemon.clone()).unwrap();
        let lease = |job| HeldLease {
            job: JobId(job),
            owner: "worker:1:m:1".into(),
        };
        let lost = store.heartbeat_jobs(&[lease(1), lease(2)], 30_000).unwrap();
        assert_eq!(lost, vec![lease(2)]);
        assert_eq!(
            *daemon.calls.lock().unwrap(),
            vec!["heartbeats", "heartbeat 1", "heartbeat 2"]
        );
        assert!(store.heartbeat_jobs(&[], 30_000).unwrap().is_empty());
        // Remembered: the next beat does not ask for a batch again.
        daemon.calls.lock().unwrap().clear();
        assert_eq!(
            store.heartbeat_jobs(&[lease(1)], 30_000).unwrap(),
            Vec::<HeldLease>::new()
        );
        assert_eq!(*daemon.calls.lock().unwrap(), vec!["heartbeat 1"]);
    }

    #[test]
    fn a_refused_batched_heartbeat_is_not_retried_lease_by_lease() {
        let daemon = Arc::new(OldDaemon {
            calls: Mutex::new(vec![]),
            batched: || {
                Err(StoreError::Invalid(
                    "the daemon refused this worker's token: revoked".into(),
                ))
            },
        });
        let store = WorkerStore::connect(daemon.clone()).unwrap();
        let lease = HeldLease {
            job: JobId(1),
            owner: "worker:1:m:1".into(),
        };
        for _ in 0..2 {
            assert!(matches!(
                store.heartbeat_jobs(std::slice::from_ref(&lease), 30_000),
                Err(StoreError::Invalid(_))
            ));
        }
        assert_eq!(
            *daemon.calls.lock().unwrap(),
            vec!["heartbeats", "heartbeats"],
            "a refusal is no sign of an old daemon"
        );
    }
}
