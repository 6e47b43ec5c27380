//! An agent run: pick the agent for the role and tier, prepare the worktree, start the backend,
//! stream its events into the log and the run's transcript, then establish what happened from
//! evidence: the engine commits what the agent left uncommitted and compares heads; structured
//! output (plans, verdicts) is parsed strictly.

use super::{JobContext, JobResult, blocking, ensure_worktree, object_id};
use crate::apply::Extra;
use crate::board::Board;
use crate::error::{EngineError, Result};
use crate::{prompts, risk};
use gaffer_agents::{AgentEvent, AgentSpec, Outcome, Registry, RunRequest};
use gaffer_core::structured::{parse_plan, parse_verdict};
use gaffer_core::{
    Input, NewEvent, NewRun, Role, Run, RunReason, RunResult, RunStatus, Seq, SessionMode, Task,
    event_kind,
};
use gaffer_store::{EventFilter, RunFinish};
use std::io::Write;
use std::path::Path;
use std::sync::Arc;

/// The author gaffer records on commits it makes for an agent.
const ENGINE_AUTHOR: &str = "gaffer <gaffer@localhost>";

pub(crate) async fn run(
    ctx: &JobContext,
    role: Role,
    tier: u32,
    session: SessionMode,
    reason: RunReason,
    feedback: Option<&str>,
) -> Result<JobResult> {
    let board = &ctx.board;
    let task_id = ctx
        .job
        .task
        .ok_or_else(|| EngineError::Invalid("an agent job without a task".into()))?;
    let task = board.store.task(task_id)?;
    let previous = board.store.runs(task.id)?;
    let agent = pick_agent(board, &ctx.agents, role, tier, &previous)?;
    let worktree = ensure_worktree(board, &task).await?;
    // On its branch; for a resolver, with the landing tip merged in and its conflicts described.
    let prepared = super::resolve::prepare(board, &task, role, &worktree).await?;
    let base = prepared.base;
    let feedback = match (feedback, prepared.conflicts) {
        (Some(f), Some(c)) => Some(format!("{f}\n\n{c}")),
        (f, c) => f.map(str::to_string).or(c),
    };
    let feedback = feedback.as_deref();

    let resume = match session {
        SessionMode::Resume => previous
            .iter()
            .rev()
            .find(|r| r.role == role && r.agent == agent.name)
            .and_then(|r| r.session_id.clone()),
        SessionMode::Fresh => None,
    };
    // Coder and resolver runs write the same branch: they count as one line of attempts.
    let code_role = |r: Role| matches!(r, Role::Coder | Role::Resolver);
    let attempt = previous
        .iter()
        .filter(|r| r.role == role || (code_role(r.role) && code_role(role)))
        .count() as u32;
    let run = board.store.start_run(&NewRun {
        task: task.id,
        job: Some(ctx.job.id),
        role,
        tier,
        agent: agent.name.clone(),
        backend: agent.backend.backend().to_string(),
        model: agent.model.clone(),
        worktree: worktree.display().to_string(),
    })?;
    let handoff = previous
        .iter()
        .rev()
        .find(|r| matches!(r.role, Role::Coder | Role::Resolver))
        .and_then(|r| r.outcome.clone());
    let prompt = prompts::render(role, &task, reason, feedback, handoff.as_deref());
    let transcript = Transcript::create(&board.paths.run_dir(run.id), &prompt);

    let request = RunRequest {
        role,
        prompt,
        system_prompt: prompts::system(role),
        worktree: worktree.clone(),
        model: agent.model.clone(),
        resume_session: resume,
        env: vec![
            ("GAFFER_TASK".into(), task.id.to_string()),
            ("GAFFER_RUN".into(), run.id.to_string()),
        ],
        max_wall: board
            .settings
            .verify
            .timeout
            .max(std::time::Duration::from_secs(3600)),
        script_key: format!("#{} {}", task.id, task.title),
        attempt,
        data_dir: board.paths.agent_dir(&agent.name),
    };
    let mut transcript = transcript;
    let mut request = request;
    let mut usage = gaffer_core::Usage::default();
    let mut reasked = false;
    let (outcome, result, plan) = loop {
        let (outcome, question) =
            stream_run(ctx, &agent, request.clone(), &run, &task, &mut transcript).await?;
        usage.add(&outcome.usage);
        if ctx.cancel.is_cancelled() {
            return Ok(JobResult::Interrupted {
                finish_run: Some(finish(
                    &run,
                    RunStatus::Cancelled,
                    &outcome,
                    usage,
                    Some("interrupted".into()),
                )),
            });
        }
        let judged = judge(
            board, &task, role, &run, &worktree, &base, &outcome, question,
        )
        .await?;
        // A malformed plan or verdict is asked for once more, in the same session, with the
        // parse error; then the run fails with the raw answer kept as evidence.
        if let (Judged::Malformed(error), false, Some(session)) =
            (&judged, reasked, outcome.session_id.clone())
        {
            reasked = true;
            request.resume_session = Some(session);
            request.prompt = prompts::reask(role, error);
            continue;
        }
        let (result, plan) = judged.into_result(&outcome);
        break (outcome, result, plan);
    };
    let status = match &result {
        RunResult::Failed { .. } => RunStatus::Failed,
        _ => RunStatus::Succeeded,
    };
    let summary = match &result {
        RunResult::Failed { reason } => Some(reason.clone()),
        _ if !outcome.final_text.is_empty() => Some(outcome.final_text.clone()),
        _ => None,
    };
    let usage = crate::pricing::priced(&board.settings, &agent.model, usage);
    Ok(JobResult::Input {
        input: Input::RunFinished { role, result },
        extra: Extra {
            finish_run: Some(finish(&run, status, &outcome, usage, summary)),
            plan,
            ..Extra::default()
        },
    })
}

