//! Running an agent CLI that prints one JSON event per line on standard output (Claude Code's
//! `stream-json`, Codex's `exec --json`): start it in its own process group with standard input
//! closed (or, for a CLI that reads its conversation there, fed from the run's inbox until its
//! last turn ends: `input.rs`), keep every line in the raw transcript, turn lines into [`AgentEvent`]s with a parser,
//! and end the stream with the parser's [`Outcome`].
//!
//! Shared by the `claude` and `codex` backends. The process handling (group, timeout, cancel)
//! is `gaffer-proc`'s, including killing processes that left the group (tools the CLIs start in
//! a new session).

use super::raw::RawLog;
use crate::event::{AgentEvent, Outcome, RunHandle};
use crate::registry::AgentError;
use gaffer_proc::{CommandSpec, ProcError, ProcessOutcome, Termination};
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// How many bytes of the agent's standard error are kept for error messages and the transcript.
const STDERR_TAIL_BYTES: usize = 32 * 1024;
/// How many characters of standard error an error message quotes at most.
const STDERR_QUOTE_CHARS: usize = 600;

/// How an agent CLI process ended, as its parser needs to know it.
#[derive(Debug, Clone, PartialEq)]
pub struct CliExit {
    pub end: CliEnd,
    /// The tail of the process's standard error.
    pub stderr: String,
}

/// The ways an agent CLI process ends.
#[derive(Debug, Clone, PartialEq)]
pub enum CliEnd {
    /// It exited on its own with this code.
    Exited(i32),
    /// A signal gaffer did not send killed it.
    Signaled(i32),
    /// It ran past the run's wall-time limit and gaffer killed its process group.
    TimedOut(Duration),
    /// The run was cancelled and gaffer killed its process group.
    Cancelled,
    /// gaffer lost track of the process (its supervisor failed).
    Lost(String),
}

impl CliExit {
    /// A process that exited with `code` and printed nothing on standard error.
    pub fn code(code: i32) -> CliExit {
        CliExit {
            end: CliEnd::Exited(code),
            stderr: String::new(),
        }
    }

    /// True if the process exited on its own with code 0.
    pub fn is_success(&self) -> bool {
        self.end == CliEnd::Exited(0)
    }

    /// True if gaffer stopped the process (cancel or timeout): whatever it printed last, the
    /// run did not finish.
    pub fn was_stopped(&self) -> bool {
        matches!(self.end, CliEnd::TimedOut(_) | CliEnd::Cancelled)
    }

    /// Why the process failed, as a sentence naming `program`, with the end of its standard
    /// error when it exited or crashed on its own; `None` when it exited with code 0.
    pub fn failure(&self, program: &str) -> Option<String> {
        let base = match &self.end {
            CliEnd::Exited(0) => return None,
            CliEnd::Exited(code) => format!("{program} exited with code {code}"),
            CliEnd::Signaled(signal) => format!("{program} was killed by signal {signal}"),
            CliEnd::TimedOut(after) => {
                return Some(format!(
                    "{program} ran past its time limit and was stopped after {}s",
                    after.as_secs()
                ));
            }
            CliEnd::Cancelled => return Some("the run was cancelled".to_string()),
            CliEnd::Lost(why) => return Some(format!("lost track of {program}: {why}")),
        };
        match stderr_quote(&self.stderr) {
            Some(quote) => Some(format!("{base}: {quote}")),
            None => Some(base),
        }
    }

    fn from_process(outcome: &ProcessOutcome) -> CliExit {
        let end = match outcome.termination {
            Termination::Exited(code) => CliEnd::Exited(code),
            Termination::Signaled(signal) => CliEnd::Signaled(signal),
            Termination::TimedOut => CliEnd::TimedOut(outcome.duration),
            Termination::Cancelled => CliEnd::Cancelled,
        };
        CliExit {
            end,
            stderr: outcome.tail.clone(),
        }
    }
}

/// The last non-blank lines of standard error, at most [`STDERR_QUOTE_CHARS`] characters.
fn stderr_quote(stderr: &str) -> Option<String> {
    let mut picked: Vec<&str> = Vec::new();
    let mut size = 0;
    for line in stderr
        .lines()
        .rev()
        .map(str::trim)
        .filter(|l| !l.is_empty())
    {
        if size + line.len() > STDERR_QUOTE_CHARS && !picked.is_empty() {
            break;
        }
        size += line.len();
        picked.push(line);
    }
    picked.reverse();
    let quote = picked.join(" | ");
    (!quote.is_empty()).then(|| super::text::shorten(&quote, STDERR_QUOTE_CHARS))
}

/// Creates the directories a run needs before its CLI starts.
pub(crate) fn create_dirs(dirs: &[PathBuf]) -> Result<(), AgentError> {
    for dir in dirs {
        std::fs::create_dir_all(dir)
            .map_err(|e| AgentError::Start(format!("cannot create {}: {e}", dir.display())))?;
    }
    Ok(())
}

/// Turns an agent CLI's standard output into normalized events.
pub(crate) trait LineParser: Send + 'static {
    /// The events one line stands for (often none).
    fn feed(&mut self, line: &str) -> Vec<AgentEvent>;
    /// Events only the end of the process tells (from its standard error, say), sent before
    /// `Finished`.
    fn end_events(&mut self, _exit: &CliExit) -> Vec<AgentEvent> {
        Vec::new()
    }
    /// False once the run takes no more input on standard input (its last turn ended): then
    /// standard input is closed, which lets a CLI reading its conversation from it exit.
    fn takes_input(&self) -> bool {
        true
    }
    /// The run's outcome, once standard output has ended and the process is gone.
    fn finish(&mut self, exit: &CliExit) -> Outcome;
    /// Records, after `finish`, what the session's next run needs in the agent's data
    /// directory (its ledger, see `ledger.rs`).
    fn keep(&self, _data_dir: &Path) {}
}

