//! How gaffer runs Claude Code: its options and the command line and environment they give.

use crate::cli_agent::redacted_env;
use crate::event::RunRequest;
use crate::from_settings::{Build, env_pairs};
use gaffer_config::{ANTHROPIC, AgentSettings, ClaudeSettings};
use gaffer_proc::CommandSpec;
use std::path::{Path, PathBuf};

/// The permission mode that skips every prompt, like `--dangerously-skip-permissions`.
const BYPASS_MODE: &str = "bypassPermissions";

/// Settings of the `claude` backend.
///
/// `model` is used when the run's request names none. With neither `skip_permissions` nor a
/// `permission_mode`, Claude Code's default mode applies, in which print mode refuses edits it
/// would have asked about; set one of them for unattended work.
#[derive(Clone, PartialEq)]
pub struct ClaudeOptions {
    /// The program to run (default `claude`, looked up in `PATH`).
    pub program: String,
    pub model: Option<String>,
    /// `--permission-mode` (`acceptEdits`, `bypassPermissions`, `plan`, `default`…), unless
    /// `skip_permissions` is set.
    pub permission_mode: Option<String>,
    /// `--dangerously-skip-permissions`: every tool runs without asking. When gaffer runs as
    /// root, gaffer also sets `IS_SANDBOX=1`, without which the CLI refuses.
    pub skip_permissions: bool,
    /// `ANTHROPIC_BASE_URL` for the CLI: the agent's `base_url`, else the variable as gaffer's
    /// own environment has it (read when the agent is built).
    pub base_url: Option<String>,
    /// `ANTHROPIC_API_KEY` for the CLI: the key read from the variable the agent's
    /// `api_key_env` names.
    pub api_key: Option<String>,
    /// `--max-turns`.
    pub max_turns: Option<u32>,
    /// `CLAUDE_CODE_MAX_RETRIES`: how often the CLI retries a failed API call (its default
    /// when unset).
    pub max_retries: Option<u32>,
    /// Further arguments, placed before the prompt.
    pub extra_args: Vec<String>,
    /// Further environment variables (they override gaffer's defaults).
    pub env: Vec<(String, String)>,
}

impl Default for ClaudeOptions {
    fn default() -> Self {
        ClaudeOptions {
            program: "claude".into(),
            model: None,
            permission_mode: None,
            skip_permissions: false,
            base_url: None,
            api_key: None,
            max_turns: None,
            max_retries: None,
            extra_args: Vec::new(),
            env: Vec::new(),
        }
    }
}

impl std::fmt::Debug for ClaudeOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClaudeOptions")
            .field("program", &self.program)
            .field("model", &self.model)
            .field("permission_mode", &self.permission_mode)
            .field("skip_permissions", &self.skip_permissions)
            .field("base_url", &self.base_url)
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field("max_turns", &self.max_turns)
            .field("max_retries", &self.max_retries)
            .field("extra_args", &self.extra_args)
            .field("env", &redacted_env(&self.env))
            .finish()
    }
}

/// The backend of a `claude` agent.
pub(crate) fn from_settings(
    agent: &AgentSettings,
    own: &ClaudeSettings,
    at: &Build<'_>,
) -> super::ClaudeBackend {
    super::ClaudeBackend::new(ClaudeOptions {
        model: agent.model.clone(),
        permission_mode: own.permission_mode.map(|m| m.as_str().to_string()),
        skip_permissions: own.skip_permissions,
        // gaffer's sandbox gives the CLI a clean environment: a base URL set for gaffer
        // (a gateway, a proxy) must be handed on explicitly, as for Codex.
        base_url: agent
            .base_url
            .clone()
            .or_else(|| at.env.var(ANTHROPIC.base_url_env)),
        api_key: at.api_key(&own.credentials),
        max_turns: agent.max_turns,
        extra_args: own.args.clone(),
        env: env_pairs(&own.credentials),
        ..ClaudeOptions::default()
    })
}

impl ClaudeOptions {
    /// The model a run uses: the request's, else the configured one, else the CLI's default
    /// (`None`).
    pub fn model_for(&self, request: &RunRequest) -> Option<String> {
        crate::cli_agent::model_for(request, self.model.as_ref())
    }

    /// Whether Claude Code keeps its sessions where gaffer put them ([`Self::config_dir`]): the
    /// agent's `env` table may name another `CLAUDE_CONFIG_DIR`.
    pub fn config_dir_is_gaffers(&self) -> bool {
        !self.env.iter().any(|(k, _)| k == "CLAUDE_CONFIG_DIR")
    }

