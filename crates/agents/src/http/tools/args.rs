//! Turning a call's JSON arguments into a tool's argument struct.

use super::ToolError;
use serde::Deserialize;
use serde::de::{DeserializeOwned, Deserializer};
use serde_json::Value;

/// Parses `input` for `tool`. A string holds arguments the model sent that were not JSON.
pub fn parse<T: DeserializeOwned>(tool: &str, input: &Value) -> Result<T, ToolError> {
    let invalid = |message: String| ToolError::InvalidArgs {
        tool: tool.to_string(),
        message,
    };
    if let Value::String(raw) = input {
        return Err(invalid(format!(
            "the arguments are not valid JSON: `{}`",
            crate::http::error::shorten(raw, 200)
        )));
    }
    serde_json::from_value(input.clone()).map_err(|e| invalid(e.to_string()))
}

/// An optional non-negative integer, also accepted as a numeric string (`"10"`), as small
/// models often send.
pub fn lenient_u64<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<u64>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Number {
        Int(u64),
        Float(f64),
        Text(String),
    }
    match Option::<Number>::deserialize(deserializer)? {
        None => Ok(None),
        Some(Number::Int(n)) => Ok(Some(n)),
        Some(Number::Float(f)) if f >= 0.0 && f.fract() == 0.0 => Ok(Some(f as u64)),
        Some(Number::Text(t)) if t.trim().is_empty() => Ok(None),
        Some(Number::Text(t)) => t
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| serde::de::Error::custom(format!("`{t}` is not a whole number"))),
        Some(Number::Float(f)) => Err(serde::de::Error::custom(format!(
            "`{f}` is not a whole number"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[derive(Debug, Deserialize)]
    struct A {
        #[serde(default, deserialize_with = "lenient_u64")]
        n: Option<u64>,
    }

    #[test]
    fn integers_as_numbers_or_strings() {
        assert_eq!(parse::<A>("t", &json!({"n": 3})).unwrap().n, Some(3));
        assert_eq!(parse::<A>("t", &json!({"n": "4"})).unwrap().n, Some(4));
        assert_eq!(parse::<A>("t", &json!({"n": 5.0})).unwrap().n, Some(5));
        assert_eq!(parse::<A>("t", &json!({})).unwrap().n, None);
        assert_eq!(parse::<A>("t", &json!({"n": null})).unwrap().n, None);
        assert!(parse::<A>("t", &json!({"n": "x"})).is_err());
        assert!(parse::<A>("t", &json!({"n": -1})).is_err());
    }
}
