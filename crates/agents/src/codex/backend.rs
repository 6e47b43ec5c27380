//! The `codex` backend: one Codex process per run.

use super::options::CodexOptions;
use super::parse::CodexParser;
use crate::cli_agent::{self, CliRun};
use crate::event::{RunHandle, RunRequest};
use crate::registry::{AgentBackend, AgentError};
use tokio_util::sync::CancellationToken;

/// Runs `codex exec --json` in the worktree, with standard input closed, `CODEX_HOME` isolated
/// under the agent's `data_dir`, and its temporary directory and raw transcript in the run's
/// `run_dir`. Resumes `RunRequest::resume_session` (a thread id) with
/// `codex exec resume`.
#[derive(Debug, Clone, Default)]
pub struct CodexBackend {
    options: CodexOptions,
}

impl CodexBackend {
    pub fn new(options: CodexOptions) -> CodexBackend {
        CodexBackend { options }
    }

    pub fn options(&self) -> &CodexOptions {
        &self.options
    }
}

impl AgentBackend for CodexBackend {
    fn backend(&self) -> &str {
        "codex"
    }

    fn by_hand(&self, session: &str, data_dir: &std::path::Path) -> Option<crate::ByHand> {
        Some(self.options.by_hand(session, data_dir))
    }

    fn start(
        &self,
        request: RunRequest,
        cancel: CancellationToken,
    ) -> Result<RunHandle, AgentError> {
        cli_agent::create_dirs(&[
            CodexOptions::home_dir(&request.data_dir),
            CodexOptions::tmp_dir(&request.run_dir),
        ])?;
        let spec = self.options.command(&request);
        let model = self.options.model_for(&request).unwrap_or_default();
        let mut parser = CodexParser::new(&request.worktree, model);
        if let Some(thread) = &request.resume_session {
            // Unknown totals count as zero: the run is charged the whole thread so far.
            let recorded = super::THREADS.load(&request.data_dir, thread);
            parser = parser.resuming(recorded.unwrap_or_default());
        }
        let run = CliRun {
            backend: "codex",
            install_hint: "install Codex (`npm install -g @openai/codex`)",
            spec,
            run_dir: &request.run_dir,
            data_dir: &request.data_dir,
            confine: &request.confine,
            // `codex exec` takes no message while it runs: a person's is given by stopping the
            // run and resuming its thread.
            input: None,
        };
        cli_agent::start(run, parser, cancel)
    }
}
