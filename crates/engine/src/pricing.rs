//! What a run cost: as the agent reported it, else priced from `[prices]` in gaffer.toml.

use gaffer_config::Settings;
use gaffer_core::Usage;

/// `usage` with its cost filled in from the configured price of `model` when the agent
/// reported none.
pub fn priced(settings: &Settings, model: &str, mut usage: Usage) -> Usage {
    if let (true, Some(price)) = (usage.cost_usd == 0.0, settings.price_for(model)) {
        usage.cost_usd = price.cost(usage.input_tokens, usage.output_tokens, usage.cached_tokens);
    }
    usage
}
