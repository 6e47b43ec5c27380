//! The `claude` backend: the Claude Code CLI in print mode.
//!
//! Each run is `claude -p --output-format stream-json --verbose [--model M] [--resume SESSION]
//! [--dangerously-skip-permissions | --permission-mode MODE] [--append-system-prompt SYSTEM]
//! [--max-turns N] [extra args] -- PROMPT`, started in the worktree in its own process group
//! with standard input closed. Its environment gets
//!
//! * `CLAUDE_CONFIG_DIR=<data_dir>/claude-config`: settings, credentials and saved sessions
//!   are per agent and project, never the user's `~/.claude`;
//! * `CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1` and `DISABLE_AUTOUPDATER=1`;
//! * `ANTHROPIC_BASE_URL` / `ANTHROPIC_API_KEY` from the options (else gaffer's own pass
//!   through), `CLAUDE_CODE_MAX_RETRIES` when configured;
//! * `IS_SANDBOX=1` when gaffer runs as root and permissions are bypassed: Claude Code refuses
//!   `--dangerously-skip-permissions` and `--permission-mode bypassPermissions` as root
//!   otherwise ("cannot be used with root/sudo privileges for security reasons").
//!
//! Every line it prints is kept in `<data_dir>/raw/<unix-millis>-run<GAFFER_RUN>.jsonl`, with
//! the tail of its standard error beside it (`….stderr.txt`); see [`ClaudeParser`] for how
//! lines become events. An API error (an `is_error` result, an assistant message carrying the
//! error, or an exit without a result) fails the run with the provider's message.
//!
//! Cancel and the run's wall-time limit kill the CLI's process group. Claude Code starts each
//! `Bash` command in a new session, outside that group, so every process of a run also carries
//! `GAFFER_PROCESS_TOKEN=<token>` in its environment, and whatever still carries it when the
//! group is gone is killed.
//!
//! This module also holds what the `claude` and `codex` backends share: running a CLI that
//! prints JSON lines ([`CliExit`], [`CliEnd`]), and the raw transcript.

mod backend;
pub(crate) mod cli_run;
mod options;
mod parse;
mod raw;
mod summary;
pub(crate) mod text;
mod wire;

pub use backend::ClaudeBackend;
pub(crate) use backend::run_id;
pub use cli_run::{CliEnd, CliExit};
pub use options::ClaudeOptions;
pub(crate) use options::redacted_env;
pub use parse::ClaudeParser;
