//! The configured agents, built from the settings: one [`AgentSpec`] per `[agents.NAME]`.
//!
//! Keys never live in `gaffer.toml`: each agent names the environment variable holding its key
//! (`api_key_env`), read here. Without a `gaffer.toml`, `gaffer agent run --agent claude` (or
//! `codex`, `openai`, `anthropic`) gets that backend with its defaults and the provider's usual
//! environment variables ([`default_agent`]).

use crate::error::{EngineError, Result};
use gaffer_agents::claude::{ClaudeBackend, ClaudeOptions};
use gaffer_agents::codex::{CodexBackend, CodexOptions};
use gaffer_agents::http::{
    AnthropicBackend, HttpAgentOptions, OpenAiBackend, ProviderGate, RetryPolicy,
};
use gaffer_agents::{AgentBackend, AgentSpec, CommandBackend, Registry, Script, ScriptedBackend};
use gaffer_config::{AgentSettings, Backend, PrivacyMode, Settings};
use std::path::Path;
use std::sync::Arc;

/// Builds every agent of `[agents]`; relative script paths are resolved against `root`.
pub fn agents_from_settings(settings: &Settings, root: &Path) -> Result<Registry> {
    let mut registry = Registry::new();
    let local = settings.privacy.mode == PrivacyMode::Local;
    for (name, agent) in &settings.agents {
        let backend = build(name, agent, root, local)?;
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

/// The agent `name` for a one-off run: the configured one, or else a backend of that name with
/// its defaults (`claude`, `codex`, `openai`, `anthropic`), configured from the environment.
pub fn agent_by_name(
    settings: &Settings,
    root: &Path,
    name: &str,
    model: Option<&str>,
) -> Result<AgentSpec> {
    let local = settings.privacy.mode == PrivacyMode::Local;
    if let Some(agent) = settings.agents.get(name) {
        let mut agent = agent.clone();
        if let Some(model) = model {
            agent.model = Some(model.to_string());
        }
        let backend = build(name, &agent, root, local)?;
        return Ok(AgentSpec {
            name: name.to_string(),
            model: agent
                .model
                .clone()
                .unwrap_or_else(|| agent.backend.as_str().to_string()),
            family: agent.family.clone(),
            backend,
        });
    }
    default_agent(name, model, local)
}

/// A backend by name with its defaults and the provider's environment variables.
pub fn default_agent(name: &str, model: Option<&str>, local: bool) -> Result<AgentSpec> {
    let env_model = |var: &str, fallback: &str| {
        model
            .map(str::to_string)
            .or_else(|| std::env::var(var).ok().filter(|m| !m.is_empty()))
            .unwrap_or_else(|| fallback.to_string())
    };
    let (backend, model, family): (Arc<dyn AgentBackend>, String, &str) = match name {
        "claude" => {
            let options = ClaudeOptions {
                model: model.map(str::to_string),
                base_url: std::env::var("ANTHROPIC_BASE_URL").ok(),
                api_key: std::env::var("ANTHROPIC_API_KEY").ok(),
                ..ClaudeOptions::default()
            };
            (
                Arc::new(ClaudeBackend::new(options)),
                model.unwrap_or("default").to_string(),
                "anthropic",
            )
        }
        "codex" => {
            let options = CodexOptions {
                model: model.map(str::to_string),
                base_url: std::env::var("OPENAI_BASE_URL").ok(),
                api_key: std::env::var("OPENAI_API_KEY").ok(),
                ..CodexOptions::default()
            };
            (
                Arc::new(CodexBackend::new(options)),
                model.unwrap_or("default").to_string(),
                "openai",
            )
        }
        "openai" => {
            let model = env_model("OPENAI_MODEL", "gpt-4o-mini");
            let mut options = HttpAgentOptions::openai_from_env(model.clone());
            options.privacy_local = local;
            (Arc::new(OpenAiBackend::new(options)?), model, "openai")
        }
        "anthropic" => {
            let model = env_model("ANTHROPIC_MODEL", "claude-sonnet-4-5");
            let mut options = HttpAgentOptions::anthropic_from_env(model.clone());
            options.privacy_local = local;
            (
                Arc::new(AnthropicBackend::new(options)?),
                model,
                "anthropic",
            )
        }
        other => {
            return Err(EngineError::Invalid(format!(
                "no agent `{other}`: it is not in gaffer.toml, and not a backend name \
                 (claude, codex, openai, anthropic)"
            )));
        }
    };
    Ok(AgentSpec {
        name: name.to_string(),
        model,
        family: family.to_string(),
        backend,
    })
}

fn env_pairs(agent: &AgentSettings) -> Vec<(String, String)> {
    agent
        .env
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// The agent's key, from the environment variable it names: the agent's own `env` table first,
/// then gaffer's environment.
fn api_key(agent: &AgentSettings) -> Option<String> {
    let var = agent.api_key_env.as_deref()?;
    agent
        .env
        .get(var)
        .cloned()
        .or_else(|| std::env::var(var).ok())
        .filter(|k| !k.is_empty())
}

fn build(
    name: &str,
    agent: &AgentSettings,
    root: &Path,
    local: bool,
) -> Result<Arc<dyn AgentBackend>> {
    Ok(match agent.backend {
        Backend::Scripted => {
            let path = agent
                .script
                .as_ref()
                .ok_or_else(|| EngineError::Invalid(format!("agent `{name}` needs a script")))?;
            let path = if path.is_absolute() {
                path.clone()
            } else {
                root.join(path)
            };
            Arc::new(ScriptedBackend::new(Script::load(&path)?))
        }
        Backend::Command => {
            let template = agent
                .command
                .clone()
                .ok_or_else(|| EngineError::Invalid(format!("agent `{name}` needs a command")))?;
            // Its runs start from a minimal environment: the key it names is passed on, alone.
            let mut env = env_pairs(agent);
            if let (Some(var), Some(key)) = (&agent.api_key_env, api_key(agent)) {
                env.push((var.clone(), key));
            }
            Arc::new(CommandBackend::new(template, env))
        }
        Backend::Claude => {
            let options = ClaudeOptions {
                model: agent.model.clone(),
                permission_mode: agent.permission_mode.map(|m| m.as_str().to_string()),
                skip_permissions: agent.skip_permissions,
                base_url: agent.base_url.clone(),
                api_key: api_key(agent),
                max_turns: agent.max_turns,
                extra_args: agent.args.clone(),
                env: env_pairs(agent),
                ..ClaudeOptions::default()
            };
            Arc::new(ClaudeBackend::new(options))
        }
        Backend::Codex => {
            let mut options = CodexOptions {
                model: agent.model.clone(),
                base_url: agent.base_url.clone().or_else(|| {
                    std::env::var("OPENAI_BASE_URL")
                        .ok()
                        .filter(|u| !u.is_empty())
                }),
                api_key: api_key(agent),
                api_key_env: agent.api_key_env.clone(),
                extra_args: agent.args.clone(),
                env: env_pairs(agent),
                ..CodexOptions::default()
            };
            if let Some(sandbox) = agent.sandbox {
                options.sandbox = sandbox.as_str().to_string();
            }
            Arc::new(CodexBackend::new(options))
        }
        Backend::Openai | Backend::Anthropic => {
            let openai = agent.backend == Backend::Openai;
            let mut options = if openai {
                HttpAgentOptions::openai_from_env(agent.model.clone().unwrap_or_default())
            } else {
                HttpAgentOptions::anthropic_from_env(agent.model.clone().unwrap_or_default())
            };
            if let Some(url) = &agent.base_url {
                options.base_url = url.clone();
                options.gate = ProviderGate::shared(url);
            }
            if let Some(key) = api_key(agent) {
                options.api_key = Some(key);
            }
            if let Some(turns) = agent.max_turns {
                options.max_turns = turns;
            }
            if let Some(tokens) = agent.max_output_tokens {
                options.max_output_tokens = u32::try_from(tokens).unwrap_or(u32::MAX);
            }
            options.max_total_tokens = agent.max_total_tokens;
            if let Some(retries) = agent.retries {
                options.retry = RetryPolicy {
                    max_retries: retries,
                    ..RetryPolicy::default()
                };
            }
            options.privacy_local = local;
            if openai {
                Arc::new(OpenAiBackend::new(options)?)
            } else {
                Arc::new(AnthropicBackend::new(options)?)
            }
        }
    })
}
