use std::path::{Path, PathBuf};
use std::time::Duration;

use gaffer_config::{Overrides, Risk, Settings, default_settings, load, parse_str};

use crate::parse;

#[test]
fn an_empty_file_gives_the_documented_defaults() {
    let settings = parse("");
    assert_eq!(settings.project.name, "myproj");
    assert_eq!(settings.project.target, "main");
    assert_eq!(settings.project.state_dir, None);
    assert_eq!(settings.verify.command, None);
    assert_eq!(settings.verify.timeout, Duration::from_secs(20 * 60));
    assert_eq!(settings.verify.setup, None);
    assert_eq!(settings.engine.concurrency, 4);
    assert_eq!(settings.engine.lease, Duration::from_secs(30));
    assert_eq!(settings.engine.heartbeat, Duration::from_secs(10));
    assert_eq!(settings.engine.worktree_pool, 4);
    assert_eq!(settings.engine.agent_stagger, Duration::ZERO);
    assert_eq!(settings.limits.verify_failures_per_tier, 2);
    assert_eq!(settings.limits.review_rounds, 2);
    assert_eq!(settings.limits.plan_rounds, 2);
    assert_eq!(settings.limits.merge_attempts, 3);
    assert_eq!(settings.limits.lost_run_retries, 3);
    assert!(settings.agents.is_empty());
    assert!(settings.roles.coder.is_empty());
    assert!(!settings.review.enabled);
    assert!(!settings.review.cross_family);
    assert_eq!(settings.risk.approval_at, Some(Risk::High));
    assert!(settings.risk.paths.is_empty());
    assert_eq!(settings.server.port, 7420);
    assert_eq!(settings.server.host.to_string(), "127.0.0.1");
    assert_eq!(settings.server.token_env, "GAFFER_TOKEN");
    assert_eq!(settings.privacy.mode, gaffer_config::PrivacyMode::Any);
    assert!(settings.prices.is_empty());
    assert_eq!(
        settings.source,
        Some(PathBuf::from("/src/myproj/gaffer.toml"))
    );
}

#[test]
fn default_settings_equal_an_empty_file_without_a_directory() {
    let from_empty = parse("");
    let defaults = default_settings();
    assert_eq!(defaults.project.name, "project");
    assert_eq!(defaults.source, None);
    assert_eq!(
        Settings {
            project: defaults.project.clone(),
            source: None,
            ..from_empty
        },
        defaults
    );
}

#[test]
fn a_missing_file_is_the_defaults_named_after_its_directory() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("shop");
    std::fs::create_dir(&repo).unwrap();
    let settings = load(
        Some(&repo.join("gaffer.toml")),
        &Overrides::new(),
        &Overrides::new(),
    )
    .unwrap();
    assert_eq!(settings.project.name, "shop");
    assert_eq!(settings.source, None);
    assert_eq!(settings.engine, default_settings().engine);

    let settings = load(None, &Overrides::new(), &Overrides::new()).unwrap();
    assert_eq!(settings, default_settings());
}

#[test]
fn a_file_is_read_from_disk() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("gaffer.toml");
    std::fs::write(&path, "[verify]\ncommand = \"make check\"\n").unwrap();
    let settings = load(Some(&path), &Overrides::new(), &Overrides::new()).unwrap();
    assert_eq!(settings.verify_command().unwrap(), "make check");
    assert_eq!(settings.source.as_deref(), Some(path.as_path()));
}

#[test]
fn a_directory_where_the_file_should_be_is_an_io_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("gaffer.toml");
    std::fs::create_dir(&path).unwrap();
    let error = load(Some(&path), &Overrides::new(), &Overrides::new()).unwrap_err();
    assert!(
        matches!(error, gaffer_config::ConfigError::Io { .. }),
        "{error:?}"
    );
    assert!(
        error.to_string().contains("cannot read the file"),
        "{error}"
    );
}

