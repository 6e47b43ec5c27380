//! The `codex` backend: the Codex CLI's non-interactive `exec` mode.
//!
//! A new run is `codex exec --json --skip-git-repo-check --sandbox MODE [--model M]
//! [-c key=value …] [extra args] -- PROMPT`; a resumed one is `codex exec resume --json
//! --skip-git-repo-check -c sandbox_mode="MODE" [--model M] [-c …] -- THREAD PROMPT`. Both run
//! in the worktree in their own process group with standard input closed. The `-c` overrides
//! carry
//!
//! * a custom model provider `gaffer` (`base_url`, `wire_api = "responses"`, `env_key`) when a
//!   base URL is configured or `OPENAI_BASE_URL` is set, since Codex's built-in provider
//!   ignores that variable;
//! * `developer_instructions`: the run's system prompt;
//! * the configured `extra_config`.
//!
//! The environment gets `CODEX_HOME=<data_dir>/codex-home` (configuration, sessions and logs
//! per agent and project) and `TMPDIR=<run_dir>/tmp`, the run's own temporary directory
//! (Codex's and its commands'). Codex refuses to set up its helper commands under a temporary
//! directory that contains `CODEX_HOME`; the run's never does. A `TMPDIR` in the agent's
//! configured `env` still wins. The API key goes in the variable the provider names.
//!
//! What a run writes, and where:
//!
//! * in the run's own directory (`RunRequest::run_dir`, created when missing), never shared
//!   with another run: every line Codex prints, `<run_dir>/raw.jsonl` (see [`CodexParser`] for
//!   how lines become events), the tail of its standard error, `<run_dir>/raw.stderr.txt`, and
//!   the temporary directory `<run_dir>/tmp`;
//! * in the agent's data directory, shared by its runs because a resume needs them:
//!   `CODEX_HOME` with the saved threads, and each thread's token totals in
//!   `<data_dir>/codex-threads/`, so that a resumed run is charged only its own tokens.
//!
//! Codex reports no cost: the outcome's `cost_usd` is 0 and the engine prices the tokens.
//!
//! Refusals: in `exec` mode (approvals off) Codex 0.169.0 refuses a patch its sandbox does not
//! allow without a word in its JSON; only a log line on standard error tells, and it becomes
//! an [`crate::AgentEvent::Refused`] for `apply_patch` at the end of the run. A shell command
//! the sandbox blocks is not refused but runs and fails (read-only file system), and is
//! reported as a failed tool result; Codex gives no other refusal signal in this mode.
//!
//! Codex 0.169.0 runs shell commands through its sandbox helper (`codex-linux-sandbox`, then
//! `bwrap --new-session`), outside its process group; as for `claude`, they are found by the
//! run's `GAFFER_PROCESS_TOKEN` and killed once the group is gone.

mod backend;
mod options;
mod parse;
mod refusals;
mod summary;
mod wire;

pub use crate::cli_agent::{CliEnd, CliExit};
pub use backend::CodexBackend;
pub(crate) use options::from_settings;
pub use options::{CodexOptions, DEFAULT_API_KEY_ENV, PROVIDER_ID};
pub use parse::CodexParser;
pub use wire::ThreadUsage;

/// Each thread's token totals when its last run ended (`codex-threads/<id>.json`).
pub(crate) const THREADS: crate::cli_agent::Ledger = crate::cli_agent::Ledger {
    dir: "codex-threads",
    what: "codex thread usage",
};
