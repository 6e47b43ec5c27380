//! The daemon's side of a remote worker: each call checked against the worker's token, then
//! done on the board. A worker claims only agent runs and verify, with the labels its token
//! grants; it acts only on the jobs its leases hold (owners starting with its prefix), reads
//! only its project, and reports results that the state machine here turns into the task's
//! next state: it can never approve, answer, move a task by itself or touch another's work.

use super::protocol::{Welcome, WorkerCall, WorkerIdentity};
use crate::board::Board;
use crate::conclude::{JobReport, conclude};
use crate::error::{EngineError, Result};
use gaffer_core::{Input, Job, JobKind, JobSpec, JobStatus, NewEvent, TaskId};
use gaffer_store::{EventFilter, StoreError};
use serde_json::{Value, json};

/// The kinds a worker may claim: agent runs (attempts included) and verify.
pub const WORKER_KINDS: [JobKind; 2] = [JobKind::Run, JobKind::Verify];

/// Does `call` for `worker` on `board`, or refuses it.
pub fn serve(board: &Board, worker: &WorkerIdentity, call: WorkerCall) -> Result<Value> {
    if worker.project != board.project.id {
        return Err(forbidden("this worker token belongs to another project"));
    }
    // Code moves only through the remote: a board no other machine shares fetches nothing a
    // worker pushed, so no call is served on one.
    not_shared(board)?;
    let store = &board.store;
    let prefix = worker.prefix();
    let lease_ms = board.settings.engine.lease.as_millis() as i64;
    let own = |owner: &str| -> Result<()> {
        if owner.starts_with(&prefix) && owner.len() > prefix.len() {
            Ok(())
        } else {
            Err(forbidden(format!(
                "a worker with token {} names its leases `{prefix}…`",
                worker.token
            )))
        }
    };
    Ok(match call {
        WorkerCall::Hello => to_value(welcome(board, worker)?),
        WorkerCall::Announce {
            name,
            labels,
            running,
            load,
            slots,
        } => {
            own(&name)?;
            granted(worker, &labels)?;
            // What a machine says it can take only makes daemons start tasks for it: bounded.
            let slots = slots.map(|n| n.min(MAX_SLOTS));
            store.announce_host(&name, &labels, running, slots, load)?;
            Value::Null
        }
        WorkerCall::Claim {
            owner,
            kinds,
            labels,
            ..
        } => {
            own(&owner)?;
            granted(worker, &labels)?;
            if let Some(kind) = kinds.iter().find(|k| !WORKER_KINDS.contains(k)) {
                return Err(forbidden(format!(
                    "a worker claims agent runs and verify only, not {kind} jobs"
                )));
            }
            // The stores read no kinds as any kind: a worker always names its own.
            if kinds.is_empty() {
                return Err(forbidden("a worker's claim names the kinds it takes"));
            }
            let job = store.claim_job_for(&owner, &kinds, &labels, lease_ms)?;
            if let Some(job) = &job
                && job.project != board.project.id
            {
                // One project per board: never reached, but never hand out another's work.
                store.release_job(job.id, &owner)?;
                return Ok(Value::Null);
            }
            to_value(job)
        }
        WorkerCall::Heartbeat { job, owner, .. } => {
            own(&owner)?;
            json!(store.heartbeat(job, &owner, lease_ms)?)
        }
        WorkerCall::Heartbeats { leases, .. } => {
            for lease in &leases {
                own(&lease.owner)?;
            }
            to_value(store.heartbeat_jobs(&leases, lease_ms)?)
        }
        WorkerCall::Release { job, owner } => {
            own(&owner)?;
            json!(store.release_job(job, &owner)?)
        }
        WorkerCall::SetProcess {
            job,
            owner,
            process,
        } => {
            own(&owner)?;
            json!(store.set_job_process(job, &owner, &process)?)
        }
        WorkerCall::TakeOver { job, reason } => {
            held(board, &prefix, job)?;
            to_value(store.mark_runs_of_job_lost(job, &reason)?)
        }
        WorkerCall::Report { job, owner, report } => {
            own(&owner)?;
            let job = store.job(job)?;
            if job.project != board.project.id {
                return Err(forbidden(format!("job {} is not of this project", job.id)));
            }
            let report = fits_job(board, &job, report)?;
            if job.status != JobStatus::Leased || job.lease_owner.as_deref() != Some(&owner) {
                // Stopped or taken over meanwhile: the run still happened; it ends with what it
                // used (budgets count it), and the result goes nowhere.
                if let Some(finish) = report.finish_run() {
                    let _ = store.commit(&gaffer_store::Commit {
                        finish_run: Some(finish.clone()),
                        ..gaffer_store::Commit::default()
                    });
                }
                return Err(StoreError::LeaseLost { job: job.id, owner }.into());
            }
            conclude(board, &job, &owner, report)?;
            Value::Null
        }
        WorkerCall::Task { task } => to_value(project_task(board, task)?),
        WorkerCall::Tasks { statuses } => to_value(board.tasks(&statuses)?),
        WorkerCall::Runs { task } => {
            project_task(board, task)?;
            to_value(store.runs(task)?)
        }
        WorkerCall::Run { run } => {
            let run = store.run(run)?;
            project_task(board, run.task)?;
            to_value(run)
        }
        WorkerCall::Events {
            after,
            limit,
            task,
            run,
            kind_prefix,
        } => {
            let filter = EventFilter {
                project: Some(board.project.id),
                task,
                run,
                kind_prefix,
            };
            to_value(store.events_after(after, limit.min(1000), &filter)?)
        }
        WorkerCall::LastSeq => to_value(store.last_seq()?),
        WorkerCall::UsageSince { since_ms } => {
            to_value(store.usage_since(Some(board.project.id), since_ms)?)
        }
        WorkerCall::AppendEvents { events } => {
            let events = of_held_tasks(board, &prefix, events)?;
            to_value(store.append_events(&events)?)
        }
        WorkerCall::Propose { run, proposals } => {
            // Ideas an agent filed on the way (`PROPOSAL:` lines): proposals for a person, filed
            // here as a daemon files them (once each), from a run of a job the worker holds.
            let run = store.run(run)?;
            let Some(job) = run.job else {
                return Err(forbidden(format!("run {} belongs to no job", run.id)));
            };
            held(board, &prefix, job)?;
            let origin = project_task(board, run.task)?;
            to_value(crate::proposals::file(board, &origin, &run, &proposals)?)
        }
        WorkerCall::StartRun { run } => {
            let Some(job) = run.job else {
                return Err(forbidden("a worker's run belongs to a job it holds"));
            };
            let job = held(board, &prefix, job)?;
            if job.task != Some(run.task) {
                return Err(forbidden("a run belongs to its job's task"));
            }
            to_value(store.start_run(&run)?)
        }
        WorkerCall::SetRunSession { run, session } => {
            run_of_held_job(board, &prefix, run)?;
            store.set_run_session(run, &session)?;
            Value::Null
        }
        WorkerCall::FinishRun { finish } => {
            run_of_held_job(board, &prefix, finish.run)?;
            to_value(store.commit(&gaffer_store::Commit {
                finish_run: Some(finish),
                ..gaffer_store::Commit::default()
            })?)
        }
    })
}

