//! What an agent that gaffer runs says back while it works (through the API, which the MCP
//! tools `report_progress`, `ask_person` and `propose` call): a progress line, a question for a
//! person, an idea for another task. Checked and recorded here, once, whoever relays them.
//!
//! Progress and questions are recorded as events of the task's running agent run, in the shape
//! the agent's own `STATUS:` and `QUESTION:` lines take (`run.output` with `"via": "api"`). A
//! question changes nothing by itself: when the run ends, the engine takes the last question
//! among its events as the run's result.

use crate::board::Board;
use crate::error::{EngineError, Result};
use gaffer_core::payload::{Output, ProposedBy, RunOutput, TaskProposed};
use gaffer_core::{
    Event, NewEvent, NewTask, Payload, Run, RunId, RunStatus, Status, Task, TaskId, TaskKind,
};

/// The longest progress line, question or proposal text accepted, in bytes.
pub const MAX_REPORT: usize = 16 * 1024;

impl Board {
    /// Records a progress line of `task`'s running run (`run` when given): a `run.output`
    /// status event (of the task alone when no run is going).
    pub fn report_progress(&self, task: TaskId, run: Option<RunId>, text: &str) -> Result<Event> {
        let text = report_text(text, "a progress report needs text")?;
        let project = self.task(task)?.project;
        let run = self.running_run(task, run)?;
        let mut event = NewEvent::of(Payload::RunOutput(RunOutput {
            output: Output::Status { text },
            via: Some("api".into()),
        }))
        .task(task)
        .project(project);
        event.run = run.map(|r| r.id);
        self.record(event)
    }

    /// Records a question of `task`'s running run (`run` when given), which becomes the run's
    /// result when it ends. Refused when no agent of the task is running.
    pub fn ask(&self, task: TaskId, run: Option<RunId>, question: &str) -> Result<Event> {
        let question = report_text(question, "a question needs text")?;
        let project = self.task(task)?.project;
        let Some(run) = self.running_run(task, run)? else {
            return Err(EngineError::Refused {
                message: format!(
                    "no agent of task {task} is running, so there is no run to ask from"
                ),
                hint: "questions come from an agent gaffer runs; to reach a person otherwise, \
                       add a task of kind `question`"
                    .into(),
            });
        };
        let event = NewEvent::of(Payload::RunOutput(RunOutput {
            output: Output::Question { text: question },
            via: Some("api".into()),
        }))
        .task(task)
        .project(project)
        .run(run.id);
        self.record(event)
    }

    /// An agent working on `origin` (in run `run`, or its running run) files an idea for
    /// another task: a proposal in the backlog, waiting for a person, noted on `origin`.
    /// Refused when an open proposal has the same title.
    pub fn propose(
        &self,
        origin: TaskId,
        run: Option<RunId>,
        title: &str,
        text: &str,
    ) -> Result<Task> {
        let title = report_text(title, "a proposal needs a title")?;
        let text = match text.trim() {
            "" => String::new(),
            text => report_text(text, "")?,
        };
        let origin = self.task(origin)?;
        let run = self.running_run(origin.id, run)?;
        if let Some(open) = self
            .tasks(&[Status::Backlog])?
            .into_iter()
            .find(|t| t.kind == TaskKind::Proposal && t.title == title)
        {
            return Err(EngineError::Refused {
                message: format!("proposal {} already has the title {title:?}", open.id),
                hint: "a person will see it there; propose something else".into(),
            });
        }
        let by = match &run {
            Some(run) => format!(
                "agent `{}` ({} run {} of task #{}) through the API",
                run.agent, run.role, run.id, origin.id
            ),
            None => format!("a client working on task #{} through the API", origin.id),
        };
        let proposal = self.add_task(NewTask {
            title,
            body: crate::proposals::proposal_body(&text, &by),
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
        self.record(event)?;
        Ok(proposal)
    }

    /// The task's running run: `wanted` if given (it must be one of the task's runs and still
    /// running), else the newest running one, if any.
    fn running_run(&self, task: TaskId, wanted: Option<RunId>) -> Result<Option<Run>> {
        let runs = self.runs(task)?;
        let Some(id) = wanted else {
            return Ok(runs
                .into_iter()
                .rev()
                .find(|r| r.status == RunStatus::Running));
        };
        let Some(run) = runs.into_iter().find(|r| r.id == id) else {
            return Err(EngineError::NotFound(format!(
                "run {id} is not a run of task {task}"
            )));
        };
        if run.status != RunStatus::Running {
            return Err(EngineError::Refused {
                message: format!(
                    "run {id} of task {task} has ended ({})",
                    run.status.as_str()
                ),
                hint: "report from the run that is going".into(),
            });
        }
        Ok(Some(run))
    }

    /// Appends one event that changes no state.
    fn record(&self, event: NewEvent) -> Result<Event> {
        self.store
            .append_events(&[event])?
            .pop()
            .ok_or_else(|| EngineError::Invalid("the store recorded no event".into()))
    }
}

/// Trimmed, not blank, not too long.
fn report_text(text: &str, message: &str) -> Result<String> {
    let text = text.trim().to_string();
    if text.is_empty() {
        return Err(EngineError::InvalidInput {
            message: message.into(),
            hint: "send a line of text".into(),
        });
    }
    if text.len() > MAX_REPORT {
        return Err(EngineError::InvalidInput {
            message: format!(
                "the text is {} bytes long; at most {MAX_REPORT} are accepted",
                text.len()
            ),
            hint: "summarize; the details belong in the agent's own output".into(),
        });
    }
    Ok(text)
}
