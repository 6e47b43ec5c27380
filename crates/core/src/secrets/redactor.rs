//! The redactor: known values and shapes, replaced by markers in text and JSON.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use regex_automata::meta::Regex;
use serde_json::Value;

use super::known::Known;
use super::marker;
use super::shapes;
use super::spans::{Span, merge};

/// Why a redactor could not be built. Neither happens with sane input: the shapes are fixed (and
/// built by a test), and the automaton is only too big for gigabytes of secrets.
#[derive(Debug, thiserror::Error)]
pub enum RedactorError {
    #[error("the secret shapes do not compile: {0}")]
    Shapes(String),
    #[error("cannot build the matcher of known secrets: {0}")]
    Known(#[from] aho_corasick::BuildError),
}

/// Finds and redacts every secret gaffer knows of. Cheap to clone and share (one `Arc`).
#[derive(Clone)]
pub struct Redactor {
    inner: Arc<Inner>,
}

struct Inner {
    known: Known,
    shapes: Regex,
}

impl Redactor {
    /// A redactor of the given `(name, value)` secrets and of every shape. Values are trimmed;
    /// those shorter than [`super::MIN_SECRET_LEN`] characters are ignored.
    pub fn new<I, N, V>(known: I) -> Result<Self, RedactorError>
    where
        I: IntoIterator<Item = (N, V)>,
        N: AsRef<str>,
        V: AsRef<str>,
    {
        let entries = known
            .into_iter()
            .map(|(n, v)| (label(n.as_ref()), v.as_ref().trim().to_owned()))
            .collect();
        Self::build(entries)
    }

    /// This redactor and one more secret (e.g. the server token, known only at run time).
    pub fn with_value(
        &self,
        name: impl AsRef<str>,
        value: impl AsRef<str>,
    ) -> Result<Self, RedactorError> {
        let mut entries = self.inner.known.entries.clone();
        entries.push((label(name.as_ref()), value.as_ref().trim().to_owned()));
        Self::build(entries)
    }

    fn build(entries: Vec<(String, String)>) -> Result<Self, RedactorError> {
        Ok(Redactor {
            inner: Arc::new(Inner {
                known: Known::new(entries)?,
                shapes: shapes::regex().map_err(RedactorError::Shapes)?,
            }),
        })
    }

    /// Whether no known value is looked for (shapes always are).
    pub fn is_empty(&self) -> bool {
        !self.inner.known.is_active()
    }

    /// The names of the known secrets, in the order given.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.inner.known.entries.iter().map(|(n, _)| n.as_str())
    }

    /// `text` with every secret replaced by its marker, and every NUL by U+FFFD; borrowed when
    /// there was neither.
    pub fn redact<'t>(&self, text: &'t str) -> Cow<'t, str> {
        // Nothing stored or shown carries a NUL either: PostgreSQL's text cannot hold one, and
        // every store must keep the same text (an agent's output may contain one).
        if text.contains('\0') {
            let clean = text.replace('\0', "\u{FFFD}");
            return Cow::Owned(self.redact(&clean).into_owned());
        }
        let spans = self.spans(text);
        if spans.is_empty() {
            return Cow::Borrowed(text);
        }
        let mut out = String::with_capacity(text.len());
        let mut last = 0;
        for span in spans {
            // Spans start and end on char boundaries: patterns are whole UTF-8 strings, shapes
            // start and end with ASCII.
            out.push_str(&text[last..span.start]);
            out.push_str(&marker(span.label));
            last = span.end;
        }
        out.push_str(&text[last..]);
        Cow::Owned(out)
    }

    /// Whether `text` holds any secret.
    pub fn contains_secret(&self, text: &str) -> bool {
        !self.spans(text).is_empty()
    }

    /// `value` with every string in it redacted, through its JSON form; a clone when nothing
    /// needed redacting or the value does not round-trip through JSON.
    pub fn scrub<T>(&self, value: &T) -> T
    where
        T: serde::Serialize + serde::de::DeserializeOwned + Clone,
    {
        let Ok(mut json) = serde_json::to_value(value) else {
            return value.clone();
        };
        let before = json.clone();
        self.redact_json(&mut json);
        if json == before {
            return value.clone();
        }
        serde_json::from_value(json).unwrap_or_else(|_| value.clone())
    }

    /// Redacts every string in `value`, object keys included (a secret is one wherever it is).
    /// Two keys that redact to the same marker collide: the later one wins.
    pub fn redact_json(&self, value: &mut Value) {
        match value {
            Value::String(s) => {
                if let Cow::Owned(redacted) = self.redact(s) {
                    *s = redacted;
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|v| self.redact_json(v)),
            Value::Object(map) => {
                if map.keys().any(|k| self.contains_secret(k)) {
                    for (key, mut v) in std::mem::take(map) {
                        self.redact_json(&mut v);
                        map.insert(self.redact(&key).into_owned(), v);
                    }
                } else {
                    map.values_mut().for_each(|v| self.redact_json(v));
                }
            }
            Value::Null | Value::Bool(_) | Value::Number(_) => {}
        }
    }

    /// The secrets of `text`, merged, in order.
    pub(super) fn spans(&self, text: &str) -> Vec<Span<'_>> {
        let mut secrets = Vec::new();
        let mut keep = Vec::new();
        self.inner.known.find(text, &mut secrets, &mut keep);
        shapes::find(&self.inner.shapes, text, &mut secrets);
        if secrets.is_empty() {
            return secrets;
        }
        merge(secrets, &keep)
    }
}

/// Never prints a value.
impl fmt::Debug for Redactor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Redactor")
            .field("names", &self.names().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

/// A name fit for a marker: no brackets or line breaks to confuse it with the text around.
fn label(name: &str) -> String {
    let name = name.trim();
    if name.is_empty() {
        return "secret".to_owned();
    }
    name.chars()
        .map(|c| {
            if c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | ' ') {
                c
            } else {
                '_'
            }
        })
        .collect()
}
