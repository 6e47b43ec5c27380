//! What the demo reports, read back from the board (not from what the demo meant to happen):
//! the crew, and per task the states it passed, its runs, the plan its planner made and the
//! subtasks it became, each review with the change it asked for and the run that made it, each
//! question with its answer, its verify results (a failure with the run that fixed it), the
//! commit that landed and what it cost.

use super::story;
use crate::error::CliResult;
use gaffer_core::payload::TaskNotice;
use gaffer_core::structured::Plan;
use gaffer_core::{
    JobId, JobSpec, Notice, Payload, Role, Run, RunId, RunReason, RunStatus, Seq, Status, TaskId,
    TaskKind,
};
use gaffer_engine::{Board, Landing};
use gaffer_store::{EventFilter, JobFilter};
use serde::Serialize;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

#[derive(Debug, Serialize)]
pub struct Summary {
    pub repository: PathBuf,
    pub target: String,
    pub landed_on: String,
    pub target_tests_passed: bool,
    /// How long the crew worked, from the first task added to the last thing done on any, in
    /// milliseconds.
    pub duration_ms: u64,
    pub crew: Vec<Member>,
    /// Each epic followed by its subtasks.
    pub tasks: Vec<TaskSummary>,
}

/// An agent of the crew and the roles it has.
#[derive(Debug, Serialize)]
pub struct Member {
    pub agent: String,
    pub backend: String,
    pub family: String,
    pub model: Option<String>,
    pub roles: Vec<Role>,
}

#[derive(Debug, Serialize)]
pub struct TaskSummary {
    pub id: TaskId,
    pub title: String,
    pub kind: TaskKind,
    /// The epic it is a subtask of.
    pub parent: Option<TaskId>,
    /// The tasks it waited for.
    pub blocked_by: Vec<TaskId>,
    pub status: Status,
    /// Coding runs.
    pub attempts: u32,
    pub states: Vec<String>,
    pub runs: Vec<RunSummary>,
    /// The plan its planner made (epics).
    pub plan: Option<PlanSummary>,
    /// Every review of its plan or its change, in order.
    pub reviews: Vec<Review>,
    /// Every question its agents asked a person, in order.
    pub questions: Vec<Question>,
    pub verify: Vec<VerifyResult>,
    pub landed_commit: Option<String>,
    /// Tokens and cost of the task's runs.
    pub usage: gaffer_core::Usage,
}

