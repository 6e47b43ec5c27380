//! `[prices."MODEL"]`: what a model costs, for agents that do not report cost themselves.

use serde::Serialize;

/// One model's price, in US dollars per million tokens.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Price {
    /// Per million input tokens that were not read from a cache.
    pub input: f64,
    /// Per million output tokens.
    pub output: f64,
    /// Per million input tokens read from a cache. `None`: priced as `input`.
    pub cached_input: Option<f64>,
}

impl Price {
    /// The cost in US dollars of `input` uncached input tokens, `output` output tokens and
    /// `cached` cached input tokens.
    ///
    /// ```
    /// let price = gaffer_config::Price { input: 3.0, output: 15.0, cached_input: Some(0.3) };
    /// let cost = price.cost(1_000_000, 100_000, 2_000_000);
    /// assert!((cost - (3.0 + 1.5 + 0.6)).abs() < 1e-9);
    /// ```
    pub fn cost(&self, input: u64, output: u64, cached: u64) -> f64 {
        let per_token = |per_million: f64, tokens: u64| per_million * tokens as f64 / 1_000_000.0;
        per_token(self.input, input)
            + per_token(self.output, output)
            + per_token(self.cached_input.unwrap_or(self.input), cached)
    }
}