fn welcome(board: &Board, worker: &WorkerIdentity) -> Result<Welcome> {
    // Code moves only through the remote, and the board must say so to every daemon: a board no
    // other machine shares fetches nothing a worker pushed.
    let Some(remote) = board.settings.project.remote.clone() else {
        return Err(EngineError::SharedBoardWithoutRemote);
    };
    Ok(Welcome {
        worker: worker.clone(),
        project: board.project.clone(),
        // Never the daemon's credentials (`https://user:token@…`): a worker brings its own.
        remote_url: crate::board::without_credentials(&board.git.remote_url(&remote)?),
        remote_name: remote,
        target: board.project.target.clone(),
        lease_ms: board.settings.engine.lease.as_millis() as i64,
        heartbeat_ms: board.settings.engine.heartbeat.as_millis() as i64,
    })
}

/// The most agent slots a machine may say it has: daemons start tasks for what it says.
pub const MAX_SLOTS: u32 = 64;

/// Refuses every call on a board no other machine shares.
fn not_shared(board: &Board) -> Result<()> {
    if board.shared {
        return Ok(());
    }
    Err(EngineError::Refused {
        message: "this daemon's board is not shared: remote workers need one".into(),
        hint: "put the board on PostgreSQL ([store] url, or `gaffer store copy --to \
               postgres://…` then GAFFER_STORE__URL) with project.remote set; see the \
               README's \"From one machine to several\""
            .into(),
    })
}

