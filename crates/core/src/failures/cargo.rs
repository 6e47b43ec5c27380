//! cargo test (libtest): `test name ... FAILED` lines, the `---- name stdout ----` sections with
//! the panic, the `failures:` list of names, and `test result: FAILED. 3 passed; 2 failed; …`
//! (once per test binary).

use super::lines::count_of;
use super::{Found, MAX_DETAIL, Runner};
use std::collections::HashMap;

pub(crate) fn parse(lines: &[String]) -> Option<Found> {
    let mut found = Found::new(Runner::Cargo);
    let mut details: Vec<(String, Vec<String>)> = Vec::new();
    let mut names = Names::default();
    let mut in_list = false;
    let mut section: Option<(String, Vec<String>)> = None;
    for line in lines {
        if let Some(result) = line.strip_prefix("test result: FAILED.") {
            found.count_printed(count_of(result, "failed").unwrap_or(0));
        }
        if let Some(name) = section_name(line) {
            details.extend(section.take());
            section = Some((name.to_string(), Vec::new()));
            in_list = false;
            continue;
        }
        if line == "failures:" {
            details.extend(section.take());
            in_list = true;
            continue;
        }
        if let Some(name) = failed_line(line) {
            details.extend(section.take());
            names.push(name);
            continue;
        }
        if in_list {
            match line.strip_prefix("    ") {
                Some(name) if !name.trim().is_empty() && !name.starts_with(' ') => {
                    names.push(name.trim());
                }
                _ if line.trim().is_empty() => {}
                _ => in_list = false,
            }
            continue;
        }
        if let Some((_, detail)) = section.as_mut() {
            if line.starts_with("test result:") || line.starts_with("running ") {
                details.extend(section.take());
            } else if let Some(kept) = panic_line(line)
                && detail.len() < MAX_DETAIL
            {
                detail.push(kept);
            }
        }
    }
    details.extend(section.take());
    let mut by_name: HashMap<&str, &Vec<String>> = HashMap::new();
    for (name, detail) in &details {
        by_name.entry(name).or_insert(detail);
    }
    for name in &names.order {
        let detail = by_name.get(name.as_str()).map(|d| d.to_vec());
        found.add(name, detail.unwrap_or_default());
    }
    // A section whose test was never listed (output cut at the top) still names it.
    for (name, detail) in details {
        if !found.has(&name) {
            found.add(&name, detail);
        }
    }
    found.done()
}

/// Names in the order first seen, each once.
#[derive(Default)]
pub(crate) struct Names {
    pub(crate) order: Vec<String>,
    seen: std::collections::HashSet<String>,
}

impl Names {
    pub(crate) fn push(&mut self, name: &str) {
        if self.seen.insert(name.to_string()) {
            self.order.push(name.to_string());
        }
    }
}

/// `---- cart::tests::x stdout ----` → `cart::tests::x`.
fn section_name(line: &str) -> Option<&str> {
    let inner = line.strip_prefix("---- ")?.strip_suffix(" ----")?;
    inner
        .strip_suffix(" stdout")
        .or_else(|| inner.strip_suffix(" stderr"))
        .map(str::trim)
        .filter(|n| !n.is_empty())
}

/// `test cart::tests::x ... FAILED` → `cart::tests::x`.
fn failed_line(line: &str) -> Option<&str> {
    let rest = line.strip_prefix("test ")?;
    let (name, verdict) = rest.rsplit_once(" ... ")?;
    verdict.starts_with("FAILED").then_some(name.trim())
}

/// A line of a test's captured output worth keeping: the panic and its message, without
/// libtest's hints and backtraces. `thread 'x' panicked at src/a.rs:3:5:` → `panicked at …`.
pub(crate) fn panic_line(line: &str) -> Option<String> {
    let trimmed = line.trim_end();
    if trimmed.trim().is_empty()
        || trimmed.starts_with("note: run with `RUST_BACKTRACE")
        || trimmed.starts_with("stack backtrace:")
        || trimmed.trim_start().starts_with("at ")
    {
        return None;
    }
    if let Some(rest) = trimmed.strip_prefix("thread '")
        && let Some((_, after)) = rest.split_once("' panicked at ")
    {
        return Some(format!("panicked at {after}"));
    }
    // Backtrace frames: `  12: std::panicking::begin_panic`.
    let frame = trimmed.trim_start();
    let digits = frame.chars().take_while(char::is_ascii_digit).count();
    if digits > 0 && frame[digits..].starts_with(": ") {
        return None;
    }
    Some(trimmed.to_string())
}
