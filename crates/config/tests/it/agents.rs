//! The keys of `[agents.<name>]` beyond backend, model and family: limits, credentials, CLI
//! options, environment, retries and command templates.

use std::collections::BTreeMap;
use std::time::Duration;

use gaffer_config::{
    Backend, BackendSettings, CodexSandbox, DEFAULT_RETRIES, Overrides, PermissionMode, load,
    parse_str,
};

use crate::{claude, codex, parse, parse_err};

#[test]
fn new_keys_default_per_backend() {
    let settings = parse(
        r#"
[agents.a]
backend = "claude"
[agents.b]
backend = "anthropic"
model = "m"
[agents.c]
backend = "codex"
[agents.d]
backend = "openai"
model = "m"
[agents.e]
backend = "command"
command = "agent {prompt}"
[agents.f]
backend = "scripted"
script = "s.json"
"#,
    );
    let keys: Vec<(&str, Option<&str>, Option<u32>)> = settings
        .agents
        .iter()
        .map(|(name, a)| (name.as_str(), a.api_key_env(), a.retries()))
        .collect();
    assert_eq!(
        keys,
        [
            ("a", Some("ANTHROPIC_API_KEY"), None),
            ("b", Some("ANTHROPIC_API_KEY"), Some(DEFAULT_RETRIES)),
            ("c", Some("OPENAI_API_KEY"), None),
            ("d", Some("OPENAI_API_KEY"), Some(DEFAULT_RETRIES)),
            ("e", None, None),
            ("f", None, None),
        ]
    );
    for agent in settings.agents.values() {
        assert_eq!(agent.max_turns, None);
        assert_eq!(agent.max_output_tokens, None);
        assert_eq!(agent.max_total_tokens, None);
        assert_eq!(agent.timeout, None);
        // The CLIs' own keys exist only for their backends.
        match &agent.backend {
            BackendSettings::Claude(claude) => {
                assert_eq!(claude.permission_mode, None);
                assert!(!claude.skip_permissions);
                assert!(claude.args.is_empty());
            }
            BackendSettings::Codex(codex) => {
                assert_eq!(codex.sandbox, None);
                assert!(codex.args.is_empty());
            }
            _ => {}
        }
        assert!(agent.env().is_empty());
    }
}

#[test]
fn every_key_is_read() {
    let settings = parse(
        r#"
[agents.claude]
backend = "claude"
api_key_env = "WORK_ANTHROPIC_KEY"
max_turns = 1000
max_output_tokens = 16000
max_total_tokens = 3000000
timeout = "45m"
permission_mode = "bypassPermissions"
skip_permissions = true
args = ["--add-dir", "../docs", ""]
env = { CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC = "1", _X = "" }

[agents.codex]
backend = "codex"
sandbox = "danger-full-access"
timeout = 90

[agents.local]
backend = "anthropic"
model = "m"
retries = 0
max_turns = 1

[agents.aider]
backend = "command"
model = "m"
command = "aider --model {model} --message-file {prompt_file} --root {dir} ${HOME} awk '{print $1}'"
env.AIDER_DARK_MODE = "true"
"#,
    );
    let agent = &settings.agents["claude"];
    let claude = crate::claude(agent);
    assert_eq!(agent.api_key_env(), Some("WORK_ANTHROPIC_KEY"));
    assert_eq!(agent.max_turns, Some(1000));
    assert_eq!(agent.max_output_tokens, Some(16_000));
    assert_eq!(agent.max_total_tokens, Some(3_000_000));
    assert_eq!(agent.timeout, Some(Duration::from_secs(45 * 60)));
    assert_eq!(
        claude.permission_mode,
        Some(PermissionMode::BypassPermissions)
    );
    assert!(claude.skip_permissions);
    assert_eq!(claude.args, ["--add-dir", "../docs", ""]);
    assert_eq!(
        *agent.env(),
        BTreeMap::from([
            (
                "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC".to_string(),
                "1".to_string()
            ),
            ("_X".to_string(), String::new()),
        ])
    );
    let agent = &settings.agents["codex"];
    assert_eq!(codex(agent).sandbox, Some(CodexSandbox::DangerFullAccess));
    assert_eq!(agent.timeout, Some(Duration::from_secs(90)));
    let local = &settings.agents["local"];
    assert_eq!((local.retries(), local.max_turns), (Some(0), Some(1)));
    let aider = &settings.agents["aider"];
    assert_eq!(aider.kind(), Backend::Command);
    assert_eq!(aider.env()["AIDER_DARK_MODE"], "true");
}

