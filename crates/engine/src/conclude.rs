//! Recording a finished job: the machine's input and the job's completion in one transaction.
//! One place for it, whoever ran the job: the engine that claimed it here, or a remote worker
//! whose report reaches the daemon (`crate::worker`), so that the state machine runs only on the
//! board's side.

use crate::apply::{Extra, apply};
use crate::board::Board;
use crate::error::{EngineError, Result};
use crate::jobs::JobResult;
use gaffer_core::payload::TaskNotice;
use gaffer_core::{Input, Job, NewEvent, Payload};
use gaffer_store::{Commit, JobCompletion, JobOutcome, RunFinish, StoreError};
use serde::{Deserialize, Serialize};

/// What executing a job came to, as its holder reports it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "report", rename_all = "snake_case")]
pub enum JobReport {
    /// An input for the job's task, with its evidence.
    Input {
        input: Input,
        #[serde(default)]
        events: Vec<NewEvent>,
        #[serde(default)]
        finish_run: Option<RunFinish>,
        #[serde(default)]
        plan: Option<serde_json::Value>,
    },
    /// Done; nothing for the machine.
    Done {
        #[serde(default)]
        events: Vec<NewEvent>,
    },
    /// Stopped before finishing: the job goes back to the queue.
    Interrupted {
        #[serde(default)]
        finish_run: Option<RunFinish>,
    },
    /// The job failed: its task fails with the reason.
    Failed { error: String },
}

impl JobReport {
    /// The run the report ends, if any.
    pub fn finish_run(&self) -> Option<&RunFinish> {
        match self {
            JobReport::Input { finish_run, .. } | JobReport::Interrupted { finish_run } => {
                finish_run.as_ref()
            }
            JobReport::Done { .. } | JobReport::Failed { .. } => None,
        }
    }

    /// The report of a job executed here.
    pub(crate) fn of(result: Result<JobResult>) -> JobReport {
        match result {
            Ok(JobResult::Input { input, extra }) => JobReport::Input {
                input,
                events: extra.events,
                finish_run: extra.finish_run,
                plan: extra.plan,
            },
            Ok(JobResult::Done { events }) => JobReport::Done { events },
            Ok(JobResult::Interrupted { finish_run }) => JobReport::Interrupted { finish_run },
            Err(error) => JobReport::Failed {
                error: error.to_string(),
            },
        }
    }
}

/// Records `report` of `job`, which `holder` holds: refused (`LeaseLost`) when it no longer
/// does, so that a job taken over elsewhere is concluded once.
pub fn conclude(board: &Board, job: &Job, holder: &str, report: JobReport) -> Result<()> {
    let completion = |outcome, error| JobCompletion {
        job: job.id,
        owner: holder.to_string(),
        outcome,
        error,
    };
    match report {
        JobReport::Input {
            input,
            events,
            finish_run,
            plan,
        } => {
            let extra = Extra {
                events,
                complete_job: Some(completion(JobOutcome::Done, None)),
                finish_run: finish_run.clone(),
                plan,
            };
            let applied = apply_or_ack(board, job, &input, extra);
            if let (Err(EngineError::Store(StoreError::LeaseLost { .. })), Some(_)) =
                (&applied, &finish_run)
            {
                // The job runs again elsewhere, but this run happened: keep its record and
                // its usage (budgets count it).
                let _ = board.store.commit(&Commit {
                    finish_run,
                    ..Commit::default()
                });
            }
            applied
        }
        JobReport::Done { events } => board
            .store
            .commit(&Commit {
                events: events
                    .into_iter()
                    .map(|e| match e.project {
                        Some(_) => e,
                        None => e.project(job.project),
                    })
                    .collect(),
                complete_job: Some(completion(JobOutcome::Done, None)),
                ..Commit::default()
            })
            .map(|_| ())
            .map_err(EngineError::from),
        JobReport::Interrupted { finish_run } => {
            if finish_run.is_some() {
                let _ = board.store.commit(&Commit {
                    finish_run,
                    ..Commit::default()
                });
            }
            board
                .store
                .release_job(job.id, holder)
                .map(|_| ())
                .map_err(EngineError::from)
        }
        JobReport::Failed { error } => {
            tracing::warn!(job = %job.id, "job failed: {error}");
            let reason = format!("{} job failed: {error}", job.spec.kind());
            let extra = Extra {
                complete_job: Some(completion(JobOutcome::Failed, Some(reason.clone()))),
                ..Extra::default()
            };
            apply_or_ack(board, job, &Input::Fail { reason }, extra)
        }
    }
}

/// Applies the input; if the machine refuses it (stale result, task cancelled meanwhile),
/// still completes the job and records why its result was ignored.
fn apply_or_ack(board: &Board, job: &Job, input: &Input, extra: Extra) -> Result<()> {
    let Some(task) = job.task else {
        // A job of the project (a landing): there is no task to tell; record why it ended.
        let mut events: Vec<NewEvent> = extra
            .events
            .into_iter()
            .map(|e| e.project(job.project))
            .collect();
        if let Input::Fail { reason } = input {
            events.push(
                NewEvent::of(Payload::TaskNotice(TaskNotice::JobFailed {
                    job: job.id,
                    kind: job.spec.kind().to_string(),
                    failed: reason.clone(),
                }))
                .project(job.project),
            );
        }
        board.store.commit(&Commit {
            events,
            complete_job: extra.complete_job,
            ..Commit::default()
        })?;
        return Ok(());
    };
    match apply(board, task, input, extra.clone()) {
        Ok(_) => Ok(()),
        Err(EngineError::Transition { source, .. }) => {
            let event = NewEvent::of(Payload::TaskNotice(TaskNotice::Ignored {
                ignored: input.name().to_string(),
                why: source.to_string(),
            }))
            .task(task)
            .project(job.project);
            let mut events = extra.events;
            events.push(event);
            board.store.commit(&Commit {
                events: events
                    .into_iter()
                    .map(|e| e.task(task).project(job.project))
                    .collect(),
                complete_job: extra.complete_job,
                finish_run: extra.finish_run,
                ..Commit::default()
            })?;
            Ok(())
        }
        Err(e) => Err(e),
    }
}
