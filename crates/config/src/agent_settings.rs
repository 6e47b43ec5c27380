//! `[agents.<name>]` once checked: the keys every backend reads, and the backend with the keys
//! only it reads ([`BackendSettings`], one variant per backend, tagged by `backend` when
//! serialized, as in `gaffer.toml`).

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use serde::Serialize;

use crate::backends::Backend;
use crate::settings::as_optional_duration_text;

/// `[agents.<name>]`: one agent gaffer can start.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AgentSettings {
    /// How it runs, with what only that backend reads.
    #[serde(flatten)]
    pub backend: BackendSettings,
    /// Model name passed to the backend; `None` lets a CLI backend use its own default. Always set
    /// for `openai` and `anthropic`.
    pub model: Option<String>,
    /// Model family, used for cross-family review. Defaults from the backend's provider
    /// (`anthropic` for claude/anthropic, `openai` for codex/openai) or, for command/scripted,
    /// the agent's name.
    pub family: String,
    /// API base URL (`http://` or `https://`), for a local server or a test double.
    pub base_url: Option<String>,
    /// The most model turns one run may take, `1..=1000`. `None`: the backend's own limit.
    pub max_turns: Option<u32>,
    /// The most tokens the model may write in one response. `None`: the backend's default.
    pub max_output_tokens: Option<u64>,
    /// The most tokens (input and output, over all turns) one run may use. `None`: no limit.
    pub max_total_tokens: Option<u64>,
    /// Wall time one run may take before it is stopped. `None`: no limit of the agent's own.
    #[serde(serialize_with = "as_optional_duration_text")]
    pub timeout: Option<Duration>,
    /// Machine labels a machine must have to run it (`gpu` for a local model that only the GPU
    /// box serves), sorted, without repeats: every agent job that runs it goes only to machines
    /// with all of them (`[host] labels`), as a task's `--needs` does. Default: none.
    pub needs: Vec<String>,
}

/// The backend of an agent and the keys only it reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "backend", rename_all = "lowercase")]
pub enum BackendSettings {
    Claude(ClaudeSettings),
    Codex(CodexSettings),
    Openai(HttpSettings),
    Anthropic(HttpSettings),
    Command(CommandSettings),
    Scripted(ScriptedSettings),
}

/// What an agent with a provider's key reads besides: the variable holding the key and its own
/// environment.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Credentials {
    /// The environment variable holding the API key (gaffer passes its value on; the key itself
    /// never belongs in `gaffer.toml`). Default: the provider's ([`Backend::default_api_key_env`]).
    pub api_key_env: Option<String>,
    /// Extra environment variables for the agent (its process, or the commands gaffer's own loop
    /// runs). Default: none.
    pub env: BTreeMap<String, String>,
}

/// `backend = "claude"`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct ClaudeSettings {
    #[serde(flatten)]
    pub credentials: Credentials,
    /// The CLI's `--permission-mode`. `None`: the CLI's default.
    pub permission_mode: Option<PermissionMode>,
    /// Run with `--dangerously-skip-permissions`. Default: false.
    pub skip_permissions: bool,
    /// Extra arguments added to the CLI's command line, each one argument. Default: none.
    pub args: Vec<String>,
}

/// `backend = "codex"`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct CodexSettings {
    #[serde(flatten)]
    pub credentials: Credentials,
    /// The CLI's `--sandbox`. `None`: the CLI's default.
    pub sandbox: Option<CodexSandbox>,
    /// Extra arguments added to the CLI's command line, each one argument. Default: none.
    pub args: Vec<String>,
}

/// `backend = "openai"` and `backend = "anthropic"`: gaffer's own loop.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct HttpSettings {
    #[serde(flatten)]
    pub credentials: Credentials,
    /// How many times a request that failed with 429 or a 5xx is retried, `0..=20`. Default:
    /// [`DEFAULT_RETRIES`].
    pub retries: u32,
}

/// `backend = "command"`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct CommandSettings {
    /// The command line, run by `/bin/sh -c` in the worktree, with the placeholders of
    /// [`COMMAND_PLACEHOLDERS`] replaced by shell-quoted values: `{prompt}` (the prompt),
    /// `{prompt_file}` (a file holding it), `{model}` and `{dir}` (the worktree). It uses
    /// `{prompt}` or `{prompt_file}`, no other `{name}` (a shell variable `${name}` is fine),
    /// and `{model}` only when `model` is set.
    pub command: String,
    /// `api_key_env` has no default here: a command names the variable it wants, if any.
    #[serde(flatten)]
    pub credentials: Credentials,
}

/// `backend = "scripted"`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct ScriptedSettings {
    /// The script file, relative to the repository root unless absolute.
    pub script: PathBuf,
}

/// The environment of an agent that has none of its own.
static NO_ENV: BTreeMap<String, String> = BTreeMap::new();

