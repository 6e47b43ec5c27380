//! An agent run: pick the agent for the role and tier, prepare the worktree, gather what the
//! role needs to see (the handoff, the plan, the repository map, the change and its verify
//! result), start the backend, stream its events into the log and the run's transcript under a
//! watchdog, then establish what happened from evidence: the engine commits what the agent left
//! uncommitted and compares heads; structured output (plans, verdicts) is parsed strictly.
//!
//! The watchdog: a run with no event for `engine.stall_after` is stalled, a run past its agent's
//! `timeout` is out of time, and a `STUCK:` line says the agent cannot go on; each stops the run
//! (its token is cancelled, which kills a CLI agent's process group) and the run fails with the
//! reason, which the machine retries or escalates like any failed attempt.
//!
//! A review job runs the main reviewer, then, when it approves, each `[[review.extra]]` reviewer
//! in turn (each its own recorded run); any request for changes makes the review's verdict.

use super::{JobContext, JobResult, blocking, ensure_worktree, object_id};
use crate::apply::Extra;
use crate::board::Board;
use crate::error::{EngineError, Result};
use crate::prompts::Context;
use crate::review::{ReviewContext, plan_for};
use crate::{best_of, prompts, repo_map, risk};
use gaffer_agents::{AgentEvent, AgentSpec, Outcome, Registry, RunRequest};
use gaffer_core::structured::{parse_plan, parse_verdict};
use gaffer_core::{
    Input, NewEvent, NewRun, PendingRun, Role, Run, RunReason, RunResult, RunStatus, Seq,
    SessionMode, Task, event_kind,
};
use gaffer_core::{
    Payload,
    payload::{Output, RunOutput, SecretRefused},
};
use gaffer_store::{Commit, EventFilter, RunFinish};
use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// The author gaffer records on commits it makes for an agent.
const ENGINE_AUTHOR: &str = "gaffer <gaffer@localhost>";

/// How long a stopped run may take to wind down before gaffer stops waiting for its events.
const STOP_GRACE: Duration = Duration::from_secs(30);

/// The run a job asks for, as the machine planned it.
pub(crate) struct Planned<'a> {
    pub role: Role,
    pub tier: u32,
    pub session: SessionMode,
    pub reason: RunReason,
    pub feedback: Option<&'a str>,
    /// Best-of-N: the attempt this coder run is (its own worktree and branch).
    pub slot: Option<u32>,
}

impl Planned<'_> {
    /// The run, kept by the machine while a budget holds it.
    fn pending(&self) -> PendingRun {
        PendingRun {
            role: self.role,
            tier: self.tier,
            session: self.session,
            reason: self.reason,
            feedback: self.feedback.map(str::to_string),
            slot: self.slot,
        }
    }
}

pub(crate) async fn run(ctx: &JobContext, planned: Planned<'_>) -> Result<JobResult> {
    let Planned {
        role,
        tier,
        session,
        reason,
        feedback,
        slot,
    } = planned;
    let board = &ctx.board;
    let task_id = ctx
        .job
        .task
        .ok_or_else(|| EngineError::Invalid("an agent job without a task".into()))?;
    let task = board.store.task(task_id)?;
    let previous = board.store.runs(task.id)?;
    // A run that would go past a budget does not start: the task waits for a person (unless a
    // person already let this run go past it).
    if !task.state.budget_approved
        && let Some(why) = crate::budget::stop_reason(board, &task, &previous)?
    {
        return Ok(JobResult::Input {
            input: Input::Hold {
                reason: why,
                run: planned.pending(),
            },
            extra: Extra::default(),
        });
    }
    let picking = role == Role::Reviewer && best_of::picking(&task);
    let agent = match slot {
        Some(slot) => best_of::agent_for(board, &ctx.agents, slot, tier)?,
        // An idle survey: the first planner, else the first coder.
        None if role == Role::Planner && crate::idle::is_survey(&task) => {
            let name = crate::idle::agent_name(board).ok_or_else(|| EngineError::NoAgent {
                role: role.to_string(),
            })?;
            ctx.agents.get(name)?.clone()
        }
        None => pick_agent(board, &ctx.agents, role, tier, &previous)?,
    };
    let worktree = match slot {
        // Each attempt in its own worktree and branch, from the landing base.
        Some(slot) => {
            let (name, branch) = (
                best_of::attempt_name(&task, slot),
                best_of::attempt_branch(&task, slot),
            );
            super::ensure_named(board, name, branch, None).await?
        }
        // The picking reviewer reads the attempts' diffs from its prompt; it works in the first
        // passing attempt's worktree and changes nothing.
        None if picking => {
            let first = best_of::passed(&task).first().copied().unwrap_or(1);
            let (name, branch) = (
                best_of::attempt_name(&task, first),
                best_of::attempt_branch(&task, first),
            );
            super::ensure_named(board, name, branch, None).await?
        }
        None => ensure_worktree(board, &task).await?,
    };
    // On its branch; for a resolver, with the landing tip merged in and its conflicts described.
    let prepared = match slot {
        Some(_) => {
            let wt = worktree.clone();
            let env = board.git.env().to_vec();
            let base = blocking(move || Ok(gaffer_git::head_of(&wt, &env)?)).await?;
            super::resolve::Prepared {
                base,
                conflicts: None,
            }
        }
        None => super::resolve::prepare(board, &task, role, &worktree).await?,
    };
    let base = prepared.base;
    let feedback = match (feedback, prepared.conflicts) {
        (Some(f), Some(c)) => Some(format!("{f}\n\n{c}")),
        (f, c) => f.map(str::to_string).or(c),
    };
    let context = gather(board, &task, role, &previous, &worktree, picking).await?;
    let spot = Spot {
        task: &task,
        worktree: &worktree,
        base: &base,
        slot,
    };
    let main = Ask {
        agent: &agent,
        role,
        tier,
        session,
        reason,
        feedback: feedback.as_deref(),
        context: &context,
    };
    let done = match one_run(ctx, &spot, &main).await? {
        Ran::Interrupted(finish) => {
            return Ok(JobResult::Interrupted {
                finish_run: Some(finish),
            });
        }
        Ran::Done(done) => done,
    };
    if let Some(slot) = slot {
        return Ok(done.into_attempt_result(slot));
    }
    let extra = &board.settings.review.extra;
    let approved = matches!(done.result, RunResult::Review { approved: true, .. });
    if role != Role::Reviewer || !approved || extra.is_empty() {
        return Ok(done.into_job_result(role));
    }
    extra_reviews(ctx, &spot, &main, done).await
}

