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

use super::{JobContext, JobResult, blocking, ensure_worktree};
use crate::apply::Extra;
use crate::board::Board;
use crate::error::{EngineError, Result};
use crate::prompts::Context;
use crate::review::{ReviewContext, plan_for};
use crate::{best_of, prompts, repo_map};
use gaffer_agents::{AgentSpec, Outcome};
use gaffer_core::{
    Input, NewRun, PendingRun, Role, Run, RunReason, RunResult, RunStatus, SessionMode, Task,
};
use gaffer_store::{Commit, RunFinish};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

mod carry;
mod judge;
mod stream;

use carry::*;
use judge::*;
use stream::*;

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
    let agent = chosen_agent(
        ctx,
        &task,
        crate::who::Asked { role, tier, slot },
        &previous,
    )?;
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
    let preparing = std::time::Instant::now();
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
    board
        .phases
        .add(crate::phases::Phase::RunPrepare, preparing.elapsed());
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

/// How a recorded run begins: the session it resumes, its place in its line, and what people
/// said that it carries.
struct Begin {
    resume: Option<String>,
    /// The session resumed is a run's that was stopped to hear a person.
    resumes_stopped: bool,
    /// Where the run started in the log: what people say after it is handed to it while it
    /// goes on, when its backend takes messages (`crate::listening`).
    start: gaffer_core::Seq,
    attempt: u32,
    said: Vec<crate::said::Message>,
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
    // The runs this one follows on: an attempt's own (its worktree), else the task's.
    let own_worktree = spot.worktree.display().to_string();
    let line: Vec<&Run> = previous
        .iter()
        .filter(|r| spot.slot.is_none() || r.worktree == own_worktree)
        .collect();
    let mut heard = crate::said::Heard::load(board, task.id)?;
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
    // A run stopped to hear a person goes on in its session, whatever the job planned.
    let stopped = heard.resumable(&line, role, &agent.name);
    let resumes_stopped = stopped.is_some();
    let resume = stopped.or(resume);
    // Coder and resolver runs write the same branch: they count as one line of attempts.
    let code_role = |r: Role| matches!(r, Role::Coder | Role::Resolver);
    // An attempt of a best-of task counts its own line: the runs in its worktree.
    let attempt = line
        .iter()
        .filter(|r| spot.slot.is_some() || r.role == role || (code_role(r.role) && code_role(role)))
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
    heard.note_start(board, run.id)?;
    let begin = Begin {
        said: heard.carried(&line, resume.as_deref(), run.id),
        // Without its start (not seen), the run's prompt carries everything said until now.
        start: heard
            .start(run.id)
            .or_else(|| heard.last_said())
            .unwrap_or(gaffer_core::Seq(0)),
        resumes_stopped,
        resume,
        attempt,
    };
    let mut usage = gaffer_core::Usage::default();
    match carry_out(ctx, spot, ask, &run, begin, &mut usage).await {
        Err(e) => {
            // Whatever stopped the job once its run had started, the run ends with it: left
            // "running", it would show as running forever (and count as the task's live run).
            // Its agent was told to stop (the run's token is cancelled when streaming ends,
            // however it ends); its own git directory goes without its commits being taken.
            let (b, r) = (Arc::clone(board), run.clone());
            if let Err(gone) = blocking(move || {
                crate::recovery::discard_remembered(&b, &r);
                Ok(())
            })
            .await
            {
                tracing::warn!(run = %run.id, "cannot remove the run's git directory: {gone}");
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
                usage: crate::pricing::priced(&board.settings, &agent.model, usage),
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

/// The agent of the job's first run, chosen as when the job was enqueued with its agents'
/// labels (`crate::who`).
fn chosen_agent(
    ctx: &JobContext,
    task: &Task,
    asked: crate::who::Asked,
    previous: &[Run],
) -> Result<AgentSpec> {
    let settings = &ctx.board.settings;
    let name = crate::who::main_agent(settings, task, asked, previous).ok_or_else(|| {
        EngineError::NoAgent {
            role: asked.role.to_string(),
        }
    })?;
    // Only settings that differ between machines (an agent's needs set in one machine's
    // environment) can choose otherwise here than when the job was enqueued.
    let wanted = settings.agent(name).map_or(&[][..], |a| &a.needs[..]);
    if !crate::routing::fits(wanted, &settings.host.labels) {
        tracing::warn!(
            "job {} runs agent `{name}`, which needs [{}], on a machine labelled [{}]: the \
             machine that enqueued it saw other settings",
            ctx.job.id,
            wanted.join(", "),
            settings.host.labels.join(", ")
        );
    }
    Ok(ctx.agents.get(name)?.clone())
}