#[test]
fn enumerations_round_trip_their_names() {
    for mode in PermissionMode::ALL {
        assert_eq!(PermissionMode::from_name(mode.as_str()), Some(mode));
        let settings = parse(&format!(
            "[agents.c]\nbackend = \"claude\"\npermission_mode = \"{mode}\"\n"
        ));
        assert_eq!(claude(&settings.agents["c"]).permission_mode, Some(mode));
    }
    for sandbox in CodexSandbox::ALL {
        assert_eq!(CodexSandbox::from_name(sandbox.as_str()), Some(sandbox));
        let settings = parse(&format!(
            "[agents.c]\nbackend = \"codex\"\nsandbox = \"{sandbox}\"\n"
        ));
        assert_eq!(codex(&settings.agents["c"]).sandbox, Some(sandbox));
    }
    assert_eq!(PermissionMode::from_name("acceptedits"), None);
}

#[test]
fn skip_permissions_agrees_with_bypass_or_no_mode() {
    for extra in ["", "permission_mode = \"bypassPermissions\"\n"] {
        let settings = parse(&format!(
            "[agents.c]\nbackend = \"claude\"\nskip_permissions = true\n{extra}"
        ));
        assert!(claude(&settings.agents["c"]).skip_permissions);
    }
    // false never contradicts anything.
    let settings = parse(
        "[agents.c]\nbackend = \"claude\"\nskip_permissions = false\npermission_mode = \"plan\"\n",
    );
    assert!(!claude(&settings.agents["c"]).skip_permissions);
}

#[test]
fn command_templates_accept_each_placeholder_and_shell_syntax() {
    for command in [
        "agent {prompt}",
        "agent < {prompt_file}",
        "cd {dir} && agent --message {prompt}",
        "agent {prompt} ${MODEL_OVERRIDE:-x} | jq '{text: .out}'",
    ] {
        let text = format!("[agents.x]\nbackend = \"command\"\ncommand = \"{command}\"\n");
        let settings = parse(&text);
        assert_eq!(crate::command(&settings.agents["x"]).command, command);
    }
    let error =
        parse_err("[agents.x]\nbackend = \"command\"\ncommand = \"agent {prompt} {PROMPT}\"\n");
    assert_eq!(error.key(), Some("agents.x.command"));
    assert!(error.to_string().contains("{PROMPT}"), "{error}");
    assert!(
        error.to_string().contains("did you mean {prompt}?"),
        "{error}"
    );
}

#[test]
fn a_multi_line_command_is_blamed_on_its_first_line() {
    let error = parse_err(
        "[agents.x]\nbackend = \"command\"\ncommand = \"\"\"\nagent \\\n  {prompt} {nope}\"\"\"\n",
    );
    assert_eq!(error.line(), Some(3));
}

#[test]
fn overrides_reach_the_new_keys() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("gaffer.toml");
    std::fs::write(&path, "[agents.claude]\nbackend = \"claude\"\n").unwrap();
    let mut env = Overrides::new();
    env.push("agents.claude.max_turns", "12");
    env.push("agents.claude.permission_mode", "plan");
    let mut flags = Overrides::new();
    flags.push("agents.claude.timeout", "10m");
    flags.push("agents.claude.args", "[\"--verbose\"]");
    let settings = load(Some(&path), &env, &flags).unwrap();
    let agent = &settings.agents["claude"];
    assert_eq!(agent.max_turns, Some(12));
    assert_eq!(claude(agent).permission_mode, Some(PermissionMode::Plan));
    assert_eq!(agent.timeout, Some(Duration::from_secs(600)));
    assert_eq!(claude(agent).args, ["--verbose"]);

    let mut bad = Overrides::new();
    bad.push("agents.claude.max_turns", "0");
    let error = load(Some(&path), &Overrides::new(), &bad).unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with("--set agents.claude.max_turns: agents.claude.max_turns = 0"),
        "{error}"
    );
}

