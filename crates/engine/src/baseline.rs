//! Verify once on the landing tip, outside the pipeline (`gaffer doctor --verify`): is the
//! baseline green, and how long does verify take? It runs exactly as the queue would run it:
//! in a worktree of gaffer's own, after the setup command, confined the same way.

use crate::board::Board;
use crate::confine::Kind;
use crate::error::{EngineError, Result};
use gaffer_proc::{CommandSpec, Termination};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// The worktree and branch the check uses (a `gaffer/` branch no task has: recovery removes
/// them if a check is cut off).
const NAME: &str = "baseline-check";
const BRANCH: &str = "gaffer/baseline-check";
/// How much of the output is kept.
const TAIL_BYTES: usize = 8 * 1024;

/// What one verify run on the landing tip found.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Baseline {
    /// The branch and commit verified.
    pub branch: String,
    pub commit: String,
    /// How the setup command ended, when there is one and it failed (verify did not run).
    pub setup_failed: Option<String>,
    pub passed: bool,
    /// How verify ended: "exit code 0", "timed out after 600s"…
    pub verdict: String,
    pub duration: Duration,
    /// The end of the output.
    pub tail: String,
}

impl Board {
    /// Runs setup (if any) and verify once on the landing branch's tip, in a worktree of its
    /// own that is removed afterwards.
    pub async fn verify_baseline(&self, cancel: &CancellationToken) -> Result<Baseline> {
        let command = self.settings.verify_command()?.to_string();
        let landing = self.landing()?;
        // The landing branch, or the target itself before the first landing created it.
        let mut found = None;
        for branch in [&landing.branch, &landing.target] {
            if let Some(commit) = self.git.rev_parse_commit(&format!("refs/heads/{branch}"))? {
                found = Some((branch.clone(), commit));
                break;
            }
        }
        let (branch, commit) = found.ok_or_else(|| {
            EngineError::NotFound(format!("the branch {} does not exist", landing.target))
        })?;
        let worktree = self.worktrees.checkout(NAME, BRANCH, &commit)?;
        let result = self.verify_in(&worktree, &command, cancel).await;
        if let Err(e) = self.worktrees.release(NAME, BRANCH, true) {
            tracing::warn!("cannot remove {}: {e}", worktree.display());
        }
        let (setup_failed, passed, verdict, duration, tail) = result?;
        Ok(Baseline {
            branch,
            commit: commit.as_str().to_string(),
            setup_failed,
            passed,
            verdict,
            duration,
            tail,
        })
    }

    async fn verify_in(
        &self,
        worktree: &std::path::Path,
        command: &str,
        cancel: &CancellationToken,
    ) -> Result<(Option<String>, bool, String, Duration, String)> {
        let timeout = self.settings.verify.timeout;
        if let Some(setup) = &self.settings.verify.setup {
            let outcome = self.confined(Kind::Setup, setup, worktree, cancel).await?;
            if !outcome.success() {
                let verdict = verdict(&outcome.termination, timeout);
                return Ok((
                    Some(format!("`{setup}` {verdict}")),
                    false,
                    verdict,
                    outcome.duration,
                    outcome.tail,
                ));
            }
        }
        let outcome = self
            .confined(Kind::Verify, command, worktree, cancel)
            .await?;
        Ok((
            None,
            outcome.success(),
            verdict(&outcome.termination, timeout),
            outcome.duration,
            outcome.tail,
        ))
    }

    /// `command` run in `worktree` as a confined setup or verify run of the check.
    async fn confined(
        &self,
        kind: Kind,
        command: &str,
        worktree: &std::path::Path,
        cancel: &CancellationToken,
    ) -> Result<gaffer_proc::ProcessOutcome> {
        let mut spec = CommandSpec::shell(command, worktree)
            .timeout(self.settings.verify.timeout)
            .tail_bytes(TAIL_BYTES);
        let name = match kind {
            Kind::Setup => "setup-baseline-check",
            _ => {
                // As the queue runs it on a candidate.
                spec = spec.env("GAFFER_VERIFY_PURPOSE", "candidate");
                "verify-baseline-check"
            }
        };
        let scratch = self.paths.command_scratch(name);
        crate::confine::run_command(self, kind, spec, worktree, &scratch, cancel, |_| {}).await
    }
}

fn verdict(termination: &Termination, timeout: Duration) -> String {
    match termination {
        Termination::Exited(code) => format!("exit code {code}"),
        Termination::Signaled(sig) => format!("killed by signal {sig}"),
        Termination::TimedOut => format!("timed out after {}s", timeout.as_secs()),
        Termination::Cancelled => "cancelled".to_string(),
    }
}
