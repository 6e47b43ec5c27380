//! How an HTTP agent is configured.

use crate::edge::Environment;
use crate::from_settings::Build;
use crate::http::gate::ProviderGate;
use crate::http::retry::RetryPolicy;
use gaffer_config::{ANTHROPIC, AgentSettings, HttpSettings, OPENAI, Provider};
use std::sync::Arc;
use std::time::Duration;

/// Everything an `openai` or `anthropic` backend needs besides the run itself.
///
/// Build one with a struct literal ending in `..HttpAgentOptions::default()`, or with
/// [`HttpAgentOptions::openai_from_env`] / [`HttpAgentOptions::anthropic_from_env`] and adjust.
#[derive(Clone)]
pub struct HttpAgentOptions {
    /// The API's base URL: `http://127.0.0.1:11434/v1` (OpenAI-compatible, with the version
    /// path) or `https://api.anthropic.com` (Anthropic, without it).
    pub base_url: String,
    /// Sent as `Authorization: Bearer` (OpenAI) or `x-api-key` (Anthropic). Local servers
    /// usually need none.
    pub api_key: Option<String>,
    /// The model, used when the run's request names none.
    pub model: String,
    /// Model answers per run before the run fails (default 100).
    pub max_turns: u32,
    /// The output limit of each request (default 8192), sent as `max_tokens`
    /// (`max_completion_tokens` to OpenAI's own API).
    pub max_output_tokens: u32,
    /// Input, output and cached tokens summed over the run's requests, beyond which the run
    /// fails (default: no limit).
    pub max_total_tokens: Option<u64>,
    /// How long to wait for the response headers, and then for each next piece of the stream
    /// (default 300 s). A generation may take longer in total as long as it keeps streaming.
    pub request_timeout: Duration,
    /// Retries of failed requests.
    pub retry: RetryPolicy,
    /// Refuse to start unless `base_url` is on this machine or a private network
    /// (see [`crate::http::check_local`]).
    pub privacy_local: bool,
    /// Shared by every agent using the same provider endpoint: a 429 pauses them all.
    pub gate: Arc<ProviderGate>,
    /// More headers on every request (a gateway's routing or tenant header, for example).
    pub extra_headers: Vec<(String, String)>,
}

impl Default for HttpAgentOptions {
    /// A local Ollama server (`http://127.0.0.1:11434/v1`), no key, no model.
    fn default() -> Self {
        let base_url = "http://127.0.0.1:11434/v1".to_string();
        HttpAgentOptions {
            gate: ProviderGate::shared(&base_url),
            base_url,
            api_key: None,
            model: String::new(),
            max_turns: 100,
            max_output_tokens: 8192,
            max_total_tokens: None,
            request_timeout: Duration::from_secs(300),
            retry: RetryPolicy::default(),
            privacy_local: false,
            extra_headers: Vec::new(),
        }
    }
}

