use std::path::Path;

use gaffer_config::{ConfigError, Overrides, load};

fn env(pairs: &[(&str, &str)]) -> Overrides {
    Overrides::from_env(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())))
}

fn flags(items: &[&str]) -> Overrides {
    Overrides::from_flags(items).unwrap()
}

/// Writes `text` to a `gaffer.toml` in a fresh directory and loads it with the overrides.
fn load_with(
    text: &str,
    env: &Overrides,
    flags: &Overrides,
) -> Result<gaffer_config::Settings, ConfigError> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("gaffer.toml");
    std::fs::write(&path, text).unwrap();
    load(Some(&path), env, flags)
}

const FILE: &str = "\
[engine]
concurrency = 2

[agents.claude-sonnet]
backend = \"claude\"
model = \"sonnet\"

[agents.codex]
backend = \"codex\"

[roles]
coder = [\"claude-sonnet\"]
";

#[test]
fn flags_beat_environment_beats_file() {
    let none = Overrides::new();
    let from_file = load_with(FILE, &none, &none).unwrap();
    assert_eq!(from_file.engine.concurrency, 2);

    let from_env = load_with(FILE, &env(&[("GAFFER_ENGINE__CONCURRENCY", "4")]), &none).unwrap();
    assert_eq!(from_env.engine.concurrency, 4);

    let from_flag = load_with(
        FILE,
        &env(&[("GAFFER_ENGINE__CONCURRENCY", "4")]),
        &flags(&["engine.concurrency=8"]),
    )
    .unwrap();
    assert_eq!(from_flag.engine.concurrency, 8);
}

#[test]
fn overrides_reach_every_kind_of_value() {
    let settings = load_with(
        FILE,
        &env(&[
            ("GAFFER_VERIFY", "cargo test --all"),
            ("GAFFER_PORT", "9000"),
            ("GAFFER_ENGINE__LEASE", "2m"),
            ("GAFFER_ENGINE__HEARTBEAT", "20"),
            ("GAFFER_AGENTS__CLAUDE_SONNET__MODEL", "opus"),
            ("GAFFER_REVIEW__ENABLED", "false"),
            ("GAFFER_PROJECT__NAME", "2024"),
            ("GAFFER_TOKEN", "not configuration"),
            ("GAFFER_SERVER__HOST", "0.0.0.0"),
        ]),
        &flags(&[
            "roles.reviewer=codex",
            "roles.coder=claude-sonnet, codex",
            "risk.approval_at=never",
            "risk.paths=[{ glob = \"db/**\", risk = \"critical\" }]",
        ]),
    )
    .unwrap();
    assert_eq!(settings.verify.command.as_deref(), Some("cargo test --all"));
    assert_eq!(settings.server.port, 9000);
    assert_eq!(settings.server.host.to_string(), "0.0.0.0");
    assert_eq!(settings.server.token_env, "GAFFER_TOKEN");
    assert_eq!(settings.engine.lease.as_secs(), 120);
    assert_eq!(settings.engine.heartbeat.as_secs(), 20);
    assert_eq!(
        settings.agents["claude-sonnet"].model.as_deref(),
        Some("opus")
    );
    assert!(!settings.review.enabled);
    assert_eq!(settings.project.name, "2024");
    assert_eq!(settings.roles.coder, ["claude-sonnet", "codex"]);
    assert_eq!(settings.roles.reviewer, ["codex"]);
    assert_eq!(settings.risk.approval_at, None);
    assert_eq!(settings.risk.paths[0].glob, "db/**");
}

#[test]
fn overrides_apply_without_a_file() {
    let settings = load(
        None,
        &env(&[
            ("GAFFER_AGENTS__LOCAL__BACKEND", "openai"),
            ("GAFFER_AGENTS__LOCAL__MODEL", "qwen"),
        ]),
        &flags(&["roles.coder=local", "verify.command=make test"]),
    )
    .unwrap();
    assert_eq!(settings.agents["local"].family, "openai");
    assert_eq!(settings.roles.coder, ["local"]);
    assert_eq!(settings.verify_command().unwrap(), "make test");
    assert_eq!(settings.source, None);
}

fn override_error(env_vars: &[(&str, &str)], flag_items: &[&str]) -> ConfigError {
    match load_with(FILE, &env(env_vars), &flags(flag_items)) {
        Ok(_) => panic!("expected an error"),
        Err(error) => error,
    }
}

#[test]
fn an_unknown_variable_is_an_error_naming_it() {
    let error = override_error(&[("GAFFER_ENGINE__CONCURENCY", "8")], &[]);
    insta::assert_snapshot!(error.to_string(), @r"
    GAFFER_ENGINE__CONCURENCY: unknown key `concurency` in [engine]
      hint: did you mean `concurrency`?
    ");

    let error = override_error(&[("GAFFER_ENGNE__CONCURRENCY", "8")], &[]);
    assert!(
        matches!(&error, ConfigError::Override { source_name, key, .. }
            if source_name == "GAFFER_ENGNE__CONCURRENCY" && key == "engne.concurrency"),
        "{error:?}"
    );
}

#[test]
fn a_bad_override_value_names_its_source() {
    let error = override_error(&[("GAFFER_ENGINE__CONCURRENCY", "lots")], &[]);
    insta::assert_snapshot!(error.to_string(), @r#"
    GAFFER_ENGINE__CONCURRENCY: engine.concurrency = "lots" is not a whole number
      hint: write engine.concurrency as a whole number
    "#);

    let error = override_error(&[], &["engine.concurrency=0"]);
    insta::assert_snapshot!(error.to_string(), @r"
    --set engine.concurrency: engine.concurrency = 0 must be between 1 and 64
      hint: set engine.concurrency to a whole number from 1 to 64
    ");

    let error = override_error(&[("GAFFER_PORT", "http")], &[]);
    assert!(
        error
            .to_string()
            .starts_with("GAFFER_SERVER__PORT (or GAFFER_PORT): "),
        "{error}"
    );

    let error = override_error(&[], &["roles.coder=claude-sonet"]);
    insta::assert_snapshot!(error.to_string(), @r"
    --set roles.coder: roles.coder names `claude-sonet`, which is not an agent in [agents]
      hint: did you mean `claude-sonnet`?
    ");
}

#[test]
fn an_override_can_break_a_rule_the_file_kept() {
    // The file's heartbeat (default 10s) meets a lease from the environment.
    let error = override_error(&[("GAFFER_ENGINE__LEASE", "10s")], &[]);
    assert!(
        matches!(&error, ConfigError::Override { source_name, .. } if source_name == "GAFFER_ENGINE__LEASE"),
        "{error:?}"
    );
}

#[test]
fn malformed_override_keys() {
    for (flag, message) in [
        ("engine=3", "`engine` is not a configuration key"),
        (
            "engine..lease=3",
            "`engine..lease` is not a configuration key",
        ),
        (
            "engine.concurrency.extra=1",
            "`engine.concurrency` is not a table, so `engine.concurrency.extra` cannot be set",
        ),
        (
            "verify.command.extra=1",
            "`verify.command` is not a table, so `verify.command.extra` cannot be set",
        ),
    ] {
        let error = override_error(&[], &[flag]);
        assert!(error.to_string().contains(message), "{flag}: {error}");
    }
    let error = override_error(&[("GAFFER_ENGINE__", "3")], &[]);
    assert!(
        error
            .to_string()
            .starts_with("GAFFER_ENGINE__: `engine.` is not a configuration key"),
        "{error}"
    );
}

#[test]
fn an_unreadable_path_is_not_needed_for_overrides() {
    let settings = load(
        Some(Path::new("/nonexistent/dir/gaffer.toml")),
        &Overrides::new(),
        &flags(&["server.port=0"]),
    )
    .unwrap();
    assert_eq!(settings.server.port, 0);
    assert_eq!(settings.project.name, "dir");
}

#[test]
fn the_store_url_comes_from_the_environment_and_its_password_never_shows() {
    let none = env(&[]);
    let settings = load_with(
        FILE,
        &env(&[(
            "GAFFER_STORE__URL",
            "postgres://gaffer:hunter2@db:5432/board",
        )]),
        &none,
    )
    .unwrap();
    let url = settings.store.url.as_ref().unwrap();
    assert_eq!(url.expose(), "postgres://gaffer:hunter2@db:5432/board");
    assert!(!format!("{settings:?}").contains("hunter2"));
    assert!(
        !serde_json::to_string(&settings)
            .unwrap()
            .contains("hunter2")
    );
    assert!(load_with(FILE, &none, &none).unwrap().store.url.is_none());

    let error = override_error(&[("GAFFER_STORE__URL", "mysql://root:hunter2@db/x")], &[]);
    let text = error.to_string();
    assert!(text.contains("not a PostgreSQL URL"), "{text}");
    assert!(!text.contains("hunter2"), "{text}");
}

#[test]
fn machine_labels_come_from_the_environment_as_a_list() {
    let none = env(&[]);
    let settings = load_with(FILE, &env(&[("GAFFER_HOST__LABELS", "gtk, gpu")]), &none).unwrap();
    assert_eq!(settings.host.labels, ["gpu", "gtk"]);
    let error = override_error(&[("GAFFER_HOST__LABELS", "two words")], &[]);
    assert!(error.to_string().contains("not a machine label"), "{error}");
}
