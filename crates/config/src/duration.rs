//! Durations as people write them in `gaffer.toml`: `"90s"`, `"20m"`, `"1h30m"`, `"250ms"`, or an
//! integer number of seconds.

use std::time::Duration;

/// The units a duration may use, longest suffix first so that `ms` wins over `m`.
const UNITS: [(&str, u64); 5] = [
    ("ms", 1),
    ("s", 1_000),
    ("m", 60_000),
    ("h", 3_600_000),
    ("d", 86_400_000),
];

/// What a duration may look like, for messages.
pub(crate) const DURATION_FORMS: &str =
    "a duration such as \"90s\", \"20m\", \"1h30m\" or \"250ms\", or a whole number of seconds";

/// Parses `"90s"`, `"20m"`, `"1h 30m"`, `"250ms"`, `"2d"` or `"45"` (seconds).
///
/// Returns `None` when the text is not a duration.
pub(crate) fn parse_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    if text.bytes().all(|b| b.is_ascii_digit()) {
        return text.parse::<u64>().ok().map(Duration::from_secs);
    }
    let mut rest = text;
    let mut millis: u64 = 0;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        let number: u64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let (suffix, scale) = UNITS.iter().find(|(suffix, _)| rest.starts_with(suffix))?;
        rest = rest[suffix.len()..].trim_start();
        millis = millis.checked_add(number.checked_mul(*scale)?)?;
    }
    Some(Duration::from_millis(millis))
}

/// Renders a duration the way it would be written in `gaffer.toml`: `30s`, `20m`, `1h30m`,
/// `1500ms`.
pub fn format_duration(duration: Duration) -> String {
    let millis = duration.as_millis();
    if millis == 0 {
        return "0s".to_string();
    }
    if !millis.is_multiple_of(1_000) {
        return format!("{millis}ms");
    }
    let mut secs = duration.as_secs();
    let mut out = String::new();
    for (suffix, scale) in [("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1)] {
        if secs >= scale {
            out.push_str(&format!("{}{suffix}", secs / scale));
            secs %= scale;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_documented_forms() {
        assert_eq!(parse_duration("90s"), Some(Duration::from_secs(90)));
        assert_eq!(parse_duration("20m"), Some(Duration::from_secs(1200)));
        assert_eq!(parse_duration("1h"), Some(Duration::from_secs(3600)));
        assert_eq!(parse_duration("1h30m"), Some(Duration::from_secs(5400)));
        assert_eq!(parse_duration("1h 30m"), Some(Duration::from_secs(5400)));
        assert_eq!(parse_duration("250ms"), Some(Duration::from_millis(250)));
        assert_eq!(parse_duration("2d"), Some(Duration::from_secs(172_800)));
        assert_eq!(parse_duration("45"), Some(Duration::from_secs(45)));
        assert_eq!(parse_duration("0s"), Some(Duration::ZERO));
    }

    #[test]
    fn rejects_what_is_not_a_duration() {
        for bad in ["", "s", "ten seconds", "10x", "1.5h", "-3s", "10 s", "m5"] {
            assert_eq!(parse_duration(bad), None, "{bad:?}");
        }
        assert_eq!(parse_duration("99999999999999999999d"), None);
    }

    #[test]
    fn formats_back_to_the_written_form() {
        assert_eq!(format_duration(Duration::from_secs(30)), "30s");
        assert_eq!(format_duration(Duration::from_secs(1200)), "20m");
        assert_eq!(format_duration(Duration::from_secs(5400)), "1h30m");
        assert_eq!(format_duration(Duration::from_millis(1500)), "1500ms");
        assert_eq!(format_duration(Duration::ZERO), "0s");
    }
}
