//! The `claude` backend: one Claude Code process per run.

use super::options::ClaudeOptions;
use super::parse::{ClaudeParser, SessionTotals};
use crate::cli_agent::{self, CliRun};
use crate::event::{RunHandle, RunRequest};
use crate::registry::{AgentBackend, AgentError};
use tokio_util::sync::CancellationToken;

/// Runs Claude Code in print mode (`claude -p … --output-format stream-json --verbose`) in the
/// worktree, with standard input closed and its configuration directory isolated under the
/// agent's `data_dir`; the raw transcript goes to the run's `run_dir`. Resumes
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

    fn start(
        &self,
        request: RunRequest,
        cancel: CancellationToken,
    ) -> Result<RunHandle, AgentError> {
        cli_agent::create_dirs(&[
            ClaudeOptions::config_dir(&request.data_dir),
            request.run_dir.clone(),
        ])?;
        let spec = self.options.command(&request, running_as_root());
        let model = self.options.model_for(&request).unwrap_or_default();
        let mut parser = ClaudeParser::new(&request.worktree, model);
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
        };
        cli_agent::start(run, parser, cancel)
    }
}

/// True when gaffer runs with effective user id 0.
fn running_as_root() -> bool {
    nix::unistd::geteuid().is_root()
}
