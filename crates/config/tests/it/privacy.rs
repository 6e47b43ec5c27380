//! `[privacy] mode = "local"`: every agent must talk to this machine or a private network.

use gaffer_config::{AgentSettings, ConfigError, Overrides, PrivacyMode, load, parse_str};

use crate::{parse, parse_err};

const LOCAL_AGENTS: &str = r#"
[agents.ollama]
backend = "openai"
model = "qwen"
base_url = "http://127.0.0.1:11434/v1"
[agents.lan]
backend = "openai"
model = "qwen"
base_url = "http://192.168.1.20:8000/v1"
[agents.box]
backend = "anthropic"
model = "m"
base_url = "https://10.0.0.7"
[agents.v6]
backend = "anthropic"
model = "m"
base_url = "http://[::1]:9000"
[agents.claude]
backend = "claude"
base_url = "http://localhost:4000"
[agents.codex]
backend = "codex"
base_url = "http://172.20.1.1:4000/v1"
[agents.aider]
backend = "command"
command = "aider {prompt}"
[agents.demo]
backend = "scripted"
script = "s.json"
"#;

#[test]
fn the_default_is_any_and_allows_the_public_providers() {
    let settings = parse("[agents.claude]\nbackend = \"claude\"\n");
    assert_eq!(settings.privacy.mode, PrivacyMode::Any);
    assert!(settings.privacy_violations().is_empty());
}

#[test]
fn local_mode_accepts_local_and_private_endpoints() {
    let settings = parse(&format!("[privacy]\nmode = \"local\"\n{LOCAL_AGENTS}"));
    assert_eq!(settings.privacy.mode, PrivacyMode::Local);
    assert_eq!(settings.agents.len(), 8);
    assert!(settings.privacy_violations().is_empty());
}

#[test]
fn local_mode_refuses_each_remote_agent_and_names_it() {
    let error = parse_err(
        "[privacy]\nmode = \"local\"\n[agents.claude]\nbackend = \"claude\"\n\
         [agents.codex]\nbackend = \"codex\"\n\
         [agents.proxy]\nbackend = \"openai\"\nmodel = \"m\"\nbase_url = \"https://llm.example.com/v1\"\n\
         [agents.ok]\nbackend = \"openai\"\nmodel = \"m\"\nbase_url = \"http://127.0.0.1:1/v1\"\n",
    );
    assert!(matches!(error, ConfigError::Invalid { .. }), "{error:?}");
    assert_eq!(error.key(), Some("privacy.mode"));
    assert_eq!(error.line(), Some(2));
    let text = error.to_string();
    assert!(text.contains("3 agents"), "{text}");
    assert!(
        text.contains("agent `claude`: https://api.anthropic.com"),
        "{text}"
    );
    assert!(
        text.contains("agent `codex`: https://api.openai.com/v1"),
        "{text}"
    );
    assert!(
        text.contains("agent `proxy`: https://llm.example.com/v1"),
        "{text}"
    );
    assert!(!text.contains("`ok`"), "{text}");
    assert!(text.contains("hint: point each at"), "{text}");
}

#[test]
fn local_mode_from_the_environment_is_blamed_on_the_variable() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("gaffer.toml");
    std::fs::write(&path, "[agents.claude]\nbackend = \"claude\"\n").unwrap();
    let env = Overrides::from_env([("GAFFER_PRIVACY__MODE".to_string(), "local".to_string())]);
    let error = load(Some(&path), &env, &Overrides::new()).unwrap_err();
    assert!(
        matches!(&error, ConfigError::Override { source_name, .. } if source_name == "GAFFER_PRIVACY__MODE"),
        "{error:?}"
    );
    assert!(error.to_string().contains("agent `claude`"), "{error}");

    // With the agent pointed at this machine by a flag, it loads.
    let mut flags = Overrides::new();
    flags.push("agents.claude.base_url", "http://127.0.0.1:8080");
    let settings = load(Some(&path), &env, &flags).unwrap();
    assert_eq!(settings.privacy.mode, PrivacyMode::Local);
}

#[test]
fn violations_of_settings_changed_after_loading() {
    let mut settings = parse_str(
        &format!("[privacy]\nmode = \"local\"\n{LOCAL_AGENTS}"),
        std::path::Path::new("gaffer.toml"),
    )
    .unwrap();
    let mut remote: AgentSettings = settings.agents["ollama"].clone();
    remote.base_url = Some("http://203.0.113.9:11434/v1".to_string());
    settings.agents.insert("remote".to_string(), remote);
    let mut public = settings.agents["claude"].clone();
    public.base_url = None;
    settings.agents.insert("anthropic-api".to_string(), public);
    assert_eq!(
        settings.privacy_violations(),
        [
            (
                "anthropic-api".to_string(),
                "https://api.anthropic.com".to_string(),
                "no base_url, so it calls the public provider".to_string()
            ),
            (
                "remote".to_string(),
                "http://203.0.113.9:11434/v1".to_string(),
                "203.0.113.9 is a public address".to_string()
            ),
        ]
    );
    settings.privacy.mode = PrivacyMode::Any;
    assert!(settings.privacy_violations().is_empty());
}

#[test]
fn host_names_other_than_localhost_are_not_local() {
    let error = parse_err(
        "[privacy]\nmode = \"local\"\n[agents.x]\nbackend = \"openai\"\nmodel = \"m\"\n\
         base_url = \"http://ollama.internal:11434\"\n",
    );
    assert!(
        error
            .to_string()
            .contains("`ollama.internal` is a host name"),
        "{error}"
    );
}