fn finish(
    run: &Run,
    status: RunStatus,
    outcome: &Outcome,
    usage: gaffer_core::Usage,
    text: Option<String>,
) -> RunFinish {
    RunFinish {
        run: run.id,
        status,
        outcome: text,
        usage,
        session_id: outcome.session_id.clone(),
    }
}

/// Starts the agent and streams its events into the run's transcript and the event log until it
/// finishes. Returns its outcome and the question it asked, if any.
async fn stream_run(
    ctx: &JobContext,
    agent: &AgentSpec,
    request: RunRequest,
    run: &Run,
    task: &Task,
    transcript: &mut Transcript,
) -> Result<(Outcome, Option<String>)> {
    let board = &ctx.board;
    std::fs::create_dir_all(&request.data_dir)
        .map_err(|e| EngineError::io(format!("creating {}", request.data_dir.display()), e))?;
    let mut handle = agent.backend.start(request, ctx.cancel.clone())?;
    if let Some(process) = &handle.process {
        ctx.record_process(process);
    }
    let mut outcome: Option<Outcome> = None;
    let mut question: Option<String> = None;
    while let Some(event) = handle.events.recv().await {
        transcript.write(&event);
        match &event {
            AgentEvent::Started {
                session_id: Some(s),
                ..
            } => {
                board.store.set_run_session(run.id, s)?;
            }
            AgentEvent::Question { text } => question = Some(text.clone()),
            AgentEvent::Finished { outcome: o } => {
                outcome = Some(o.clone());
                continue;
            }
            _ => {}
        }
        if let Some(data) = output_event(&event) {
            board
                .store
                .append_events(&[NewEvent::new(event_kind::RUN_OUTPUT, data)
                    .task(task.id)
                    .project(task.project)
                    .run(run.id)])?;
        }
    }
    let outcome = outcome.unwrap_or_else(|| Outcome {
        error: Some("the agent's event stream ended without an outcome".into()),
        ..Outcome::default()
    });
    // A question asked through the API while the agent ran (`POST /api/tasks/{id}/ask`, which
    // the MCP tool `ask_person` calls) is in the run's events; it counts as if the agent had
    // printed it.
    if question.is_none() {
        question = asked_question(board, run)?;
    }
    Ok((outcome, question))
}

/// The last question recorded for `run`: a `run.output` event of type `question`.
fn asked_question(board: &Board, run: &Run) -> Result<Option<String>> {
    let filter = EventFilter {
        run: Some(run.id),
        kind_prefix: Some(event_kind::RUN_OUTPUT.into()),
        ..EventFilter::default()
    };
    let mut after = Seq(0);
    let mut found = None;
    loop {
        let events = board.store.events_after(after, 1000, &filter)?;
        let Some(last) = events.last() else {
            return Ok(found);
        };
        after = last.seq;
        for event in &events {
            if event.data["type"] == "question"
                && let Some(text) = event.data["text"].as_str()
            {
                found = Some(text.to_string());
            }
        }
    }
}

