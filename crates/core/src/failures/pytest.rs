//! pytest: the short test summary (`FAILED tests/x.py::test_y - AssertionError: …`, `ERROR …`),
//! the `____ test_y ____` sections under `FAILURES` and `ERRORS` (their `E` lines and where it
//! failed), and the closing count (`== 3 failed, 9 passed in 0.42s ==`).

use super::lines::count_of;
use super::{Found, MAX_DETAIL, Runner};
use std::collections::{HashMap, VecDeque};

/// One `____ title ____` section: its title and the lines that say what failed.
struct Section {
    title: String,
    detail: Vec<String>,
}

pub(crate) fn parse(lines: &[String]) -> Option<Found> {
    let mut found = Found::new(Runner::Pytest);
    let mut summary: Vec<(String, Option<String>)> = Vec::new();
    let mut sections: Vec<Section> = Vec::new();
    let mut in_failures = false;
    let mut current: Option<(String, Vec<String>, Option<String>)> = None;
    let close = |current: &mut Option<(String, Vec<String>, Option<String>)>,
                 sections: &mut Vec<Section>| {
        if let Some((title, mut errors, location)) = current.take() {
            errors.truncate(MAX_DETAIL - 1);
            errors.extend(location);
            sections.push(Section {
                title,
                detail: errors,
            });
        }
    };
    for line in lines {
        if let Some(banner) = banner(line) {
            close(&mut current, &mut sections);
            in_failures = banner == "FAILURES" || banner == "ERRORS";
            if let Some(counts) = closing_counts(banner) {
                found.count_printed(counts);
            }
            continue;
        }
        if let Some(counts) = closing_counts(line) {
            // `-q` prints the count without its banner.
            found.count_printed(counts);
            continue;
        }
        if let Some(entry) = summary_line(line) {
            summary.push(entry);
            continue;
        }
        if !in_failures {
            continue;
        }
        if let Some(title) = section_title(line) {
            close(&mut current, &mut sections);
            current = Some((title, Vec::new(), None));
            continue;
        }
        if let Some((_, errors, location)) = current.as_mut() {
            if let Some(error) = line.strip_prefix("E ").or(line.strip_prefix("E\t")) {
                if errors.len() < MAX_DETAIL {
                    errors.push(error.trim().to_string());
                }
            } else if error_location(line) {
                *location = Some(line.trim().to_string());
            }
        }
    }
    close(&mut current, &mut sections);

    // Each summary line with its section's lines, or its own message.
    let mut by_title: HashMap<&str, VecDeque<usize>> = HashMap::new();
    for (i, section) in sections.iter().enumerate() {
        by_title.entry(&section.title).or_default().push_back(i);
    }
    let mut used = vec![false; sections.len()];
    for (id, message) in &summary {
        let at = titles_of(id)
            .iter()
            .find_map(|title| by_title.get_mut(title.as_str())?.pop_front());
        let detail = match at {
            Some(i) => {
                used[i] = true;
                sections[i].detail.clone()
            }
            None => message.iter().cloned().collect(),
        };
        found.add(id, detail);
    }
    // Sections without a summary line (`-r` without failures): by their title.
    for (section, used) in sections.iter().zip(used) {
        if !used {
            found.add(&section.title, section.detail.clone());
        }
    }
    found.done()
}

/// `===== FAILURES =====` → `FAILURES`.
fn banner(line: &str) -> Option<&str> {
    let inner = line.strip_prefix("==")?.strip_suffix("==")?;
    let inner = inner.trim_matches('=').trim();
    (!inner.is_empty()).then_some(inner)
}

/// `____ test_y ____` → `test_y`; `____ ERROR at setup of test_y ____` → `test_y`.
fn section_title(line: &str) -> Option<String> {
    let inner = line.strip_prefix("__")?.strip_suffix("__")?;
    let inner = inner.trim_matches('_').trim();
    if inner.is_empty() {
        return None;
    }
    for prefix in [
        "ERROR at setup of ",
        "ERROR at teardown of ",
        "ERROR collecting ",
    ] {
        if let Some(rest) = inner.strip_prefix(prefix) {
            return Some(rest.to_string());
        }
    }
    Some(inner.to_string())
}

/// `FAILED tests/x.py::test_y - AssertionError: …` → the test's id and the message.
fn summary_line(line: &str) -> Option<(String, Option<String>)> {
    let rest = line
        .strip_prefix("FAILED ")
        .or_else(|| line.strip_prefix("ERROR "))?;
    let (id, message) = match rest.split_once(" - ") {
        Some((id, message)) => (id.trim(), Some(message.trim().to_string())),
        None => (rest.trim(), None),
    };
    // A test id names a file or a path of `::` parts; unittest's `FAILED (failures=1)` does not.
    let looks_like_id = !id.starts_with('(') && (id.contains("::") || id.contains(".py"));
    looks_like_id.then(|| (id.to_string(), message.filter(|m| !m.is_empty())))
}

/// `tests/test_auth.py:14: AssertionError`: where the failure was raised.
fn error_location(line: &str) -> bool {
    let mut parts = line.splitn(3, ':');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(path), Some(number), Some(_)) => {
            !path.is_empty()
                && !path.starts_with(' ')
                && !number.is_empty()
                && number.chars().all(|c| c.is_ascii_digit())
        }
        _ => false,
    }
}

/// The section titles pytest gives the test `tests/x.py::Class::test_y[1]`: `Class.test_y[1]`
/// (or `test_y[1]` alone); a file's own id (a collection error) is its title.
fn titles_of(id: &str) -> Vec<String> {
    let parts: Vec<&str> = id.split("::").skip(1).collect();
    match parts.last() {
        None => vec![id.to_string()],
        Some(last) if parts.len() > 1 => vec![parts.join("."), (*last).to_string()],
        Some(last) => vec![(*last).to_string()],
    }
}

/// The failures and errors of a closing line such as `3 failed, 9 passed, 1 error in 0.42s`.
fn closing_counts(line: &str) -> Option<u32> {
    let (counts, time) = line.trim().rsplit_once(" in ")?;
    let time = time.split_whitespace().next()?;
    let timed = time.ends_with('s') && time.trim_end_matches('s').parse::<f64>().is_ok();
    if !timed {
        return None;
    }
    let failed = count_of(counts, "failed");
    let errors = count_of(counts, "errors").or_else(|| count_of(counts, "error"));
    match (failed, errors) {
        (None, None) => None,
        (f, e) => Some(f.unwrap_or(0).saturating_add(e.unwrap_or(0))),
    }
}