/// Where a job's runs happen.
struct Spot<'a> {
    task: &'a Task,
    worktree: &'a Path,
    base: &'a gaffer_git::Oid,
    /// Best-of-N: the attempt the run is.
    slot: Option<u32>,
}

/// One run to make: who, in which role, and with what.
struct Ask<'a> {
    agent: &'a AgentSpec,
    role: Role,
    tier: u32,
    session: SessionMode,
    reason: RunReason,
    feedback: Option<&'a str>,
    context: &'a Context,
}

/// A run that ended, with what the machine should hear.
struct Done {
    result: RunResult,
    plan: Option<serde_json::Value>,
    finish: RunFinish,
}

impl Done {
    fn into_attempt_result(self, slot: u32) -> JobResult {
        JobResult::Input {
            input: Input::AttemptFinished {
                slot,
                result: self.result,
            },
            extra: Extra {
                finish_run: Some(self.finish),
                ..Extra::default()
            },
        }
    }

    fn into_job_result(self, role: Role) -> JobResult {
        JobResult::Input {
            input: Input::RunFinished {
                role,
                result: self.result,
            },
            extra: Extra {
                finish_run: Some(self.finish),
                plan: self.plan,
                ..Extra::default()
            },
        }
    }
}

enum Ran {
    Done(Done),
    /// The job was stopped (shutdown, lost lease); the run is finished as cancelled.
    Interrupted(RunFinish),
}

/// The main reviewer approved: each extra reviewer reviews in turn, every run recorded; the
/// review approves only when all of them do, and otherwise carries every extra reviewer's
/// findings. A question or a failure of an extra reviewer is the review's outcome.
async fn extra_reviews(
    ctx: &JobContext,
    spot: &Spot<'_>,
    main: &Ask<'_>,
    first: Done,
) -> Result<JobResult> {
    let board = &ctx.board;
    let main_findings = match &first.result {
        RunResult::Review { findings, .. } => findings.clone(),
        _ => String::new(),
    };
    let mut pending = first.finish;
    let mut requested: Vec<String> = Vec::new();
    for reviewer in &board.settings.review.extra {
        // The previous reviewer's run is recorded before the next starts.
        board.store.commit(&Commit {
            finish_run: Some(pending),
            ..Commit::default()
        })?;
        let agent = ctx.agents.get(&reviewer.agent)?.clone();
        let context = Context {
            focus: Some(reviewer.focus.clone()),
            ..main.context.clone()
        };
        let ask = Ask {
            agent: &agent,
            context: &context,
            ..*main
        };
        let done = match one_run(ctx, spot, &ask).await? {
            Ran::Interrupted(finish) => {
                return Ok(JobResult::Interrupted {
                    finish_run: Some(finish),
                });
            }
            Ran::Done(done) => done,
        };
        match &done.result {
            RunResult::Review { approved: true, .. } => {}
            RunResult::Review {
                approved: false,
                findings,
            } => requested.push(format!(
                "[{} reviewer `{}`]\n{}",
                reviewer.focus,
                reviewer.agent,
                findings.trim()
            )),
            RunResult::Failed { reason } => {
                let reason = format!(
                    "the extra reviewer `{}` ({}) failed: {reason}",
                    reviewer.agent, reviewer.focus
                );
                return Ok(Done {
                    result: RunResult::Failed { reason },
                    ..done
                }
                .into_job_result(Role::Reviewer));
            }
            _ => return Ok(done.into_job_result(Role::Reviewer)),
        }
        pending = done.finish;
    }
    let result = if requested.is_empty() {
        RunResult::Review {
            approved: true,
            findings: main_findings,
        }
    } else {
        RunResult::Review {
            approved: false,
            findings: requested.join("\n\n"),
        }
    };
    Ok(Done {
        result,
        plan: None,
        finish: pending,
    }
    .into_job_result(Role::Reviewer))
}

