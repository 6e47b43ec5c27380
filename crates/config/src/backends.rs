//! Every agent backend in one table ([`BACKENDS`]): its name in `gaffer.toml`, the provider
//! it talks to (family, key variable, endpoint and the provider's other environment
//! variables), how it runs, and the keys of `[agents.<name>]` it reads beyond the common ones.
//!
//! Everything that depends on "which backend" without needing the backend's code reads this
//! table: the checks of `[agents.<name>]` (which keys belong to which backends, what each
//! needs), the defaults of `family` and `api_key_env`, privacy (the public endpoint of an
//! agent without `base_url`), and, in the agents crate, where a run's model lives and which
//! environment variables the edge reads.

use std::fmt;

use serde::Serialize;

/// How an agent is run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    /// The Claude Code CLI.
    Claude,
    /// The Codex CLI.
    Codex,
    /// gaffer's own agent loop over an OpenAI-compatible chat-completions API.
    Openai,
    /// gaffer's own agent loop over the Anthropic Messages API.
    Anthropic,
    /// Any other agent CLI, through `command`.
    Command,
    /// A scripted agent replaying `script`; for tests and `gaffer demo`.
    Scripted,
}

/// A model provider and the environment variables its tools read.
#[derive(Debug, PartialEq, Eq)]
pub struct Provider {
    /// Also the default family of the agents that use it.
    pub name: &'static str,
    /// The variable holding the API key, unless an agent's `api_key_env` names another.
    pub key_env: &'static str,
    /// The variable that points its tools at another endpoint.
    pub base_url_env: &'static str,
    /// The variable naming the model of a one-off run of gaffer's own loop.
    pub model_env: &'static str,
    /// The public API, called when nothing names another endpoint.
    pub endpoint: &'static str,
    /// The model of a one-off run of gaffer's own loop when nothing names one.
    pub default_model: &'static str,
}

/// Anthropic's API.
pub const ANTHROPIC: Provider = Provider {
    name: "anthropic",
    key_env: "ANTHROPIC_API_KEY",
    base_url_env: "ANTHROPIC_BASE_URL",
    model_env: "ANTHROPIC_MODEL",
    endpoint: "https://api.anthropic.com",
    default_model: "claude-sonnet-4-5",
};

/// OpenAI's API.
pub const OPENAI: Provider = Provider {
    name: "openai",
    key_env: "OPENAI_API_KEY",
    base_url_env: "OPENAI_BASE_URL",
    model_env: "OPENAI_MODEL",
    endpoint: "https://api.openai.com/v1",
    default_model: "gpt-4o-mini",
};

/// Where an agent's work happens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Runs {
    /// A CLI process of its own: this program, looked up in the agent's `PATH`.
    Cli(&'static str),
    /// A CLI process started from the agent's `command` template.
    Template,
    /// Inside gaffer's own process (its agent loop, a script).
    InProcess,
}

/// One row of [`BACKENDS`].
#[derive(Debug)]
pub struct BackendInfo {
    pub backend: Backend,
    /// The name used in `gaffer.toml`.
    pub name: &'static str,
    /// The provider it calls; `None` when gaffer cannot know (`command`) or there is none.
    pub provider: Option<&'static Provider>,
    pub runs: Runs,
    /// The keys of `[agents.<name>]` beyond the common ones (`model`, `family`, `base_url`,
    /// `max_turns`, `max_output_tokens`, `max_total_tokens`, `timeout`, `needs`) that it reads.
    pub keys: &'static [&'static str],
    /// Keys it cannot do without, each with an example value for the hint.
    pub needs: &'static [(&'static str, &'static str)],
    /// For a CLI backend: the oldest version of the CLI (as its `--version` prints it) whose
    /// output gaffer was measured against; older ones are refused by `gaffer doctor`.
    pub min_cli_version: Option<(u32, u32, u32)>,
}

