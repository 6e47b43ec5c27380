//! Well-known credential shapes, all in one multi-pattern regex.

use std::sync::LazyLock;

use regex_automata::Input;
use regex_automata::meta::Regex;

use super::spans::Span;

struct Shape {
    label: &'static str,
    pattern: &'static str,
    /// A second look at a match, for what a regex says badly.
    plausible: fn(&str) -> bool,
}

// Order matters: at one position the first pattern that matches wins (`sk-ant-` before `sk-`,
// `Bearer` before the JWT it carries). `\b` is ASCII so that the lazy DFA can run it.
const SHAPES: &[Shape] = &[
    Shape {
        label: "private key",
        // The body: base64, PEM headers (`Proc-Type: 4,ENCRYPTED`), newlines raw or JSON-escaped;
        // a `-` only between word characters, so the body stops at `-----END`.
        pattern: r"-----BEGIN [A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----(?:[A-Za-z0-9+/= \t\r\n:,\\]|(?-u:\b)-(?-u:\b))*(?:-----END [A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----)?",
        plausible: always,
    },
    Shape {
        label: "anthropic key",
        pattern: r"(?-u:\b)sk-ant-[A-Za-z0-9_-]{20,}",
        plausible: has_digit,
    },
    Shape {
        label: "openai key",
        pattern: r"(?-u:\b)sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}",
        plausible: has_digit,
    },
    Shape {
        label: "github token",
        pattern: r"(?-u:\b)(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,})",
        plausible: always,
    },
    Shape {
        label: "aws access key id",
        pattern: r"(?-u:\b)(?:AKIA|ASIA)[A-Z0-9]{16}(?-u:\b)",
        plausible: not_aws_example,
    },
    Shape {
        label: "aws secret key",
        pattern: r#"(?i:aws_secret_access_key)["']?[ \t]*[:=][ \t]*["']?[A-Za-z0-9/+]{40,}"#,
        plausible: always,
    },
    Shape {
        label: "slack token",
        pattern: r"(?-u:\b)xox[abprs]-[A-Za-z0-9-]{10,}",
        plausible: has_digit,
    },
    Shape {
        label: "slack webhook",
        pattern: r"https://hooks\.slack\.com/services/[A-Za-z0-9_/]{20,}",
        plausible: always,
    },
    Shape {
        label: "google api key",
        pattern: r"(?-u:\b)AIza[0-9A-Za-z_-]{35}",
        plausible: always,
    },
    Shape {
        label: "bearer token",
        pattern: r"(?-u:\b)(?i:bearer)[ \t]+[A-Za-z0-9._~+/-]{20,}=*",
        plausible: has_digit,
    },
    Shape {
        label: "jwt",
        pattern: r"(?-u:\b)eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}",
        plausible: always,
    },
];

// The error as text: regex's own is too big to carry around in a `Result`.
static REGEX: LazyLock<Result<Regex, String>> = LazyLock::new(|| {
    Regex::new_many(&SHAPES.iter().map(|s| s.pattern).collect::<Vec<_>>())
        .map_err(|e| e.to_string())
});

/// The labels shapes are redacted with, e.g. `github token`.
pub fn shape_labels() -> impl Iterator<Item = &'static str> {
    SHAPES.iter().map(|s| s.label)
}

/// The compiled shapes; an error only if a pattern above is wrong (a unit test builds them).
pub(super) fn regex() -> Result<Regex, String> {
    REGEX.clone()
}

/// Pushes a span for each plausible shape in `text`.
pub(super) fn find<'r>(regex: &Regex, text: &str, out: &mut Vec<Span<'r>>) {
    let mut at = 0;
    while at < text.len() {
        let Some(m) = regex.search(&Input::new(text).range(at..)) else {
            break;
        };
        let shape = &SHAPES[m.pattern().as_usize()];
        if (shape.plausible)(&text[m.range()]) {
            out.push(Span {
                start: m.start(),
                end: m.end(),
                label: shape.label,
            });
            at = m.end().max(m.start() + 1);
        } else {
            // Every pattern starts with an ASCII byte, so one past it is a char boundary; a
            // shorter match of another shape may start inside the rejected one.
            at = m.start() + 1;
        }
    }
}

fn always(_: &str) -> bool {
    true
}

fn has_digit(m: &str) -> bool {
    m.bytes().any(|b| b.is_ascii_digit())
}

fn not_aws_example(m: &str) -> bool {
    !m.ends_with("EXAMPLE")
}
