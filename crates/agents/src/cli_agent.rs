//! What every backend that runs an agent CLI printing JSON lines shares (`claude`, `codex`):
//!
//! * running it under the run's [`crate::Confinement`], its lines turned into events by a
//!   parser, its raw transcript kept (`run.rs`, `raw.rs`);
//! * the session ledger: the totals a session had reached when its last run ended, so that a
//!   resumed run is booked only its own usage (`ledger.rs`);
//! * reading one JSON line, the model a run uses, options shown without their secrets, and
//!   one-line summaries of tool calls (`text.rs`).
//!
//! A backend of this kind is its options (the command line and environment of one run) and its
//! parser (a [`LineParser`]); everything else is here.

mod input;
mod ledger;
mod raw;
mod run;
pub(crate) mod text;

pub(crate) use input::CliInput;
pub(crate) use ledger::Ledger;
pub use run::{CliEnd, CliExit};
pub(crate) use run::{CliRun, LineParser, create_dirs, start};

use crate::event::RunRequest;
use serde::de::DeserializeOwned;

/// One line of a CLI's output read as `T`; `None` for anything that is not a JSON object of
/// that shape (CLIs print other lines too).
pub(crate) fn json_line<T: DeserializeOwned>(line: &str) -> Option<T> {
    let line = line.trim();
    if !line.starts_with('{') {
        return None;
    }
    serde_json::from_str(line).ok()
}

/// The model a run uses: the request's, else the agent's configured one, else the CLI's own
/// default (`None`).
pub(crate) fn model_for(request: &RunRequest, configured: Option<&String>) -> Option<String> {
    Some(request.model.trim())
        .filter(|m| !m.is_empty())
        .map(str::to_string)
        .or_else(|| configured.cloned())
}

/// `env` with the values of secret-looking variables hidden, for `Debug`.
pub(crate) fn redacted_env(env: &[(String, String)]) -> Vec<(String, String)> {
    env.iter()
        .map(|(k, v)| {
            let upper = k.to_ascii_uppercase();
            let secret = ["KEY", "TOKEN", "SECRET", "PASSWORD"]
                .iter()
                .any(|s| upper.contains(s));
            let shown = if secret {
                "<redacted>".to_string()
            } else {
                v.clone()
            };
            (k.clone(), shown)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_lines_of_the_wrong_shape_are_nothing() {
        #[derive(serde::Deserialize)]
        struct Line {
            kind: String,
        }
        assert_eq!(
            json_line::<Line>("  {\"kind\":\"x\"}\n").map(|l| l.kind),
            Some("x".to_string())
        );
        assert!(json_line::<Line>("warning: x").is_none());
        assert!(json_line::<Line>("{\"kind\":1}").is_none());
    }

    #[test]
    fn secret_looking_values_are_hidden() {
        let env = [
            ("OPENAI_API_KEY".to_string(), "sk-1".to_string()),
            ("LANG".to_string(), "C".to_string()),
        ];
        assert_eq!(
            redacted_env(&env),
            [
                ("OPENAI_API_KEY".to_string(), "<redacted>".to_string()),
                ("LANG".to_string(), "C".to_string()),
            ]
        );
    }
}
