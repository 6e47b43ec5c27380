//! The configured agents, built from the settings.

use crate::error::{EngineError, Result};
use gaffer_agents::{AgentError, AgentSpec, Registry, Script, ScriptedBackend};
use gaffer_config::{Backend, Settings};
use std::path::Path;
use std::sync::Arc;

/// Builds every agent of `[agents]`; relative script paths are resolved against `root`.
/// Backends this build cannot run yet are refused here, at start, with the agent's name.
pub fn agents_from_settings(settings: &Settings, root: &Path) -> Result<Registry> {
    let mut registry = Registry::new();
    for (name, agent) in &settings.agents {
        let backend: Arc<dyn gaffer_agents::AgentBackend> = match agent.backend {
            Backend::Scripted => {
                let path = agent.script.as_ref().ok_or_else(|| {
                    EngineError::Invalid(format!("agent `{name}` needs a script"))
                })?;
                let path = if path.is_absolute() {
                    path.clone()
                } else {
                    root.join(path)
                };
                Arc::new(ScriptedBackend::new(Script::load(&path)?))
            }
            other => {
                return Err(AgentError::Unavailable {
                    backend: other.as_str().to_string(),
                    hint: format!(
                        "agent `{name}`: this build drives the `scripted` backend only; \
                         the {other} backend is not built in yet"
                    ),
                }
                .into());
            }
        };
        registry.insert(AgentSpec {
            name: name.clone(),
            model: agent
                .model
                .clone()
                .unwrap_or_else(|| agent.backend.as_str().to_string()),
            family: agent.family.clone(),
            backend,
        });
    }
    Ok(registry)
}
