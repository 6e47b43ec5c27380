//! The configured agents, built from the settings: one [`AgentSpec`] per `[agents.NAME]`, each
//! by its backend's module (`build`, one line per backend).
//!
//! Keys never live in `gaffer.toml`: each agent names the environment variable holding its key
//! (`api_key_env`), read at the edge ([`Environment`]). Without a `gaffer.toml`, `gaffer agent
//! run --agent claude` (or `codex`, `openai`, `anthropic`) gets that backend with its provider's
//! defaults and usual environment variables ([`default_agent`]).

use crate::edge::Environment;
use crate::registry::{AgentBackend, AgentError, AgentSpec, Registry};
use crate::{claude, codex, command, http, scripted};
use gaffer_config::{
    AgentSettings, Backend, BackendSettings, ClaudeSettings, CodexSettings, Credentials,
    HttpSettings, PrivacyMode, Settings,
};
use std::path::Path;
use std::sync::Arc;

/// What building an agent needs besides its settings.
#[derive(Debug, Clone, Copy)]
pub struct Build<'a> {
    /// Relative script paths are resolved against it (the repository root).
    pub root: &'a Path,
    /// `privacy.mode = "local"`: gaffer's own loop refuses public endpoints.
    pub local: bool,
    pub env: &'a Environment,
}

impl Build<'_> {
    /// The agent's key, from the variable it names: its own `env` table first, then gaffer's
    /// environment.
    pub fn api_key(&self, credentials: &Credentials) -> Option<String> {
        let var = credentials.api_key_env.as_deref()?;
        credentials
            .env
            .get(var)
            .cloned()
            .or_else(|| self.env.var(var))
            .filter(|k| !k.is_empty())
    }
}

/// The backend of one agent, by its backend's module.
fn build(agent: &AgentSettings, at: &Build<'_>) -> Result<Arc<dyn AgentBackend>, AgentError> {
    Ok(match &agent.backend {
        BackendSettings::Claude(own) => Arc::new(claude::from_settings(agent, own, at)),
        BackendSettings::Codex(own) => Arc::new(codex::from_settings(agent, own, at)),
        BackendSettings::Openai(own) => Arc::new(http::openai_from_settings(agent, own, at)?),
        BackendSettings::Anthropic(own) => Arc::new(http::anthropic_from_settings(agent, own, at)?),
        BackendSettings::Command(own) => Arc::new(command::from_settings(own, at)),
        BackendSettings::Scripted(own) => Arc::new(scripted::from_settings(own, at)?),
    })
}

/// The spec of the configured agent `name`.
fn spec(name: &str, agent: &AgentSettings, at: &Build<'_>) -> Result<AgentSpec, AgentError> {
    Ok(AgentSpec {
        name: name.to_string(),
        model: agent
            .model
            .clone()
            .unwrap_or_else(|| agent.kind().as_str().to_string()),
        configured_model: agent.model.clone(),
        family: agent.family.clone(),
        backend: build(agent, at)?,
    })
}

/// Builds every agent of `[agents]`; relative script paths are resolved against `root`.
pub fn agents_from_settings(
    settings: &Settings,
    root: &Path,
    env: &Environment,
) -> Result<Registry, AgentError> {
    let at = Build {
        root,
        local: settings.privacy.mode == PrivacyMode::Local,
        env,
    };
    let mut registry = Registry::new();
    for (name, agent) in &settings.agents {
        registry.insert(spec(name, agent, &at)?);
    }
    Ok(registry)
}

/// The agent `name` for a one-off run: the configured one, or else a backend of that name with
/// its defaults (`claude`, `codex`, `openai`, `anthropic`), configured from the environment.
pub fn agent_by_name(
    settings: &Settings,
    root: &Path,
    name: &str,
    model: Option<&str>,
    env: &Environment,
) -> Result<AgentSpec, AgentError> {
    let local = settings.privacy.mode == PrivacyMode::Local;
    let Some(agent) = settings.agents.get(name) else {
        return default_agent(name, model, local, env);
    };
    let mut agent = agent.clone();
    if let Some(model) = model {
        agent.model = Some(model.to_string());
    }
    spec(name, &agent, &Build { root, local, env })
}