/// What the role needs to see besides the task. Blocking work (git, files) off the workers.
async fn gather(
    board: &Arc<Board>,
    task: &Task,
    role: Role,
    previous: &[Run],
    worktree: &Path,
    picking: bool,
) -> Result<Context> {
    let code_role = |r: Role| matches!(r, Role::Coder | Role::Resolver);
    let interrupted = previous.last().is_some_and(|r| {
        r.status == RunStatus::Lost && (r.role == role || (code_role(r.role) && code_role(role)))
    });
    let handoff = prompts::last_handoff(previous).map(str::to_string);
    let (b, t, wt) = (Arc::clone(board), task.clone(), worktree.to_path_buf());
    blocking(move || {
        let mut context = Context {
            handoff,
            interrupted,
            plan: plan_for(&b, &t, role)?,
            ..Context::default()
        };
        match role {
            Role::Planner => {
                let files = gaffer_git::tracked_files(&wt, b.git.env())?;
                context.repo_map = Some(repo_map::build(&wt, &files, repo_map::DEFAULT_BUDGET));
            }
            Role::Reviewer if picking => {
                context.attempts = Some(best_of::pick_context(&b, &t)?);
            }
            Role::Reviewer => context.review = Some(ReviewContext::gather(&b, &t)?),
            _ => {}
        }
        Ok(context)
    })
    .await
}

/// One run of one agent: recorded, prompted, streamed under the watchdog, judged (re-asked once
/// when its structured answer does not parse).
async fn one_run(ctx: &JobContext, spot: &Spot<'_>, ask: &Ask<'_>) -> Result<Ran> {
    let board = &ctx.board;
    let (task, agent, role) = (spot.task, ask.agent, ask.role);
    let previous = board.store.runs(task.id)?;
    let resume = match ask.session {
        // An attempt always starts afresh, in its own worktree.
        SessionMode::Resume if spot.slot.is_some() => None,
        SessionMode::Resume => previous
            .iter()
            .rev()
            .find(|r| r.role == role && r.agent == agent.name)
            .and_then(|r| r.session_id.clone()),
        SessionMode::Fresh => None,
    };
    // Coder and resolver runs write the same branch: they count as one line of attempts.
    let code_role = |r: Role| matches!(r, Role::Coder | Role::Resolver);
    // An attempt of a best-of task counts its own line: the runs in its worktree.
    let own_worktree = spot.worktree.display().to_string();
    let attempt = previous
        .iter()
        .filter(|r| match spot.slot {
            Some(_) => r.worktree == own_worktree,
            None => r.role == role || (code_role(r.role) && code_role(role)),
        })
        .count() as u32;
    let run = board.store.start_run(&NewRun {
        task: task.id,
        job: Some(ctx.job.id),
        role,
        tier: ask.tier,
        agent: agent.name.clone(),
        backend: agent.backend.backend().to_string(),
        model: agent.model.clone(),
        worktree: spot.worktree.display().to_string(),
    })?;
    match carry_out(ctx, spot, ask, &run, resume, attempt).await {
        Err(e) => {
            // Whatever stopped the job once its run had started, the run ends with it: left
            // "running", it would show as running forever (and count as the task's live run).
            // What it committed in its own git directory comes back first, as recovery would
            // bring back a lost run's.
            let (b, r) = (Arc::clone(board), run.clone());
            match blocking(move || crate::recovery::bring_back_remembered(&b, &r)).await {
                Ok(_) => {}
                Err(back) => tracing::warn!(run = %run.id, "cannot take the run's commits: {back}"),
            }
            let stopped = ctx.cancel.is_cancelled();
            let finish = RunFinish {
                run: run.id,
                status: if stopped {
                    RunStatus::Cancelled
                } else {
                    RunStatus::Failed
                },
                outcome: Some(e.to_string()),
                usage: gaffer_core::Usage::default(),
                session_id: None,
            };
            // A job stopped on purpose (shutdown, a lost lease, a cancel) goes back to the
            // queue or ends with its task, as an interrupted run does; it does not fail it.
            if stopped {
                return Ok(Ran::Interrupted(finish));
            }
            let ended = board.store.commit(&Commit {
                finish_run: Some(finish),
                ..Commit::default()
            });
            if let Err(end) = ended {
                tracing::warn!(run = %run.id, "could not end the run after {e}: {end}");
            }
            Err(e)
        }
        ran => ran,
    }
}

