//! One run's tokens and cost, from Claude Code's `result` line.
//!
//! Measured on Claude Code 2.1.329 with a session resumed twice: `usage` and
//! `model_usage_since_last_result` count the requests of this process only, while
//! `total_cost_usd` and `modelUsage` are the session's totals, earlier runs included. So:
//!
//! * with `model_usage_since_last_result`, the run's tokens and cost are its sum over models
//!   (exact, and it covers every model the run called);
//! * without it (another CLI version), tokens come from `usage` and the cost is
//!   `total_cost_usd` minus the session's total when its previous run ended, as gaffer recorded
//!   it (see `sessions.rs`); with no record the run is charged the whole session so far.
//!
//! The per-message `usage` of `assistant` lines is no help: it is the snapshot taken when a
//! message starts, with `output_tokens` 0.

use super::wire::{ModelUsage, TokenUsage};
use gaffer_core::Usage;
use std::collections::HashMap;

/// What a `result` line says about usage.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Reported<'a> {
    pub usage: Option<TokenUsage>,
    pub since_last_result: Option<&'a HashMap<String, ModelUsage>>,
    pub total_cost_usd: Option<f64>,
}

/// This run's usage. `earlier_cost` is the session's total cost when its previous run ended
/// (`None` for a new session, or when unknown).
pub(crate) fn run_usage(reported: Reported<'_>, earlier_cost: Option<f64>) -> Usage {
    if let Some(models) = reported.since_last_result.filter(|m| !m.is_empty()) {
        return models.values().fold(Usage::default(), |sum, model| Usage {
            input_tokens: sum.input_tokens + model.input_tokens,
            output_tokens: sum.output_tokens + model.output_tokens,
            cached_tokens: sum.cached_tokens
                + model.cache_read_input_tokens
                + model.cache_creation_input_tokens,
            cost_usd: sum.cost_usd + model.cost_usd,
        });
    }
    let tokens = reported.usage.unwrap_or_default();
    let total = reported.total_cost_usd.unwrap_or(0.0);
    Usage {
        input_tokens: tokens.input_tokens,
        output_tokens: tokens.output_tokens,
        // Anthropic's `input_tokens` excludes the cache reads and writes; gaffer counts both
        // as cached.
        cached_tokens: tokens.cache_read_input_tokens + tokens.cache_creation_input_tokens,
        // A total below the record (a session rewritten behind gaffer's back) charges nothing.
        cost_usd: (total - earlier_cost.unwrap_or(0.0)).max(0.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(input: u64, output: u64, read: u64, write: u64) -> TokenUsage {
        TokenUsage {
            input_tokens: input,
            output_tokens: output,
            cache_read_input_tokens: read,
            cache_creation_input_tokens: write,
        }
    }

    fn model(input: u64, output: u64, read: u64, write: u64, cost: f64) -> ModelUsage {
        ModelUsage {
            input_tokens: input,
            output_tokens: output,
            cache_read_input_tokens: read,
            cache_creation_input_tokens: write,
            cost_usd: cost,
        }
    }

    #[test]
    fn the_run_s_own_figures_are_summed_over_models_and_win() {
        let models = HashMap::from([
            (
                "claude-sonnet-4-5".to_string(),
                model(500, 50, 1500, 10, 0.0027),
            ),
            ("claude-haiku-4-5".to_string(), model(100, 5, 0, 0, 0.0001)),
        ]);
        let reported = Reported {
            // Whatever the session totals say, the run's own figures are used.
            usage: Some(tokens(9, 9, 9, 9)),
            since_last_result: Some(&models),
            total_cost_usd: Some(0.00507),
        };
        let usage = run_usage(reported, Some(0.001));
        assert_eq!(usage.input_tokens, 600);
        assert_eq!(usage.output_tokens, 55);
        assert_eq!(usage.cached_tokens, 1510);
        assert!((usage.cost_usd - 0.0028).abs() < 1e-12, "{usage:?}");
    }

    #[test]
    fn without_them_the_recorded_session_cost_is_subtracted() {
        let reported = Reported {
            usage: Some(tokens(500, 50, 1500, 10)),
            since_last_result: None,
            total_cost_usd: Some(0.00507),
        };
        let usage = run_usage(reported, Some(0.00237));
        assert_eq!(
            (usage.input_tokens, usage.output_tokens, usage.cached_tokens),
            (500, 50, 1510)
        );
        assert!((usage.cost_usd - 0.0027).abs() < 1e-12, "{usage:?}");
        // No record: the whole session so far.
        assert!((run_usage(reported, None).cost_usd - 0.00507).abs() < 1e-12);
        // A total below the record charges nothing rather than a refund.
        assert_eq!(run_usage(reported, Some(0.01)).cost_usd, 0.0);
        // An empty map counts as absent.
        let empty = HashMap::new();
        let usage = run_usage(
            Reported {
                since_last_result: Some(&empty),
                ..reported
            },
            Some(0.00237),
        );
        assert_eq!(usage.input_tokens, 500);
    }

    #[test]
    fn nothing_reported_is_nothing_used() {
        assert_eq!(run_usage(Reported::default(), None), Usage::default());
    }
}
