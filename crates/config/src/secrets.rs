//! `[secrets]`: values gaffer must never store or show, beside the ones it knows already (each
//! agent's API key, the server token) and the well-known key shapes.

use serde::{Deserialize, Serialize};

use crate::error::ConfigError;
use crate::file::At;
use crate::resolve::Check;

/// `[secrets]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SecretsSettings {
    /// Environment variables (of gaffer's environment) whose values are secrets.
    pub vars: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSecrets {
    pub vars: Option<At<Vec<At<String>>>>,
}

pub(crate) fn resolve(check: &Check<'_>, raw: &RawSecrets) -> Result<SecretsSettings, ConfigError> {
    let mut vars = Vec::new();
    for at in raw.vars.iter().flat_map(|list| list.get_ref().iter()) {
        let name = at.get_ref().trim();
        if !is_variable_name(name) {
            return Err(check.error(
                at,
                "secrets.vars",
                format!(
                    "secrets.vars holds {}, which is not a variable name",
                    check.written(at)
                ),
                "list the names of environment variables, e.g. [\"DATABASE_URL\"]; never the \
                 values themselves"
                    .to_string(),
            ));
        }
        vars.push(name.to_string());
    }
    Ok(SecretsSettings { vars })
}

/// Letters, digits and `_`, not starting with a digit.
pub(crate) fn is_variable_name(name: &str) -> bool {
    !name.is_empty()
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !name.starts_with(|c: char| c.is_ascii_digit())
}
