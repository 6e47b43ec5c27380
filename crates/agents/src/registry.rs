//! The backend trait and the set of configured agents.

use crate::event::{RunHandle, RunRequest};
use std::collections::BTreeMap;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    #[error("unknown agent `{0}`")]
    UnknownAgent(String),
    #[error("no agent `{name}`: it is not in gaffer.toml, and not a backend name ({backends})")]
    NotAnAgent {
        name: String,
        /// The backends an agent can be named after without configuring it.
        backends: String,
    },
    #[error("backend `{backend}` is not available in this build: {hint}")]
    Unavailable { backend: String, hint: String },
    #[error("could not read the script {path}: {message}")]
    Script { path: String, message: String },
    #[error("could not start the agent: {0}")]
    Start(String),
}

/// How a person goes on with an agent's session by hand, in a terminal (`gaffer attach`): the
/// program, its arguments and the environment that finds the session (where the CLI keeps it,
/// the endpoint it ran against). Never a key: the person's own environment supplies it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ByHand {
    pub env: Vec<(String, String)>,
    pub program: String,
    pub args: Vec<String>,
}

impl ByHand {
    /// As one line for a POSIX shell, every word quoted when it needs to be.
    pub fn shell_line(&self) -> String {
        let quote = |word: &str| {
            let plain = !word.is_empty()
                && word
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_./:=@,+%".contains(c));
            if plain {
                word.to_string()
            } else {
                format!("'{}'", word.replace('\'', "'\\''"))
            }
        };
        self.env
            .iter()
            .map(|(k, v)| format!("{k}={}", quote(v)))
            .chain(std::iter::once(quote(&self.program)))
            .chain(self.args.iter().map(|a| quote(a)))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// One kind of agent (Claude Code, Codex, an HTTP model, a scripted stand-in).
pub trait AgentBackend: Send + Sync {
    /// The backend's name (`claude`, `codex`, `openai`, `anthropic`, `command`, `scripted`).
    fn backend(&self) -> &str;
    /// How a person resumes `session` of this agent interactively, its data kept in
    /// `data_dir` (the agent's directory for the task); `None` for a backend without an
    /// interactive CLI.
    fn by_hand(&self, _session: &str, _data_dir: &std::path::Path) -> Option<ByHand> {
        None
    }
    /// Starts a run; events arrive on the returned handle.
    fn start(
        &self,
        request: RunRequest,
        cancel: CancellationToken,
    ) -> Result<RunHandle, AgentError>;
}

/// A configured agent: a backend with its model and family.
#[derive(Clone)]
pub struct AgentSpec {
    pub name: String,
    /// The model, for records and prices: the configured one, else the backend's name.
    pub model: String,
    /// The model the configuration names; without one a run asks for none and the agent's CLI
    /// or endpoint uses its own default (never the backend's name as a model).
    pub configured_model: Option<String>,
    pub family: String,
    pub backend: Arc<dyn AgentBackend>,
}

impl AgentSpec {
    /// The model a run asks for: the configured one, else none (empty), which the backends read
    /// as "your own default".
    pub fn run_model(&self) -> String {
        self.configured_model.clone().unwrap_or_default()
    }
}

/// The agents a project configured, by name.
#[derive(Clone, Default)]
pub struct Registry {
    agents: BTreeMap<String, AgentSpec>,
}

impl Registry {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn insert(&mut self, spec: AgentSpec) {
        self.agents.insert(spec.name.clone(), spec);
    }
    pub fn get(&self, name: &str) -> Result<&AgentSpec, AgentError> {
        self.agents
            .get(name)
            .ok_or_else(|| AgentError::UnknownAgent(name.to_string()))
    }
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.agents.keys().map(String::as_str)
    }
}
