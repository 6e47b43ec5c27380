//! The command line and environment the `codex` backend gives Codex.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use gaffer_agents::RunRequest;
use gaffer_agents::codex::CodexOptions;
use gaffer_core::Role;
use std::path::{Path, PathBuf};
use std::time::Duration;

fn request(data_dir: &Path) -> RunRequest {
    RunRequest {
        role: Role::Coder,
        prompt: "-fix the parser".into(),
        system_prompt: "Be careful.\nSay \"done\".".into(),
        worktree: PathBuf::from("/work/tree"),
        model: "gpt-5.5".into(),
        resume_session: None,
        env: vec![("GAFFER_RUN".into(), "7".into())],
        max_wall: Duration::from_secs(600),
        script_key: String::new(),
        attempt: 0,
        data_dir: data_dir.to_path_buf(),
        run_dir: PathBuf::from("/runs/7/agent"),
        confine: Default::default(),
    }
}

fn env_of(spec: &gaffer_proc::CommandSpec, key: &str) -> Option<String> {
    spec.env
        .iter()
        .rev()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.clone())
}

/// The values of every `-c` override, in order.
fn overrides(args: &[String]) -> Vec<String> {
    args.windows(2)
        .filter(|w| w[0] == "-c")
        .map(|w| w[1].clone())
        .collect()
}

fn no_env(_: &str) -> Option<String> {
    None
}

#[test]
fn a_new_run_uses_exec_with_the_prompt_last() {
    let spec = CodexOptions::default().command_with(&request(Path::new("/data/codex")), no_env);
    assert_eq!(spec.program, "codex");
    assert_eq!(spec.cwd, PathBuf::from("/work/tree"));
    assert_eq!(spec.timeout, Some(Duration::from_secs(600)));
    assert_eq!(
        spec.args,
        [
            "exec",
            "--json",
            "--skip-git-repo-check",
            "--sandbox",
            "workspace-write",
            "--model",
            "gpt-5.5",
            "-c",
            "developer_instructions=\"Be careful.\\nSay \\\"done\\\".\"",
            "--",
            "-fix the parser",
        ]
    );
    assert_eq!(
        env_of(&spec, "CODEX_HOME").as_deref(),
        Some("/data/codex/codex-home")
    );
    assert_eq!(
        env_of(&spec, "TMPDIR").as_deref(),
        Some("/runs/7/agent/tmp")
    );
    assert_eq!(env_of(&spec, "GAFFER_RUN").as_deref(), Some("7"));
}

#[test]
fn a_resumed_run_names_the_thread_and_sets_the_sandbox_by_config() {
    let mut req = request(Path::new("/data/codex"));
    req.resume_session = Some("01a1fc5f-d9c8".into());
    req.system_prompt = String::new();
    let options = CodexOptions {
        sandbox: "danger-full-access".into(),
        ..CodexOptions::default()
    };
    let spec = options.command_with(&req, no_env);
    assert_eq!(
        spec.args,
        [
            "exec",
            "resume",
            "--json",
            "--skip-git-repo-check",
            "-c",
            "sandbox_mode=\"danger-full-access\"",
            "--model",
            "gpt-5.5",
            "--",
            "01a1fc5f-d9c8",
            "-fix the parser",
        ]
    );
}

#[test]
fn a_base_url_becomes_a_custom_responses_provider() {
    let options = CodexOptions {
        base_url: Some("http://127.0.0.1:9/v1".into()),
        api_key: Some("sk-test".into()),
        api_key_env: Some("MOCK_KEY".into()),
        extra_config: vec![(
            "model_providers.gaffer.request_max_retries".into(),
            "0".into(),
        )],
        extra_args: vec!["--ephemeral".into()],
        ..CodexOptions::default()
    };
    let spec = options.command_with(&request(Path::new("/data/codex")), no_env);
    assert_eq!(
        overrides(&spec.args),
        [
            "model_provider=\"gaffer\"",
            "model_providers.gaffer.name=\"gaffer\"",
            "model_providers.gaffer.base_url=\"http://127.0.0.1:9/v1\"",
            "model_providers.gaffer.wire_api=\"responses\"",
            "model_providers.gaffer.env_key=\"MOCK_KEY\"",
            "developer_instructions=\"Be careful.\\nSay \\\"done\\\".\"",
            "model_providers.gaffer.request_max_retries=0",
        ]
    );
    assert_eq!(env_of(&spec, "MOCK_KEY").as_deref(), Some("sk-test"));
    let tail = &spec.args[spec.args.len() - 3..];
    assert_eq!(tail, ["--ephemeral", "--", "-fix the parser"]);
}

