//! go test: `--- FAIL: TestX (0.00s)` (subtests indented under their parent), the lines the test
//! logged (after the FAIL line, or before it under `=== RUN` with `-v`), and a panic. Only the
//! innermost failures are kept: a parent fails because its subtest did. Go prints no count.

use super::lines::indent;
use super::{Found, MAX_DETAIL, Runner};
use std::collections::{HashMap, HashSet};

pub(crate) fn parse(lines: &[String]) -> Option<Found> {
    let mut failures: Vec<(String, Vec<String>)> = Vec::new();
    // `-v`: what each test logged since its `=== RUN`, in case its FAIL line has nothing after.
    let mut logged: HashMap<String, Vec<String>> = HashMap::new();
    let mut running: Option<String> = None;
    let mut i = 0;
    while i < lines.len() {
        let line = &lines[i];
        let trimmed = line.trim_start();
        if let Some(name) = trimmed
            .strip_prefix("=== RUN ")
            .or_else(|| trimmed.strip_prefix("=== CONT "))
        {
            running = Some(name.trim().to_string());
            i += 1;
            continue;
        }
        let Some(name) = fail_line(trimmed) else {
            if trimmed.starts_with("--- ") || trimmed.starts_with("=== ") {
                running = None;
            } else if let Some(name) = &running
                && !trimmed.is_empty()
            {
                let said = logged.entry(name.clone()).or_default();
                if said.len() < MAX_DETAIL {
                    said.push(trimmed.to_string());
                }
            }
            i += 1;
            continue;
        };
        running = None;
        let depth = indent(line);
        let mut detail = Vec::new();
        let mut j = i + 1;
        while j < lines.len() {
            let next = &lines[j];
            let t = next.trim_start();
            if t.is_empty() {
                j += 1;
                continue;
            }
            if t.starts_with("panic: ") && detail.is_empty() {
                detail.push(t.to_string());
                j += 1;
                continue;
            }
            if indent(next) <= depth || t.starts_with("--- ") || t.starts_with("=== ") {
                break;
            }
            if detail.len() < MAX_DETAIL {
                detail.push(t.to_string());
            }
            j += 1;
        }
        if detail.is_empty()
            && let Some(said) = logged.get(name)
        {
            detail = said.clone();
        }
        failures.push((name.to_string(), detail));
        i = j;
    }
    // Every failing test's parents (`TestX` and `TestX/a` for `TestX/a/b`).
    let parents: HashSet<&str> = failures
        .iter()
        .flat_map(|(name, _)| name.match_indices('/').map(|(at, _)| &name[..at]))
        .collect();
    let mut found = Found::new(Runner::Go);
    for (name, detail) in &failures {
        if !parents.contains(name.as_str()) {
            found.add(name, detail.clone());
        }
    }
    found.done()
}

/// `--- FAIL: TestX/sub (0.00s)` → `TestX/sub`.
fn fail_line(trimmed: &str) -> Option<&str> {
    let rest = trimmed.strip_prefix("--- FAIL: ")?;
    let name = match rest.rfind(" (") {
        Some(at) => &rest[..at],
        None => rest,
    };
    let name = name.trim();
    (!name.is_empty()).then_some(name)
}
