//! The one way a task's state changes: read it, run the pure machine, and write the new state
//! with its events and the jobs its effects need, in one store transaction.

use crate::board::Board;
use crate::error::{EngineError, Result};
use crate::who::Asked;
use gaffer_core::structured::Plan;
use gaffer_core::{
    Effect, Input, JobSpec, NewEvent, NewJob, NewTask, Payload, Task, TaskId, TaskKind, TaskState,
    payload, transition,
};
use gaffer_store::{Commit, JobCompletion, RunFinish, StoreError, TaskUpdate};

/// What else goes into the transaction besides the state change.
#[derive(Debug, Clone, Default)]
pub struct Extra {
    pub events: Vec<NewEvent>,
    /// The job whose result this is; completed in the same transaction.
    pub complete_job: Option<JobCompletion>,
    pub finish_run: Option<RunFinish>,
    /// A plan to store on the task.
    pub plan: Option<serde_json::Value>,
}

/// The result of applying one input.
#[derive(Debug, Clone)]
pub struct Applied {
    pub before: Task,
    pub after: TaskState,
    pub effects: Vec<Effect>,
}

impl Applied {
    /// The machine asked to stop the task's running work.
    pub fn cancels_jobs(&self) -> bool {
        self.effects.contains(&Effect::CancelJobs)
    }
}

/// Applies `input` to task `id`, retrying on a concurrent change of the same task.
pub fn apply(board: &Board, id: TaskId, input: &Input, extra: Extra) -> Result<Applied> {
    board.phases.time(crate::phases::Phase::Store, || {
        apply_timed(board, id, input, extra)
    })
}

