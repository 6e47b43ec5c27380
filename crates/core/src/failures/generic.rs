//! Output no runner explains (a build error, a linter, a script): the lines that mention an
//! error, a failure, an assertion, a panic or an exception — the first few (the cause usually
//! comes first) and the last few (what the tool concluded) — and a headline from the first.
//! Output with none of them is summed up by its last line.

use super::lines::clip;
use super::{FailureSummary, MAX_HEADLINE, MAX_LINE, Runner};
use std::collections::HashSet;

/// How many of the first and of the last telling lines are kept.
const FIRST: usize = 4;
const LAST: usize = 3;

const WORDS: [&str; 7] = [
    "error",
    "fail",
    "assert",
    "panic",
    "exception",
    "fatal",
    "traceback",
];

pub(crate) fn summarize(lines: &[String]) -> FailureSummary {
    let telling: Vec<&str> = lines
        .iter()
        .map(|l| l.trim())
        .filter(|l| tells(l))
        .collect();
    let mut kept: Vec<&str> = Vec::new();
    let mut seen = HashSet::new();
    let last_from = telling
        .len()
        .saturating_sub(LAST)
        .max(FIRST.min(telling.len()));
    for line in telling.iter().take(FIRST).chain(&telling[last_from..]) {
        if seen.insert(*line) {
            kept.push(line);
        }
    }
    let headline = match kept.first() {
        Some(first) => clip(&format!("verify failed: {first}"), MAX_HEADLINE),
        None => match lines.iter().rev().map(|l| l.trim()).find(|l| !l.is_empty()) {
            Some(last) => clip(
                &format!("verify failed; its output ends: {last}"),
                MAX_HEADLINE,
            ),
            None => "verify failed with no output".to_string(),
        },
    };
    FailureSummary {
        runner: Runner::Generic,
        headline,
        tests: Vec::new(),
        total: None,
        lines: kept.into_iter().map(|l| clip(l, MAX_LINE)).collect(),
    }
}

/// Whether a line mentions a failure, and not to say there was none (`0 failed`, `no errors`).
fn tells(line: &str) -> bool {
    let lower = line.to_ascii_lowercase();
    if !WORDS.iter().any(|w| lower.contains(w)) {
        return false;
    }
    let none = [
        "0 failed",
        "0 errors",
        "0 error",
        "no errors",
        "failures=0",
        "errors=0",
    ];
    !none.iter().any(|n| lower.contains(n))
}
