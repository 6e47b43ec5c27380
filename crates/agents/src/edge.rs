//! The one place the agents read gaffer's own environment: the provider variables the backend
//! table names (`ANTHROPIC_API_KEY`, `OPENAI_BASE_URL`, … in `gaffer_config::BACKENDS`) and the
//! key variable an agent's `api_key_env` names. Everything below takes an [`Environment`], so
//! tests give one of their own and nothing deeper calls `std::env`.

use std::collections::BTreeMap;

/// Where variables are read from.
#[derive(Debug, Clone)]
pub enum Environment {
    /// gaffer's own process environment.
    Process,
    /// Exactly these variables (tests, embedding).
    Fixed(BTreeMap<String, String>),
}

impl Environment {
    /// A fixed environment of `pairs`.
    pub fn fixed<K: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Environment {
        Environment::Fixed(
            pairs
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        )
    }

    /// The value of `name`; a variable set to blanks counts as unset.
    pub fn var(&self, name: &str) -> Option<String> {
        let value = match self {
            Environment::Process => std::env::var(name).ok(),
            Environment::Fixed(vars) => vars.get(name).cloned(),
        };
        value.filter(|v| !v.trim().is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_values_are_unset() {
        let env = Environment::fixed([("A", "1"), ("B", " ")]);
        assert_eq!(env.var("A").as_deref(), Some("1"));
        assert_eq!(env.var("B"), None);
        assert_eq!(env.var("C"), None);
    }
}
