//! Idle mode (`engine.idle`): when the board has nothing ready or running, one agent (the
//! first planner, else the first coder) surveys the code read-only and files what it would
//! improve as proposals, which wait for a person.
//!
//! A survey is a task of its own (label [`SURVEY_LABEL`], `flow.survey`): the planner run is
//! shown the repository map and asked for a plan whose subtasks are ideas; the machine turns
//! them into `proposal` tasks and ends the survey. Surveys are bounded: one at a time, at most
//! one per `engine.idle_every`, none while proposals still wait for a person's decision, and
//! within `budget.idle_usd` per UTC day (the survey's own task budget is what is left of it;
//! the day's budget applies as to any run).

use crate::board::Board;
use crate::budget::{day_start, now_ms};
use crate::error::Result;
use gaffer_core::payload::IdleSurvey;
use gaffer_core::{Flow, NewEvent, NewTask, Payload, Risk, Status, Task, TaskKind, TaskState};

/// The label of survey tasks.
pub const SURVEY_LABEL: &str = "idle-survey";

const SURVEY_TITLE: &str = "Idle survey: what would you improve?";

const SURVEY_BODY: &str = "Nothing else is running, so look at this repository with fresh eyes \
and find what is most worth improving: bugs waiting to happen, missing tests, confusing code, \
slow paths, stale documentation. Read only: change no file.\n\nAnswer with a plan in which each \
subtask is one proposal, the most valuable first, at most five: a short title, a body that says \
what to change, where and why, and its risk. A person decides which proposals become tasks. An \
empty list is a fine answer when nothing is worth proposing.";

/// Whether `task` is an idle survey.
pub fn is_survey(task: &Task) -> bool {
    task.state.flow.survey
}

/// One round: starts a survey when the board is idle and the bounds allow it.
pub(crate) fn round(board: &Board) -> Result<Option<Task>> {
    let settings = &board.settings;
    if !settings.engine.idle {
        return Ok(None);
    }
    let roles = &settings.roles;
    if roles.planner.is_empty() && roles.coder.is_empty() {
        return Ok(None);
    }
    let tasks = board.tasks(&[])?;
    let busy = tasks.iter().any(|t| {
        matches!(
            t.status(),
            Status::Ready
                | Status::Planning
                | Status::PlanReview
                | Status::Coding
                | Status::Verifying
                | Status::Reviewing
                | Status::Queued
                | Status::Merging
        ) || (t.status() == Status::Backlog && t.kind != TaskKind::Proposal && !is_survey(t))
            && t.blocked_by.is_empty()
    });
    if busy {
        return Ok(None);
    }
    let now = now_ms();
    let surveys: Vec<&Task> = tasks.iter().filter(|t| is_survey(t)).collect();
    if surveys.iter().any(|t| !t.status().is_terminal()) {
        return Ok(None);
    }
    let every = i64::try_from(settings.engine.idle_every.as_millis()).unwrap_or(i64::MAX);
    if surveys
        .iter()
        .any(|t| t.created_ms > now.saturating_sub(every))
    {
        return Ok(None);
    }
    let waiting = tasks
        .iter()
        .any(|t| t.kind == TaskKind::Proposal && t.status() == Status::Backlog);
    if waiting {
        return Ok(None);
    }
    if crate::budget::day_stop(board)?.is_some() {
        return Ok(None);
    }
    let today = day_start(now);
    let mut spent = 0.0;
    for survey in &surveys {
        spent += crate::budget::spent(
            board
                .store
                .runs(survey.id)?
                .iter()
                .filter(|r| r.started_ms >= today),
        );
    }
    let left = match settings.budget.idle_usd {
        Some(limit) if spent >= limit => return Ok(None),
        Some(limit) => Some(limit - spent),
        None => None,
    };
    let new = NewTask {
        title: SURVEY_TITLE.to_string(),
        body: SURVEY_BODY.to_string(),
        kind: TaskKind::Task,
        labels: vec![SURVEY_LABEL.to_string()],
        budget_usd: left,
        plan: true,
        ..NewTask::default()
    };
    let flow = Flow {
        plan: true,
        plan_review: false,
        review: false,
        approval_at: None,
        best_of: 0,
        survey: true,
        prepared: false,
    };
    let task =
        board
            .store
            .create_task(board.project.id, &new, &TaskState::new(flow, Risk::Low, 0))?;
    board
        .store
        .append_events(&[NewEvent::of(Payload::IdleSurvey(IdleSurvey {
            detail: "nothing is ready or running: one agent surveys the code and files proposals"
                .to_string(),
            budget_left_usd: left,
        }))
        .task(task.id)
        .project(task.project)])?;
    Ok(Some(task))
}
