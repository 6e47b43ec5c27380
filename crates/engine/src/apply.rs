//! The one way a task's state changes: read it, run the pure machine, and write the new state
//! with its events and the jobs its effects need, in one store transaction.

use crate::board::Board;
use crate::error::{EngineError, Result};
use gaffer_core::{
    Effect, Input, JobSpec, NewEvent, NewJob, NewTask, Task, TaskId, TaskKind, TaskState,
    event_kind, transition,
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
        NewEvent::new(
            event_kind::TASK_STATUS,
            serde_json::json!({
                "from": task.state.status,
                "to": after.status,
                "input": input.name(),
                "note": after.note,
                "tier": after.tier,
            }),
        )
        .task(task.id)
        .project(task.project),
    );
    let job = |spec: JobSpec| NewJob {
        project: task.project,
        task: Some(task.id),
        spec,
        priority: task.priority,
        max_attempts: board.settings.limits.lost_run_retries.saturating_add(1),
    };
    for effect in effects {
        match effect {
            Effect::StartRun {
                role,
                tier,
                session,
                reason,
                feedback,
            } => commit.enqueue.push(job(JobSpec::Run {
                role: *role,
                tier: *tier,
                session: *session,
                reason: *reason,
                feedback: feedback.clone(),
            })),
            Effect::Verify { commit: c, purpose } => commit.enqueue.push(job(JobSpec::Verify {
                commit: c.clone(),
                purpose: *purpose,
            })),
            Effect::PrepareCandidate => commit.enqueue.push(job(JobSpec::PrepareCandidate)),
            Effect::Land {
                commit: c,
                tree,
                onto,
            } => commit.enqueue.push(job(JobSpec::Land {
                commit: c.clone(),
                tree: tree.clone(),
                onto: onto.clone(),
            })),
            Effect::Cleanup { delete_branch } => commit.enqueue.push(job(JobSpec::Cleanup {
                delete_branch: *delete_branch,
            })),
            Effect::CancelJobs => commit.cancel_jobs_of = Some(task.id),
            Effect::CreateChildren => {
                commit.children = children_of(board, task, extra.plan.as_ref())?;
            }
            Effect::Notify(notice) => commit.events.push(
                NewEvent::new(
                    event_kind::TASK_NOTICE,
                    serde_json::to_value(notice).unwrap_or_default(),
                )
                .task(task.id)
                .project(task.project),
            ),
        }
    }
    Ok(commit)
}

/// Child tasks from the task's approved plan. A subtask's `depends_on` lists indexes of its
/// siblings; the store resolves them to the ids it assigns (negative placeholder ids).
fn children_of(
    board: &Board,
    task: &Task,
    plan: Option<&serde_json::Value>,
) -> Result<Vec<(NewTask, TaskState)>> {
    let plan = plan.or(task.plan.as_ref()).ok_or_else(|| {
        EngineError::Invalid(format!(
            "task {} has no plan to create children from",
            task.id
        ))
    })?;
    let subtasks = plan
        .get("subtasks")
        .and_then(|s| s.as_array())
        .ok_or_else(|| EngineError::Invalid("the plan has no subtasks".into()))?;
    let mut children = Vec::new();
    for sub in subtasks {
        let text = |key: &str| {
            sub.get(key)
                .and_then(|v| v.as_str())
                .unwrap_or_default()
                .to_string()
        };
        let list = |key: &str| -> Vec<String> {
            sub.get(key)
                .and_then(|v| v.as_array())
                .map(|a| {
                    a.iter()
                        .filter_map(|x| x.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default()
        };
        let blocked_by = sub
            .get("depends_on")
            .and_then(|v| v.as_array())
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.as_i64())
                    .map(|index| TaskId(-1 - index))
                    .collect()
            })
            .unwrap_or_default();
        let new = NewTask {
            title: text("title"),
            body: text("body"),
            kind: TaskKind::Task,
            priority: task.priority,
            labels: task.labels.clone(),
            parent: Some(task.id),
            blocked_by,
            write_scope: list("write_scope"),
            read_scope: list("read_scope"),
            risk: text("risk").parse().unwrap_or(task.state.risk),
            tier: sub.get("tier").and_then(|v| v.as_u64()).unwrap_or(0) as u32,
            budget_usd: None,
            plan: false,
        };
        let state = TaskState::new(board.flow_for(&new), new.risk, new.tier);
        children.push((new, state));
    }
    Ok(children)
}
