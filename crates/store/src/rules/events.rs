//! What each write records in the event log, and how an event's references are completed.

use crate::RunFinish;
use gaffer_core::payload::{
    JobReleased, RunFinished, RunLost, RunStarted, TaskCreated, TaskEdited,
};
use gaffer_core::{Job, NewEvent, Payload, ProjectId, Run, RunId, Task, TaskId};

/// A commit's own events concern the task it updates unless they say otherwise: one without a
/// task gets `task`, and one of `task` without a project gets `project`.
pub fn commit_defaults(events: &mut [NewEvent], task: TaskId, project: ProjectId) {
    for e in events {
        if e.task.is_none() {
            e.task = Some(task);
        }
        if e.project.is_none() && e.task == Some(task) {
            e.project = Some(project);
        }
    }
}

/// Completes an event's missing references from the ones present (a run's task, a task's
/// project), so that filtering by task or project finds every event that concerns it. The
/// lookups are the store's; their errors (an unknown run or task) refuse the event.
pub fn complete_refs<E>(
    e: &mut NewEvent,
    task_of_run: impl FnOnce(RunId) -> Result<TaskId, E>,
    project_of_task: impl FnOnce(TaskId) -> Result<ProjectId, E>,
) -> Result<(), E> {
    if let (Some(run), None) = (e.run, e.task) {
        e.task = Some(task_of_run(run)?);
    }
    if let (Some(task), None) = (e.task, e.project) {
        e.project = Some(project_of_task(task)?);
    }
    Ok(())
}

/// `task.created`, showing the task as it stands (its final dependencies included).
pub fn task_created(task: &Task) -> NewEvent {
    NewEvent::of(Payload::TaskCreated(TaskCreated {
        title: task.title.clone(),
        kind: task.kind,
        priority: task.priority,
        parent: task.parent,
        blocked_by: task.blocked_by.clone(),
        status: task.state.status,
    }))
    .project(task.project)
    .task(task.id)
}

/// `task.edited`, with the payload [`super::edit::apply`] returned.
pub fn task_edited(task: &Task, edited: TaskEdited) -> NewEvent {
    NewEvent::of(Payload::TaskEdited(edited))
        .project(task.project)
        .task(task.id)
}

/// `run.started`, for a run of `project` just stored.
pub fn run_started(project: ProjectId, run: &Run) -> NewEvent {
    NewEvent::of(Payload::RunStarted(RunStarted {
        job: run.job,
        role: run.role,
        tier: run.tier,
        agent: run.agent.clone(),
        backend: run.backend.clone(),
        model: run.model.clone(),
        worktree: run.worktree.clone(),
    }))
    .project(project)
    .task(run.task)
    .run(run.id)
}

/// `run.finished` for `f`, ending `current` (the run as it was) at `now`.
pub fn run_finished(f: &RunFinish, current: &Run, now: i64) -> NewEvent {
    NewEvent::of(Payload::RunFinished(RunFinished {
        status: f.status,
        outcome: f.outcome.clone(),
        usage: f.usage,
        session_id: f.session_id.clone().or_else(|| current.session_id.clone()),
        duration_ms: now - current.started_ms,
    }))
    .task(current.task)
    .run(f.run)
}

/// `run.lost`, for a running run marked lost.
pub fn run_lost(run: &Run, reason: &str) -> NewEvent {
    NewEvent::of(Payload::RunLost(RunLost {
        reason: reason.to_string(),
    }))
    .task(run.task)
    .run(run.id)
}

/// `job.released`, for a leased job (as it was) given back to the queue.
pub fn job_released(j: &Job, reason: &str) -> NewEvent {
    let mut event = NewEvent::of(Payload::JobReleased(JobReleased {
        job: j.id,
        kind: j.spec.kind().as_str().to_string(),
        owner: j.lease_owner.clone(),
        process: j
            .process
            .as_ref()
            .and_then(|p| serde_json::to_value(p).ok()),
        reason: reason.to_string(),
    }))
    .project(j.project);
    event.task = j.task;
    event
}