/// A backend by name with its provider's defaults and environment variables: the same agent a
/// `[agents.NAME]` table with only `backend = NAME` gives, except that the endpoint may come
/// from the provider's base URL variable, and gaffer's own loop takes its model from the
/// provider's model variable.
pub fn default_agent(
    name: &str,
    model: Option<&str>,
    local: bool,
    env: &Environment,
) -> Result<AgentSpec, AgentError> {
    let not_an_agent = || AgentError::NotAnAgent {
        name: name.to_string(),
        backends: gaffer_config::BACKENDS
            .iter()
            .filter(|row| row.provider.is_some())
            .map(|row| row.name)
            .collect::<Vec<_>>()
            .join(", "),
    };
    let backend = Backend::from_name(name).ok_or_else(not_an_agent)?;
    let provider = backend.provider().ok_or_else(not_an_agent)?;
    let credentials = Credentials {
        api_key_env: Some(provider.key_env.to_string()),
        ..Credentials::default()
    };
    let (own, model) = match backend {
        Backend::Claude => (
            BackendSettings::Claude(ClaudeSettings {
                credentials,
                ..ClaudeSettings::default()
            }),
            model.map(str::to_string),
        ),
        Backend::Codex => (
            BackendSettings::Codex(CodexSettings {
                credentials,
                ..CodexSettings::default()
            }),
            model.map(str::to_string),
        ),
        Backend::Openai | Backend::Anthropic => {
            let own = HttpSettings {
                credentials,
                retries: http::RetryPolicy::default().max_retries,
            };
            let model = model
                .map(str::to_string)
                .or_else(|| env.var(provider.model_env))
                .unwrap_or_else(|| provider.default_model.to_string());
            let own = if backend == Backend::Openai {
                BackendSettings::Openai(own)
            } else {
                BackendSettings::Anthropic(own)
            };
            (own, Some(model))
        }
        Backend::Command | Backend::Scripted => return Err(not_an_agent()),
    };
    let agent = AgentSettings {
        backend: own,
        model,
        family: provider.name.to_string(),
        base_url: env.var(provider.base_url_env),
        max_turns: None,
        max_output_tokens: None,
        max_total_tokens: None,
        timeout: None,
        needs: Vec::new(),
    };
    let at = Build {
        root: Path::new("."),
        local,
        env,
    };
    Ok(AgentSpec {
        name: name.to_string(),
        model: agent.model.clone().unwrap_or_else(|| "default".to_string()),
        configured_model: agent.model.clone(),
        family: agent.family.clone(),
        backend: build(&agent, &at)?,
    })
}

/// Where an agent CLI's program lives (`claude`, `codex`, or the first word of a `command`
/// template): the name to look up in the agent's `PATH`; `None` when gaffer runs the agent
/// itself, or the template does not start with a plain name.
pub fn program_of(agent: &AgentSettings) -> Option<String> {
    match (&agent.backend, agent.kind().info().runs) {
        (_, gaffer_config::Runs::Cli(program)) => Some(program.to_string()),
        (BackendSettings::Command(own), _) => own
            .command
            .split_whitespace()
            .next()
            .filter(|word| !word.contains('/') && !word.contains('{'))
            .map(str::to_string),
        _ => None,
    }
}

/// The model endpoints an agent's own process talks to: its `base_url`, else its provider's
/// base URL variable, else the provider's public API. gaffer's own loop and scripted agents
/// run in the daemon and reach nothing from a sandbox.
pub fn endpoints_of(agent: &AgentSettings, env: &Environment) -> Vec<String> {
    if !agent.kind().runs_a_process() {
        return Vec::new();
    }
    let provider = agent.kind().provider();
    agent
        .base_url
        .clone()
        .or_else(|| provider.and_then(|p| env.var(p.base_url_env)))
        .or_else(|| provider.map(|p| p.endpoint.to_string()))
        .into_iter()
        .collect()
}

/// An agent's key as (variable, value), when it names a variable and that is set.
pub fn key_of(agent: &AgentSettings, env: &Environment) -> Option<(String, String)> {
    let credentials = agent.backend.credentials()?;
    let at = Build {
        root: Path::new("."),
        local: false,
        env,
    };
    Some((credentials.api_key_env.clone()?, at.api_key(credentials)?))
}

/// `env` as the pairs a backend sets.
pub(crate) fn env_pairs(credentials: &Credentials) -> Vec<(String, String)> {
    credentials
        .env
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}