/// The run `run`, once recorded: prepared, confined, streamed, judged.
async fn carry_out(
    ctx: &JobContext,
    spot: &Spot<'_>,
    ask: &Ask<'_>,
    run: &Run,
    resume: Option<String>,
    attempt: u32,
) -> Result<Ran> {
    let board = &ctx.board;
    let (task, agent, role) = (spot.task, ask.agent, ask.role);
    let prompt = prompts::render(role, task, ask.reason, ask.feedback, ask.context);
    let system_prompt = prompts::system(Path::new(&board.project.root), role);
    let mut transcript = Transcript::create(
        &board.paths.run_dir(run.id),
        &prompt,
        &system_prompt,
        Arc::clone(&board.secrets),
    );
    let (data_dir, run_dir) = (
        board.paths.agent_task_dir(&agent.name, task.id),
        board.paths.run_scratch(run.id),
    );
    std::fs::create_dir_all(&data_dir)
        .map_err(|e| EngineError::io(format!("creating {}", data_dir.display()), e))?;
    // gaffer's own loop runs no process but its `run` tool's commands; the CLIs are processes.
    let cli = gaffer_config::Backend::from_name(agent.backend.backend())
        .is_none_or(gaffer_config::Backend::runs_a_process);
    // Inside a sandbox the run gets a git directory of its own: it can commit on its branch
    // and move nothing else (brought back below).
    let run_repo = if crate::confine::sandbox_for(&board.settings)?.is_confined() {
        Some(prepare_run_repo(board, spot, &run_dir).await?)
    } else {
        None
    };
    let git_mounts = run_repo.as_ref().map(gaffer_git::RunRepo::mounts);
    // Its model, and gaffer's API for reporting with the run's own token.
    let mut reach = crate::confine::Reach {
        endpoints: agent_endpoints(board, &agent.name),
    };
    let api_url = board.run_access.api_url();
    reach.endpoints.extend(api_url.clone());
    let access = RunToken::issue(board, task, run);
    let confine = crate::confine::confinement(
        board,
        crate::confine::Kind::Agent { role, cli },
        &crate::confine::Place {
            worktree: spot.worktree,
            scratch: &run_dir,
            data_dir: Some(&data_dir),
            git: git_mounts.as_ref(),
            reach: Some(&reach),
            read_only: &agent_program_dirs(board, &agent.name),
        },
    )?
    .redacting(board.secrets.redactor());
    let mut env = vec![
        ("GAFFER_TASK".into(), task.id.to_string()),
        ("GAFFER_RUN".into(), run.id.to_string()),
        ("GAFFER_RUN_TOKEN".into(), access.token.clone()),
    ];
    env.extend(api_url.map(|url| ("GAFFER_API_URL".to_string(), url)));

    let mut request = RunRequest {
        role,
        prompt,
        system_prompt,
        worktree: spot.worktree.to_path_buf(),
        model: agent.model.clone(),
        resume_session: resume,
        env,
        // The agent's own `timeout`, else at least an hour (and never less than verify may take).
        max_wall: board
            .settings
            .agent(&agent.name)
            .and_then(|a| a.timeout)
            .unwrap_or_else(|| board.settings.verify.timeout.max(Duration::from_secs(3600))),
        script_key: format!("#{} {}", task.id, task.title),
        attempt,
        data_dir,
        run_dir,
        confine,
    };
    let mut usage = gaffer_core::Usage::default();
    let mut reasked = false;
    let mut texts: Vec<String> = Vec::new();
    let mut refused: Vec<String> = Vec::new();
    let (outcome, result, plan) = loop {
        let streamed = stream_run(ctx, agent, request.clone(), run, task, &mut transcript).await?;
        // What the run committed in its own git directory becomes the branch's, now that
        // every process of the run has ended; a reviewer's or a planner's commits do not.
        if let Some(repo) = &run_repo
            && matches!(role, Role::Coder | Role::Resolver)
        {
            bring_back(board, run, task, repo).await?;
        }
        let outcome = streamed.outcome.clone();
        texts.extend(streamed.texts.iter().cloned());
        refused.extend(streamed.refused.iter().cloned());
        usage.add(&outcome.usage);
        if ctx.cancel.is_cancelled() {
            return Ok(Ran::Interrupted(finish(
                run,
                RunStatus::Cancelled,
                &outcome,
                usage,
                Some("interrupted".into()),
            )));
        }
        let judged = judge(board, task, role, run, spot, streamed).await?;
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
    // The run's git directory has served: its commits are the branch's now.
    if let Some(repo) = run_repo {
        crate::recovery::forget_run_repo(&run_dir_of(&repo));
        blocking(move || {
            repo.remove().map_err(|e| {
                EngineError::Invalid(format!("cannot remove the run's git directory: {e}"))
            })
        })
        .await?;
    }
    let status = match &result {
        RunResult::Failed { .. } => RunStatus::Failed,
        _ => RunStatus::Succeeded,
    };
    // The run's outcome: the agent's final text (a coder's handoff, a verdict, a plan), or why
    // it failed.
    let summary = match (&result, refusals_summary(&refused)) {
        (RunResult::Failed { reason }, _) => Some(reason.clone()),
        (_, Some(refusals)) => Some(
            format!(
                "{}\n\n(the agent's CLI refused some of its tool calls: {refusals})",
                outcome.final_text
            )
            .trim_start()
            .to_string(),
        ),
        _ if !outcome.final_text.is_empty() => Some(outcome.final_text.clone()),
        _ => None,
    };
    let usage = crate::pricing::priced(&board.settings, &agent.model, usage);
    // Ideas the agent filed on the way (`PROPOSAL:` lines) wait for a person as proposals.
    texts.push(outcome.final_text.clone());
    let proposed = crate::proposals::parse_lines(&texts.join("\n"));
    if !proposed.is_empty() {
        let (b, t, r) = (Arc::clone(board), task.clone(), run.clone());
        blocking(move || crate::proposals::file(&b, &t, &r, &proposed)).await?;
    }
    Ok(Ran::Done(Done {
        result,
        plan,
        finish: finish(run, status, &outcome, usage, summary),
    }))
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

/// A run's token for gaffer's API, revoked when the run ends whichever way it ends.
struct RunToken<'a> {
    board: &'a Board,
    run: gaffer_core::RunId,
    token: String,
}

impl<'a> RunToken<'a> {
    fn issue(board: &'a Board, task: &Task, run: &Run) -> RunToken<'a> {
        RunToken {
            board,
            run: run.id,
            token: board.run_access.issue(task.id, run.id),
        }
    }
}

impl Drop for RunToken<'_> {
    fn drop(&mut self) {
        self.board.run_access.revoke(self.run);
    }
}

/// Where an agent CLI's program lives, found in the agent's own `PATH` when its `env` table
/// sets one.
fn agent_program_dirs(board: &Board, name: &str) -> Vec<std::path::PathBuf> {
    let Some(agent) = board.settings.agent(name) else {
        return Vec::new();
    };
    match gaffer_agents::program_of(agent) {
        Some(program) => {
            crate::confine::program_dirs(&program, agent.env().get("PATH").map(String::as_str))
        }
        None => Vec::new(),
    }
}

/// The model endpoints an agent CLI talks to (see `gaffer_agents::endpoints_of`).
fn agent_endpoints(board: &Board, name: &str) -> Vec<String> {
    board.settings.agent(name).map_or_else(Vec::new, |agent| {
        gaffer_agents::endpoints_of(agent, &gaffer_agents::Environment::Process)
    })
}

/// Where a run repository and its start record live (beside the run's scratch directory).
fn run_dir_of(repo: &gaffer_git::RunRepo) -> std::path::PathBuf {
    repo.dir()
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| repo.dir().to_path_buf())
}

