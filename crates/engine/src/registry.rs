//! The configured agents, built by `gaffer_agents` (`from_settings.rs` there) from the settings
//! and gaffer's own environment, read here at the edge.

use crate::error::{EngineError, Result};
use gaffer_agents::{AgentError, AgentSpec, Environment, Registry};
use gaffer_config::Settings;
use std::path::Path;

/// Builds every agent of `[agents]`; relative script paths are resolved against `root`.
pub fn agents_from_settings(settings: &Settings, root: &Path) -> Result<Registry> {
    Ok(gaffer_agents::agents_from_settings(
        settings,
        root,
        &Environment::Process,
    )?)
}

/// The agent `name` for a one-off run: the configured one, or else a backend of that name with
/// its defaults (`claude`, `codex`, `openai`, `anthropic`), configured from the environment.
pub fn agent_by_name(
    settings: &Settings,
    root: &Path,
    name: &str,
    model: Option<&str>,
) -> Result<AgentSpec> {
    gaffer_agents::agent_by_name(settings, root, name, model, &Environment::Process)
        .map_err(not_an_agent_is_invalid)
}

/// A backend by name with its defaults and the provider's environment variables.
pub fn default_agent(name: &str, model: Option<&str>, local: bool) -> Result<AgentSpec> {
    gaffer_agents::default_agent(name, model, local, &Environment::Process)
        .map_err(not_an_agent_is_invalid)
}

/// A name that is neither an agent nor a backend is a mistake of the caller's.
fn not_an_agent_is_invalid(error: AgentError) -> EngineError {
    match error {
        AgentError::NotAnAgent { .. } => EngineError::Invalid(error.to_string()),
        other => other.into(),
    }
}