/// Decides what the run produced, from evidence.
#[allow(clippy::too_many_arguments)]
async fn judge(
    board: &Arc<Board>,
    task: &Task,
    role: Role,
    run: &Run,
    worktree: &Path,
    base: &gaffer_git::Oid,
    outcome: &Outcome,
    question: Option<String>,
) -> Result<Judged> {
    if let Some(text) = question {
        return Ok(Judged::Done(RunResult::Question { text }, None));
    }
    if !outcome.success {
        let reason = outcome
            .error
            .clone()
            .unwrap_or_else(|| "the agent reported failure".into());
        return Ok(Judged::Done(RunResult::Failed { reason }, None));
    }
    match role {
        Role::Coder | Role::Resolver => {
            // A merge of the target left half resolved must not be committed with its markers.
            let unresolved = super::resolve::unresolved(board, worktree).await?;
            if !unresolved.is_empty() {
                let reason = format!(
                    "conflict markers remain in {}: resolve every conflict and remove the markers",
                    unresolved.join(", ")
                );
                return Ok(Judged::Done(RunResult::Failed { reason }, None));
            }
            let message = format!(
                "{}\n\nTask #{} ({role} run {}, agent {}).\n\n{}",
                task.title,
                task.id,
                run.id,
                run.agent,
                outcome.final_text.trim()
            );
            let (b, wt, start) = (Arc::clone(board), worktree.to_path_buf(), base.clone());
            let (head, paths) = blocking(move || {
                let env = b.git.env().to_vec();
                gaffer_git::commit_all(&wt, message.trim(), ENGINE_AUTHOR, &env)?;
                let head = gaffer_git::head_of(&wt, &env)?;
                let paths = if head == start {
                    Vec::new()
                } else {
                    b.git.diff_stat(&start, &head)?
                };
                Ok((head, paths))
            })
            .await?;
            if &head == base {
                let summary = if outcome.final_text.is_empty() {
                    "no summary".to_string()
                } else {
                    outcome.final_text.clone()
                };
                return Ok(Judged::Done(RunResult::NoChanges { summary }, None));
            }
            let risk = risk::for_paths(&board.settings, &paths);
            Ok(Judged::Done(
                RunResult::Code {
                    head: object_id(&head),
                    risk,
                },
                None,
            ))
        }
        Role::Reviewer | Role::PlanReviewer => Ok(match parse_verdict(&outcome.final_text) {
            Ok(verdict) => {
                let approved = verdict.approved();
                let findings = verdict.findings_text();
                let result = if role == Role::Reviewer {
                    RunResult::Review { approved, findings }
                } else {
                    RunResult::PlanVerdict {
                        approved,
                        reasons: findings,
                    }
                };
                Judged::Done(result, None)
            }
            Err(e) => Judged::Malformed(e.0),
        }),
        Role::Planner => Ok(match parse_plan(&outcome.final_text) {
            Ok(plan) => {
                let subtasks = plan.subtasks.len() as u32;
                let value = serde_json::to_value(&plan).unwrap_or_default();
                Judged::Done(RunResult::Plan { subtasks }, Some(value))
            }
            Err(e) => Judged::Malformed(e.0),
        }),
    }
}

/// What a run produced, before deciding whether to re-ask.
enum Judged {
    Done(RunResult, Option<serde_json::Value>),
    /// Structured output that did not parse, with the parse error.
    Malformed(String),
}

impl Judged {
    fn into_result(self, outcome: &Outcome) -> (RunResult, Option<serde_json::Value>) {
        match self {
            Judged::Done(result, plan) => (result, plan),
            Judged::Malformed(error) => (
                RunResult::Failed {
                    reason: format!(
                        "the answer did not parse ({error}); raw answer:\n{}",
                        outcome.final_text
                    ),
                },
                None,
            ),
        }
    }
}

/// Picks the configured agent for a role and tier. Reviewers prefer a family other than the
/// author's (cross-family review).
fn pick_agent(
    board: &Board,
    agents: &Registry,
    role: Role,
    tier: u32,
    previous: &[Run],
) -> Result<AgentSpec> {
    let roles = &board.settings.roles;
    let ladder: &[String] = match role {
        Role::Coder => &roles.coder,
        Role::Resolver if !roles.resolver.is_empty() => &roles.resolver,
        Role::Resolver => &roles.coder,
        Role::Reviewer => &roles.reviewer,
        Role::Planner => &roles.planner,
        Role::PlanReviewer => &roles.plan_reviewer,
    };
    if ladder.is_empty() {
        return Err(EngineError::NoAgent {
            role: role.to_string(),
        });
    }
    let name = match role {
        Role::Coder | Role::Resolver => &ladder[(tier as usize).min(ladder.len() - 1)],
        Role::Reviewer | Role::PlanReviewer => {
            let author = previous
                .iter()
                .rev()
                .find(|r| matches!(r.role, Role::Coder | Role::Resolver | Role::Planner))
                .and_then(|r| agents.get(&r.agent).ok())
                .map(|a| a.family.clone());
            ladder
                .iter()
                .find(|n| {
                    agents
                        .get(n)
                        .is_ok_and(|a| Some(&a.family) != author.as_ref())
                })
                .unwrap_or(&ladder[0])
        }
        Role::Planner => &ladder[0],
    };
    Ok(agents.get(name)?.clone())
}

/// The normalized event as stored in the log (all but `Started`/`Finished`).
fn output_event(event: &AgentEvent) -> Option<serde_json::Value> {
    match event {
        AgentEvent::Started { .. } | AgentEvent::Finished { .. } => None,
        other => serde_json::to_value(other).ok(),
    }
}

/// The run's own record on disk: the full prompt and every event, one JSON per line.
struct Transcript {
    file: Option<std::fs::File>,
}

impl Transcript {
    fn create(dir: &Path, prompt: &str) -> Transcript {
        let file = std::fs::create_dir_all(dir)
            .and_then(|_| std::fs::write(dir.join("prompt.md"), prompt))
            .and_then(|_| std::fs::File::create(dir.join("events.jsonl")));
        match file {
            Ok(file) => Transcript { file: Some(file) },
            Err(e) => {
                tracing::warn!("cannot write the run transcript in {}: {e}", dir.display());
                Transcript { file: None }
            }
        }
    }

    fn write(&mut self, event: &AgentEvent) {
        if let (Some(file), Ok(line)) = (&mut self.file, serde_json::to_string(event)) {
            let _ = writeln!(file, "{line}");
        }
    }
}