/// The run's own git directory, on the worktree's branch, with the landing tip as a ref too
/// (so `git diff <target>` works inside).
async fn prepare_run_repo(
    board: &Arc<Board>,
    spot: &Spot<'_>,
    run_dir: &Path,
) -> Result<gaffer_git::RunRepo> {
    // Its own directory beside the run's scratch: the run may write the run repository in
    // it, never the gitfile bound over its worktree's `.git`.
    let (b, wt, scratch) = (
        Arc::clone(board),
        spot.worktree.to_path_buf(),
        run_dir.parent().unwrap_or(run_dir).join("git"),
    );
    blocking(move || {
        std::fs::create_dir_all(&scratch)
            .map_err(|e| EngineError::io(format!("creating {}", scratch.display()), e))?;
        let branch = gaffer_git::branch_of(&wt, b.git.env())?.ok_or_else(|| {
            EngineError::Invalid(format!("the worktree {} is on no branch", wt.display()))
        })?;
        let landing = b.landing()?;
        let (tip, _) = landing.base(&b)?;
        let extra = [(format!("refs/heads/{}", landing.target), tip)];
        let repo =
            gaffer_git::RunRepo::prepare(&b.git, &wt, &branch, &extra, &scratch).map_err(|e| {
                EngineError::Invalid(format!("cannot give the run its git directory: {e}"))
            })?;
        // Where the branch started, for recovery to bring the run's commits back after a crash.
        crate::recovery::remember_run_repo(&scratch, &branch, repo.start())?;
        Ok(repo)
    })
    .await
}

/// Moves the task's branch to what the run committed in its own git directory (by
/// compare-and-swap from where it started); refs the run made or moved beside its branch are
/// ignored and said so in the log.
async fn bring_back(
    board: &Arc<Board>,
    run: &Run,
    task: &Task,
    repo: &gaffer_git::RunRepo,
) -> Result<()> {
    let repo = repo.clone();
    let brought = blocking(move || {
        repo.bring_back()
            .map_err(|e| EngineError::Invalid(format!("cannot take the run's commits: {e}")))
    })
    .await?;
    if !brought.ignored.is_empty() {
        let names: Vec<String> = brought.ignored.iter().map(|r| r.name.clone()).collect();
        let event = AgentEvent::Status {
            text: format!(
                "gaffer ignored refs the run created or moved beside its branch: {}",
                names.join(", ")
            ),
        };
        append_output(board, run, task, &event)?;
    }
    Ok(())
}