/// The worker's labels are among those its token grants.
fn granted(worker: &WorkerIdentity, labels: &[String]) -> Result<()> {
    match labels.iter().find(|l| !worker.labels.contains(l)) {
        None => Ok(()),
        Some(label) => Err(forbidden(format!(
            "worker token {} does not grant the label `{label}` (it grants: {})",
            worker.token,
            if worker.labels.is_empty() {
                "none".to_string()
            } else {
                worker.labels.join(", ")
            }
        ))),
    }
}

/// The task, when it is of the board's project (a worker sees no other).
fn project_task(board: &Board, task: TaskId) -> Result<gaffer_core::Task> {
    let found = board.store.task(task)?;
    if found.project == board.project.id {
        Ok(found)
    } else {
        Err(StoreError::TaskNotFound(task).into())
    }
}

/// The job, when one of this worker's owners holds it.
fn held(board: &Board, prefix: &str, job: gaffer_core::JobId) -> Result<Job> {
    let job = board.store.job(job)?;
    let holds = job.status == JobStatus::Leased
        && job.project == board.project.id
        && job
            .lease_owner
            .as_deref()
            .is_some_and(|o| o.starts_with(prefix));
    if holds {
        Ok(job)
    } else {
        Err(forbidden(format!(
            "job {} is not held by this worker",
            job.id
        )))
    }
}

fn run_of_held_job(board: &Board, prefix: &str, run: gaffer_core::RunId) -> Result<()> {
    let run = board.store.run(run)?;
    let Some(job) = run.job else {
        return Err(forbidden(format!(
            "run {} belongs to no job of this worker",
            run.id
        )));
    };
    held(board, prefix, job).map(|_| ())
}

/// Events, each of a task whose job this worker holds (and of a run of that task), in the
/// board's project.
fn of_held_tasks(board: &Board, prefix: &str, events: Vec<NewEvent>) -> Result<Vec<NewEvent>> {
    let mut checked: Vec<TaskId> = Vec::new();
    let mut out = Vec::with_capacity(events.len());
    for event in events {
        let Some(task) = event.task else {
            return Err(forbidden("a worker's events belong to a task it works on"));
        };
        if !checked.contains(&task) {
            let jobs = board.store.jobs(&gaffer_store::JobFilter {
                task: Some(task),
                statuses: vec![JobStatus::Leased],
            })?;
            let holds = jobs.iter().any(|j| {
                j.lease_owner
                    .as_deref()
                    .is_some_and(|o| o.starts_with(prefix))
            });
            if !holds {
                return Err(forbidden(format!(
                    "task {task} has no job held by this worker"
                )));
            }
            checked.push(task);
        }
        if let Some(run) = event.run
            && board.store.run(run)?.task != task
        {
            return Err(forbidden(format!("run {run} is not of task {task}")));
        }
        if !WORKER_EVENTS.contains(&event.kind.as_str()) {
            return Err(forbidden(format!(
                "a worker does not write `{}` events",
                event.kind
            )));
        }
        out.push(event.project(board.project.id));
    }
    Ok(out)
}