    /// The directory Claude Code keeps its configuration and sessions in for this agent.
    pub fn config_dir(data_dir: &Path) -> PathBuf {
        data_dir.join("claude-config")
    }

    /// `claude --resume <session>` as a person runs it in the task's worktree: with the
    /// configuration directory that holds the session, the endpoint and model the runs used.
    pub fn by_hand(&self, session: &str, data_dir: &Path) -> crate::ByHand {
        let mut env = Vec::new();
        if self.config_dir_is_gaffers() {
            env.push((
                "CLAUDE_CONFIG_DIR".to_string(),
                Self::config_dir(data_dir).display().to_string(),
            ));
        }
        if let Some(url) = &self.base_url {
            env.push((ANTHROPIC.base_url_env.to_string(), url.clone()));
        }
        let mut args = vec!["--resume".to_string(), session.to_string()];
        if let Some(model) = &self.model {
            args.extend(["--model".to_string(), model.clone()]);
        }
        crate::ByHand {
            env,
            program: self.program.clone(),
            args,
        }
    }

    /// The command for one run (`running_as_root` decides `IS_SANDBOX`). Its prompt is not on
    /// the command line: it is the first line of standard input ([`user_message`]).
    pub fn command(&self, request: &RunRequest, running_as_root: bool) -> CommandSpec {
        // The conversation comes on standard input (the prompt, then what people say while
        // the run goes on, see [`user_message`]), each message replayed on standard output
        // when the agent takes it into its conversation.
        let mut args: Vec<String> = vec![
            "-p".into(),
            "--input-format".into(),
            "stream-json".into(),
            "--output-format".into(),
            "stream-json".into(),
            "--verbose".into(),
            "--replay-user-messages".into(),
        ];
        if let Some(model) = self.model_for(request) {
            args.extend(["--model".into(), model]);
        }
        if let Some(session) = &request.resume_session {
            args.extend(["--resume".into(), session.clone()]);
        }
        // Inside gaffer's sandbox the agent can only change its worktree (a reviewer's or a
        // planner's not even that), so unless the agent's settings say otherwise it works
        // without asking: print mode has nobody to ask, and would refuse every edit.
        let confined_bypass = self.permission_mode.is_none() && request.confine.is_sandboxed();
        if self.skip_permissions || confined_bypass {
            args.push("--dangerously-skip-permissions".into());
        } else if let Some(mode) = &self.permission_mode {
            args.extend(["--permission-mode".into(), mode.clone()]);
        }
        if !request.system_prompt.trim().is_empty() {
            args.extend([
                "--append-system-prompt".into(),
                request.system_prompt.clone(),
            ]);
        }
        if let Some(turns) = self.max_turns {
            args.extend(["--max-turns".into(), turns.to_string()]);
        }
        args.extend(self.extra_args.iter().cloned());

        let mut env: Vec<(String, String)> = vec![
            (
                "CLAUDE_CONFIG_DIR".into(),
                Self::config_dir(&request.data_dir).display().to_string(),
            ),
            (
                "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC".into(),
                "1".into(),
            ),
            ("DISABLE_AUTOUPDATER".into(), "1".into()),
        ];
        if let Some(url) = &self.base_url {
            env.push((ANTHROPIC.base_url_env.into(), url.clone()));
        }
        if let Some(key) = &self.api_key {
            env.push((ANTHROPIC.key_env.into(), key.clone()));
        }
        if let Some(retries) = self.max_retries {
            env.push(("CLAUDE_CODE_MAX_RETRIES".into(), retries.to_string()));
        }
        let bypass = self.skip_permissions
            || confined_bypass
            || self.permission_mode.as_deref() == Some(BYPASS_MODE);
        if running_as_root && bypass {
            env.push(("IS_SANDBOX".into(), "1".into()));
        }
        env.extend(self.env.iter().cloned());
        env.extend(request.env.iter().cloned());

        CommandSpec::new(&self.program, &request.worktree)
            .args(args)
            .envs(env)
            .timeout(request.max_wall)
    }
}

/// One user message as a line of Claude Code's `--input-format stream-json`: how a run's prompt
/// and a person's message reach it on standard input.
pub fn user_message(text: &str) -> String {
    serde_json::json!({
        "type": "user",
        "message": { "role": "user", "content": text },
    })
    .to_string()
}
