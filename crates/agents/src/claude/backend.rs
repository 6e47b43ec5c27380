//! The `claude` backend: one Claude Code process per run.

use super::options::ClaudeOptions;
use super::parse::ClaudeParser;
use crate::claude::cli_run::{self, CliRun};
use crate::event::{RunHandle, RunRequest};
use crate::registry::{AgentBackend, AgentError};
use tokio_util::sync::CancellationToken;

/// Runs Claude Code in print mode (`claude -p … --output-format stream-json --verbose`) in the
/// worktree, with standard input closed and its configuration directory isolated under the
/// run's `data_dir`. Resumes `RunRequest::resume_session` with `--resume`.
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
        let config_dir = ClaudeOptions::config_dir(&request.data_dir);
        std::fs::create_dir_all(&config_dir).map_err(|e| {
            AgentError::Start(format!("cannot create {}: {e}", config_dir.display()))
        })?;
        let spec = self.options.command(&request, running_as_root());
        let model = self.options.model_for(&request).unwrap_or_default();
        let parser = ClaudeParser::new(&request.worktree, model);
        let run = CliRun {
            backend: "claude",
            install_hint: "install Claude Code (`npm install -g @anthropic-ai/claude-code`)",
            spec,
            data_dir: &request.data_dir,
            run_id: run_id(&request),
        };
        cli_run::start(run, parser, cancel)
    }
}

/// The engine's run id (`GAFFER_RUN` in the request's environment), if any.
pub(crate) fn run_id(request: &RunRequest) -> Option<&str> {
    request
        .env
        .iter()
        .rev()
        .find(|(k, _)| k == "GAFFER_RUN")
        .map(|(_, v)| v.as_str())
}

/// True when gaffer runs with effective user id 0.
fn running_as_root() -> bool {
    nix::unistd::geteuid().is_root()
}
