//! The command line and environment the `claude` backend gives Claude Code.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use gaffer_agents::RunRequest;
use gaffer_agents::claude::ClaudeOptions;
use gaffer_core::Role;
use std::path::PathBuf;
use std::time::Duration;

fn request() -> RunRequest {
    RunRequest {
        role: Role::Coder,
        prompt: "-fix the parser".into(),
        system_prompt: "You are a careful coder.".into(),
        worktree: PathBuf::from("/work/tree"),
        model: String::new(),
        resume_session: None,
        env: vec![("GAFFER_RUN".into(), "7".into())],
        max_wall: Duration::from_secs(600),
        script_key: String::new(),
        attempt: 0,
        data_dir: PathBuf::from("/data/agents/claude"),
        run_dir: PathBuf::from("/data/runs/1"),
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

#[test]
fn a_new_run_in_print_mode_reading_its_conversation_from_standard_input() {
    let spec = ClaudeOptions::default().command(&request(), false);
    assert_eq!(spec.program, "claude");
    assert_eq!(spec.cwd, PathBuf::from("/work/tree"));
    assert_eq!(spec.timeout, Some(Duration::from_secs(600)));
    assert_eq!(
        spec.args,
        [
            "-p",
            "--input-format",
            "stream-json",
            "--output-format",
            "stream-json",
            "--verbose",
            "--replay-user-messages",
            "--append-system-prompt",
            "You are a careful coder.",
        ]
    );
    assert_eq!(
        env_of(&spec, "CLAUDE_CONFIG_DIR").as_deref(),
        Some("/data/agents/claude/claude-config")
    );
    assert_eq!(
        env_of(&spec, "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC").as_deref(),
        Some("1")
    );
    assert_eq!(env_of(&spec, "DISABLE_AUTOUPDATER").as_deref(), Some("1"));
    assert_eq!(env_of(&spec, "GAFFER_RUN").as_deref(), Some("7"));
    assert_eq!(env_of(&spec, "ANTHROPIC_BASE_URL"), None);
    assert_eq!(env_of(&spec, "IS_SANDBOX"), None);
    assert_eq!(env_of(&spec, "CLAUDE_CODE_MAX_RETRIES"), None);
}

#[test]
fn every_option_reaches_the_command_line() {
    let options = ClaudeOptions {
        program: "/opt/claude".into(),
        model: Some("claude-sonnet-4-5".into()),
        permission_mode: Some("acceptEdits".into()),
        base_url: Some("http://127.0.0.1:9/".into()),
        api_key: Some("sk-test".into()),
        max_turns: Some(30),
        max_retries: Some(0),
        extra_args: vec!["--add-dir".into(), "/shared".into()],
        env: vec![("DISABLE_AUTOUPDATER".into(), "0".into())],
        ..ClaudeOptions::default()
    };
    let mut req = request();
    req.resume_session = Some("session-1".into());
    req.system_prompt = String::new();
    let spec = options.command(&req, true);
    assert_eq!(spec.program, "/opt/claude");
    assert_eq!(
        spec.args,
        [
            "-p",
            "--input-format",
            "stream-json",
            "--output-format",
            "stream-json",
            "--verbose",
            "--replay-user-messages",
            "--model",
            "claude-sonnet-4-5",
            "--resume",
            "session-1",
            "--permission-mode",
            "acceptEdits",
            "--max-turns",
            "30",
            "--add-dir",
            "/shared",
        ]
    );
    assert_eq!(
        env_of(&spec, "ANTHROPIC_BASE_URL").as_deref(),
        Some("http://127.0.0.1:9/")
    );
    assert_eq!(
        env_of(&spec, "ANTHROPIC_API_KEY").as_deref(),
        Some("sk-test")
    );
    assert_eq!(
        env_of(&spec, "CLAUDE_CODE_MAX_RETRIES").as_deref(),
        Some("0")
    );
    // The options' environment overrides gaffer's defaults.
    assert_eq!(env_of(&spec, "DISABLE_AUTOUPDATER").as_deref(), Some("0"));
    // acceptEdits does not need the root override.
    assert_eq!(env_of(&spec, "IS_SANDBOX"), None);
}

#[test]
fn the_request_model_wins_over_the_configured_one() {
    let options = ClaudeOptions {
        model: Some("configured".into()),
        ..ClaudeOptions::default()
    };
    let mut req = request();
    assert_eq!(options.model_for(&req).as_deref(), Some("configured"));
    req.model = "requested".into();
    assert_eq!(options.model_for(&req).as_deref(), Some("requested"));
    assert_eq!(ClaudeOptions::default().model_for(&request()), None);
}

#[test]
fn skipping_permissions_as_root_declares_a_sandbox() {
    let options = ClaudeOptions {
        skip_permissions: true,
        permission_mode: Some("plan".into()),
        ..ClaudeOptions::default()
    };
    let spec = options.command(&request(), true);
    assert!(
        spec.args
            .contains(&"--dangerously-skip-permissions".to_string())
    );
    assert!(!spec.args.contains(&"--permission-mode".to_string()));
    assert_eq!(env_of(&spec, "IS_SANDBOX").as_deref(), Some("1"));
    // Not as another user.
    assert_eq!(
        env_of(&options.command(&request(), false), "IS_SANDBOX"),
        None
    );
    // bypassPermissions is refused as root the same way.
    let bypass = ClaudeOptions {
        permission_mode: Some("bypassPermissions".into()),
        ..ClaudeOptions::default()
    };
    assert_eq!(
        env_of(&bypass.command(&request(), true), "IS_SANDBOX").as_deref(),
        Some("1")
    );
}

#[test]
fn debug_output_hides_the_api_key() {
    let options = ClaudeOptions {
        api_key: Some("sk-secret".into()),
        env: vec![
            ("MY_TOKEN".into(), "t-secret".into()),
            ("LANG".into(), "C".into()),
        ],
        ..ClaudeOptions::default()
    };
    let shown = format!("{options:?}");
    assert!(!shown.contains("secret"), "{shown}");
    assert!(shown.contains("LANG"));
}

/// `gaffer attach` prints how to go on with a session by hand: the configuration directory
/// that holds it, the endpoint and model the runs used, quoted for a shell; never the key.
#[test]
fn a_session_is_resumed_by_hand_with_the_runs_environment_and_no_key() {
    let options = ClaudeOptions {
        model: Some("claude-sonnet-4-5".into()),
        base_url: Some("http://127.0.0.1:9/anthropic".into()),
        api_key: Some("sk-secret-key".into()),
        ..ClaudeOptions::default()
    };
    let hand = options.by_hand("0af6-83f9", std::path::Path::new("/data/my agent"));
    assert_eq!(
        hand.shell_line(),
        "CLAUDE_CONFIG_DIR='/data/my agent/claude-config' \
         ANTHROPIC_BASE_URL=http://127.0.0.1:9/anthropic claude --resume 0af6-83f9 \
         --model claude-sonnet-4-5"
    );
    assert!(!hand.shell_line().contains("sk-secret"));
    // An agent whose env table moves Claude Code's directory keeps it where it said.
    let moved = ClaudeOptions {
        env: vec![("CLAUDE_CONFIG_DIR".into(), "/elsewhere".into())],
        ..ClaudeOptions::default()
    };
    assert_eq!(
        moved.by_hand("s", std::path::Path::new("/d")).shell_line(),
        "claude --resume s"
    );
}
