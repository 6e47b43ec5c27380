//! vitest: the `× suite > test 4ms` lines (with the `→ message` under each), the
//! `FAIL  file > suite > test` headings of the "Failed Tests" section (the error, the expected
//! and received values and where, without the code frame), a file that failed to load
//! (`FAIL  file [ file ]`), and `Tests  1 failed | 4 passed (5)`.

use super::lines::{count_of, is_code_frame, is_stack_line};
use super::{Found, MAX_DETAIL, Runner};
use std::collections::HashSet;

pub(crate) fn parse(lines: &[String]) -> Option<Found> {
    let mut found = Found::new(Runner::Vitest);
    // The `×` lines name a test without its file: kept only if no heading names it.
    let mut crossed: Vec<(String, Vec<String>)> = Vec::new();
    let mut headings: Vec<String> = Vec::new();
    let mut block: Option<(String, Vec<String>)> = None;
    let mut seen_vitest = false;
    for line in lines {
        let trimmed = line.trim();
        if let Some(counts) = trimmed.strip_prefix("Tests ") {
            seen_vitest = true;
            if let Some(n) = count_of(counts, "failed") {
                found.count_printed(n);
            }
            continue;
        }
        if trimmed.starts_with("Test Files ") || trimmed.starts_with("⎯") {
            seen_vitest |= trimmed.starts_with('⎯');
            close(&mut block, &mut found, &mut headings);
            continue;
        }
        if let Some(rest) = trimmed.strip_prefix("FAIL ") {
            close(&mut block, &mut found, &mut headings);
            let rest = rest.trim();
            let name = match rest.split_once(" [ ") {
                // A file that failed to load: `FAIL  src/x.test.ts [ src/x.test.ts ]`.
                Some((file, _)) => Some(file.trim()),
                None => rest.contains(" > ").then_some(rest),
            };
            if let Some(name) = name {
                seen_vitest = true;
                block = Some((name.to_string(), Vec::new()));
            }
            continue;
        }
        if let Some(test) = trimmed.strip_prefix("× ") {
            seen_vitest = true;
            crossed.push((without_duration(test).to_string(), Vec::new()));
            continue;
        }
        if let Some(message) = trimmed.strip_prefix("→ ") {
            if let Some((_, detail)) = crossed.last_mut()
                && detail.len() < MAX_DETAIL
            {
                detail.push(message.trim().to_string());
            }
            continue;
        }
        // The diff's own legend says nothing its `-`/`+` lines do not.
        let legend = trimmed == "- Expected" || trimmed == "+ Received";
        if let Some((_, detail)) = block.as_mut()
            && !trimmed.is_empty()
            && !legend
            && !is_code_frame(line)
            && !is_stack_line(line)
            && detail.len() < MAX_DETAIL
        {
            detail.push(trimmed.to_string());
        }
    }
    close(&mut block, &mut found, &mut headings);
    if !seen_vitest {
        return None;
    }
    // Each heading and every tail of it after a ` > `: what a `×` line may call it.
    let named: HashSet<&str> = headings
        .iter()
        .flat_map(|h| {
            let tails = h
                .match_indices(" > ")
                .map(move |(at, sep)| &h[at + sep.len()..]);
            std::iter::once(h.as_str()).chain(tails)
        })
        .collect();
    for (name, detail) in crossed {
        if !named.contains(name.as_str()) {
            found.add(&name, detail);
        }
    }
    found.done()
}

fn close(block: &mut Option<(String, Vec<String>)>, found: &mut Found, headings: &mut Vec<String>) {
    if let Some((name, detail)) = block.take() {
        found.add(&name, detail);
        headings.push(name);
    }
}

/// `Cart > applies the discount 4ms` → `Cart > applies the discount`.
fn without_duration(test: &str) -> &str {
    let test = test.trim();
    match test.rsplit_once(' ') {
        Some((name, time))
            if time.ends_with("ms") && time.trim_end_matches("ms").parse::<f64>().is_ok() =>
        {
            name
        }
        _ => test,
    }
}
