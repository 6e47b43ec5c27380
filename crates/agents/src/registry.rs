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

/// One kind of agent (Claude Code, Codex, an HTTP model, a scripted stand-in).
pub trait AgentBackend: Send + Sync {
    /// The backend's name (`claude`, `codex`, `openai`, `anthropic`, `command`, `scripted`).
    fn backend(&self) -> &str;
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
    pub model: String,
    pub family: String,
    pub backend: Arc<dyn AgentBackend>,
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
