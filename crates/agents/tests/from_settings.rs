//! The registry built from settings: every backend from its table, the one-off agents named
//! after a backend, and what the engine asks of an agent's settings (its program, its model
//! endpoints, its key), all with a fixed environment.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use gaffer_agents::{
    AgentError, Environment, agents_from_settings, default_agent, endpoints_of, key_of, program_of,
};
use gaffer_config::{Settings, parse_str};
use std::path::Path;

fn settings(text: &str) -> Settings {
    parse_str(text, Path::new("gaffer.toml")).unwrap()
}

const AGENTS: &str = r#"
[agents.c]
backend = "claude"
[agents.x]
backend = "codex"
base_url = "http://127.0.0.1:9/v1"
[agents.o]
backend = "openai"
model = "m"
[agents.a]
backend = "anthropic"
model = "m"
api_key_env = "MY_KEY"
[agents.cmd]
backend = "command"
command = "aider --message {prompt}"
[agents.s]
backend = "scripted"
script = "script.json"
"#;

#[test]
fn every_backend_is_built_from_its_settings() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("script.json"), r#"{"task": []}"#).unwrap();
    let env = Environment::fixed([("MY_KEY", "k")]);
    let registry = agents_from_settings(&settings(AGENTS), dir.path(), &env).unwrap();
    let backends: Vec<(&str, String, String)> = registry
        .names()
        .map(|name| {
            let spec = registry.get(name).unwrap();
            (
                name,
                spec.backend.backend().to_string(),
                spec.family.clone(),
            )
        })
        .collect();
    assert_eq!(
        backends,
        [
            ("a", "anthropic".into(), "anthropic".into()),
            ("c", "claude".into(), "anthropic".into()),
            ("cmd", "command".into(), "cmd".into()),
            ("o", "openai".into(), "openai".into()),
            ("s", "scripted".into(), "s".into()),
            ("x", "codex".into(), "openai".into()),
        ]
    );
    // A CLI agent's model is its backend's name unless it names one, for records and prices;
    // its runs ask for no model, so the CLI uses its own default (`--model claude` is no model).
    assert_eq!(registry.get("c").unwrap().model, "claude");
    assert_eq!(registry.get("c").unwrap().run_model(), "");
    assert_eq!(registry.get("o").unwrap().run_model(), "m");
}

/// The CLIs run in a clean environment: a provider base URL set for gaffer reaches Claude Code
/// (and Codex) through the agent, as the agent's own `base_url` would.
#[test]
fn a_cli_agent_takes_its_endpoint_from_gaffer_s_environment() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("script.json"), r#"{"task": []}"#).unwrap();
    let env = Environment::fixed([
        ("ANTHROPIC_BASE_URL", "http://10.0.0.2:8080"),
        ("OPENAI_BASE_URL", "http://10.0.0.3:8080/v1"),
        ("MY_KEY", "k"),
    ]);
    let registry = agents_from_settings(&settings(AGENTS), dir.path(), &env).unwrap();
    let claude = registry
        .get("c")
        .unwrap()
        .backend
        .by_hand("s", dir.path())
        .unwrap();
    assert!(
        claude
            .env
            .contains(&("ANTHROPIC_BASE_URL".into(), "http://10.0.0.2:8080".into())),
        "{:?}",
        claude.env
    );
    assert!(
        !claude.args.contains(&"--model".to_string()),
        "{:?}",
        claude.args
    );
    // The agent's own base_url wins over the environment's.
    let codex = registry
        .get("x")
        .unwrap()
        .backend
        .by_hand("s", dir.path())
        .unwrap();
    let line = codex.shell_line();
    assert!(line.contains("127.0.0.1:9"), "{line}");
    assert!(!line.contains("10.0.0.3"), "{line}");
}

#[test]
fn what_the_engine_asks_of_an_agent() {
    let settings = settings(AGENTS);
    let env = Environment::fixed([
        ("ANTHROPIC_BASE_URL", "http://10.0.0.2:8080"),
        ("MY_KEY", "k"),
    ]);
    let agent = |name: &str| &settings.agents[name];
    assert_eq!(endpoints_of(agent("c"), &env), ["http://10.0.0.2:8080"]);
    assert_eq!(
        endpoints_of(agent("c"), &Environment::fixed::<&str, &str>([])),
        ["https://api.anthropic.com"]
    );
    assert_eq!(endpoints_of(agent("x"), &env), ["http://127.0.0.1:9/v1"]);
    assert!(endpoints_of(agent("cmd"), &env).is_empty());
    assert!(endpoints_of(agent("o"), &env).is_empty());

    assert_eq!(program_of(agent("c")).as_deref(), Some("claude"));
    assert_eq!(program_of(agent("cmd")).as_deref(), Some("aider"));
    assert_eq!(program_of(agent("s")), None);

    assert_eq!(
        key_of(agent("a"), &env),
        Some(("MY_KEY".into(), "k".into()))
    );
    assert_eq!(key_of(agent("o"), &env), None);
    assert_eq!(key_of(agent("s"), &env), None);
}

#[test]
fn one_off_agents_take_their_provider_s_defaults() {
    let env = Environment::fixed([("OPENAI_MODEL", "gpt-x")]);
    let spec = default_agent("openai", None, false, &env).unwrap();
    assert_eq!(
        (spec.model.as_str(), spec.family.as_str()),
        ("gpt-x", "openai")
    );
    let spec = default_agent("anthropic", None, false, &env).unwrap();
    assert_eq!(spec.model, "claude-sonnet-4-5");
    let spec = default_agent("codex", None, false, &env).unwrap();
    assert_eq!(
        (spec.model.as_str(), spec.backend.backend()),
        ("default", "codex")
    );

    for name in ["command", "nope"] {
        let error = default_agent(name, None, false, &env).err().unwrap();
        assert!(matches!(error, AgentError::NotAnAgent { .. }), "{error}");
        assert!(
            error
                .to_string()
                .ends_with("not a backend name (claude, codex, openai, anthropic)"),
            "{error}"
        );
    }
}
