//! Settings given outside `gaffer.toml`: `GAFFER_*` environment variables and command-line flags.
//!
//! Both become a list of `(dotted key, value)` pairs that are laid over the file when it is
//! loaded: first the environment, then the flags, so a flag beats a variable and a variable beats
//! the file. A value is written the way it would be in TOML (`8`, `true`, `"20m"`,
//! `["a", "b"]`), but quotes may be left off: `20m`, `cargo test --all` and `claude,codex` (for a
//! role list or machine labels) mean what they look like.
//!
//! # Environment variables
//!
//! `GAFFER_<SECTION>__<KEY>` sets `<section>.<key>`: a double underscore separates the parts of
//! the key, a single underscore stays part of a name, and names are lowercased. So
//! `GAFFER_ENGINE__CONCURRENCY=8` sets `engine.concurrency` and
//! `GAFFER_AGENTS__CLAUDE__MODEL=opus` sets `agents.claude.model` (an agent whose name has a `-`
//! can be reached with `_` in its place). Two shortcuts exist: `GAFFER_PORT` for `server.port` and
//! `GAFFER_VERIFY` for `verify.command`; the long form wins when both are set.
//!
//! A `GAFFER_` variable without a double underscore that is not a shortcut (such as
//! `GAFFER_TOKEN` or `GAFFER_LOG`) is not configuration and is ignored here. A variable of the
//! `GAFFER_<SECTION>__<KEY>` form that names no known key is an error that names the variable.

use toml::de::DeValue;

use crate::error::ConfigError;

/// The prefix of every environment variable gaffer reads.
pub const ENV_PREFIX: &str = "GAFFER_";

/// Environment variables that stand for a longer key: `(variable, dotted key)`.
pub const ENV_SHORTCUTS: [(&str, &str); 2] = [
    ("GAFFER_PORT", "server.port"),
    ("GAFFER_VERIFY", "verify.command"),
];

/// Settings laid over the file, in order; a later pair for the same key wins.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Overrides {
    /// `(dotted key, value)`, e.g. `("engine.concurrency", "8")`.
    pub values: Vec<(String, String)>,
}

impl Overrides {
    /// No overrides.
    pub fn new() -> Overrides {
        Overrides::default()
    }

    /// Whether there is nothing to lay over the file.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// Adds one override; it wins over every earlier one for the same key.
    pub fn push(&mut self, key: impl Into<String>, value: impl Into<String>) {
        self.values.push((key.into(), value.into()));
    }

    /// The configuration among these environment variables (pass `std::env::vars()`).
    ///
    /// Variables are taken in a fixed order whatever order they come in: shortcuts first, then the
    /// rest by name. Keys are not checked here; [`crate::load`] reports an unknown one, naming the
    /// variable.
    pub fn from_env(vars: impl IntoIterator<Item = (String, String)>) -> Overrides {
        let mut shortcuts = Vec::new();
        let mut keyed = Vec::new();
        for (name, value) in vars {
            if let Some((_, key)) = ENV_SHORTCUTS.iter().find(|(var, _)| *var == name) {
                shortcuts.push((name.clone(), (key.to_string(), value)));
            } else if let Some(rest) = name.strip_prefix(ENV_PREFIX)
                && rest.contains("__")
            {
                let key = rest
                    .split("__")
                    .map(str::to_ascii_lowercase)
                    .collect::<Vec<_>>()
                    .join(".");
                keyed.push((name.clone(), (key, value)));
            }
        }
        shortcuts.sort();
        keyed.sort();
        Overrides {
            values: shortcuts
                .into_iter()
                .chain(keyed)
                .map(|(_, kv)| kv)
                .collect(),
        }
    }

    /// Overrides from `key=value` flag arguments (e.g. the values of repeated `--set` flags).
    pub fn from_flags<I, S>(flags: I) -> Result<Overrides, ConfigError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut overrides = Overrides::new();
        for flag in flags {
            let flag = flag.as_ref();
            let Some((key, value)) = flag.split_once('=') else {
                return Err(ConfigError::Override {
                    source_name: format!("--set {flag}"),
                    key: flag.trim().to_string(),
                    message: format!("`{flag}` has no value"),
                    hint: "write --set <key>=<value>, e.g. --set engine.concurrency=8".to_string(),
                });
            };
            overrides.push(key.trim(), value);
        }
        Ok(overrides)
    }
}

/// Names the environment variable that sets `key`, e.g. `GAFFER_ENGINE__CONCURRENCY` for
/// `engine.concurrency`, mentioning the shortcut when there is one.
pub fn env_var_name(key: &str) -> String {
    let long = format!(
        "{ENV_PREFIX}{}",
        key.split('.')
            .map(str::to_ascii_uppercase)
            .collect::<Vec<_>>()
            .join("__")
    );
    match ENV_SHORTCUTS.iter().find(|(_, target)| *target == key) {
        Some((short, _)) => format!("{long} (or {short})"),
        None => long,
    }
}

/// Names the flag that sets `key`, for messages.
pub fn flag_name(key: &str) -> String {
    format!("--set {key}")
}

/// Turns an override's value into TOML value text, so that it can be parsed exactly like the
/// file and checked by the same rules.
///
/// Keys that hold text take the value literally unless it is already a quoted TOML string; role
/// lists and machine labels accept `a,b,c`; every other key takes TOML value syntax and falls back to a string, so
/// that `20m` is a duration and `lots` a wrong-typed concurrency rather than a syntax error.
pub(crate) fn value_text(key: &str, raw: &str) -> String {
    let trimmed = raw.trim();
    let parsed = DeValue::parse(trimmed).ok().map(|value| value.into_inner());
    if holds_text(key) {
        return match parsed {
            Some(DeValue::String(_)) => trimmed.to_string(),
            _ => quote(raw),
        };
    }
    if is_name_list(key) {
        return match parsed {
            Some(DeValue::Array(_)) => trimmed.to_string(),
            Some(DeValue::String(names)) => name_list(&names),
            _ => name_list(trimmed),
        };
    }
    match parsed {
        Some(_) => trimmed.to_string(),
        None => quote(raw),
    }
}

