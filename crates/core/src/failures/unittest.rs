//! Python's unittest: `FAIL: test_x (module.Class.test_x)` and `ERROR: …` blocks under a line
//! of `=`, each with its traceback (the exception and where it was raised are kept), and the
//! closing `FAILED (failures=1, errors=1)`.

use super::lines::count_of;
use super::{Found, MAX_DETAIL, Runner};

pub(crate) fn parse(lines: &[String]) -> Option<Found> {
    let mut found = Found::new(Runner::Unittest);
    let mut i = 0;
    while i < lines.len() {
        let line = &lines[i];
        if let Some(counts) = line.strip_prefix("FAILED (") {
            let failures = count_of(counts, "failures").unwrap_or(0);
            let errors = count_of(counts, "errors").unwrap_or(0);
            found.count_printed(failures.saturating_add(errors));
        }
        let after_rule = i > 0 && is_rule(&lines[i - 1], '=');
        let header = line
            .strip_prefix("FAIL: ")
            .or_else(|| line.strip_prefix("ERROR: "));
        let (Some(header), true) = (header, after_rule) else {
            i += 1;
            continue;
        };
        // The block: up to the next `====` line (the next test) or the closing `----`.
        let start = i + 1;
        let mut end = start;
        let mut dashes = 0;
        while end < lines.len() && !is_rule(&lines[end], '=') {
            if is_rule(&lines[end], '-') {
                dashes += 1;
                if dashes == 2 {
                    break;
                }
            }
            end += 1;
        }
        found.add(&name_of(header), detail(&lines[start..end]));
        i = end;
    }
    found.done()
}

/// A line of one character repeated (`=====…`, `-----…`), as unittest draws between blocks.
fn is_rule(line: &str, c: char) -> bool {
    line.len() >= 20 && line.chars().all(|x| x == c)
}

/// `test_x (pkg.mod.Class.test_x)` (Python 3.11+) or `test_x (pkg.mod.Class)` (before) →
/// `pkg.mod.Class.test_x`; a subtest's `(i=3)` stays after it.
fn name_of(header: &str) -> String {
    let header = header.trim();
    let Some((method, rest)) = header.split_once(" (") else {
        return header.to_string();
    };
    let Some((path, after)) = rest.split_once(')') else {
        return header.to_string();
    };
    let full = if path.rsplit('.').next() == Some(method) {
        path.to_string()
    } else {
        format!("{path}.{method}")
    };
    let after = after.trim();
    if after.is_empty() {
        full
    } else {
        format!("{full} {after}")
    }
}

/// The exception (its lines after the traceback's last frame) and where it was raised.
fn detail(block: &[String]) -> Vec<String> {
    let Some(trace) = block
        .iter()
        .position(|l| l.starts_with("Traceback (most recent call last)"))
    else {
        return block
            .iter()
            .filter(|l| !l.trim().is_empty() && !is_rule(l, '-'))
            .take(MAX_DETAIL)
            .cloned()
            .collect();
    };
    let body = &block[trace + 1..];
    let last_frame = body
        .iter()
        .rposition(|l| l.trim_start().starts_with("File \""));
    let exception_from = last_frame.map_or(0, |f| {
        // The frame's line, then its source line (more indented), then the exception.
        let mut at = f + 1;
        while at < body.len() && body[at].starts_with("    ") {
            at += 1;
        }
        at
    });
    let mut out: Vec<String> = body[exception_from..]
        .iter()
        .filter(|l| !l.trim().is_empty() && !is_rule(l, '-'))
        .take(MAX_DETAIL - 1)
        .map(|l| l.trim_end().to_string())
        .collect();
    if let Some(f) = last_frame {
        out.push(body[f].trim().to_string());
    }
    out
}
