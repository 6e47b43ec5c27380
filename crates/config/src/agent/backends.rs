//! The keys only some backends read, resolved into the agent's [`BackendSettings`]. By now the
//! table sets no key its backend does not read, and has what its backend needs.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::checks::Agent;
use crate::agent_settings::{
    BackendSettings, ClaudeSettings, CodexSandbox, CodexSettings, CommandSettings, Credentials,
    DEFAULT_RETRIES, HttpSettings, PermissionMode, RETRIES_RANGE, ScriptedSettings,
};
use crate::backends::Backend;
use crate::error::ConfigError;
use crate::file::RawAgent;

/// The agent's text keys, already checked not to be blank.
pub(super) struct Texts<'a> {
    pub model: Option<&'a str>,
    pub command: Option<String>,
    pub script: Option<String>,
}

pub(super) fn resolve(
    agent: &Agent<'_>,
    fields: &RawAgent,
    texts: Texts<'_>,
) -> Result<BackendSettings, ConfigError> {
    Ok(match agent.backend {
        Backend::Claude => BackendSettings::Claude(claude(agent, fields)?),
        Backend::Codex => BackendSettings::Codex(codex(agent, fields)?),
        Backend::Openai => BackendSettings::Openai(http(agent, fields)?),
        Backend::Anthropic => BackendSettings::Anthropic(http(agent, fields)?),
        Backend::Command => {
            let command = texts.command.unwrap_or_default();
            if let Some(at) = &fields.command {
                agent.command_template(at, &command, texts.model.is_some())?;
            }
            BackendSettings::Command(CommandSettings {
                command,
                credentials: credentials(agent, fields)?,
            })
        }
        Backend::Scripted => BackendSettings::Scripted(ScriptedSettings {
            script: PathBuf::from(texts.script.unwrap_or_default()),
        }),
    })
}

fn claude(agent: &Agent<'_>, fields: &RawAgent) -> Result<ClaudeSettings, ConfigError> {
    let credentials = credentials(agent, fields)?;
    let permission_mode = match &fields.permission_mode {
        Some(at) => Some(agent.choice(
            at,
            "permission_mode",
            PermissionMode::ALL.map(PermissionMode::as_str),
            PermissionMode::from_name,
        )?),
        None => None,
    };
    let skip_permissions = fields
        .skip_permissions
        .as_ref()
        .is_some_and(|at| *at.get_ref());
    if let (Some(at), Some(mode)) = (&fields.skip_permissions, permission_mode)
        && skip_permissions
        && mode != PermissionMode::BypassPermissions
    {
        let table = agent.table;
        return Err(agent.check.error(
            at,
            &agent.key("skip_permissions"),
            format!(
                "{table}.skip_permissions = true skips every permission prompt, which \
                 contradicts permission_mode = \"{mode}\""
            ),
            "remove one of skip_permissions and permission_mode".to_string(),
        ));
    }
    Ok(ClaudeSettings {
        credentials,
        permission_mode,
        skip_permissions,
        args: args(fields),
    })
}

fn codex(agent: &Agent<'_>, fields: &RawAgent) -> Result<CodexSettings, ConfigError> {
    let credentials = credentials(agent, fields)?;
    let sandbox = match &fields.sandbox {
        Some(at) => Some(agent.choice(
            at,
            "sandbox",
            CodexSandbox::ALL.map(CodexSandbox::as_str),
            CodexSandbox::from_name,
        )?),
        None => None,
    };
    Ok(CodexSettings {
        credentials,
        sandbox,
        args: args(fields),
    })
}

fn http(agent: &Agent<'_>, fields: &RawAgent) -> Result<HttpSettings, ConfigError> {
    let credentials = credentials(agent, fields)?;
    let retries = agent
        .number(&fields.retries, "retries", &RETRIES_RANGE)?
        .map_or(DEFAULT_RETRIES, |n| {
            u32::try_from(n).unwrap_or(DEFAULT_RETRIES)
        });
    Ok(HttpSettings {
        credentials,
        retries,
    })
}

/// `api_key_env` (else the provider's variable) and `env`.
fn credentials(agent: &Agent<'_>, fields: &RawAgent) -> Result<Credentials, ConfigError> {
    let api_key_env = match (
        &fields.api_key_env,
        agent
            .check
            .text(&fields.api_key_env, &agent.key("api_key_env"))?,
    ) {
        (Some(at), Some(var)) => {
            agent.env_name(at, &var, "api_key_env")?;
            Some(var.trim().to_string())
        }
        _ => agent.backend.default_api_key_env().map(str::to_string),
    };
    let mut env = BTreeMap::new();
    if let Some(table_at) = &fields.env {
        for (var, value) in table_at.get_ref() {
            agent.env_name(var, var.get_ref(), "env")?;
            env.insert(var.get_ref().clone(), value.get_ref().clone());
        }
    }
    Ok(Credentials { api_key_env, env })
}

/// `args`, each one argument.
fn args(fields: &RawAgent) -> Vec<String> {
    fields
        .args
        .as_ref()
        .map(|list| {
            list.get_ref()
                .iter()
                .map(|at| at.get_ref().clone())
                .collect()
        })
        .unwrap_or_default()
}
