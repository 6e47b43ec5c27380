//! `[prices."MODEL"]` and the cost of a run from it.

use gaffer_config::Price;

use crate::parse;

fn near(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-12
}

#[test]
fn no_prices_unless_the_file_gives_them() {
    let settings = parse("");
    assert!(settings.prices.is_empty());
    assert_eq!(settings.price_for("gpt-4o"), None);
    assert_eq!(settings.price_for("claude-sonnet-4-5"), None);
}

#[test]
fn prices_are_read_by_exact_model_name() {
    let settings = parse(
        r#"
[prices."claude-sonnet-4-5"]
input = 3
output = 15
cached_input = 0.3

[prices."qwen2.5-coder:32b"]
input = 0
output = 0.0

[prices]
"gpt-4.1" = { input = 2.0, output = 8.0 }
"#,
    );
    assert_eq!(
        settings.price_for("claude-sonnet-4-5"),
        Some(Price {
            input: 3.0,
            output: 15.0,
            cached_input: Some(0.3)
        })
    );
    assert_eq!(
        settings.price_for("gpt-4.1"),
        Some(Price {
            input: 2.0,
            output: 8.0,
            cached_input: None
        })
    );
    assert_eq!(
        settings
            .price_for("qwen2.5-coder:32b")
            .map(|p| p.cost(1_000_000, 1_000_000, 5)),
        Some(0.0)
    );
    assert_eq!(settings.price_for("Claude-Sonnet-4-5"), None);
    assert_eq!(settings.price_for("claude-sonnet-4-5-20250929"), None);
    let json = serde_json::to_value(&settings).unwrap();
    assert_eq!(json["prices"]["gpt-4.1"]["input"], 2.0);
    assert_eq!(
        json["prices"]["gpt-4.1"]["cached_input"],
        serde_json::Value::Null
    );
}

#[test]
fn cost_prices_cached_tokens_at_the_cached_rate_or_else_as_input() {
    let with_cache = Price {
        input: 3.0,
        output: 15.0,
        cached_input: Some(0.3),
    };
    assert!(near(with_cache.cost(0, 0, 0), 0.0));
    assert!(near(with_cache.cost(1_000_000, 0, 0), 3.0));
    assert!(near(with_cache.cost(0, 1_000_000, 0), 15.0));
    assert!(near(with_cache.cost(0, 0, 1_000_000), 0.3));
    assert!(near(
        with_cache.cost(2_000, 500, 10_000),
        0.006 + 0.0075 + 0.003
    ));
    let without = Price {
        cached_input: None,
        ..with_cache
    };
    assert!(near(without.cost(0, 0, 1_000_000), 3.0));
    assert!(near(
        without.cost(1_000, 1_000, 1_000),
        (3.0 + 15.0 + 3.0) / 1_000.0
    ));
}
