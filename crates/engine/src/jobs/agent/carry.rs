//! One run once recorded: its git directory, its confinement and reach, its token, and the
//! loop that streams it, takes its commits back and judges it (re-asking once).

use super::*;
use crate::board::Board;
use crate::error::{EngineError, Result};
use crate::jobs::{JobContext, blocking};
use crate::prompts;
use gaffer_agents::{AgentEvent, RunRequest};
use gaffer_core::{Role, Run, RunResult, RunStatus, Task};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// The run `run`, once recorded: prepared, confined, streamed, judged.
pub(super) async fn carry_out(
    ctx: &JobContext,
    spot: &Spot<'_>,
    ask: &Ask<'_>,
    run: &Run,
    begin: Begin,
    usage: &mut gaffer_core::Usage,
) -> Result<Ran> {
    let board = &ctx.board;
    let (task, agent, role) = (spot.task, ask.agent, ask.role);
    let mut prompt = prompts::render(role, task, ask.reason, ask.feedback, ask.context);
    // What people said since the run this one follows on comes first.
    if !begin.said.is_empty() {
        prompt = format!(
            "{}{prompt}",
            prompts::said(&begin.said, begin.resumes_stopped)
        );
        let event = AgentEvent::Status {
            text: format!(
                "gaffer: {} first in this run's prompt{}",
                match begin.said.len() {
                    1 => "a person's message is".to_string(),
                    n => format!("{n} messages from people are"),
                },
                if begin.resumes_stopped {
                    ", in the session of the run it stopped"
                } else {
                    ""
                }
            ),
        };
        append_output(board, run, task, &event)?;
    }
    let (resume, attempt, mut since) = (begin.resume, begin.attempt, begin.start);
    let system_prompt = prompts::system(&board.root, role);
    let mut transcript = Transcript::create(
        &board.paths.run_dir(run.id),
        &prompt,
        &system_prompt,
        Arc::clone(&board.secrets),
    );
    let Prepared {
        mut request,
        run_repo,
        access: _access,
    } = prepare(ctx, spot, ask, run, resume, attempt, prompt, system_prompt).await?;
    let mut reasked = false;
    // The answers of the stream before a re-ask, for the re-ask's fallback.
    let mut answered: Vec<String> = Vec::new();
    let mut texts: Vec<String> = Vec::new();
    let mut refused: Vec<String> = Vec::new();
    let (outcome, result, plan) = loop {
        let started = std::time::Instant::now();
        let mut streamed = stream_run(
            ctx,
            agent,
            request.clone(),
            run,
            task,
            &mut transcript,
            since,
        )
        .await?;
        streamed
            .outcome
            .earlier_answers
            .splice(0..0, answered.drain(..));
        // A planner or reviewer whose last answer (after hearing a message) lacks the set form
        // is asked again first; only when it cannot be does an earlier answer in form count.
        if reasked || streamed.outcome.session_id.is_none() {
            judge::settle_answer(role, &mut streamed.outcome);
        }
        // What the run committed in its own git directory becomes the branch's, now that
        // every process of the run has ended; a reviewer's or a planner's commits do not.
        if let Some(repo) = &run_repo
            && matches!(role, Role::Coder | Role::Resolver)
        {
            bring_back(board, run, task, repo).await?;
        }
        board
            .phases
            .add(crate::phases::Phase::Agent, started.elapsed());
        let outcome = streamed.outcome.clone();
        texts.extend(streamed.texts.iter().cloned());
        refused.extend(streamed.refused.iter().cloned());
        // Counted as it streams: a run cut off by an error later is still charged for it.
        usage.add(&outcome.usage);
        // A person's message handed to a run that then ended well without reaching another
        // turn is given as to a run stopped for it: the job goes back to the queue, and its
        // next run resumes this session with the message. A run that failed, was stopped by
        // the watchdog or asked a question ends as it did; its next run carries the message.
        let unheard = streamed.unheard > 0
            && outcome.success
            && streamed.stop.is_none()
            && streamed.question.is_none();
        if ctx.cancel.is_cancelled() || unheard {
            return Ok(Ran::Interrupted(finish(
                run,
                RunStatus::Cancelled,
                &outcome,
                crate::pricing::priced(&board.settings, &agent.model, *usage),
                Some("interrupted".into()),
            )));
        }
        let judged = board
            .phases
            .time_async(
                crate::phases::Phase::Commit,
                judge(board, task, role, run, spot, streamed),
            )
            .await?;
        // A malformed plan or verdict is asked for once more, in the same session, with the
        // parse error; then the run fails with the raw answer kept as evidence.
        if let (Judged::Malformed(error), false, Some(session)) =
            (&judged, reasked, outcome.session_id.clone())
        {
            reasked = true;
            answered = outcome.earlier_answers.clone();
            answered.push(outcome.final_text.clone());
            // What people said until now was given to the run that is asked again.
            since = crate::said::said_to(board, task.id)?
                .last()
                .map_or(since, |m| m.seq.max(since));
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
    let summary = summary_of(&result, &refused, &outcome);
    let usage = crate::pricing::priced(&board.settings, &agent.model, *usage);
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

/// What a run is given: its request (prompt, environment, confinement and reach), its own git
/// directory when confined, and its API token (revoked when dropped).
struct Prepared<'a> {
    request: RunRequest,
    run_repo: Option<gaffer_git::RunRepo>,
    access: RunToken<'a>,
}

#[allow(clippy::too_many_arguments)]
async fn prepare<'a>(
    ctx: &'a JobContext,
    spot: &Spot<'_>,
    ask: &Ask<'_>,
    run: &Run,
    resume: Option<String>,
    attempt: u32,
    prompt: String,
    system_prompt: String,
) -> Result<Prepared<'a>> {
    let board = &ctx.board;
    let (task, agent, role) = (spot.task, ask.agent, ask.role);
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

    let request = RunRequest {
        role,
        prompt,
        system_prompt,
        worktree: spot.worktree.to_path_buf(),
        model: agent.run_model(),
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
    Ok(Prepared {
        request,
        run_repo,
        access,
    })
}

/// The run's outcome as recorded: the agent's final text (a coder's handoff, a verdict, a
/// plan), or why it failed; with the tool calls its CLI refused.
fn summary_of(result: &RunResult, refused: &[String], outcome: &Outcome) -> Option<String> {
    match (result, refusals_summary(refused)) {
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
    }
}

/// A run's token for gaffer's API, revoked when the run ends whichever way it ends.
pub(super) struct RunToken<'a> {
    pub(super) board: &'a Board,
    pub(super) run: gaffer_core::RunId,
    pub(super) token: String,
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
pub(super) fn agent_program_dirs(board: &Board, name: &str) -> Vec<std::path::PathBuf> {
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
pub(super) fn agent_endpoints(board: &Board, name: &str) -> Vec<String> {
    board.settings.agent(name).map_or_else(Vec::new, |agent| {
        gaffer_agents::endpoints_of(agent, &gaffer_agents::Environment::Process)
    })
}

/// Where a run repository and its start record live (beside the run's scratch directory).
pub(super) fn run_dir_of(repo: &gaffer_git::RunRepo) -> std::path::PathBuf {
    repo.dir()
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| repo.dir().to_path_buf())
}

/// The run's own git directory, on the worktree's branch, with the landing tip as a ref too
/// (so `git diff <target>` works inside).
pub(super) async fn prepare_run_repo(
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
pub(super) async fn bring_back(
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
