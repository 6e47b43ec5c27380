//! The `claude` backend: one Claude Code process per run.

use super::options::ClaudeOptions;
use super::parse::ClaudeParser;
use super::sessions::{self, SessionTotals};
use crate::claude::cli_run::{self, CliExit, CliRun, LineParser};
use crate::event::{AgentEvent, Outcome, RunHandle, RunRequest};
use crate::registry::{AgentBackend, AgentError};
use std::path::PathBuf;
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
        for dir in [
            ClaudeOptions::config_dir(&request.data_dir),
            request.run_dir.clone(),
        ] {
            std::fs::create_dir_all(&dir)
                .map_err(|e| AgentError::Start(format!("cannot create {}: {e}", dir.display())))?;
        }
        let spec = self.options.command(&request, running_as_root());
        let model = self.options.model_for(&request).unwrap_or_default();
        let mut parser = ClaudeParser::new(&request.worktree, model);
        if let Some(session) = &request.resume_session {
            let recorded = sessions::load(&request.data_dir, session);
            parser = parser.resuming(session.clone(), recorded.map(|t| t.total_cost_usd));
        }
        let run = CliRun {
            backend: "claude",
            install_hint: "install Claude Code (`npm install -g @anthropic-ai/claude-code`)",
            spec,
            run_dir: &request.run_dir,
            confine: &request.confine,
        };
        let parser = KeepCost {
            parser,
            data_dir: request.data_dir.clone(),
        };
        cli_run::start(run, parser, cancel)
    }
}

/// The parser, plus recording the session's total cost when the run ends (for the next
/// resume, see `sessions.rs`).
struct KeepCost {
    parser: ClaudeParser,
    data_dir: PathBuf,
}

impl LineParser for KeepCost {
    fn feed(&mut self, line: &str) -> Vec<AgentEvent> {
        self.parser.feed(line)
    }

    fn finish(&mut self, exit: &CliExit) -> Outcome {
        let outcome = self.parser.finish(exit);
        if let Some((session, total_cost_usd)) = self.parser.session_cost() {
            sessions::save(&self.data_dir, session, SessionTotals { total_cost_usd });
        }
        outcome
    }
}

/// True when gaffer runs with effective user id 0.
fn running_as_root() -> bool {
    nix::unistd::geteuid().is_root()
}
