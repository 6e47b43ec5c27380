//! Parsing: the file and the overrides laid over it become one TOML document, which becomes the
//! raw model of [`crate::file`].
//!
//! Overrides are inserted into the parsed document (replacing what the file said) rather than
//! into the raw model, so that an override goes through the same unknown-key and type checks as
//! the file, and its errors name the variable or flag that set it.

use std::borrow::Cow;
use std::cmp::Reverse;
use std::ops::Range;

use serde::Deserialize;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use crate::error::ConfigError;
use crate::file::RawConfig;
use crate::source::{Origin, OverridePart, Source};
use crate::suggest::closest;

type Doc<'i> = Spanned<DeTable<'i>>;

/// Parses the file, lays the overrides over it and reads the result into the raw model.
pub(crate) fn parse(source: &Source) -> Result<RawConfig, ConfigError> {
    let mut doc: Doc<'_> = match source.file_text() {
        Some(text) => DeTable::parse(text)
            .map_err(|error| source.syntax(error.span().map(|s| s.start), error.message()))?,
        None => Spanned::new(0..0, DeTable::new()),
    };
    for part in source.overrides() {
        apply(source, &mut doc, part)?;
    }
    let index = KeyIndex::of(&doc);
    RawConfig::deserialize(toml::de::Deserializer::from(doc))
        .map_err(|error| explain(source, &index, &error))
}

/// Sets an override's key in the document.
fn apply<'i>(
    source: &'i Source,
    doc: &mut Doc<'i>,
    part: &OverridePart,
) -> Result<(), ConfigError> {
    let fail = |message: String, hint: &str| ConfigError::Override {
        source_name: part.source_name.clone(),
        key: part.key.clone(),
        message,
        hint: hint.to_string(),
    };
    let segments: Vec<&str> = part.key.split('.').collect();
    let well_formed = segments.iter().all(|segment| {
        !segment.is_empty()
            && segment
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    });
    if !well_formed || segments.len() < 2 {
        return Err(fail(
            format!("`{}` is not a configuration key", part.key),
            "name a key as <section>.<key>, e.g. engine.concurrency or agents.claude.model",
        ));
    }
    let value = DeValue::parse(source.override_text(part)).map_err(|error| {
        fail(
            error.message().replace('\n', "; "),
            "check the value's syntax",
        )
    })?;
    let value = shift(value, part.range.start);

    let mut table = doc.get_mut();
    let (last, parents) = match segments.split_last() {
        Some(split) => split,
        None => return Err(fail(String::from("empty key"), "name a key")),
    };
    for (depth, segment) in parents.iter().enumerate() {
        let name = existing_name(table, segment);
        let entry = table
            .entry(Spanned::new(part.range.clone(), Cow::Owned(name)))
            .or_insert_with(|| Spanned::new(part.range.clone(), DeValue::Table(DeTable::new())));
        table = match entry.get_mut() {
            DeValue::Table(inner) => inner,
            _ => {
                let prefix = segments[..=depth].join(".");
                return Err(fail(
                    format!("`{prefix}` is not a table, so `{}` cannot be set", part.key),
                    "set the whole value instead, written as TOML",
                ));
            }
        };
    }
    let name = existing_name(table, last);
    table.insert(Spanned::new(part.range.clone(), Cow::Owned(name)), value);
    Ok(())
}

/// The key in `table` that `segment` means: itself, or an existing key that differs only in `-`
/// versus `_` (environment variable names cannot hold a `-`).
fn existing_name(table: &DeTable<'_>, segment: &str) -> String {
    if table.contains_key(segment) {
        return segment.to_string();
    }
    let normal = |s: &str| s.replace('-', "_");
    table
        .keys()
        .map(|key| key.get_ref().as_ref())
        .find(|key: &&str| normal(key) == normal(segment))
        .unwrap_or(segment)
        .to_string()
}

/// Moves every span in `value` by `by` bytes: an override's value is parsed on its own, but its
/// spans must point into the combined text.
fn shift(value: Spanned<DeValue<'_>>, by: usize) -> Spanned<DeValue<'_>> {
    let moved = |span: Range<usize>| span.start + by..span.end + by;
    let span = moved(value.span());
    let inner = match value.into_inner() {
        DeValue::Array(items) => {
            DeValue::Array(items.into_iter().map(|item| shift(item, by)).collect())
        }
        DeValue::Table(entries) => DeValue::Table(
            entries
                .into_iter()
                .map(|(key, item)| {
                    let key_span = moved(key.span());
                    (Spanned::new(key_span, key.into_inner()), shift(item, by))
                })
                .collect(),
        ),
        other => other,
    };
    Spanned::new(span, inner)
}

/// Every key of the document with its dotted path, to name the key an error points at.
struct KeyIndex {
    entries: Vec<(String, Range<usize>, Range<usize>)>,
}

impl KeyIndex {
    fn of(doc: &Doc<'_>) -> KeyIndex {
        let mut entries = Vec::new();
        collect_table(doc.get_ref(), "", &mut entries);
        KeyIndex { entries }
    }

    /// The dotted path of the narrowest key or value containing `offset`.
    fn path_at(&self, offset: usize) -> Option<&str> {
        self.entries
            .iter()
            .flat_map(|(path, key, value)| [(path, key), (path, value)])
            .filter(|(_, span)| span.start <= offset && offset < span.end.max(span.start + 1))
            // Narrowest first; among equal spans (an array of tables and its element share the
            // `[[header]]`) the deeper path.
            .min_by_key(|(path, span)| (span.end - span.start, Reverse(path.len())))
            .map(|(path, _)| path.as_str())
    }
}

fn collect_table(
    table: &DeTable<'_>,
    prefix: &str,
    entries: &mut Vec<(String, Range<usize>, Range<usize>)>,
) {
    for (key, value) in table {
        let path = if prefix.is_empty() {
            key.get_ref().to_string()
        } else {
            format!("{prefix}.{}", key.get_ref())
        };
        entries.push((path.clone(), key.span(), value.span()));
        collect_value(value.get_ref(), &path, entries);
    }
}

fn collect_value(
    value: &DeValue<'_>,
    path: &str,
    entries: &mut Vec<(String, Range<usize>, Range<usize>)>,
) {
    match value {
        DeValue::Table(table) => collect_table(table, path, entries),
        DeValue::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                let item_path = format!("{path}[{i}]");
                entries.push((item_path.clone(), item.span(), item.span()));
                collect_value(item.get_ref(), &item_path, entries);
            }
        }
        _ => {}
    }
}