impl BackendSettings {
    /// Which backend.
    pub fn kind(&self) -> Backend {
        match self {
            BackendSettings::Claude(_) => Backend::Claude,
            BackendSettings::Codex(_) => Backend::Codex,
            BackendSettings::Openai(_) => Backend::Openai,
            BackendSettings::Anthropic(_) => Backend::Anthropic,
            BackendSettings::Command(_) => Backend::Command,
            BackendSettings::Scripted(_) => Backend::Scripted,
        }
    }

    /// Its key variable and environment, for the backends that take them.
    pub fn credentials(&self) -> Option<&Credentials> {
        match self {
            BackendSettings::Claude(s) => Some(&s.credentials),
            BackendSettings::Codex(s) => Some(&s.credentials),
            BackendSettings::Openai(s) | BackendSettings::Anthropic(s) => Some(&s.credentials),
            BackendSettings::Command(s) => Some(&s.credentials),
            BackendSettings::Scripted(_) => None,
        }
    }
}

impl AgentSettings {
    /// Which backend runs it.
    pub fn kind(&self) -> Backend {
        self.backend.kind()
    }

    /// The variable holding its API key, if it takes one.
    pub fn api_key_env(&self) -> Option<&str> {
        self.backend
            .credentials()
            .and_then(|c| c.api_key_env.as_deref())
    }

    /// Its own environment variables (none for `scripted`).
    pub fn env(&self) -> &BTreeMap<String, String> {
        self.backend.credentials().map_or(&NO_ENV, |c| &c.env)
    }

    /// How often a failed request is retried, for gaffer's own loop.
    pub fn retries(&self) -> Option<u32> {
        match &self.backend {
            BackendSettings::Openai(http) | BackendSettings::Anthropic(http) => Some(http.retries),
            _ => None,
        }
    }
}

/// The placeholders a `command` template may use, without their braces.
pub const COMMAND_PLACEHOLDERS: [&str; 4] = ["prompt", "prompt_file", "model", "dir"];

/// Bounds of `agents.<name>.max_turns`.
pub const MAX_TURNS_RANGE: std::ops::RangeInclusive<i64> = 1..=1000;
/// Bounds of `agents.<name>.retries`.
pub const RETRIES_RANGE: std::ops::RangeInclusive<i64> = 0..=20;
/// The default `retries` of the `openai` and `anthropic` backends.
pub const DEFAULT_RETRIES: u32 = 3;

/// `permission_mode` of a `claude` agent: the Claude Code CLI's `--permission-mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum PermissionMode {
    /// `default`: ask before edits and commands (there is nobody to ask in print mode).
    #[serde(rename = "default")]
    Default,
    /// `acceptEdits`: file edits are allowed without asking.
    #[serde(rename = "acceptEdits")]
    AcceptEdits,
    /// `bypassPermissions`: everything is allowed.
    #[serde(rename = "bypassPermissions")]
    BypassPermissions,
    /// `plan`: read-only planning.
    #[serde(rename = "plan")]
    Plan,
}

impl PermissionMode {
    /// Every mode, in documentation order.
    pub const ALL: [PermissionMode; 4] = [
        PermissionMode::Default,
        PermissionMode::AcceptEdits,
        PermissionMode::BypassPermissions,
        PermissionMode::Plan,
    ];

    /// The name used in `gaffer.toml` and on the CLI's command line.
    pub fn as_str(self) -> &'static str {
        match self {
            PermissionMode::Default => "default",
            PermissionMode::AcceptEdits => "acceptEdits",
            PermissionMode::BypassPermissions => "bypassPermissions",
            PermissionMode::Plan => "plan",
        }
    }

    /// The mode with this name (exactly as [`PermissionMode::as_str`] writes it), if any.
    pub fn from_name(name: &str) -> Option<PermissionMode> {
        PermissionMode::ALL
            .into_iter()
            .find(|mode| mode.as_str() == name.trim())
    }
}

impl fmt::Display for PermissionMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `sandbox` of a `codex` agent: the Codex CLI's `--sandbox`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CodexSandbox {
    /// `read-only`.
    ReadOnly,
    /// `workspace-write`: writes only in the worktree.
    WorkspaceWrite,
    /// `danger-full-access`: no sandbox.
    DangerFullAccess,
}

impl CodexSandbox {
    /// Every sandbox, in documentation order.
    pub const ALL: [CodexSandbox; 3] = [
        CodexSandbox::ReadOnly,
        CodexSandbox::WorkspaceWrite,
        CodexSandbox::DangerFullAccess,
    ];

    /// The name used in `gaffer.toml` and on the CLI's command line.
    pub fn as_str(self) -> &'static str {
        match self {
            CodexSandbox::ReadOnly => "read-only",
            CodexSandbox::WorkspaceWrite => "workspace-write",
            CodexSandbox::DangerFullAccess => "danger-full-access",
        }
    }

    /// The sandbox with this name, if any.
    pub fn from_name(name: &str) -> Option<CodexSandbox> {
        CodexSandbox::ALL
            .into_iter()
            .find(|sandbox| sandbox.as_str() == name.trim())
    }
}

impl fmt::Display for CodexSandbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
