//! How gaffer runs Codex: its options and the command line and environment they give.

use crate::cli_agent::redacted_env;
use crate::event::RunRequest;
use crate::from_settings::{Build, env_pairs};
use gaffer_config::{AgentSettings, CodexSettings, OPENAI};
use gaffer_proc::CommandSpec;
use std::path::{Path, PathBuf};

/// The name of the model provider gaffer defines when a base URL is configured.
pub const PROVIDER_ID: &str = "gaffer";
/// The variable the API key is passed in unless `api_key_env` says otherwise.
pub const DEFAULT_API_KEY_ENV: &str = OPENAI.key_env;

/// Settings of the `codex` backend.
///
/// `model` is used when the run's request names none. With Codex 0.169.0, only models of its
/// catalog (`codex debug models`) get the `apply_patch` tool; another name still works, with a
/// warning and shell commands only.
#[derive(Clone, PartialEq)]
pub struct CodexOptions {
    /// The program to run (default `codex`, looked up in `PATH`).
    pub program: String,
    pub model: Option<String>,
    /// `--sandbox` (`read-only`, `workspace-write`, `danger-full-access`); default
    /// `workspace-write`.
    pub sandbox: String,
    /// The Responses API base URL (e.g. `http://127.0.0.1:8080/v1`). When set, or when
    /// `OPENAI_BASE_URL` is set in the environment, gaffer defines a custom model provider
    /// with it (`wire_api = "responses"`): Codex's built-in provider ignores `OPENAI_BASE_URL`.
    pub base_url: Option<String>,
    /// The API key, passed to Codex in the variable `api_key_env`; without it that variable
    /// passes through from gaffer's environment, if set there.
    pub api_key: Option<String>,
    /// The variable holding the API key (default `OPENAI_API_KEY`).
    pub api_key_env: Option<String>,
    /// Further `-c key=value` overrides; `value` is TOML (`"text"`, `0`, `true`, `[…]`).
    pub extra_config: Vec<(String, String)>,
    /// Further arguments, placed before the prompt.
    pub extra_args: Vec<String>,
    /// Further environment variables (they override gaffer's defaults).
    pub env: Vec<(String, String)>,
}

impl Default for CodexOptions {
    fn default() -> Self {
        CodexOptions {
            program: "codex".into(),
            model: None,
            sandbox: "workspace-write".into(),
            base_url: None,
            api_key: None,
            api_key_env: None,
            extra_config: Vec::new(),
            extra_args: Vec::new(),
            env: Vec::new(),
        }
    }
}

impl std::fmt::Debug for CodexOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CodexOptions")
            .field("program", &self.program)
            .field("model", &self.model)
            .field("sandbox", &self.sandbox)
            .field("base_url", &self.base_url)
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field("api_key_env", &self.api_key_env)
            .field("extra_config", &self.extra_config)
            .field("extra_args", &self.extra_args)
            .field("env", &redacted_env(&self.env))
            .finish()
    }
}

/// The backend of a `codex` agent.
pub(crate) fn from_settings(
    agent: &AgentSettings,
    own: &CodexSettings,
    at: &Build<'_>,
) -> super::CodexBackend {
    let mut options = CodexOptions {
        model: agent.model.clone(),
        base_url: agent
            .base_url
            .clone()
            .or_else(|| at.env.var(OPENAI.base_url_env)),
        api_key: at.api_key(&own.credentials),
        api_key_env: own.credentials.api_key_env.clone(),
        extra_args: own.args.clone(),
        env: env_pairs(&own.credentials),
        ..CodexOptions::default()
    };
    if let Some(sandbox) = own.sandbox {
        options.sandbox = sandbox.as_str().to_string();
    }
    super::CodexBackend::new(options)
}

impl CodexOptions {
    /// The model a run uses: the request's, else the configured one, else Codex's default
    /// (`None`).
    pub fn model_for(&self, request: &RunRequest) -> Option<String> {
        crate::cli_agent::model_for(request, self.model.as_ref())
    }

    /// `CODEX_HOME` for this agent: configuration, sessions and logs, per agent and project.
    pub fn home_dir(data_dir: &Path) -> PathBuf {
        data_dir.join("codex-home")
    }

    /// The temporary directory of one run (`TMPDIR`), inside the run's own directory: Codex's
    /// temporary files and its commands' stay apart from every other run's. It never contains
    /// `CODEX_HOME`, under which Codex refuses to create its helper commands (such as
    /// `apply_patch` for the shell).
    pub fn tmp_dir(run_dir: &Path) -> PathBuf {
        run_dir.join("tmp")
    }

    /// `codex resume <session>` as a person runs it in the task's worktree: with the
    /// `CODEX_HOME` that holds the session, the provider (endpoint and the variable its key is
    /// read from) and the model the runs used.
    pub fn by_hand(&self, session: &str, data_dir: &Path) -> crate::ByHand {
        let mut args = vec!["resume".to_string(), session.to_string()];
        if let Some(model) = &self.model {
            args.extend(["--model".to_string(), model.clone()]);
        }
        if let Some(url) = &self.base_url {
            let provider = format!("model_providers.{PROVIDER_ID}");
            let key_env = self.api_key_env.as_deref().unwrap_or(DEFAULT_API_KEY_ENV);
            for (key, value) in [
                ("model_provider".to_string(), PROVIDER_ID),
                (format!("{provider}.name"), PROVIDER_ID),
                (format!("{provider}.base_url"), url.as_str()),
                (format!("{provider}.wire_api"), "responses"),
                (format!("{provider}.env_key"), key_env),
            ] {
                args.extend(["-c".to_string(), format!("{key}={}", toml_string(value))]);
            }
        }
        crate::ByHand {
            env: vec![(
                "CODEX_HOME".to_string(),
                Self::home_dir(data_dir).display().to_string(),
            )],
            program: self.program.clone(),
            args,
        }
    }