/// What to run and where to keep its transcript.
pub(crate) struct CliRun<'a> {
    /// The backend's name, for errors (`claude`, `codex`).
    pub backend: &'a str,
    /// How to install the CLI, for the error when it cannot be found.
    pub install_hint: &'a str,
    pub spec: CommandSpec,
    /// The run's own directory, which receives the transcript.
    pub run_dir: &'a Path,
    /// The agent's data directory, which receives what the parser keeps for the next run.
    pub data_dir: &'a Path,
    /// The run's environment and sandbox.
    pub confine: &'a crate::Confinement,
    /// What the CLI reads on standard input, when it reads its conversation there (the run
    /// then has an inbox); `None`: standard input is null.
    pub input: Option<super::input::CliInput>,
}

/// Starts the CLI and streams its events. The stream ends with exactly one `Finished`.
pub(crate) fn start<P: LineParser>(
    run: CliRun<'_>,
    mut parser: P,
    cancel: CancellationToken,
) -> Result<RunHandle, AgentError> {
    // gaffer-proc marks the process with a token and kills whatever escaped its group (the
    // CLIs start some tools in a new session) once it is gone.
    let spec = run
        .spec
        .tail_bytes(STDERR_TAIL_BYTES)
        .stdin_piped(run.input.is_some());
    let process = run
        .confine
        .apply(spec)
        .and_then(|spec| gaffer_proc::spawn_lines(&spec, cancel));
    let mut process = process.map_err(|e| match e {
        ProcError::Spawn { program, source } if source.kind() == std::io::ErrorKind::NotFound => {
            AgentError::Unavailable {
                backend: run.backend.to_string(),
                hint: format!(
                    "`{program}` was not found; {} or set the agent's `program`",
                    run.install_hint
                ),
            }
        }
        other => AgentError::Start(other.to_string()),
    })?;
    let mut raw = RawLog::create(run.run_dir);
    // Raw transcripts are kept: secrets the agent printed are redacted before they are written.
    let keep = run.confine.clone();
    tracing::debug!(
        backend = run.backend,
        transcript = %raw.path().display(),
        "agent CLI started"
    );
    let data_dir = run.data_dir.to_path_buf();
    let identity = process.identity.clone();
    // Standard input stays open while the run takes messages; `done` closes it.
    let done = CancellationToken::new();
    let inbox = match (run.input, process.stdin.take()) {
        (Some(input), Some(stdin)) => Some(super::input::feed(stdin, input, done.clone())),
        _ => None,
    };
    let relays = run
        .confine
        .start_relays(std::mem::take(&mut process.listeners));
    let (tx, rx) = mpsc::channel(256);
    tokio::spawn(async move {
        // The run's network lives as long as its process.
        let _relays = relays;
        while let Some(line) = process.lines.recv().await {
            raw.write(&keep.redact(&line), process.lines.is_empty());
            for event in parser.feed(&line) {
                // A dropped receiver does not stop the run; output is still read to the end.
                let _ = tx.send(event).await;
            }
            if !parser.takes_input() {
                done.cancel();
            }
        }
        done.cancel();
        let exit = match process.wait().await {
            Ok(outcome) => CliExit::from_process(&outcome),
            Err(e) => CliExit {
                end: CliEnd::Lost(e.to_string()),
                stderr: String::new(),
            },
        };
        raw.close(&keep.redact(&exit.stderr));
        for event in parser.end_events(&exit) {
            let _ = tx.send(event).await;
        }
        let outcome = parser.finish(&exit);
        parser.keep(&data_dir);
        let _ = tx.send(AgentEvent::Finished { outcome }).await;
    });
    Ok(RunHandle {
        events: rx,
        process: Some(identity),
        inbox,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failure_names_the_program_and_quotes_stderr() {
        let exit = CliExit {
            end: CliEnd::Exited(1),
            stderr: "warming up\n\nError: invalid api key\n".into(),
        };
        assert_eq!(
            exit.failure("claude").unwrap(),
            "claude exited with code 1: warming up | Error: invalid api key"
        );
        assert_eq!(CliExit::code(0).failure("claude"), None);
        assert!(CliExit::code(0).is_success());
    }

    #[test]
    fn stopped_runs_say_why() {
        let timed_out = CliExit {
            end: CliEnd::TimedOut(Duration::from_secs(90)),
            stderr: "noise".into(),
        };
        assert!(timed_out.was_stopped());
        assert_eq!(
            timed_out.failure("codex").unwrap(),
            "codex ran past its time limit and was stopped after 90s"
        );
        let cancelled = CliExit {
            end: CliEnd::Cancelled,
            stderr: String::new(),
        };
        assert_eq!(cancelled.failure("codex").unwrap(), "the run was cancelled");
    }

    #[test]
    fn long_stderr_is_quoted_from_the_end() {
        let stderr = format!("{}\nlast words\n", "x".repeat(5000));
        let quote = stderr_quote(&stderr).unwrap();
        assert!(quote.ends_with("…") || quote.ends_with("last words"));
        assert!(quote.chars().count() <= STDERR_QUOTE_CHARS + 1);
        assert_eq!(stderr_quote(" \n"), None);
    }
}
