//! The `claude` backend: one Claude Code process per run.

use super::options::ClaudeOptions;
use super::parse::{ClaudeParser, SessionTotals};
use crate::cli_agent::{self, CliInput, CliRun};
use crate::event::{RunHandle, RunRequest};
use crate::registry::{AgentBackend, AgentError};
use tokio_util::sync::CancellationToken;

/// Runs Claude Code in print mode (`claude -p … --input-format stream-json --output-format
/// stream-json --verbose`) in the worktree, its conversation on standard input (the prompt,
/// then the run's inbox until its last turn ends) and its configuration directory isolated
/// under the agent's `data_dir`; the raw transcript goes to the run's `run_dir`. Resumes
/// `RunRequest::resume_session` with `--resume`.
#[derive(Debug, Clone, Default)]
pub struct ClaudeBackend {
    options: ClaudeOptions,
}

impl ClaudeBackend {
    pub fn new(options: ClaudeOptions) -> ClaudeBackend {
        ClaudeBackend { options }
    }

    pub fn options(&self) -> &ClaudeOptions {
        &self.options
    }
}

impl AgentBackend for ClaudeBackend {
    fn backend(&self) -> &str {
        "claude"
    }

    fn by_hand(&self, session: &str, data_dir: &std::path::Path) -> Option<crate::ByHand> {
        Some(self.options.by_hand(session, data_dir))
    }

    fn start(
        &self,
        mut request: RunRequest,
        cancel: CancellationToken,
    ) -> Result<RunHandle, AgentError> {
        cli_agent::create_dirs(&[
            ClaudeOptions::config_dir(&request.data_dir),
            request.run_dir.clone(),
        ])?;
        // A run stopped right after it started (a person's message, a shutdown) may have left
        // no transcript: Claude Code would refuse to resume it ("No conversation found"), so
        // the run starts a new conversation and says why, as gaffer's own loop does.
        let mut note = None;
        if let Some(session) = request.resume_session.clone()
            && self.options.config_dir_is_gaffers()
            && !transcript_exists(&ClaudeOptions::config_dir(&request.data_dir), &session)
        {
            note = Some(format!(
                "cannot resume session {session} (Claude Code kept no transcript of it: its \
                 run was stopped as it began); starting a new conversation"
            ));
            request.resume_session = None;
        }
        let spec = self.options.command(&request, running_as_root());
        let model = self.options.model_for(&request).unwrap_or_default();
        let mut parser = ClaudeParser::new(&request.worktree, model)
            .with_note(note)
            .with_prompt(request.prompt.clone());
        if let Some(session) = &request.resume_session {
            let recorded: Option<SessionTotals> = super::SESSIONS.load(&request.data_dir, session);
            parser = parser.resuming(session.clone(), recorded.map(|t| t.total_cost_usd));
        }
        let run = CliRun {
            backend: "claude",
            install_hint: "install Claude Code (`npm install -g @anthropic-ai/claude-code`)",
            spec,
            run_dir: &request.run_dir,
            data_dir: &request.data_dir,
            confine: &request.confine,
            input: Some(CliInput {
                first: super::user_message(&request.prompt),
                encode: super::user_message,
            }),
        };
        cli_agent::start(run, parser, cancel)
    }
}

/// Whether Claude Code keeps a transcript of `session` under `config_dir` (in the directory of
/// any project: it names them after the working directory, its own way).
pub(crate) fn transcript_exists(config_dir: &std::path::Path, session: &str) -> bool {
    let file = format!("{session}.jsonl");
    std::fs::read_dir(config_dir.join("projects")).is_ok_and(|projects| {
        projects
            .flatten()
            .any(|project| project.path().join(&file).is_file())
    })
}

/// True when gaffer runs with effective user id 0.
fn running_as_root() -> bool {
    nix::unistd::geteuid().is_root()
}