impl std::fmt::Debug for HttpAgentOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpAgentOptions")
            .field("base_url", &self.base_url)
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field("model", &self.model)
            .field("max_turns", &self.max_turns)
            .field("max_output_tokens", &self.max_output_tokens)
            .field("max_total_tokens", &self.max_total_tokens)
            .field("request_timeout", &self.request_timeout)
            .field("retry", &self.retry)
            .field("privacy_local", &self.privacy_local)
            .field(
                "extra_headers",
                &self
                    .extra_headers
                    .iter()
                    .map(|(k, _)| k)
                    .collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

impl HttpAgentOptions {
    /// Options for an OpenAI-compatible API from the environment: `OPENAI_BASE_URL` (default
    /// `https://api.openai.com/v1`) and `OPENAI_API_KEY`.
    pub fn openai_from_env(model: impl Into<String>) -> HttpAgentOptions {
        Self::for_provider(&OPENAI, model.into(), &Environment::Process)
    }

    /// Options for the Anthropic API from the environment: `ANTHROPIC_BASE_URL` (default
    /// `https://api.anthropic.com`) and `ANTHROPIC_API_KEY`.
    pub fn anthropic_from_env(model: impl Into<String>) -> HttpAgentOptions {
        Self::for_provider(&ANTHROPIC, model.into(), &Environment::Process)
    }

    /// Options for `provider`'s API, its base URL and key from its variables in `env`.
    pub(crate) fn for_provider(
        provider: &Provider,
        model: String,
        env: &Environment,
    ) -> HttpAgentOptions {
        Self::from_lookup(
            model,
            (provider.base_url_env, provider.endpoint),
            provider.key_env,
            |name| env.var(name),
        )
    }

    /// Options of an `openai` or `anthropic` agent (`provider`): the provider's defaults and
    /// variables, then what the agent's settings say.
    pub(crate) fn from_settings(
        provider: &Provider,
        agent: &AgentSettings,
        own: &HttpSettings,
        at: &Build<'_>,
    ) -> HttpAgentOptions {
        let model = agent.model.clone().unwrap_or_default();
        let mut options = Self::for_provider(provider, model, at.env);
        if let Some(url) = &agent.base_url {
            options = options.with_base_url(url.clone());
        }
        if let Some(key) = at.api_key(&own.credentials) {
            options.api_key = Some(key);
        }
        if let Some(turns) = agent.max_turns {
            options.max_turns = turns;
        }
        if let Some(tokens) = agent.max_output_tokens {
            options.max_output_tokens = u32::try_from(tokens).unwrap_or(u32::MAX);
        }
        options.max_total_tokens = agent.max_total_tokens;
        options.retry = RetryPolicy {
            max_retries: own.retries,
            ..RetryPolicy::default()
        };
        options.privacy_local = at.local;
        options
    }

    /// Options whose base URL and key come from `lookup` (empty values count as unset), with
    /// the gate shared for that base URL.
    pub(crate) fn from_lookup(
        model: String,
        (url_var, default_url): (&str, &str),
        key_var: &str,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> HttpAgentOptions {
        let set = |name: &str| {
            lookup(name)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let base_url = set(url_var).unwrap_or_else(|| default_url.to_string());
        HttpAgentOptions {
            gate: ProviderGate::shared(&base_url),
            base_url,
            api_key: set(key_var),
            model,
            ..HttpAgentOptions::default()
        }
    }

    /// The same options with another base URL, and the gate shared for it.
    pub fn with_base_url(mut self, base_url: impl Into<String>) -> HttpAgentOptions {
        self.base_url = base_url.into();
        self.gate = ProviderGate::shared(&self.base_url);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment_with_defaults() {
        let none = |_: &str| None;
        let o = HttpAgentOptions::from_lookup("m".into(), ("U", "https://default/v1"), "K", none);
        assert_eq!(o.base_url, "https://default/v1");
        assert_eq!(o.api_key, None);
        assert_eq!(o.model, "m");
        let env = |name: &str| match name {
            "U" => Some("http://127.0.0.1:9/v1".to_string()),
            "K" => Some(" secret ".to_string()),
            _ => None,
        };
        let o = HttpAgentOptions::from_lookup("m".into(), ("U", "https://default/v1"), "K", env);
        assert_eq!(o.base_url, "http://127.0.0.1:9/v1");
        assert_eq!(o.api_key.as_deref(), Some("secret"));
        assert!(Arc::ptr_eq(
            &o.gate,
            &ProviderGate::shared("http://127.0.0.1:9/v1")
        ));
        let shown = format!("{o:?}");
        assert!(!shown.contains("secret"), "{shown}");
        let empty = |_: &str| Some(String::new());
        let o = HttpAgentOptions::from_lookup("m".into(), ("U", "https://d"), "K", empty);
        assert_eq!((o.base_url.as_str(), o.api_key), ("https://d", None));
    }
}
