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
//! per agent and project) and, when the temporary directory would contain that home,
//! `TMPDIR=<data_dir>/codex-tmp`: Codex refuses to set up its helper commands under a
//! temporary directory. The API key goes in the variable the provider names.
//!
//! Every line Codex prints is kept in `<data_dir>/raw/` (see [`CodexParser`] for how lines
//! become events), and each thread's token totals in `<data_dir>/codex-threads/` so that a
//! resumed run is charged only its own tokens. Codex reports no cost: the outcome's `cost_usd`
//! is 0 and the engine prices the tokens.
//!
//! Codex 0.169.0 runs shell commands through its sandbox helper (`codex-linux-sandbox`, then
//! `bwrap --new-session`), outside its process group; as for `claude`, they are found by the
//! run's `GAFFER_PROCESS_TOKEN` and killed once the group is gone.

mod backend;
mod options;
mod parse;
mod summary;
mod threads;
mod wire;

pub use crate::claude::{CliEnd, CliExit};
pub use backend::CodexBackend;
pub use options::{CodexOptions, DEFAULT_API_KEY_ENV, PROVIDER_ID};
pub use parse::CodexParser;
pub use wire::ThreadUsage;