    /// The command for one run, with gaffer's own environment as inherited.
    pub fn command(&self, request: &RunRequest) -> CommandSpec {
        let env = crate::edge::Environment::Process;
        self.command_with(request, |name| env.var(name))
    }

    /// The command for one run, `inherited` giving gaffer's environment variables.
    pub fn command_with(
        &self,
        request: &RunRequest,
        inherited: impl Fn(&str) -> Option<String>,
    ) -> CommandSpec {
        // What the child will see: gaffer's environment, then the options', then the run's.
        let lookup = |name: &str| -> Option<String> {
            self.env
                .iter()
                .chain(request.env.iter())
                .rev()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
                .or_else(|| inherited(name))
                .filter(|v| !v.is_empty())
        };
        let key_env = self
            .api_key_env
            .clone()
            .unwrap_or_else(|| DEFAULT_API_KEY_ENV.to_string());

        let mut config: Vec<(String, String)> = Vec::new();
        let base_url = self
            .base_url
            .clone()
            .or_else(|| lookup(OPENAI.base_url_env));
        if let Some(url) = base_url {
            let provider = format!("model_providers.{PROVIDER_ID}");
            config.push(("model_provider".into(), toml_string(PROVIDER_ID)));
            config.push((format!("{provider}.name"), toml_string(PROVIDER_ID)));
            config.push((format!("{provider}.base_url"), toml_string(&url)));
            config.push((format!("{provider}.wire_api"), toml_string("responses")));
            if self.api_key.is_some() || lookup(&key_env).is_some() {
                config.push((format!("{provider}.env_key"), toml_string(&key_env)));
            }
        }
        if !request.system_prompt.trim().is_empty() {
            config.push((
                "developer_instructions".into(),
                toml_string(&request.system_prompt),
            ));
        }
        config.extend(self.extra_config.iter().cloned());

        // Codex's own sandbox cannot work inside gaffer's: nested in bubblewrap's user namespace
        // without capabilities, its workspace-write sandbox fails every write ("Failed to write
        // file"). Inside gaffer's sandbox, which already confines it to the worktree (or, for a
        // reviewer, to reading it), Codex runs with `danger-full-access`; an explicit
        // `read-only` is kept.
        let sandbox = if request.confine.is_sandboxed() && self.sandbox != "read-only" {
            "danger-full-access".to_string()
        } else {
            self.sandbox.clone()
        };
        let mut args: Vec<String> = vec!["exec".into()];
        let resume = request.resume_session.as_ref();
        if resume.is_some() {
            args.push("resume".into());
        }
        args.extend(["--json".into(), "--skip-git-repo-check".into()]);
        if resume.is_some() {
            // `exec resume` has no `--sandbox`; the setting is the same.
            args.extend([
                "-c".into(),
                format!("sandbox_mode={}", toml_string(&sandbox)),
            ]);
        } else {
            args.extend(["--sandbox".into(), sandbox]);
        }
        if let Some(model) = self.model_for(request) {
            args.extend(["--model".into(), model]);
        }
        for (key, value) in &config {
            args.extend(["-c".into(), format!("{key}={value}")]);
        }
        args.extend(self.extra_args.iter().cloned());
        // `--` so that a prompt starting with `-` is not read as an option.
        args.push("--".into());
        if let Some(thread) = resume {
            args.push(thread.clone());
        }
        args.push(request.prompt.clone());

        let home = Self::home_dir(&request.data_dir);
        let tmp = Self::tmp_dir(&request.run_dir);
        let mut env: Vec<(String, String)> = vec![
            ("CODEX_HOME".into(), home.display().to_string()),
            ("TMPDIR".into(), tmp.display().to_string()),
        ];
        if let Some(key) = &self.api_key {
            env.push((key_env, key.clone()));
        }
        env.extend(self.env.iter().cloned());
        env.extend(request.env.iter().cloned());

        CommandSpec::new(&self.program, &request.worktree)
            .args(args)
            .envs(env)
            .timeout(request.max_wall)
    }
}

/// `s` as a one-line TOML basic string (what `-c key=value` expects for text).
fn toml_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toml_strings_read_back_as_the_same_text() {
        for text in [
            "plain",
            "quote \" and \\ backslash",
            "two\nlines\ttab",
            "bell \u{7} é ✓",
        ] {
            let doc = format!("v = {}", toml_string(text));
            let value: toml::Table = toml::from_str(&doc).unwrap();
            assert_eq!(value["v"].as_str(), Some(text), "{doc}");
            assert!(!toml_string(text).contains('\n'));
        }
    }

    #[test]
    fn a_session_is_resumed_by_hand_in_its_codex_home_with_its_provider() {
        let options = CodexOptions {
            base_url: Some("http://127.0.0.1:9/v1".into()),
            api_key: Some("sk-secret".into()),
            api_key_env: Some("MY_KEY".into()),
            ..CodexOptions::default()
        };
        let line = options
            .by_hand("019a-thread", Path::new("/data/codex"))
            .shell_line();
        assert!(
            line.starts_with("CODEX_HOME=/data/codex/codex-home codex resume 019a-thread -c "),
            "{line}"
        );
        assert!(
            line.contains("'model_providers.gaffer.base_url=\"http://127.0.0.1:9/v1\"'"),
            "{line}"
        );
        assert!(line.contains("env_key=\"MY_KEY\""), "{line}");
        assert!(!line.contains("sk-secret"), "{line}");
        let plain = CodexOptions::default().by_hand("t", Path::new("/d"));
        assert_eq!(
            plain.shell_line(),
            "CODEX_HOME=/d/codex-home codex resume t"
        );
    }
}
