//! Integration tests of gaffer-config, in one test binary.

// Helpers here are test code too; a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod agents;
mod defaults;
mod detect;
mod errors;
mod example;
mod notify;
mod overrides;
mod prices;
mod privacy;
mod queue;
mod review;
mod template;

use std::path::Path;

use gaffer_config::{
    AgentSettings, BackendSettings, ClaudeSettings, CodexSettings, CommandSettings, ConfigError,
    ScriptedSettings, Settings, parse_str,
};

/// Parses `text` as `gaffer.toml`, failing the test on an error.
pub fn parse(text: &str) -> Settings {
    match parse_str(text, Path::new("/src/myproj/gaffer.toml")) {
        Ok(settings) => settings,
        Err(error) => panic!("expected valid configuration, got:\n{error}"),
    }
}

/// Parses `text` as `gaffer.toml`, failing the test when it is accepted.
pub fn parse_err(text: &str) -> ConfigError {
    match parse_str(text, Path::new("gaffer.toml")) {
        Ok(settings) => panic!("expected an error, got {settings:#?}"),
        Err(error) => error,
    }
}

/// The settings only a `claude` agent has; fails the test for another backend.
pub fn claude(agent: &AgentSettings) -> &ClaudeSettings {
    match &agent.backend {
        BackendSettings::Claude(claude) => claude,
        other => panic!("expected a claude agent, got {other:?}"),
    }
}

/// The settings only a `codex` agent has; fails the test for another backend.
pub fn codex(agent: &AgentSettings) -> &CodexSettings {
    match &agent.backend {
        BackendSettings::Codex(codex) => codex,
        other => panic!("expected a codex agent, got {other:?}"),
    }
}

/// The settings only a `command` agent has; fails the test for another backend.
pub fn command(agent: &AgentSettings) -> &CommandSettings {
    match &agent.backend {
        BackendSettings::Command(command) => command,
        other => panic!("expected a command agent, got {other:?}"),
    }
}

/// The settings only a `scripted` agent has; fails the test for another backend.
pub fn scripted(agent: &AgentSettings) -> &ScriptedSettings {
    match &agent.backend {
        BackendSettings::Scripted(scripted) => scripted,
        other => panic!("expected a scripted agent, got {other:?}"),
    }
}