/// Every backend, in documentation order. Adding a backend starts with a row here.
pub const BACKENDS: [BackendInfo; 6] = [
    BackendInfo {
        backend: Backend::Claude,
        name: "claude",
        provider: Some(&ANTHROPIC),
        runs: Runs::Cli("claude"),
        keys: &[
            "api_key_env",
            "permission_mode",
            "skip_permissions",
            "args",
            "env",
        ],
        needs: &[],
        min_cli_version: Some((2, 1, 0)),
    },
    BackendInfo {
        backend: Backend::Codex,
        name: "codex",
        provider: Some(&OPENAI),
        runs: Runs::Cli("codex"),
        keys: &["api_key_env", "sandbox", "args", "env"],
        needs: &[],
        min_cli_version: Some((0, 169, 0)),
    },
    BackendInfo {
        backend: Backend::Openai,
        name: "openai",
        provider: Some(&OPENAI),
        runs: Runs::InProcess,
        keys: &["api_key_env", "env", "retries"],
        needs: &[("model", "\"<model name>\"")],
        min_cli_version: None,
    },
    BackendInfo {
        backend: Backend::Anthropic,
        name: "anthropic",
        provider: Some(&ANTHROPIC),
        runs: Runs::InProcess,
        keys: &["api_key_env", "env", "retries"],
        needs: &[("model", "\"<model name>\"")],
        min_cli_version: None,
    },
    BackendInfo {
        backend: Backend::Command,
        name: "command",
        provider: None,
        runs: Runs::Template,
        keys: &["command", "api_key_env", "env"],
        needs: &[("command", "\"my-agent --model {model} {prompt}\"")],
        min_cli_version: None,
    },
    BackendInfo {
        backend: Backend::Scripted,
        name: "scripted",
        provider: None,
        runs: Runs::InProcess,
        keys: &["script"],
        needs: &[("script", "\"path/to/script.json\"")],
        min_cli_version: None,
    },
];

impl Backend {
    /// Every backend, in documentation order.
    pub const ALL: [Backend; 6] = {
        let mut all = [Backend::Claude; 6];
        let mut i = 0;
        while i < BACKENDS.len() {
            all[i] = BACKENDS[i].backend;
            i += 1;
        }
        all
    };

    /// Its row of [`BACKENDS`].
    pub fn info(self) -> &'static BackendInfo {
        // Every variant has its row: `table_rows_are_in_variant_order` checks it.
        &BACKENDS[self as usize]
    }

    /// The name used in `gaffer.toml`.
    pub fn as_str(self) -> &'static str {
        self.info().name
    }

    /// The backend with this name, if any.
    pub fn from_name(name: &str) -> Option<Backend> {
        let name = name.trim();
        BACKENDS
            .iter()
            .find(|row| row.name == name)
            .map(|row| row.backend)
    }

    /// The provider it calls, if gaffer knows it.
    pub fn provider(self) -> Option<&'static Provider> {
        self.info().provider
    }

    /// The model family an agent on this backend belongs to unless it says otherwise; `None` for
    /// `command` and `scripted`, whose family defaults to the agent's own name.
    pub fn default_family(self) -> Option<&'static str> {
        self.provider().map(|p| p.name)
    }

    /// The environment variable an agent on this backend reads its API key from unless
    /// `api_key_env` says otherwise; `None` for `command` and `scripted`.
    pub fn default_api_key_env(self) -> Option<&'static str> {
        self.provider().map(|p| p.key_env)
    }

    /// The public provider API an agent on this backend calls when it has no `base_url`; `None`
    /// for `command` and `scripted`.
    pub fn public_endpoint(self) -> Option<&'static str> {
        self.provider().map(|p| p.endpoint)
    }

    /// Whether gaffer's own agent loop talks to the model over HTTP for this backend (`openai`,
    /// `anthropic`): the backends `retries` applies to.
    pub fn is_http(self) -> bool {
        self.info().keys.contains(&"retries")
    }

    /// Whether its runs are processes of their own (a CLI), rather than work in gaffer's.
    pub fn runs_a_process(self) -> bool {
        self.info().runs != Runs::InProcess
    }

    /// The backends that read `key`, in documentation order.
    pub fn reading(key: &str) -> Vec<Backend> {
        BACKENDS
            .iter()
            .filter(|row| row.keys.contains(&key))
            .map(|row| row.backend)
            .collect()
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_rows_are_in_variant_order() {
        for (i, row) in BACKENDS.iter().enumerate() {
            assert_eq!(row.backend as usize, i, "{}", row.name);
            assert_eq!(Backend::from_name(row.name), Some(row.backend));
            assert_eq!(Backend::ALL[i], row.backend);
        }
    }

    #[test]
    fn providers_give_families_keys_and_endpoints() {
        assert_eq!(Backend::Claude.default_family(), Some("anthropic"));
        assert_eq!(Backend::Codex.default_api_key_env(), Some("OPENAI_API_KEY"));
        assert_eq!(
            Backend::Anthropic.public_endpoint(),
            Some("https://api.anthropic.com")
        );
        assert_eq!(Backend::Command.default_family(), None);
        assert!(Backend::Openai.is_http() && !Backend::Codex.is_http());
        assert!(Backend::Command.runs_a_process() && !Backend::Scripted.runs_a_process());
        assert_eq!(Backend::reading("args"), [Backend::Claude, Backend::Codex]);
    }
}