/// `a, b` as the TOML array `["a", "b"]`.
fn name_list(names: &str) -> String {
    let names: Vec<toml::Value> = names
        .split(',')
        .map(str::trim)
        .filter(|name| !name.is_empty())
        .map(|name| toml::Value::String(name.to_string()))
        .collect();
    toml::Value::Array(names).to_string()
}

fn quote(raw: &str) -> String {
    toml::Value::String(raw.to_string()).to_string()
}

/// Whether the key's value is free text, so that `8` means the text "8".
fn holds_text(key: &str) -> bool {
    let parts: Vec<&str> = key.split('.').collect();
    matches!(
        parts.as_slice(),
        ["project", "name" | "target" | "state_dir"]
            | ["verify", "command" | "setup"]
            | ["risk", "approval_at"]
            | ["store", "url" | "schema"]
            | [
                "agents",
                _,
                "backend" | "model" | "family" | "base_url" | "command" | "script"
            ]
    )
}

/// Whether the key's value is a list of names (a role's agents, machine labels), so that
/// `a,b` means `["a", "b"]`.
fn is_name_list(key: &str) -> bool {
    let parts: Vec<&str> = key.split('.').collect();
    matches!(
        parts.as_slice(),
        ["host", "labels"] | ["roles", _] | ["agents", _, "needs"]
    ) && parts.iter().all(|part| !part.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn values(overrides: &Overrides) -> Vec<(&str, &str)> {
        overrides
            .values
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect()
    }

    #[test]
    fn env_vars_become_dotted_keys() {
        let overrides = Overrides::from_env(env(&[
            ("HOME", "/home/me"),
            ("GAFFER_TOKEN", "secret"),
            ("GAFFER_ENGINE__WORKTREE_POOL", "3"),
            ("GAFFER_ENGINE__CONCURRENCY", "8"),
            ("GAFFER_AGENTS__CLAUDE_SONNET__MODEL", "opus"),
        ]));
        assert_eq!(
            values(&overrides),
            [
                ("agents.claude_sonnet.model", "opus"),
                ("engine.concurrency", "8"),
                ("engine.worktree_pool", "3"),
            ]
        );
    }

    #[test]
    fn shortcuts_lose_to_the_long_form() {
        let overrides = Overrides::from_env(env(&[
            ("GAFFER_SERVER__PORT", "9000"),
            ("GAFFER_PORT", "8000"),
            ("GAFFER_VERIFY", "make check"),
        ]));
        assert_eq!(
            values(&overrides),
            [
                ("server.port", "8000"),
                ("verify.command", "make check"),
                ("server.port", "9000"),
            ]
        );
    }

    #[test]
    fn flags_need_a_value() {
        let overrides = Overrides::from_flags(["engine.concurrency=8", "verify.command=a=b"]);
        assert_eq!(
            overrides.map(|o| o.values).ok(),
            Some(vec![
                ("engine.concurrency".to_string(), "8".to_string()),
                ("verify.command".to_string(), "a=b".to_string()),
            ])
        );
        let error = Overrides::from_flags(["engine.concurrency"]).err();
        assert_eq!(
            error.map(|e| e.to_string()),
            Some(
                "--set engine.concurrency: `engine.concurrency` has no value\n  \
                 hint: write --set <key>=<value>, e.g. --set engine.concurrency=8"
                    .to_string()
            )
        );
    }

    #[test]
    fn variable_names_for_messages() {
        assert_eq!(
            env_var_name("engine.concurrency"),
            "GAFFER_ENGINE__CONCURRENCY"
        );
        assert_eq!(
            env_var_name("server.port"),
            "GAFFER_SERVER__PORT (or GAFFER_PORT)"
        );
    }

    #[test]
    fn values_become_toml() {
        assert_eq!(value_text("engine.concurrency", "8"), "8");
        assert_eq!(value_text("engine.concurrency", "lots"), "\"lots\"");
        assert_eq!(value_text("engine.lease", "20m"), "\"20m\"");
        assert_eq!(value_text("engine.lease", "45"), "45");
        assert_eq!(value_text("review.enabled", "false"), "false");
        assert_eq!(value_text("verify.command", "cargo test"), "\"cargo test\"");
        assert_eq!(value_text("verify.command", "\"make\""), "\"make\"");
        assert_eq!(value_text("project.name", "2024"), "\"2024\"");
        assert_eq!(value_text("roles.coder", "a, b"), "[\"a\", \"b\"]");
        assert_eq!(value_text("roles.coder", "[\"a\"]"), "[\"a\"]");
        assert_eq!(value_text("roles.coder", "\"a,b\""), "[\"a\", \"b\"]");
        assert_eq!(value_text("roles.coder", ""), "[]");
        assert_eq!(value_text("host.labels", "gpu,gtk"), "[\"gpu\", \"gtk\"]");
        assert_eq!(value_text("agents.local.needs", "gpu"), "[\"gpu\"]");
        assert_eq!(
            value_text("agents.local.needs", "gpu, cuda"),
            "[\"gpu\", \"cuda\"]"
        );
        assert_eq!(value_text("agents..needs", "gpu"), "\"gpu\"");
    }
}
