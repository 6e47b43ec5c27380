//! Known secret values, in the forms they are looked for, all in one Aho-Corasick automaton.

use aho_corasick::{AhoCorasick, BuildError, MatchKind};

use super::shapes::shape_labels;
use super::spans::Span;
use super::{MIN_SECRET_LEN, marker};

/// What a pattern of the automaton stands for.
#[derive(Clone, Copy, Debug)]
enum Owner {
    /// A form of the value of secret number `.0`.
    Secret(usize),
    /// A marker, i.e. text already redacted, which no secret inside it may redact again.
    Marker,
}

#[derive(Debug)]
pub(super) struct Known {
    /// `(name, value)` as given (values trimmed), kept so that a value can be added later.
    pub entries: Vec<(String, String)>,
    automaton: Option<(AhoCorasick, Vec<Owner>)>,
}

impl Known {
    /// Builds the automaton over the usable entries; `None` of it when there are none.
    pub fn new(entries: Vec<(String, String)>) -> Result<Self, BuildError> {
        let usable = |(_, v): &&(String, String)| v.chars().count() >= MIN_SECRET_LEN;
        if !entries.iter().any(|e| usable(&e)) {
            return Ok(Known {
                entries,
                automaton: None,
            });
        }
        let mut patterns = Vec::new();
        let mut owners = Vec::new();
        for (i, (_, value)) in entries.iter().enumerate().filter(|(_, e)| usable(e)) {
            for form in forms(value) {
                patterns.push(form);
                owners.push(Owner::Secret(i));
            }
        }
        let names = entries.iter().map(|(n, _)| marker(n));
        for marker in names.chain(shape_labels().map(marker)) {
            patterns.push(marker);
            owners.push(Owner::Marker);
        }
        // Standard semantics, searched overlapping: every occurrence of every value is seen,
        // even where two values overlap; the spans are merged afterwards.
        let automaton = AhoCorasick::builder()
            .match_kind(MatchKind::Standard)
            .build(&patterns)?;
        Ok(Known {
            entries,
            automaton: Some((automaton, owners)),
        })
    }

    /// Whether any value is looked for.
    pub fn is_active(&self) -> bool {
        self.automaton.is_some()
    }

    /// Pushes a span for each occurrence of a value, and the range of each marker into `keep`.
    pub fn find<'r>(&'r self, text: &str, out: &mut Vec<Span<'r>>, keep: &mut Vec<(usize, usize)>) {
        let Some((automaton, owners)) = &self.automaton else {
            return;
        };
        for m in automaton.find_overlapping_iter(text) {
            match owners[m.pattern().as_usize()] {
                Owner::Secret(i) => out.push(Span {
                    start: m.start(),
                    end: m.end(),
                    label: &self.entries[i].0,
                }),
                Owner::Marker => keep.push((m.start(), m.end())),
            }
        }
    }
}

/// The forms a value is looked for in: as it is, JSON-escaped and percent-encoded.
pub(super) fn forms(value: &str) -> Vec<String> {
    let json = json_escaped(value);
    let slashed = json.replace('/', "\\/");
    let mut forms = vec![
        value.to_owned(),
        ascii_json_escaped(&json),
        ascii_json_escaped(&slashed),
        percent_encoded(value, false),
        percent_encoded(value, true),
        json,
        slashed,
    ];
    forms.sort();
    forms.dedup();
    forms
}

fn json_escaped(value: &str) -> String {
    let quoted = serde_json::Value::String(value.to_owned()).to_string();
    quoted
        .strip_prefix('"')
        .and_then(|q| q.strip_suffix('"'))
        .map_or_else(|| value.to_owned(), str::to_owned)
}

/// JSON with every non-ASCII character as `\uXXXX` (surrogate pairs beyond the BMP), as Python's
/// `json.dumps` writes by default.
fn ascii_json_escaped(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        }
    }
    out
}

/// Every byte but RFC 3986's unreserved characters as `%XX`.
fn percent_encoded(value: &str, lower: bool) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else if lower {
            out.push_str(&format!("%{b:02x}"));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_of_a_plain_key_are_just_the_key() {
        assert_eq!(forms("abc-DEF_123.x~"), vec!["abc-DEF_123.x~".to_owned()]);
    }

    #[test]
    fn forms_cover_json_and_url_encodings() {
        let forms = forms("p/ss\"wörd");
        for expected in [
            "p/ss\"wörd",
            "p/ss\\\"wörd",
            "p\\/ss\\\"wörd",
            "p/ss\\\"w\\u00f6rd",
            "p\\/ss\\\"w\\u00f6rd",
            "p%2Fss%22w%C3%B6rd",
            "p%2fss%22w%c3%b6rd",
        ] {
            assert!(
                forms.contains(&expected.to_owned()),
                "{expected} in {forms:?}"
            );
        }
    }

    #[test]
    fn characters_beyond_the_bmp_are_escaped_as_surrogate_pairs() {
        assert_eq!(ascii_json_escaped("a😀"), "a\\ud83d\\ude00");
    }
}