#[test]
fn openai_base_url_in_the_environment_also_becomes_the_provider() {
    let inherited = |name: &str| match name {
        "OPENAI_BASE_URL" => Some("http://10.0.0.5:8000/v1".to_string()),
        _ => None,
    };
    let spec = CodexOptions::default().command_with(&request(Path::new("/data/codex")), inherited);
    let config = overrides(&spec.args);
    assert!(config.contains(&"model_providers.gaffer.base_url=\"http://10.0.0.5:8000/v1\"".into()));
    // No key anywhere: the provider sends none.
    assert!(!config.iter().any(|c| c.contains("env_key")));

    // A key in gaffer's environment is named, not copied.
    let with_key = |name: &str| match name {
        "OPENAI_BASE_URL" => Some("http://10.0.0.5:8000/v1".to_string()),
        "OPENAI_API_KEY" => Some("sk-env".to_string()),
        _ => None,
    };
    let spec = CodexOptions::default().command_with(&request(Path::new("/data/codex")), with_key);
    assert!(
        overrides(&spec.args).contains(&"model_providers.gaffer.env_key=\"OPENAI_API_KEY\"".into())
    );
    assert_eq!(env_of(&spec, "OPENAI_API_KEY"), None);

    // The run's environment counts too, and wins.
    let mut req = request(Path::new("/data/codex"));
    req.env
        .push(("OPENAI_BASE_URL".into(), "http://run.local/v1".into()));
    let spec = CodexOptions::default().command_with(&req, inherited);
    assert!(
        overrides(&spec.args)
            .contains(&"model_providers.gaffer.base_url=\"http://run.local/v1\"".into())
    );
}

#[test]
fn each_run_has_its_own_temporary_directory_apart_from_codex_home() {
    // gaffer's own TMPDIR holds the data directory: Codex must not be given it.
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("agents/codex");
    let inherited = |name: &str| match name {
        "TMPDIR" => Some(tmp.path().display().to_string()),
        _ => None,
    };
    let mut first = request(&data);
    first.run_dir = tmp.path().join("runs/1/agent");
    let mut second = request(&data);
    second.run_dir = tmp.path().join("runs/2/agent");
    let tmp_of = |req: &RunRequest| {
        let spec = CodexOptions::default().command_with(req, inherited);
        let home = PathBuf::from(env_of(&spec, "CODEX_HOME").unwrap());
        let given = PathBuf::from(env_of(&spec, "TMPDIR").unwrap());
        assert!(!home.starts_with(&given), "{home:?} in {given:?}");
        given
    };
    assert_eq!(tmp_of(&first), tmp.path().join("runs/1/agent/tmp"));
    assert_eq!(tmp_of(&first), CodexOptions::tmp_dir(&first.run_dir));
    assert_eq!(tmp_of(&second), tmp.path().join("runs/2/agent/tmp"));

    // A TMPDIR set in the agent's options is the user's choice and wins.
    let options = CodexOptions {
        env: vec![("TMPDIR".into(), "/var/tmp/mine".into())],
        ..CodexOptions::default()
    };
    let spec = options.command_with(&first, inherited);
    assert_eq!(env_of(&spec, "TMPDIR").as_deref(), Some("/var/tmp/mine"));
}

#[test]
fn debug_output_hides_the_api_key() {
    let options = CodexOptions {
        api_key: Some("sk-secret".into()),
        ..CodexOptions::default()
    };
    assert!(!format!("{options:?}").contains("secret"));
}