/// The events job code writes while it runs (its results' own events go with its report).
const WORKER_EVENTS: [&str; 5] = [
    gaffer_core::event_kind::RUN_OUTPUT,
    gaffer_core::event_kind::VERIFY_STARTED,
    gaffer_core::event_kind::SECRET_REFUSED,
    gaffer_core::event_kind::SCOPE_OUTSIDE,
    gaffer_core::event_kind::TASK_PROPOSED,
];

/// A report says what its job can say: a run's end for a run job, a verify result of the very
/// commit for a verify job, a failure for any; never "done" with nothing said (that would
/// strand its task). Its events become its task's, in this project; the run it ends is one of
/// this job's that is still running; a plan comes only from a planner. Returns the report as
/// it will be concluded.
fn fits_job(board: &Board, job: &Job, report: JobReport) -> Result<JobReport> {
    let Some(task) = job.task else {
        return Err(forbidden(format!("job {} is not a task's", job.id)));
    };
    if let Some(finish) = report.finish_run() {
        let run = board.store.run(finish.run)?;
        if run.job != Some(job.id) || run.task != task {
            return Err(forbidden(format!(
                "run {} is not of job {}",
                finish.run, job.id
            )));
        }
    }
    let pin = |events: Vec<NewEvent>| -> Result<Vec<NewEvent>> {
        events
            .into_iter()
            .map(|e| {
                if let Some(run) = e.run
                    && board.store.run(run)?.task != task
                {
                    return Err(forbidden(format!("run {run} is not of task {task}")));
                }
                Ok(NewEvent {
                    task: Some(task),
                    project: Some(board.project.id),
                    ..e
                })
            })
            .collect()
    };
    let input = match report {
        JobReport::Done { .. } => {
            return Err(forbidden(format!(
                "a {} job ends with its result, not with nothing",
                job.spec.kind()
            )));
        }
        JobReport::Interrupted { .. } | JobReport::Failed { .. } => return Ok(report),
        JobReport::Input {
            input,
            events,
            finish_run,
            plan,
        } => {
            let planner = matches!(
                job.spec,
                JobSpec::Run {
                    role: gaffer_core::Role::Planner,
                    ..
                }
            );
            if plan.is_some() && !planner {
                return Err(forbidden("only a planner's run brings a plan"));
            }
            (input, pin(events)?, finish_run, plan)
        }
    };
    let fits = match (&job.spec, &input.0) {
        (_, Input::Fail { .. }) => true,
        (JobSpec::Run { role, .. }, Input::RunFinished { role: r, .. }) => role == r,
        (JobSpec::Run { .. } | JobSpec::Attempt { .. }, Input::Hold { .. }) => true,
        (JobSpec::Attempt { slot, .. }, Input::AttemptFinished { slot: s, .. }) => slot == s,
        (JobSpec::Verify { commit, .. }, Input::VerifyFinished { commit: c, .. }) => commit == c,
        (
            JobSpec::VerifyAttempt { slot, commit },
            Input::AttemptVerified {
                slot: s, commit: c, ..
            },
        ) => slot == s && commit == c,
        _ => false,
    };
    if !fits {
        return Err(forbidden(format!(
            "a {} job cannot report `{}`",
            job.spec.kind(),
            input.0.name()
        )));
    }
    let (input, events, finish_run, plan) = input;
    Ok(JobReport::Input {
        input,
        events,
        finish_run,
        plan,
    })
}

fn forbidden(message: impl Into<String>) -> EngineError {
    EngineError::Forbidden(message.into())
}

fn to_value<T: serde::Serialize>(value: T) -> Value {
    // Store rows and the protocol's replies are plain data: serializing them cannot fail.
    serde_json::to_value(value).unwrap_or(Value::Null)
}
