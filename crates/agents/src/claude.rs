//! The `claude` backend: the Claude Code CLI in print mode.
//!
//! Each run is `claude -p --input-format stream-json --output-format stream-json --verbose
//! --replay-user-messages [--model M] [--resume SESSION] [--dangerously-skip-permissions |
//! --permission-mode MODE] [--append-system-prompt SYSTEM] [--max-turns N] [extra args]`,
//! started in the worktree in its own process group. Its conversation comes on standard input,
//! one JSON user message per line ([`user_message`]): the prompt first, then whatever a person
//! says while the run goes on (the run's [`crate::Inbox`]). Measured on Claude Code 2.1.329: a
//! message that comes while the agent works reaches the model with the next tool result
//! ("The user sent a new message while you were working: …"), one that comes during its last
//! answer starts one more turn after the `result` line; either way the CLI replays it on
//! standard output (`"isReplay": true`) when it takes it into the conversation, which the
//! parser reports as [`crate::AgentEvent::Heard`]. Standard input is closed once the first
//! `result` line comes, and the CLI exits after answering what it had already read; a later
//! message finds the inbox closed. Its environment gets
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
//! What a run writes, and where:
//!
//! * in the run's own directory (`RunRequest::run_dir`, created when missing), never shared
//!   with another run: every line the CLI prints, `<run_dir>/raw.jsonl`, and the tail of its
//!   standard error, `<run_dir>/raw.stderr.txt`;
//! * in the agent's data directory (`RunRequest::data_dir`), shared by its runs because a
//!   resume needs them: the CLI's configuration and saved sessions (`claude-config/`), and each
//!   session's total cost after its last run (`claude-sessions/<id>.json`, see below).
//!
//! Claude Code also keeps temporary files of its own under `/tmp/claude-<uid>/`, shared by
//! every Claude Code process of the user and managed by the CLI. `CLAUDE_CODE_TMPDIR` could
//! move them, but the CLI wants that path short (about 30 bytes, for its sockets), which a run
//! directory is not, so gaffer leaves it alone.
//!
//! See [`ClaudeParser`] for how lines become events. An API error (an `is_error` result, an
//! assistant message carrying the error, or an exit without a result) fails the run with the
//! provider's message. A tool call refused for want of permission (in the default permission
//! mode, print mode refuses `Write`, `Edit` and file-changing `Bash` commands) is an
//! [`crate::AgentEvent::Refused`].
//!
//! Usage is the run's own. On `--resume`, Claude Code 2.1.329 keeps the session id and reports
//! `total_cost_usd` (and `modelUsage`) for the whole session, earlier runs included, but
//! `usage` and `model_usage_since_last_result` for this run only; gaffer books the latter. For
//! a CLI without `model_usage_since_last_result`, the cost is the session's total minus the
//! total recorded in `claude-sessions/` when its last run ended; when nothing was recorded
//! (the file is missing or unreadable), the run is charged the whole session so far.
//!
//! Cancel and the run's wall-time limit kill the CLI's process group. Claude Code starts each
//! `Bash` command in a new session, outside that group, so every process of a run also carries
//! `GAFFER_PROCESS_TOKEN=<token>` in its environment, and whatever still carries it when the
//! group is gone is killed.
//!
//! Running the CLI, its transcript and the session ledger are shared with `codex`
//! (`crate::cli_agent`).

mod backend;
mod options;
mod parse;
mod refusals;
mod run_usage;
mod summary;
mod wire;

pub use crate::cli_agent::{CliEnd, CliExit};
pub use backend::ClaudeBackend;
pub(crate) use options::from_settings;
pub use options::{ClaudeOptions, user_message};
pub use parse::ClaudeParser;

/// Each session's total cost when its last run ended (`claude-sessions/<id>.json`).
pub(crate) const SESSIONS: crate::cli_agent::Ledger = crate::cli_agent::Ledger {
    dir: "claude-sessions",
    what: "claude session cost",
};
