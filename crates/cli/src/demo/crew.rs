//! The demo's crew at work: the scripted model server, the board with its agents, the work
//! the demo asks for (a goal for the planner and a plain task), and the engine running until
//! the board is settled, with the demo answering whatever an agent asks a person meanwhile.

use super::project;
use crate::error::{CliError, CliResult, Kind};
use gaffer_agents::Registry;
use gaffer_api::Action;
use gaffer_core::{NewTask, Status, TaskId, TaskKind};
use gaffer_engine::{Board, BoardOptions, Engine, agents_from_settings};
use gaffer_mock_llm::MockServer;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

/// How long the crew may take before the demo gives up.
const DEADLINE: Duration = Duration::from_secs(300);

/// Who the demo's answers are from, on the task's notice (as `cli` or `dashboard` are).
pub const WHO: &str = "demo";

/// More answers than this means an agent keeps asking: the demo stops rather than loop.
const MAX_ANSWERS: usize = 5;

/// How often the demo looks for questions, and whether the board is settled.
const POLL: Duration = Duration::from_millis(50);

/// The project opened as a daemon opens it, its agents pointed at the scripted model server.
pub struct Crew {
    pub board: Arc<Board>,
    pub agents: Registry,
    pub model_server: MockServer,
}

impl Crew {
    /// Starts the scripted model server and opens the board of `repo`, whose `gaffer.toml`
    /// names the agents; each is pointed at the server (`--set agents.<name>.base_url=…`).
    pub async fn start(repo: &Path, git_env: Vec<(String, String)>) -> CliResult<Crew> {
        let script = gaffer_mock_llm::Script::from_toml_str(project::SCRIPT)
            .map_err(|e| CliError::new(Kind::Internal, format!("the demo's script: {e}")))?;
        let model_server = MockServer::start(script).await.map_err(|e| {
            CliError::new(Kind::Internal, format!("the scripted model server: {e}"))
        })?;
        let openai = model_server.openai_base_url();
        let anthropic = model_server.base_url();
        let flags = project::OPENAI_AGENTS
            .iter()
            .map(|name| format!("agents.{name}.base_url={openai}"))
            .chain(
                project::ANTHROPIC_AGENTS
                    .iter()
                    .map(|name| format!("agents.{name}.base_url={anthropic}")),
            );
        let settings = gaffer_config::load(
            Some(&repo.join("gaffer.toml")),
            &gaffer_config::Overrides::default(),
            &gaffer_config::Overrides::from_flags(flags)?,
        )?;
        let agents = agents_from_settings(&settings, repo)?;
        let board = Arc::new(Board::open(
            repo,
            settings,
            BoardOptions {
                git_env,
                clock: None,
                ..BoardOptions::default()
            },
        )?);
        Ok(Crew {
            board,
            agents,
            model_server,
        })
    }

    /// Adds the goal as an epic (as `gaffer plan` does: the planner splits it) and the plain
    /// tasks; says so unless `quiet`.
    pub fn add_work(&self, quiet: bool) -> CliResult<()> {
        let (title, body) = project::GOAL;
        let epic = self.board.add_task(NewTask {
            title: title.to_string(),
            body: body.to_string(),
            kind: TaskKind::Epic,
            plan: true,
            ..NewTask::default()
        })?;
        if !quiet {
            outln!(
                "added epic {}: {} (the planner splits it into subtasks)",
                epic.id,
                epic.title
            )?;
        }
        for (title, body, scope) in project::TASKS {
            let task = self.board.add_task(NewTask {
                title: title.to_string(),
                body: body.to_string(),
                write_scope: scope.iter().map(|s| s.to_string()).collect(),
                ..NewTask::default()
            })?;
            if !quiet {
                outln!("added task {}: {}", task.id, task.title)?;
            }
        }
        Ok(())
    }

    /// Runs the engine until nothing moves without a person, answering every question an agent
    /// asks while it runs, through the board's action, as a person does with `gaffer answer` or
    /// the dashboard while the daemon works (and waking the engine, as the server does).
    pub async fn work(&self, quiet: bool) -> CliResult<()> {
        let engine = Engine::new(Arc::clone(&self.board), self.agents.clone());
        let shutdown = CancellationToken::new();
        let running = tokio::spawn(Arc::clone(&engine).run(shutdown.clone()));
        let watched = self.watch(&engine, &running, quiet).await;
        shutdown.cancel();
        let ran = running.await.map_err(|e| {
            CliError::new(Kind::Internal, format!("the demo's engine stopped: {e}"))
        })?;
        watched?;
        Ok(ran?)
    }

    /// Watches the running engine: answers questions as they come, until the board is settled
    /// (or the engine stopped on its own, whose result says why).
    async fn watch(
        &self,
        engine: &Arc<Engine>,
        running: &tokio::task::JoinHandle<Result<(), gaffer_engine::EngineError>>,
        quiet: bool,
    ) -> CliResult<()> {
        let deadline = Instant::now() + DEADLINE;
        let handle = engine.handle();
        let mut answered = 0;
        loop {
            tokio::time::sleep(POLL).await;
            if running.is_finished() {
                return Ok(());
            }
            let now = self.answer_questions(quiet)?;
            if now > 0 {
                answered += now;
                if answered > MAX_ANSWERS {
                    return Err(CliError::new(
                        Kind::Unfinished,
                        format!("the demo's agents asked more than {MAX_ANSWERS} questions"),
                    )
                    .hint("run `gaffer demo --keep` and look at `gaffer -C <repo> log N`"));
                }
                handle.wake();
                continue;
            }
            if engine.settled()? {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(CliError::new(
                    Kind::Unfinished,
                    format!("the demo did not finish within {}s", DEADLINE.as_secs()),
                )
                .hint("run `gaffer demo --keep` and look at `gaffer -C <repo> status`"));
            }
        }
    }

    /// Answers each task waiting for a person's answer; how many it answered.
    fn answer_questions(&self, quiet: bool) -> CliResult<usize> {
        let waiting = self.board.tasks(&[Status::NeedsInput])?;
        for task in &waiting {
            let question = task.state.note.clone().unwrap_or_default();
            let answer = project::answer_for(&question);
            if !quiet {
                outln!("task {} asks a person: {question}", task.id)?;
                outln!("  the demo answers, as a person would with `gaffer answer`: {answer}")?;
            }
            self.board.perform(
                task.id,
                Action::Answer {
                    text: answer.to_string(),
                },
                WHO,
            )?;
        }
        Ok(waiting.len())
    }

    /// Every task of the board, each epic followed by its subtasks.
    pub fn task_ids(&self) -> CliResult<Vec<TaskId>> {
        let mut tasks = self.board.tasks(&[])?;
        tasks.sort_by_key(|t| t.id);
        let mut ids = Vec::new();
        for top in tasks.iter().filter(|t| t.parent.is_none()) {
            ids.push(top.id);
            ids.extend(
                tasks
                    .iter()
                    .filter(|t| t.parent == Some(top.id))
                    .map(|t| t.id),
            );
        }
        Ok(ids)
    }
}