#[test]
fn no_verify_command_is_an_error_pointing_at_gaffer_init() {
    let settings = parse_str("", Path::new("gaffer.toml")).unwrap();
    let error = settings.verify_command().unwrap_err();
    assert_eq!(error.key(), Some("verify.command"));
    insta::assert_snapshot!(error.to_string(), @r#"
    gaffer.toml: no verify command: verify.command is not set
      hint: run `gaffer init` to detect one, or set verify.command in gaffer.toml (e.g. command = "cargo test")
    "#);
}

#[test]
fn durations_accept_text_and_seconds() {
    let settings = parse(
        "[verify]\ntimeout = 90\n[engine]\nlease = \"2m\"\nheartbeat = \"1m30s\"\nagent_stagger = \"250ms\"\n",
    );
    assert_eq!(settings.verify.timeout, Duration::from_secs(90));
    assert_eq!(settings.engine.lease, Duration::from_secs(120));
    assert_eq!(settings.engine.heartbeat, Duration::from_secs(90));
    assert_eq!(settings.engine.agent_stagger, Duration::from_millis(250));
}

#[test]
fn families_default_from_the_backend() {
    let settings = parse(
        r#"
[agents.a]
backend = "claude"
[agents.b]
backend = "anthropic"
model = "claude-sonnet-4-5"
[agents.c]
backend = "codex"
[agents.d]
backend = "openai"
model = "gpt-4o"
[agents.e]
backend = "command"
command = "agent {prompt}"
[agents.f]
backend = "scripted"
script = "s.json"
[agents.g]
backend = "openai"
model = "qwen"
family = "qwen"
"#,
    );
    let families: Vec<(&str, &str)> = settings
        .agents
        .iter()
        .map(|(name, agent)| (name.as_str(), agent.family.as_str()))
        .collect();
    assert_eq!(
        families,
        [
            ("a", "anthropic"),
            ("b", "anthropic"),
            ("c", "openai"),
            ("d", "openai"),
            ("e", "e"),
            ("f", "f"),
            ("g", "qwen"),
        ]
    );
}

#[test]
fn review_and_cross_family_follow_the_roles_by_default() {
    let agents = "[agents.claude]\nbackend = \"claude\"\n[agents.opus]\nbackend = \"claude\"\n\
                  [agents.codex]\nbackend = \"codex\"\n";

    // One family: review on (a reviewer exists), cross-family off.
    let same = parse(&format!(
        "{agents}[roles]\ncoder = [\"claude\"]\nreviewer = [\"opus\"]\n"
    ));
    assert!(same.review.enabled);
    assert!(!same.review.cross_family);

    // Two families: cross-family on, and satisfied.
    let mixed = parse(&format!(
        "{agents}[roles]\ncoder = [\"claude\", \"opus\"]\nreviewer = [\"codex\"]\n"
    ));
    assert!(mixed.review.enabled);
    assert!(mixed.review.cross_family);

    // No reviewer: no review.
    let solo = parse(&format!("{agents}[roles]\ncoder = [\"claude\"]\n"));
    assert!(!solo.review.enabled);

    // Explicitly off.
    let off = parse(&format!(
        "{agents}[roles]\ncoder = [\"claude\"]\nreviewer = [\"opus\"]\n[review]\nenabled = false\ncross_family = true\n"
    ));
    assert!(!off.review.enabled);
}

#[test]
fn risk_rules_are_compiled() {
    let settings = parse(
        r#"
[risk]
approval_at = "never"
[[risk.paths]]
glob = "migrations/**"
risk = "high"
[[risk.labels]]
label = "security"
risk = "critical"
"#,
    );
    assert_eq!(settings.risk.approval_at, None);
    assert_eq!(
        settings
            .risk
            .risk_for_paths(&["migrations/001.sql".to_string()]),
        Some(Risk::High)
    );
    assert_eq!(
        settings.risk.risk_for_labels(&["security".to_string()]),
        Some(Risk::Critical)
    );
    assert!(!settings.risk.needs_approval(Risk::Critical));
}

#[test]
fn settings_serialize_for_gaffer_config() {
    let settings = parse("[engine]\nlease = 60\n");
    let json = serde_json::to_value(&settings).unwrap();
    assert_eq!(json["engine"]["lease"], "1m");
    assert_eq!(json["risk"]["approval_at"], "high");
    assert_eq!(json["server"]["port"], 7420);
}

#[test]
fn the_resolver_defaults_to_the_coder_ladder() {
    let agents = "[agents.a]\nbackend = \"claude\"\n[agents.b]\nbackend = \"claude\"\n";
    let default = parse(&format!("{agents}[roles]\ncoder = [\"a\", \"b\"]\n"));
    assert_eq!(default.roles.resolver, ["a", "b"]);
    let explicit = parse(&format!(
        "{agents}[roles]\ncoder = [\"a\"]\nresolver = []\n"
    ));
    assert!(explicit.roles.resolver.is_empty());
}
