//! `POST /api/tasks/{id}/propose`: an agent working on task `id` files an idea for an improvement
//! outside its task (the MCP tool `propose` calls it inside a run). Like a `PROPOSAL:` line the
//! agent prints, it becomes a task of kind `proposal` in the backlog, which waits for a person to
//! accept or decline it, with a note saying who proposed it and a `task.proposed` event on the
//! task the agent works on.
//!
//! Being a route of the task rather than `POST /api/tasks`, it is one that a run's token may call
//! (see [`crate::run_token`]): an agent may propose, but not add a task that would run.

use super::agent::{checked, one, reporting_run, running_run};
use crate::error::ApiError;
use crate::extract::{ApiPath, JsonBody};
use crate::run_token::RunCaller;
use crate::state::Ctx;
use axum::extract::State;
use axum::http::StatusCode;
use axum::{Extension, Json};
use gaffer_core::Payload;
use gaffer_core::payload::{ProposedBy, TaskProposed};
use gaffer_core::{NewEvent, NewTask, Status, Task, TaskId, TaskKind};
use gaffer_engine::proposal_body;
use serde::Deserialize;

/// `POST /api/tasks/{id}/propose` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProposeBody {
    /// A short imperative title for the improvement.
    pub title: String,
    /// What to change, where, and why it is worth it.
    #[serde(default)]
    pub body: String,
    /// The run proposing (`GAFFER_RUN`); by default the task's running run, if any.
    #[serde(default)]
    pub run: Option<i64>,
}

/// Files the proposal: 201 and the new task. 409 when an open proposal has the same title.
pub async fn propose(
    State(ctx): State<Ctx>,
    caller: Option<Extension<RunCaller>>,
    ApiPath(id): ApiPath<i64>,
    JsonBody(body): JsonBody<ProposeBody>,
) -> Result<(StatusCode, Json<Task>), ApiError> {
    let title = checked(body.title, "a proposal needs a title")?;
    let text = match body.body.trim() {
        "" => String::new(),
        text => checked(text.to_string(), "")?,
    };
    let (origin, wanted) = (TaskId(id), reporting_run(caller, body.run)?);
    let proposal = ctx
        .blocking(move |board| {
            let origin = board.task(origin)?;
            let run = running_run(board, origin.id, wanted)?;
            if let Some(open) = board
                .tasks(&[Status::Backlog])?
                .into_iter()
                .find(|t| t.kind == TaskKind::Proposal && t.title == title)
            {
                return Err(ApiError::conflict(format!(
                    "proposal {} already has the title {title:?}",
                    open.id
                ))
                .with_hint("a person will see it there; propose something else"));
            }
            let by = match &run {
                Some(run) => format!(
                    "agent `{}` ({} run {} of task #{}) through the API",
                    run.agent, run.role, run.id, origin.id
                ),
                None => format!("a client working on task #{} through the API", origin.id),
            };
            let proposal = board.add_task(NewTask {
                title,
                body: proposal_body(&text, &by),
                kind: TaskKind::Proposal,
                priority: origin.priority,
                ..NewTask::default()
            })?;
            let mut event = NewEvent::of(Payload::TaskProposed(TaskProposed {
                proposal: proposal.id,
                title: proposal.title.clone(),
                proposed_by: ProposedBy {
                    agent: run.as_ref().map(|r| r.agent.clone()),
                    run: run.as_ref().map(|r| r.id),
                    task: origin.id,
                },
                via: Some("api".into()),
            }))
            .task(origin.id)
            .project(origin.project);
            event.run = run.map(|r| r.id);
            one(board.store().append_events(&[event])?)?;
            Ok(proposal)
        })
        .await?;
    ctx.changed();
    Ok((StatusCode::CREATED, Json(proposal)))
}