/// Turns a deserialization error (unknown key, wrong type, missing key) into one that names the
/// key and says how to fix it.
fn explain(source: &Source, index: &KeyIndex, error: &toml::de::Error) -> ConfigError {
    let span = error.span();
    let raw = error.message().trim().replace('\n', "; ");
    let quoted = backticked(&raw);
    let unknown_field = raw.starts_with("unknown field");

    // The dotted key the error is about. In the file, spans are precise (they even give array
    // indices). An override's keys all share one span, so there serde's own key path is used.
    let from_override = span
        .as_ref()
        .and_then(|span| match source.origin(span.start) {
            Origin::Override(part) => Some(part),
            Origin::File { .. } => None,
        });
    let key = match from_override {
        Some(part) => {
            let parent = serde_key_path(error).unwrap_or_else(|| part.key.clone());
            match quoted.first() {
                Some(unknown) if unknown_field => format!("{parent}.{unknown}"),
                _ if part.key.starts_with(&format!("{parent}.")) => {
                    return source.invalid(
                        span.as_ref(),
                        &parent,
                        format!("`{parent}` is not a table, so `{}` cannot be set", part.key),
                        format!("set {parent} itself"),
                    );
                }
                _ => parent,
            }
        }
        None => span
            .as_ref()
            .and_then(|span| index.path_at(span.start))
            .unwrap_or("")
            .to_string(),
    };

    let (message, hint) = if unknown_field {
        let unknown = quoted.first().copied().unwrap_or("");
        let known = quoted.get(1..).unwrap_or_default();
        let section = key.rsplit_once('.').map_or("", |(section, _)| section);
        let message = if section.is_empty() {
            format!("unknown section or key `{unknown}`")
        } else {
            format!("unknown key `{unknown}` in [{section}]")
        };
        let hint = match closest(unknown, known.iter().copied()) {
            Some(near) => format!("did you mean `{near}`?"),
            None if known.is_empty() => format!("remove `{unknown}`"),
            None => format!("remove it; known keys here: {}", known.join(", ")),
        };
        (message, hint)
    } else if raw.starts_with("missing field") {
        let missing = quoted.first().copied().unwrap_or("");
        (
            format!("{key} is missing `{missing}`"),
            format!("add {missing} = … to {key}"),
        )
    } else if let Some((_, expected)) = raw.split_once(", expected ") {
        let written = span.as_ref().map(|s| source.snippet(s)).unwrap_or("");
        if written.starts_with("[[") {
            // `[[name]]` where `[name]` was meant: the error is about the array, which shares
            // its span with its first element.
            let key = key
                .rsplit_once('[')
                .map_or(key.as_str(), |(array, _)| array);
            return source.invalid(
                span.as_ref(),
                key,
                format!("{key} is written as {written}, a list of tables, but must be a table"),
                format!("write [{key}] (or [{key}.<name>]) instead of [[{key}]]"),
            );
        }
        (
            format!("{key} = {written} is not {}", in_words(expected)),
            format!("write {key} as {}", in_words(expected)),
        )
    } else {
        (
            format!("{key}: {raw}"),
            "check this value against gaffer.example.toml".to_string(),
        )
    };
    source.invalid(span.as_ref(), &key, message, hint)
}

/// The dotted path serde recorded for the value an error is about (`engine` for an unknown key in
/// `[engine]`, `engine.lease` for a wrong-typed lease). toml only shows it in the rendered error,
/// as a last line "in `a.b`", when the error carries no source text, which is the case here.
fn serde_key_path(error: &toml::de::Error) -> Option<String> {
    let rendered = error.to_string();
    let last = rendered.trim_end().lines().last()?;
    let path = last.strip_prefix("in `")?.strip_suffix('`')?;
    (!path.is_empty()).then(|| path.to_string())
}

/// The words between backticks in a serde message, in order.
fn backticked(message: &str) -> Vec<&str> {
    message.split('`').skip(1).step_by(2).collect()
}

/// Rewrites serde's Rust-flavoured expectations ("i64", "a sequence") in words.
fn in_words(expected: &str) -> String {
    let expected = expected.trim();
    match expected {
        "i64" | "u64" | "an integer" => "a whole number".to_string(),
        "a boolean" | "bool" => "true or false".to_string(),
        "f64" | "f32" | "a float" => "a number, e.g. 2.5".to_string(),
        "a string" => "text in quotes".to_string(),
        "a sequence" => "a list, e.g. [\"a\", \"b\"]".to_string(),
        "struct RawAgent" | "a map" => "a table".to_string(),
        other if other.starts_with("struct ") || other.starts_with("a map") => {
            "a table".to_string()
        }
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backticked_words() {
        assert_eq!(
            backticked("unknown field `leas`, expected one of `lease`, `heartbeat`"),
            ["leas", "lease", "heartbeat"]
        );
    }
}