#[test]
fn new_keys_serialize_for_gaffer_config() {
    let settings = parse_str(
        "[agents.c]\nbackend = \"claude\"\ntimeout = \"1h\"\npermission_mode = \"acceptEdits\"\n\
         [agents.x]\nbackend = \"codex\"\nsandbox = \"read-only\"\n",
        std::path::Path::new("gaffer.toml"),
    )
    .unwrap();
    let json = serde_json::to_value(&settings).unwrap();
    let c = &json["agents"]["c"];
    assert_eq!(c["timeout"], "1h");
    assert_eq!(c["permission_mode"], "acceptEdits");
    assert_eq!(c["api_key_env"], "ANTHROPIC_API_KEY");
    assert_eq!(c["skip_permissions"], false);
    assert_eq!(c["retries"], serde_json::Value::Null);
    let x = &json["agents"]["x"];
    assert_eq!(x["sandbox"], "read-only");
    assert_eq!(x["timeout"], serde_json::Value::Null);
    assert_eq!(json["privacy"]["mode"], "any");
    assert_eq!(json["prices"], serde_json::json!({}));
}

#[test]
fn an_agent_may_need_machine_labels() {
    let settings = parse(
        r#"
[agents.local]
backend = "openai"
model = "qwen"
base_url = "http://127.0.0.1:11434/v1"
needs = ["gpu", " cuda", "gpu"]
[agents.claude]
backend = "claude"
"#,
    );
    assert_eq!(settings.agents["local"].needs, ["cuda", "gpu"]);
    assert!(settings.agents["claude"].needs.is_empty());
    let json = serde_json::to_value(&settings).unwrap();
    assert_eq!(
        json["agents"]["local"]["needs"],
        serde_json::json!(["cuda", "gpu"])
    );
    assert_eq!(json["agents"]["claude"]["needs"], serde_json::json!([]));
}

#[test]
fn a_needed_label_is_one_word() {
    let error = parse_err(
        "[agents.local]\nbackend = \"scripted\"\nscript = \"s.json\"\nneeds = [\"gpu\",\n  \"big gpu\"]\n",
    );
    assert_eq!(error.key(), Some("agents.local.needs"));
    assert_eq!(error.line(), Some(5), "{error}");
    let text = error.to_string();
    assert!(
        text.contains("agents.local.needs: `big gpu` is not a machine label"),
        "{text}"
    );
    assert!(text.contains("without spaces or commas"), "{text}");
    for bad in ["\"\"", "\"a,b\"", &format!("\"{}\"", "x".repeat(65))] {
        let error = parse_err(&format!(
            "[agents.x]\nbackend = \"scripted\"\nscript = \"s.json\"\nneeds = [{bad}]\n"
        ));
        assert!(
            error.to_string().contains("is not a machine label"),
            "{error}"
        );
    }
    let error =
        parse_err("[agents.x]\nbackend = \"scripted\"\nscript = \"s.json\"\nneeds = \"gpu\"\n");
    assert_eq!(error.key(), Some("agents.x.needs"), "{error}");
}

#[test]
fn needs_come_from_the_environment_as_a_list() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("gaffer.toml");
    std::fs::write(
        &path,
        "[agents.local-qwen]\nbackend = \"scripted\"\nscript = \"s.json\"\nneeds = [\"gpu\"]\n",
    )
    .unwrap();
    let env = Overrides::from_env([(
        "GAFFER_AGENTS__LOCAL_QWEN__NEEDS".to_string(),
        "gtk, gpu".to_string(),
    )]);
    let settings = load(Some(&path), &env, &Overrides::new()).unwrap();
    assert_eq!(settings.agents["local-qwen"].needs, ["gpu", "gtk"]);

    let mut flags = Overrides::new();
    flags.push("agents.local-qwen.needs", "two words");
    let error = load(Some(&path), &Overrides::new(), &flags).unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with("--set agents.local-qwen.needs: agents.local-qwen.needs: `two words`"),
        "{error}"
    );
}