/// One agent run on the task, and why it ran.
#[derive(Debug, Serialize)]
pub struct RunSummary {
    pub id: RunId,
    pub role: Role,
    pub agent: String,
    pub family: String,
    pub reason: Option<RunReason>,
    pub status: RunStatus,
    pub session_id: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct PlanSummary {
    /// The planner.
    pub by: String,
    pub subtasks: Vec<Subtask>,
}

#[derive(Debug, Serialize)]
pub struct Subtask {
    pub title: String,
    /// The task it became.
    pub task: Option<TaskId>,
    /// Indexes of the subtasks it comes after.
    pub depends_on: Vec<usize>,
    pub write_scope: Vec<String>,
}

/// A review of a plan (`plan_reviewer`) or of a change (`reviewer`).
#[derive(Debug, Serialize)]
pub struct Review {
    pub role: Role,
    pub agent: String,
    pub family: String,
    pub approved: bool,
    pub summary: String,
    /// `file:line [severity] text`, one per finding.
    pub findings: Vec<String>,
    /// The run that answered the changes it requested.
    pub fix: Option<Fix>,
}

/// A run that went back to work on what a review, a failed verify or an answer gave it.
#[derive(Debug, Serialize)]
pub struct Fix {
    pub run: RunId,
    pub agent: String,
    /// It resumed the session of the run before it (the agent remembered its own work).
    pub same_session: bool,
    /// Its final words (its handoff).
    pub said: String,
}

#[derive(Debug, Serialize)]
pub struct Question {
    pub asked_by: String,
    pub question: String,
    pub answer: Option<String>,
    /// Who answered (`demo`, `cli`, `dashboard`, …).
    pub answered_by: Option<String>,
    /// The run that went on with the answer.
    pub resumed: Option<Fix>,
}

#[derive(Debug, Serialize)]
pub struct VerifyResult {
    pub commit: String,
    pub purpose: String,
    pub passed: bool,
    /// The end of a failing run's output.
    pub output: Option<String>,
    /// The run that fixed a failing branch.
    pub fix: Option<Fix>,
}

/// How many lines of a failing verify's output the summary keeps.
const OUTPUT_LINES: usize = 4;

impl Summary {
    pub fn collect(
        board: &Board,
        ids: &[TaskId],
        repo: &Path,
        landing: &Landing,
        tests_passed: bool,
    ) -> CliResult<Summary> {
        let mut tasks = Vec::new();
        let (mut first, mut last) = (i64::MAX, i64::MIN);
        for id in ids {
            let (summary, span) = task_summary(board, *id, ids)?;
            if let Some((from, to)) = span {
                first = first.min(from);
                last = last.max(to);
            }
            tasks.push(summary);
        }
        Ok(Summary {
            repository: repo.to_path_buf(),
            target: landing.target.clone(),
            landed_on: landing.branch.clone(),
            target_tests_passed: tests_passed,
            duration_ms: u64::try_from(last.saturating_sub(first)).unwrap_or(0),
            crew: crew(board),
            tasks,
        })
    }
}

/// The configured agents that have a role, with their roles.
fn crew(board: &Board) -> Vec<Member> {
    let settings = board.settings();
    let roles = &settings.roles;
    let by_role = [
        (Role::Planner, &roles.planner),
        (Role::Coder, &roles.coder),
        (Role::PlanReviewer, &roles.plan_reviewer),
        (Role::Reviewer, &roles.reviewer),
    ];
    let mut members: Vec<Member> = Vec::new();
    for (role, names) in by_role {
        for name in names {
            if let Some(member) = members.iter_mut().find(|m| &m.agent == name) {
                member.roles.push(role);
                continue;
            }
            if let Some(agent) = settings.agent(name) {
                members.push(Member {
                    agent: name.clone(),
                    backend: agent.backend.kind().to_string(),
                    family: agent.family.clone(),
                    model: agent.model.clone(),
                    roles: vec![role],
                });
            }
        }
    }
    members
}

/// One task's summary, and the time of its first event and of its last.
fn task_summary(
    board: &Board,
    id: TaskId,
    ids: &[TaskId],
) -> CliResult<(TaskSummary, Option<(i64, i64)>)> {
    let task = board.task(id)?;
    let events = board.events_after(
        Seq(0),
        100_000,
        &EventFilter {
            task: Some(id),
            ..EventFilter::default()
        },
    )?;
    let runs: HashMap<RunId, Run> = board.runs(id)?.into_iter().map(|r| (r.id, r)).collect();
    let jobs: HashMap<JobId, (RunReason, Option<String>)> = board
        .jobs(&JobFilter {
            task: Some(id),
            statuses: vec![],
        })?
        .into_iter()
        .filter_map(|job| match job.spec {
            JobSpec::Run {
                reason, feedback, ..
            } => Some((job.id, (reason, feedback))),
            _ => None,
        })
        .collect();
    let family = |agent: &str| {
        board
            .settings()
            .agent(agent)
            .map(|a| a.family.clone())
            .unwrap_or_default()
    };

    let mut story = story::Story::default();
    for e in &events {
        let Ok(payload) = e.payload() else { continue };
        match payload {
            Payload::TaskStatus(status) => story.status(status.to.as_str()),
            Payload::RunStarted(started) => {
                let Some(run) = e.run.and_then(|r| runs.get(&r)) else {
                    continue;
                };
                let (reason, feedback) = started
                    .job
                    .and_then(|j| jobs.get(&j))
                    .map_or((None, None), |(r, f)| (Some(*r), f.clone()));
                story.started(run, reason, feedback, family(&run.agent));
            }
            Payload::RunFinished(_) => {
                if let Some(run) = e.run.and_then(|r| runs.get(&r))
                    && matches!(run.role, Role::Reviewer | Role::PlanReviewer)
                {
                    story.reviewed(run, family(&run.agent));
                }
            }
            Payload::TaskNotice(TaskNotice::Notice(Notice::NeedsInput { question })) => {
                story.asked(question)
            }
            Payload::TaskNotice(TaskNotice::Person { by, action }) if action == "answer" => {
                story.answered_by(by)
            }
            Payload::VerifyFinished(v) => story.verified(VerifyResult {
                commit: v.commit.0,
                purpose: v.purpose.as_str().to_string(),
                passed: v.passed,
                output: (!v.passed).then(|| story::last_lines(&v.tail, OUTPUT_LINES)),
                fix: None,
            }),
            _ => {}
        }
    }
    let span = events
        .first()
        .zip(events.last())
        .map(|(a, b)| (a.at_ms, b.at_ms));
    let mut usage = gaffer_core::Usage::default();
    for run in runs.values() {
        usage.add(&run.usage);
    }
    let plan = plan_summary(board, &task, &story.runs, ids)?;
    Ok((
        TaskSummary {
            id: task.id,
            title: task.title.clone(),
            kind: task.kind,
            parent: task.parent,
            blocked_by: task.blocked_by.clone(),
            status: task.status(),
            attempts: task.state.code_runs,
            states: story.states,
            runs: story.runs,
            plan,
            reviews: story.reviews,
            questions: story.questions,
            verify: story.verify,
            landed_commit: task.state.landed.as_ref().map(|l| l.commit.to_string()),
            usage,
        },
        span,
    ))
}

/// The plan of an epic, each subtask with the task it became (its child of the same title).
fn plan_summary(
    board: &Board,
    task: &gaffer_core::Task,
    runs: &[RunSummary],
    ids: &[TaskId],
) -> CliResult<Option<PlanSummary>> {
    let Some(plan) = task
        .plan
        .as_ref()
        .and_then(|p| serde_json::from_value::<Plan>(p.clone()).ok())
    else {
        return Ok(None);
    };
    let mut children = Vec::new();
    for id in ids {
        let child = board.task(*id)?;
        if child.parent == Some(task.id) {
            children.push(child);
        }
    }
    let by = runs
        .iter()
        .rev()
        .find(|r| r.role == Role::Planner)
        .map(|r| r.agent.clone())
        .unwrap_or_default();
    Ok(Some(PlanSummary {
        by,
        subtasks: plan
            .subtasks
            .into_iter()
            .map(|s| Subtask {
                task: children
                    .iter()
                    .find(|c| c.title.trim() == s.title.trim())
                    .map(|c| c.id),
                title: s.title,
                depends_on: s.depends_on,
                write_scope: s.write_scope,
            })
            .collect(),
    }))
}
