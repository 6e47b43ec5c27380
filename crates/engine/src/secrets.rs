//! The secrets of a project gaffer must never store or show, and the redactor that hides them.
//!
//! Known values: each agent's API key (the variable its `api_key_env` names, from its `env`
//! table or gaffer's environment) and the values in its `env` table whose names say they are
//! secret (`…KEY…`, `…TOKEN…`, `…SECRET…`, `…PASSWORD…`), the server token
//! (`server.token_env`), the variables of `[secrets] vars`, and values added while running (the
//! daemon's generated token). Well-known key shapes are always looked for (see
//! `gaffer_core::secrets`). The store is wrapped so that nothing reaches it unredacted
//! (`redacting_store.rs`); files the engine keeps (transcripts, prompts) and commit messages are
//! redacted where they are written.

use gaffer_config::Settings;
use gaffer_core::secrets::{Redactor, SecretHit};
use std::borrow::Cow;
use std::sync::RwLock;

/// The redactor of a board; secrets can be added while it runs.
pub struct Secrets {
    redactor: RwLock<Redactor>,
}

impl Secrets {
    /// The secrets `settings` name, read from gaffer's environment now.
    pub fn from_settings(settings: &Settings) -> Secrets {
        let mut known: Vec<(String, String)> = Vec::new();
        let env = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        for agent in settings.agents.values() {
            known.extend(gaffer_agents::key_of(
                agent,
                &gaffer_agents::Environment::Process,
            ));
            for (name, value) in agent.env() {
                if looks_secret(name) {
                    known.push((name.clone(), value.clone()));
                }
            }
        }
        if let Some(value) = env(&settings.server.token_env) {
            known.push((settings.server.token_env.clone(), value));
        }
        for var in &settings.secrets.vars {
            if let Some(value) = env(var) {
                known.push((var.clone(), value));
            }
        }
        let redactor =
            Redactor::new(known.iter().map(|(n, v)| (n.as_str(), v.as_str()))).or_else(|e| {
                tracing::error!(
                    "cannot build the redactor of known secrets ({e}); only key shapes are redacted"
                );
                Redactor::new(std::iter::empty::<(&str, &str)>())
            });
        let redactor = match redactor {
            Ok(r) => r,
            // The shapes are fixed and tested; this cannot fail twice.
            Err(e) => {
                tracing::error!("cannot build any redactor: {e}");
                return Secrets::empty_or_abort();
            }
        };
        Secrets {
            redactor: RwLock::new(redactor),
        }
    }

    fn empty_or_abort() -> Secrets {
        // Without even the shapes there is nothing to redact with; the process cannot keep
        // its promise, so it stops rather than store secrets.
        // Best effort: a closed standard error must not turn this into a panic.
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "gaffer: cannot build the secret redactor; stopping"
        );
        std::process::exit(70)
    }

    /// One more secret, known only now (the daemon's own token).
    pub fn add(&self, name: &str, value: &str) {
        let Ok(mut redactor) = self.redactor.write() else {
            return;
        };
        match redactor.with_value(name, value) {
            Ok(r) => *redactor = r,
            Err(e) => tracing::error!("cannot add {name} to the redactor: {e}"),
        }
    }

    /// The redactor as it is now (cheap: one `Arc`).
    pub fn redactor(&self) -> Redactor {
        match self.redactor.read() {
            Ok(r) => r.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// `text` with every secret replaced by a marker naming it.
    pub fn redact<'t>(&self, text: &'t str) -> Cow<'t, str> {
        match self.redact_owned(text) {
            Some(redacted) => Cow::Owned(redacted),
            None => Cow::Borrowed(text),
        }
    }

    fn redact_owned(&self, text: &str) -> Option<String> {
        match self.redactor().redact(text) {
            Cow::Borrowed(_) => None,
            Cow::Owned(s) => Some(s),
        }
    }

    /// Every string (and key) of `value` redacted.
    pub fn redact_json(&self, value: &mut serde_json::Value) {
        self.redactor().redact_json(value);
    }

    /// The secrets a unified diff adds, with path and line (never the value).
    pub fn added_in(&self, diff: &str) -> Vec<SecretHit> {
        self.redactor().find_added_secrets(diff)
    }

    /// `value` with every string in it redacted (see `Redactor::scrub`).
    pub fn scrub<T>(&self, value: &T) -> T
    where
        T: serde::Serialize + serde::de::DeserializeOwned + Clone,
    {
        self.redactor().scrub(value)
    }
}

/// Whether an `env` table entry named so holds a secret.
fn looks_secret(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    [
        "KEY",
        "TOKEN",
        "SECRET",
        "PASSWORD",
        "PASSWD",
        "CREDENTIAL",
        "AUTH",
    ]
    .iter()
    .any(|w| upper.contains(w))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agent_keys_env_secrets_and_listed_variables_are_known() {
        let settings = gaffer_config::parse_str(
            r#"
[verify]
command = "true"
[agents.a]
backend = "command"
command = "agent {prompt}"
api_key_env = "MY_AGENT_KEY"
env = { MY_AGENT_KEY = "agent-key-1234567890", SERVICE_TOKEN = "service-token-abcdefgh", PLAIN = "plain-value-not-secret" }
[roles]
coder = ["a"]
"#,
            std::path::Path::new("gaffer.toml"),
        )
        .unwrap();
        let secrets = Secrets::from_settings(&settings);
        let text = "k=agent-key-1234567890 t=service-token-abcdefgh p=plain-value-not-secret";
        let redacted = secrets.redact(text);
        assert!(!redacted.contains("agent-key-1234567890"), "{redacted}");
        assert!(!redacted.contains("service-token-abcdefgh"), "{redacted}");
        assert!(redacted.contains("plain-value-not-secret"), "{redacted}");
        secrets.add("GAFFER_DAEMON_TOKEN", "daemon-token-0123456789");
        assert!(
            !secrets
                .redact("x daemon-token-0123456789")
                .contains("daemon-token")
        );
    }
}