/// Records `event` of `run` as a `run.output` event (the log, the feed, the task page).
fn append_output(board: &Board, run: &Run, task: &Task, event: &AgentEvent) -> Result<()> {
    if let Some(output) = output_event(event) {
        board
            .store
            .append_events(&[NewEvent::of(Payload::RunOutput(output.into()))
                .task(task.id)
                .project(task.project)
                .run(run.id)])?;
    }
    Ok(())
}

/// Why the watchdog stopped a run.
#[derive(Debug, Clone, PartialEq)]
enum Stop {
    /// No event for this long.
    Stalled(Duration),
    /// The agent printed `STUCK:` with this reason.
    Stuck(String),
    /// It ran for its whole time limit (`agents.<name>.timeout`).
    WallTime(Duration),
}

impl Stop {
    fn reason(&self) -> String {
        match self {
            Stop::Stalled(after) => format!(
                "stalled: no event for {}; gaffer stopped the run",
                gaffer_config::format_duration(*after)
            ),
            Stop::Stuck(text) => format!("stuck: {text}"),
            Stop::WallTime(limit) => format!(
                "out of time: the run took its whole time limit of {}; gaffer stopped it",
                gaffer_config::format_duration(*limit)
            ),
        }
    }
}

/// What streaming a run produced.
struct Streamed {
    outcome: Outcome,
    /// The agent's plain text, for `PROPOSAL:` lines.
    texts: Vec<String>,
    /// The question it asked, if any.
    question: Option<String>,
    /// Why the watchdog stopped it, if it did.
    stop: Option<Stop>,
    /// The tools whose calls the agent's CLI refused, one entry per refusal.
    refused: Vec<String>,
}

/// What refusals did to a run, in a few words: "permission refused 3 times (Write ×2, Bash)".
fn refusals_summary(refused: &[String]) -> Option<String> {
    if refused.is_empty() {
        return None;
    }
    let mut tools: Vec<(&str, usize)> = Vec::new();
    for tool in refused {
        match tools.iter_mut().find(|(t, _)| t == tool) {
            Some((_, n)) => *n += 1,
            None => tools.push((tool, 1)),
        }
    }
    let tools: Vec<String> = tools
        .into_iter()
        .map(|(t, n)| {
            if n > 1 {
                format!("{t} ×{n}")
            } else {
                t.to_string()
            }
        })
        .collect();
    Some(format!(
        "permission refused {} ({})",
        match refused.len() {
            1 => "once".to_string(),
            n => format!("{n} times"),
        },
        tools.join(", ")
    ))
}

/// Starts the agent and streams its events into the run's transcript and the event log until it
/// finishes, under the watchdog: no event for `engine.stall_after`, or a `STUCK:` line, stops it.
async fn stream_run(
    ctx: &JobContext,
    agent: &AgentSpec,
    request: RunRequest,
    run: &Run,
    task: &Task,
    transcript: &mut Transcript,
) -> Result<Streamed> {
    let board = &ctx.board;
    std::fs::create_dir_all(&request.data_dir)
        .map_err(|e| EngineError::io(format!("creating {}", request.data_dir.display()), e))?;
    // The run's own token: the watchdog stops the run without stopping the job.
    let token = ctx.cancel.child_token();
    let max_wall = request.max_wall;
    let deadline = tokio::time::Instant::now() + max_wall;
    let mut handle = agent.backend.start(request, token.clone())?;
    // Crash tests stop here: the agent runs, and nothing recorded its process yet.
    fail::fail_point!("run-spawned");
    if let Some(process) = &handle.process {
        ctx.record_process(process);
    }
    let stall_after = board.settings.engine.stall_after;
    let mut outcome: Option<Outcome> = None;
    let mut question: Option<String> = None;
    let mut stop: Option<Stop> = None;
    let mut texts: Vec<String> = Vec::new();
    let mut refused: Vec<String> = Vec::new();
    loop {
        // Once stopped, wait a little for the backend to wind down and say how it ended.
        let wait = if token.is_cancelled() {
            STOP_GRACE
        } else {
            stall_after.min(deadline.saturating_duration_since(tokio::time::Instant::now()))
        };
        let event = match tokio::time::timeout(wait, handle.events.recv()).await {
            Ok(Some(event)) => event,
            Ok(None) => break,
            Err(_) if token.is_cancelled() => break,
            Err(_) => {
                let why = if tokio::time::Instant::now() >= deadline {
                    Stop::WallTime(max_wall)
                } else {
                    Stop::Stalled(stall_after)
                };
                record_stop(board, run, task, transcript, &why)?;
                stop = Some(why);
                token.cancel();
                continue;
            }
        };
        transcript.write(&event);
        match &event {
            AgentEvent::Started {
                session_id: Some(s),
                ..
            } => {
                board.store.set_run_session(run.id, s)?;
            }
            AgentEvent::Question { text } => question = Some(text.clone()),
            AgentEvent::Refused { tool, .. } => refused.push(tool.clone()),
            AgentEvent::Text { text } if text.contains("PROPOSAL:") => texts.push(text.clone()),
            AgentEvent::Stuck { text } if stop.is_none() => {
                stop = Some(Stop::Stuck(text.clone()));
                token.cancel();
            }
            AgentEvent::Finished { outcome: o } => {
                outcome = Some(o.clone());
                continue;
            }
            _ => {}
        }
        append_output(board, run, task, &event)?;
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
    Ok(Streamed {
        outcome,
        texts,
        question,
        stop,
        refused,
    })
}

/// Records in the log and the transcript that the watchdog stopped the run, and why.
fn record_stop(
    board: &Board,
    run: &Run,
    task: &Task,
    transcript: &mut Transcript,
    stop: &Stop,
) -> Result<()> {
    let event = AgentEvent::Status {
        text: format!("watchdog: {}", stop.reason()),
    };
    transcript.write(&event);
    append_output(board, run, task, &event)
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
            if let Ok(Payload::RunOutput(RunOutput {
                output: Output::Question { text },
                ..
            })) = event.payload()
            {
                found = Some(text);
            }
        }
    }
}

