//! Node's built-in runner with its spec reporter (`node --test` on a terminal): `✖ name (1.2ms)`
//! lines with the error indented under them, preferably from the closing "✖ failing tests:"
//! section (where each comes after `test at file:line:col`), and `ℹ fail 1`. A suite that
//! failed only because a test in it did (`'1 subtest failed'`) is not a failure of its own.
//! Its TAP reporter is read by `tap.rs`.

use super::lines::{indent, is_stack_line};
use super::{Found, MAX_DETAIL, Runner};

pub(crate) fn parse(lines: &[String]) -> Option<Found> {
    let mut found = Found::new(Runner::Node);
    for line in lines {
        if let Some(n) = line
            .trim()
            .strip_prefix("ℹ fail ")
            .and_then(|n| n.trim().parse::<u32>().ok())
        {
            found.count_printed(n);
        }
    }
    // The closing section repeats every failure with where it is: read from there when present.
    let from = lines
        .iter()
        .position(|l| l.trim() == "✖ failing tests:")
        .map_or(0, |at| at + 1);
    let mut location: Option<String> = None;
    let mut i = from;
    while i < lines.len() {
        let line = &lines[i];
        let trimmed = line.trim();
        if let Some(at) = trimmed.strip_prefix("test at ") {
            location = Some(at.trim().to_string());
            i += 1;
            continue;
        }
        let Some(title) = trimmed.strip_prefix("✖ ") else {
            i += 1;
            continue;
        };
        let name = without_duration(title);
        let depth = indent(line);
        let mut detail = Vec::new();
        // Once the stack trace starts, what follows (more frames, the error's properties)
        // says nothing the message did not.
        let mut in_stack = false;
        let mut j = i + 1;
        while j < lines.len() {
            let next = &lines[j];
            let t = next.trim();
            if !t.is_empty() && indent(next) <= depth {
                break;
            }
            in_stack |= is_stack_line(next);
            if in_stack {
                j += 1;
                continue;
            }
            // An error's own properties follow as an object: the message said enough.
            if t == "{" {
                let opened = indent(next);
                while j < lines.len() && !(lines[j].trim() == "}" && indent(&lines[j]) <= opened) {
                    j += 1;
                }
            } else if !t.is_empty() && detail.len() < MAX_DETAIL {
                detail.push(t.to_string());
            }
            j += 1;
        }
        let only_subtests = detail.len() == 1 && is_subtests_failed(&detail[0]);
        if only_subtests {
            found.remove(name);
        } else if !found.has(name) {
            if let Some(at) = location.take()
                && detail.len() < MAX_DETAIL
            {
                detail.push(format!("at {at}"));
            }
            found.add(name, detail);
        }
        location = None;
        i = j;
    }
    found.done()
}

/// `'1 subtest failed'`, `'3 subtests failed'`: a suite's error that says only that.
pub(crate) fn is_subtests_failed(text: &str) -> bool {
    let t = text.trim().trim_matches(['\'', '"']);
    let mut words = t.split_whitespace();
    words.next().is_some_and(|n| n.parse::<u32>().is_ok())
        && matches!(words.next(), Some("subtest" | "subtests"))
        && words.next() == Some("failed")
        && words.next().is_none()
}

/// `applies the discount (1.2ms)` → `applies the discount`.
fn without_duration(title: &str) -> &str {
    let title = title.trim();
    match title.rsplit_once(" (") {
        Some((name, time)) if time.ends_with("ms)") => name.trim(),
        _ => title,
    }
}
