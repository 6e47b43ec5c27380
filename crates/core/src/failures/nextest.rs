//! cargo nextest: status lines (`FAIL [   0.006s] shop cart::tests::x`, also `SIGSEGV`,
//! `TIMEOUT`, `ABORT`, with or without `TRY n`), the captured `STDOUT:`/`STDERR:` sections of a
//! failing test (older `--- STDERR: … ---`, newer `──── STDERR: …`), and
//! `Summary [ 0.01s] 5 tests run: 3 passed, 2 failed, 0 skipped`.

use super::cargo::{Names, panic_line};
use super::lines::count_of;
use super::{Found, MAX_DETAIL, Runner};
use std::collections::HashMap;

/// Statuses that mean the test failed.
const FAILING: [&str; 6] = ["FAIL", "SIGSEGV", "SIGABRT", "SIGKILL", "TIMEOUT", "ABORT"];

/// A failing test's captured output: whose, which stream, the lines worth keeping.
struct Captured {
    name: String,
    stderr: bool,
    lines: Vec<String>,
}

pub(crate) fn parse(lines: &[String]) -> Option<Found> {
    let mut found = Found::new(Runner::Nextest);
    let mut names = Names::default();
    let mut captured: Vec<Captured> = Vec::new();
    let mut section: Option<Captured> = None;
    let mut seen_nextest = false;
    for line in lines {
        let trimmed = line.trim();
        if let Some(rest) = trimmed.strip_prefix("Summary [") {
            seen_nextest = true;
            if let Some((_, counts)) = rest.split_once(']') {
                let failed = count_of(counts, "failed").unwrap_or(0);
                let timed_out = count_of(counts, "timed out").unwrap_or(0);
                found.count_printed(failed.saturating_add(timed_out));
            }
            continue;
        }
        if let Some((name, stderr)) = section_header(trimmed) {
            seen_nextest = true;
            captured.extend(section.take());
            section = Some(Captured {
                name: name.to_string(),
                stderr,
                lines: Vec::new(),
            });
            continue;
        }
        if let Some((status, name)) = status_line(trimmed) {
            seen_nextest = true;
            captured.extend(section.take());
            if FAILING.contains(&status) {
                names.push(name);
            }
            continue;
        }
        if trimmed.starts_with("────────") || trimmed == "------------" {
            captured.extend(section.take());
            continue;
        }
        if let Some(s) = section.as_mut() {
            let noise = !s.stderr && libtest_noise(line);
            if !noise
                && s.lines.len() < MAX_DETAIL
                && let Some(kept) = panic_line(line)
            {
                s.lines.push(kept);
            }
        }
    }
    captured.extend(section.take());
    if !seen_nextest {
        return None;
    }
    // The panic is on standard error; standard output only when that said nothing.
    let mut by_name: HashMap<(&str, bool), &Vec<String>> = HashMap::new();
    for c in captured.iter().filter(|c| !c.lines.is_empty()) {
        by_name.entry((&c.name, c.stderr)).or_insert(&c.lines);
    }
    for name in &names.order {
        let of = |stderr: bool| by_name.get(&(name.as_str(), stderr)).map(|d| d.to_vec());
        let detail = of(true).or_else(|| of(false)).unwrap_or_default();
        found.add(name, detail);
    }
    found.done()
}

/// `FAIL [   0.006s] shop cart::tests::x` (maybe after `TRY 2 `) → (`FAIL`, `shop cart::tests::x`).
fn status_line(trimmed: &str) -> Option<(&str, &str)> {
    let trimmed = match trimmed.strip_prefix("TRY ") {
        Some(rest) => rest.split_once(' ').map(|(_, r)| r.trim_start())?,
        None => trimmed,
    };
    let (status, rest) = trimmed.split_once(' ')?;
    if !status.chars().all(|c| c.is_ascii_uppercase() || c == '-') {
        return None;
    }
    let rest = rest.trim_start().strip_prefix('[')?;
    let (time, name) = rest.split_once(']')?;
    if !time.trim().ends_with('s') {
        return None;
    }
    let name = name.trim();
    (!name.is_empty()).then_some((status, name))
}

/// `--- STDERR:              shop cart::tests::x ---` or `──── STDERR:  shop cart::tests::x`
/// → (the name, whether it is standard error).
fn section_header(trimmed: &str) -> Option<(&str, bool)> {
    let rest = trimmed
        .strip_prefix("---")
        .or_else(|| trimmed.strip_prefix("────"))?
        .trim_start_matches(['-', '─'])
        .trim_start();
    let (stderr, rest) = if let Some(rest) = rest.strip_prefix("STDERR:") {
        (true, rest)
    } else {
        (false, rest.strip_prefix("STDOUT:")?)
    };
    let name = rest.trim().trim_end_matches(['-', '─']).trim();
    (!name.is_empty()).then_some((name, stderr))
}

/// What libtest prints around one test under nextest, which says nothing more than its status.
fn libtest_noise(line: &str) -> bool {
    let t = line.trim();
    t.starts_with("running ")
        || t.starts_with("test result:")
        || t == "failures:"
        || (t.starts_with("test ") && t.contains(" ... "))
        || line.starts_with("    ")
}
