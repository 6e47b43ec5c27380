//! The `codex` backend: one Codex process per run.

use super::options::CodexOptions;
use super::parse::CodexParser;
use super::threads;
use crate::claude::cli_run::{self, CliExit, CliRun, LineParser};
use crate::event::{AgentEvent, Outcome, RunHandle, RunRequest};
use crate::registry::{AgentBackend, AgentError};
use std::path::PathBuf;
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

    fn start(
        &self,
        request: RunRequest,
        cancel: CancellationToken,
    ) -> Result<RunHandle, AgentError> {
        for dir in [
            CodexOptions::home_dir(&request.data_dir),
            CodexOptions::tmp_dir(&request.run_dir),
        ] {
            std::fs::create_dir_all(&dir)
                .map_err(|e| AgentError::Start(format!("cannot create {}: {e}", dir.display())))?;
        }
        let spec = self.options.command(&request);
        let model = self.options.model_for(&request).unwrap_or_default();
        let mut parser = CodexParser::new(&request.worktree, model);
        if let Some(thread) = &request.resume_session {
            parser = parser.resuming(threads::load(&request.data_dir, thread));
        }
        let run = CliRun {
            backend: "codex",
            install_hint: "install Codex (`npm install -g @openai/codex`)",
            spec,
            run_dir: &request.run_dir,
            confine: &request.confine,
        };
        let parser = KeepTotals {
            parser,
            data_dir: request.data_dir.clone(),
        };
        cli_run::start(run, parser, cancel)
    }
}

/// The parser, plus recording the thread's totals when the run ends (for the next resume).
struct KeepTotals {
    parser: CodexParser,
    data_dir: PathBuf,
}

impl LineParser for KeepTotals {
    fn feed(&mut self, line: &str) -> Vec<AgentEvent> {
        self.parser.feed(line)
    }

    fn end_events(&mut self, exit: &CliExit) -> Vec<AgentEvent> {
        self.parser.end_events(exit)
    }

    fn finish(&mut self, exit: &CliExit) -> Outcome {
        let outcome = self.parser.finish(exit);
        if let Some((thread, totals)) = self.parser.thread_totals() {
            threads::save(&self.data_dir, thread, totals);
        }
        outcome
    }
}