/// Decides what the run produced, from evidence.
async fn judge(
    board: &Arc<Board>,
    task: &Task,
    role: Role,
    run: &Run,
    spot: &Spot<'_>,
    streamed: Streamed,
) -> Result<Judged> {
    let Streamed {
        outcome,
        question,
        stop,
        refused,
        ..
    } = streamed;
    let refusals = refusals_summary(&refused);
    let (worktree, base) = (spot.worktree, spot.base);
    if let Some(text) = question {
        return Ok(Judged::Done(RunResult::Question { text }, None));
    }
    if let Some(stop) = stop {
        return Ok(Judged::Done(
            RunResult::Failed {
                reason: stop.reason(),
            },
            None,
        ));
    }
    if !outcome.success {
        let reason = outcome
            .error
            .clone()
            .unwrap_or_else(|| "the agent reported failure".into());
        let reason = match &refusals {
            Some(refusals) => format!("{reason} ({refusals})"),
            None => reason,
        };
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
            // Commit messages land on the target and are pushed: never with a secret in them.
            let message = board.secrets.redact(&message).into_owned();
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
                // Nothing changed because the agent's CLI would not let it edit: a failed run
                // that says so, not a success that did nothing.
                if let Some(refusals) = &refusals {
                    let reason = format!(
                        "the agent could not edit: {refusals}. Its CLI refused the tool calls; \
                         check the agent's permission settings (e.g. `permission_mode`)"
                    );
                    return Ok(Judged::Done(RunResult::Failed { reason }, None));
                }
                let summary = if outcome.final_text.is_empty() {
                    "no summary".to_string()
                } else {
                    outcome.final_text.clone()
                };
                return Ok(Judged::Done(RunResult::NoChanges { summary }, None));
            }
            if let Some(reason) = refuse_secrets(board, task, run, worktree, base, &head).await? {
                return Ok(Judged::Done(RunResult::Failed { reason }, None));
            }
            if let Some(finding) = check_scope(board, task, run, &head).await?
                && finding.enforce == gaffer_config::ScopeEnforce::Reject
            {
                return Ok(Judged::Done(
                    RunResult::Failed {
                        reason: finding.rejection(task),
                    },
                    None,
                ));
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
                let result = if role == Role::Reviewer && best_of::picking(task) {
                    let passed = best_of::passed(task);
                    match verdict.pick {
                        Some(slot) if passed.contains(&slot) => RunResult::Pick {
                            slot,
                            approved,
                            reasons: findings,
                        },
                        _ => {
                            let choices: Vec<String> = passed.iter().map(u32::to_string).collect();
                            return Ok(Judged::Malformed(format!(
                                "the verdict must pick one of the attempts that passed verify:                                  add \"pick\" with one of {}",
                                choices.join(", ")
                            )));
                        }
                    }
                } else if role == Role::Reviewer {
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

/// Push protection, and no nested repositories: a change that adds a secret gaffer knows (or a
/// well-known key shape) — in its net diff against where the branch left the target, in any of
/// its own commits (the branch's commits land as the merge's second parent, so a secret added
/// and removed again would still be pushed), or in a commit message — or that adds a nested
/// repository (a gitlink: gaffer's git would look into it) is not kept. The run's commits are
/// undone (`reset --soft` to where the run started: the files stay as the agent left them, so
/// the next run can take the secret out) and the reason names each path and line, never the
/// value. What the target brought in (a resolver's merge) is not held against the task.
async fn refuse_secrets(
    board: &Arc<Board>,
    task: &Task,
    run: &Run,
    worktree: &Path,
    base: &gaffer_git::Oid,
    head: &gaffer_git::Oid,
) -> Result<Option<String>> {
    let (b, wt, start, to) = (
        Arc::clone(board),
        worktree.to_path_buf(),
        base.clone(),
        head.clone(),
    );
    let (secrets, nested) = blocking(move || {
        let (tip, _) = b.landing()?.base(&b)?;
        let from = b
            .git
            .merge_base(&tip, &to)?
            .unwrap_or_else(|| start.clone());
        let own = format!("{}..{}", tip.as_str(), to.as_str());
        let mut found: Vec<String> = Vec::new();
        let mut note = |hits: Vec<gaffer_core::secrets::SecretHit>| {
            for hit in hits {
                let hit = hit.to_string();
                if !found.contains(&hit) {
                    found.push(hit);
                }
            }
        };
        note(b.secrets.added_in(&b.git.diff_text(&from, &to)?));
        for commit in b.git.commits(&own)? {
            // A commit of the task's own is never a root: it has a first parent.
            if let Some(parent) = b.git.rev_parse_commit(&format!("{}^", commit.as_str()))? {
                note(b.secrets.added_in(&b.git.diff_text(&parent, &commit)?));
            }
        }
        let redactor = b.secrets.redactor();
        for (commit, message) in b.git.commit_messages(&own, i32::MAX as usize)? {
            if redactor.contains_secret(&message) {
                found.push(format!(
                    "the message of commit {}",
                    &commit.as_str()[..commit.as_str().len().min(10)]
                ));
            }
        }
        let nested = b.git.gitlinks_added(&from, &to)?;
        if !found.is_empty() || !nested.is_empty() {
            gaffer_git::reset_soft(&wt, &start, b.git.env())?;
        }
        Ok((found, nested))
    })
    .await?;
    let listed = |items: &[String]| {
        items
            .iter()
            .map(|f| format!("- {f}"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    if !nested.is_empty() {
        return Ok(Some(format!(
            "the change adds nested git repositories, which gaffer does not land (its commits \
             were undone; the files are as you left them):\n{}\n\nRemove their `.git` \
             directories (or the directories) and commit the files themselves.",
            listed(&nested)
        )));
    }
    if secrets.is_empty() {
        return Ok(None);
    }
    board
        .store
        .append_events(&[NewEvent::of(Payload::SecretRefused(SecretRefused {
            found: secrets.clone(),
            run: run.id,
        }))
        .task(task.id)
        .project(task.project)
        .run(run.id)])?;
    Ok(Some(format!(
        "the change adds a secret, so it was not kept (its commits were undone; the files are \
         as you left them):\n{}\n\nRemove the secret (read it from the environment or a file \
         outside the repository instead) and commit again.",
        listed(&secrets)
    )))
}

/// Checks a coder's change against the task's write scope and records what is outside it.
async fn check_scope(
    board: &Arc<Board>,
    task: &Task,
    run: &Run,
    head: &gaffer_git::Oid,
) -> Result<Option<crate::write_scope::Finding>> {
    let (b, t, h) = (Arc::clone(board), task.clone(), head.clone());
    let finding = blocking(move || crate::write_scope::check(&b, &t, &h)).await?;
    if let Some(finding) = &finding {
        board
            .store
            .append_events(&[
                NewEvent::of(Payload::ScopeOutside(finding.event(task, run.id)))
                    .task(task.id)
                    .project(task.project)
                    .run(run.id),
            ])?;
    }
    Ok(finding)
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
fn output_event(event: &AgentEvent) -> Option<Output> {
    Some(match event.clone() {
        AgentEvent::Started { .. } | AgentEvent::Finished { .. } => return None,
        AgentEvent::Text { text } => Output::Text { text },
        AgentEvent::ToolCall { name, summary } => Output::ToolCall { name, summary },
        AgentEvent::ToolResult { summary, is_error } => Output::ToolResult { summary, is_error },
        AgentEvent::Status { text } => Output::Status { text },
        AgentEvent::Question { text } => Output::Question { text },
        AgentEvent::Stuck { text } => Output::Stuck { text },
        AgentEvent::Refused { tool, reason } => Output::Refused { tool, reason },
        AgentEvent::Usage { usage } => Output::Usage { usage },
    })
}

/// The run's own record on disk: the full prompt (`prompt.md`), the role's system prompt
/// (`system.md`) and every event, one JSON per line (`events.jsonl`), all with secrets redacted.
struct Transcript {
    file: Option<std::fs::File>,
    secrets: Arc<crate::secrets::Secrets>,
}

impl Transcript {
    fn create(
        dir: &Path,
        prompt: &str,
        system: &str,
        secrets: Arc<crate::secrets::Secrets>,
    ) -> Transcript {
        let file = std::fs::create_dir_all(dir)
            .and_then(|_| std::fs::write(dir.join("prompt.md"), secrets.redact(prompt).as_ref()))
            .and_then(|_| std::fs::write(dir.join("system.md"), secrets.redact(system).as_ref()))
            .and_then(|_| std::fs::File::create(dir.join("events.jsonl")));
        match file {
            Ok(file) => Transcript {
                file: Some(file),
                secrets,
            },
            Err(e) => {
                tracing::warn!("cannot write the run transcript in {}: {e}", dir.display());
                Transcript {
                    file: None,
                    secrets,
                }
            }
        }
    }

    fn write(&mut self, event: &AgentEvent) {
        if let (Some(file), Ok(line)) = (&mut self.file, serde_json::to_string(event)) {
            let _ = writeln!(file, "{}", self.secrets.redact(&line));
        }
    }
}
