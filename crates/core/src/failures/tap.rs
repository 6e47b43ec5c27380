//! TAP (Test Anything Protocol), as node's runner prints it when its output is not a terminal
//! (`# Subtest: name`, `not ok 1 - name`, a YAML block with `error:`, `location:` and
//! `failureType:`, `# fail 1`) and as other producers do (tape, prove's input). A suite whose
//! `failureType` is `subtestsFailed` failed only because a test in it did; `# TODO` and
//! `# SKIP` results are not failures.

use super::lines::indent;
use super::node::is_subtests_failed;
use super::{Found, MAX_DETAIL, Runner};

pub(crate) fn parse(lines: &[String]) -> Option<Found> {
    let mut found = Found::new(Runner::Tap);
    let mut i = 0;
    while i < lines.len() {
        let trimmed = lines[i].trim();
        if trimmed.starts_with("# Subtest:") {
            found.set_runner(Runner::Node);
        }
        if let Some(n) = trimmed
            .strip_prefix("# fail ")
            .and_then(|n| n.trim().parse::<u32>().ok())
        {
            found.count_printed(n);
        }
        let Some(name) = not_ok(trimmed) else {
            i += 1;
            continue;
        };
        let depth = indent(&lines[i]);
        let (block, end) = yaml_block(lines, i + 1, depth);
        i = end;
        let parent = block.failure_type.as_deref() == Some("subtestsFailed")
            || block.error.first().is_some_and(|e| is_subtests_failed(e));
        if parent {
            continue;
        }
        let mut detail: Vec<String> = block.error.into_iter().take(MAX_DETAIL - 1).collect();
        if let Some(at) = block.location {
            detail.push(format!("at {at}"));
        }
        found.add(name, detail);
    }
    found.done()
}

/// `not ok 3 - name # comment` → `name`; `None` for a passing test, a TODO or a SKIP.
fn not_ok(trimmed: &str) -> Option<&str> {
    let rest = trimmed.strip_prefix("not ok")?;
    let rest = rest
        .trim_start()
        .trim_start_matches(|c: char| c.is_ascii_digit());
    let rest = rest.trim_start();
    let rest = rest.strip_prefix("- ").unwrap_or(rest);
    let (name, directive) = match rest.split_once(" # ") {
        Some((name, directive)) => (name, Some(directive.trim().to_ascii_uppercase())),
        None => (rest, None),
    };
    if directive.is_some_and(|d| d.starts_with("TODO") || d.starts_with("SKIP")) {
        return None;
    }
    let name = name.trim();
    Some(if name.is_empty() {
        "(unnamed test)"
    } else {
        name
    })
}

/// What a failure's YAML block says.
#[derive(Default)]
struct Block {
    error: Vec<String>,
    location: Option<String>,
    failure_type: Option<String>,
}

/// The YAML block (`---` … `...`) indented under a result at `depth`, from line `from`: what it
/// says, and the first line after it.
fn yaml_block(lines: &[String], from: usize, depth: usize) -> (Block, usize) {
    let mut block = Block::default();
    let starts = lines
        .get(from)
        .is_some_and(|l| l.trim() == "---" && indent(l) > depth);
    if !starts {
        return (block, from);
    }
    let mut i = from + 1;
    while i < lines.len() {
        let line = &lines[i];
        let trimmed = line.trim();
        if trimmed == "..." || (!trimmed.is_empty() && indent(line) <= depth) {
            return (block, if trimmed == "..." { i + 1 } else { i });
        }
        let key_depth = indent(line);
        if let Some(value) = trimmed
            .strip_prefix("error:")
            .or(trimmed.strip_prefix("message:"))
        {
            if block.error.is_empty() {
                let (values, next) = scalar(lines, i, value.trim(), key_depth);
                block.error = values;
                i = next;
                continue;
            }
        } else if let Some(value) = trimmed.strip_prefix("location:") {
            block.location = Some(unquote(value.trim()).to_string());
        } else if let Some(value) = trimmed.strip_prefix("failureType:") {
            block.failure_type = Some(unquote(value.trim()).to_string());
        }
        i += 1;
    }
    (block, i)
}

/// A YAML scalar at line `at`: inline (`'text'`) or a block (`|-` with lines under it) → its
/// non-empty lines, and the line after it.
fn scalar(lines: &[String], at: usize, inline: &str, key_depth: usize) -> (Vec<String>, usize) {
    if !inline.starts_with('|') && !inline.starts_with('>') {
        let value = unquote(inline);
        let values = if value.is_empty() {
            Vec::new()
        } else {
            vec![value.to_string()]
        };
        return (values, at + 1);
    }
    let mut values = Vec::new();
    let mut i = at + 1;
    while i < lines.len() {
        let line = &lines[i];
        if !line.trim().is_empty() && indent(line) <= key_depth {
            break;
        }
        if !line.trim().is_empty() && values.len() < MAX_DETAIL {
            values.push(line.trim().to_string());
        }
        i += 1;
    }
    (values, i)
}

fn unquote(value: &str) -> &str {
    let v = value.trim();
    for q in ['\'', '"'] {
        if let Some(inner) = v.strip_prefix(q).and_then(|v| v.strip_suffix(q)) {
            return inner;
        }
    }
    v
}
