//! jest: `● Suite › test name` blocks (the message, without the code frame and the stack),
//! `FAIL path` lines (a suite that failed to run is named by its file), and
//! `Tests:       2 failed, 5 passed, 7 total`. The blocks are printed again under "Summary of
//! all failing tests"; each test is kept once.

use super::lines::{count_of, is_code_frame, is_stack_line};
use super::{Found, MAX_DETAIL, Runner};

pub(crate) fn parse(lines: &[String]) -> Option<Found> {
    let mut found = Found::new(Runner::Jest);
    let mut file: Option<&str> = None;
    let mut block: Option<(String, Vec<String>)> = None;
    for line in lines {
        let trimmed = line.trim();
        if let Some(counts) = trimmed.strip_prefix("Tests:") {
            if let Some(n) = count_of(counts, "failed") {
                found.count_printed(n);
            }
            close(&mut block, &mut found);
            continue;
        }
        if let Some(path) = trimmed.strip_prefix("FAIL ") {
            close(&mut block, &mut found);
            // vitest's `FAIL  file > suite > test` is vitest's to read.
            if !path.contains(" > ") {
                file = Some(path.trim());
            }
            continue;
        }
        if trimmed.starts_with("PASS ")
            || trimmed.starts_with("Test Suites:")
            || trimmed.starts_with("Summary of all failing tests")
        {
            close(&mut block, &mut found);
            continue;
        }
        if let Some(title) = trimmed.strip_prefix("● ") {
            close(&mut block, &mut found);
            let title = title.trim();
            // `● Console` holds what the tests logged, not a failure.
            if title == "Console" {
                continue;
            }
            let name = match (title, file) {
                ("Test suite failed to run", Some(path)) => path.to_string(),
                _ => title.to_string(),
            };
            block = Some((name, Vec::new()));
            continue;
        }
        if let Some((_, detail)) = block.as_mut()
            && !trimmed.is_empty()
            && !is_code_frame(line)
            && !is_stack_line(line)
            && detail.len() < MAX_DETAIL
        {
            detail.push(trimmed.to_string());
        }
    }
    close(&mut block, &mut found);
    found.done()
}

fn close(block: &mut Option<(String, Vec<String>)>, found: &mut Found) {
    if let Some((name, detail)) = block.take() {
        found.add(&name, detail);
    }
}