fn apply_timed(board: &Board, id: TaskId, input: &Input, extra: Extra) -> Result<Applied> {
    for _ in 0..8 {
        let task = board.store.task(id)?;
        let (after, effects) = transition(&task.state, input, &board.limits)
            .map_err(|source| EngineError::Transition { task: id, source })?;
        let commit = build_commit(board, &task, input, &after, &effects, &extra)?;
        match board.store.commit(&commit) {
            Ok(_) => {
                return Ok(Applied {
                    before: task,
                    after,
                    effects,
                });
            }
            Err(StoreError::VersionConflict { .. }) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(EngineError::Contention(id))
}

fn build_commit(
    board: &Board,
    task: &Task,
    input: &Input,
    after: &TaskState,
    effects: &[Effect],
    extra: &Extra,
) -> Result<Commit> {
    let mut commit = Commit {
        task: Some(TaskUpdate {
            task: task.id,
            expected_version: task.version,
            state: after.clone(),
            plan: extra.plan.clone(),
            branch: None,
        }),
        events: Vec::new(),
        complete_job: extra.complete_job.clone(),
        finish_run: extra.finish_run.clone(),
        ..Commit::default()
    };
    // The evidence first (verify output, the landed commit), then the change it caused.
    commit.events.extend(
        extra
            .events
            .iter()
            .cloned()
            .map(|e| e.task(task.id).project(task.project)),
    );
    commit.events.push(
        NewEvent::of(Payload::TaskStatus(payload::TaskStatus {
            from: task.state.status,
            to: after.status,
            input: input.name().to_string(),
            note: after.note.clone(),
            tier: after.tier,
        }))
        .task(task.id)
        .project(task.project),
    );
    let job = |spec: JobSpec| NewJob {
        project: task.project,
        task: Some(task.id),
        spec,
        priority: task.priority,
        max_attempts: board.settings.limits.lost_run_retries.saturating_add(1),
        needs: vec![],
    };
    // Verify goes only to machines with the labels the task needs (`needs:gpu`); agent jobs
    // also to machines with those their agents need (`crate::needs`); bookkeeping (cleanup,
    // settling attempts) runs anywhere.
    let needy = |spec: JobSpec| NewJob {
        needs: task.needs(),
        ..job(spec)
    };
    let agent_job = |spec: JobSpec, effect: &Effect| -> Result<NewJob> {
        let needs = match Asked::of(effect) {
            Some(asked) => crate::needs::run_needs(board, task, asked)?,
            None => task.needs(),
        };
        Ok(NewJob { needs, ..job(spec) })
    };
    for effect in effects {
        match effect {
            Effect::StartRun {
                role,
                tier,
                session,
                reason,
                feedback,
            } => commit.enqueue.push(agent_job(
                JobSpec::Run {
                    role: *role,
                    tier: *tier,
                    session: *session,
                    reason: *reason,
                    feedback: feedback.clone(),
                },
                effect,
            )?),
            Effect::Verify { commit: c, purpose } => commit.enqueue.push(NewJob {
                // Heavy work is granted in the order it was asked for, whatever the priority.
                priority: 0,
                ..needy(JobSpec::Verify {
                    commit: c.clone(),
                    purpose: *purpose,
                })
            }),
            Effect::Cleanup { delete_branch } => commit.enqueue.push(job(JobSpec::Cleanup {
                delete_branch: *delete_branch,
            })),
            Effect::StartAttempt { slot, tier } => commit.enqueue.push(agent_job(
                JobSpec::Attempt {
                    slot: *slot,
                    tier: *tier,
                },
                effect,
            )?),
            Effect::VerifyAttempt { slot, commit: c } => commit.enqueue.push(NewJob {
                priority: 0,
                ..needy(JobSpec::VerifyAttempt {
                    slot: *slot,
                    commit: c.clone(),
                })
            }),
            Effect::SettleAttempts { slots, kept } => {
                commit.enqueue.push(job(JobSpec::SettleAttempts {
                    slots: *slots,
                    kept: *kept,
                }));
            }
            Effect::CancelJobs => commit.cancel_jobs_of = Some(task.id),
            Effect::FreshBranch => {
                let branch = crate::fresh::next_branch(board, task, after.restarts)?;
                if let Some(update) = commit.task.as_mut() {
                    update.branch = Some(branch);
                }
            }
            Effect::CreateChildren => {
                commit.children = children_of(board, task, extra.plan.as_ref())?;
            }
            Effect::Notify(notice) => commit.events.push(
                NewEvent::of(Payload::TaskNotice(payload::TaskNotice::Notice(
                    notice.clone(),
                )))
                .task(task.id)
                .project(task.project),
            ),
        }
    }
    Ok(commit)
}

/// Child tasks from the task's approved plan.
fn children_of(
    board: &Board,
    task: &Task,
    plan: Option<&serde_json::Value>,
) -> Result<Vec<(NewTask, TaskState)>> {
    let value = plan.or(task.plan.as_ref()).ok_or_else(|| {
        EngineError::Invalid(format!(
            "task {} has no plan to create children from",
            task.id
        ))
    })?;
    let plan: Plan = serde_json::from_value(value.clone()).map_err(|e| {
        EngineError::Invalid(format!("task {}'s stored plan is invalid: {e}", task.id))
    })?;
    let mut children = Vec::new();
    for sub in plan.subtasks {
        // An idle survey's subtasks are ideas for a person to accept or decline.
        let (kind, body) = if task.state.flow.survey {
            (
                TaskKind::Proposal,
                crate::proposals::proposal_body(
                    &sub.body,
                    &format!("the idle survey #{}", task.id),
                ),
            )
        } else {
            (TaskKind::Task, sub.body)
        };
        let new = NewTask {
            title: sub.title,
            body,
            kind,
            priority: task.priority,
            // A survey's label marks the survey, not the ideas it filed.
            labels: if task.state.flow.survey {
                Vec::new()
            } else {
                task.labels.clone()
            },
            parent: Some(task.id),
            // Siblings by index: the store resolves TaskId(-1 - i) to the i-th child's id.
            blocked_by: sub
                .depends_on
                .iter()
                .map(|i| TaskId(-1 - *i as i64))
                .collect(),
            write_scope: sub.write_scope,
            read_scope: sub.read_scope,
            risk: sub.risk.max(task.state.risk),
            tier: sub.tier,
            budget_usd: None,
            plan: false,
            best_of: 0,
        };
        let state = TaskState::new(board.flow_for(&new), new.risk, new.tier);
        children.push((new, state));
    }
    Ok(children)
}
