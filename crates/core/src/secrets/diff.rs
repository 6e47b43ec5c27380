//! Secrets that a unified `git diff` adds, by path and new-file line number.

use serde::{Deserialize, Serialize};

use super::git_path;
use super::redactor::Redactor;

/// An added line that holds a secret.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecretHit {
    /// The file's path on the new side, relative to the repository.
    pub path: String,
    /// The line's number in the new file, from 1.
    pub line: u32,
    /// The secret's name or shape (`OPENAI_API_KEY`, `github token`), never its value.
    pub what: String,
}

/// `path:line: what`, as a refusal names it.
impl std::fmt::Display for SecretHit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}: {}", self.path, self.line, self.what)
    }
}

/// Where the reader is in a hunk: lines still to come on each side, the next new line's number.
struct Hunk {
    old_left: u32,
    new_left: u32,
    next_line: u32,
}

impl Redactor {
    /// Every added line of `diff` (as `git diff` prints it) that holds a known value or a shape,
    /// one hit per secret per line. Removed and context lines do not count; binary files have no
    /// lines and give nothing; a renamed or copied file is reported under its new path. A secret
    /// split across added lines is not seen, except a private key, whose BEGIN line is enough.
    pub fn find_added_secrets(&self, diff: &str) -> Vec<SecretHit> {
        let mut hits = Vec::new();
        let mut path = String::new();
        let mut hunk: Option<Hunk> = None;
        for line in diff.lines() {
            if let Some(h) = hunk.as_mut() {
                if self.hunk_line(h, line, &path, &mut hits) {
                    if h.old_left == 0 && h.new_left == 0 {
                        hunk = None;
                    }
                    continue;
                }
                // Not a hunk line: the counts were wrong; read it as a header.
                hunk = None;
            }
            if let Some(rest) = line.strip_prefix("diff --git ") {
                path = git_path::from_header(rest).unwrap_or_default();
            } else if let Some(rest) = line.strip_prefix("+++ ") {
                if let Some(p) = git_path::new_side(rest) {
                    path = p;
                }
            } else if let Some(rest) = line
                .strip_prefix("rename to ")
                .or_else(|| line.strip_prefix("copy to "))
            {
                path = git_path::bare(rest);
            } else if line.starts_with("@@ ") {
                hunk = parse_hunk(line);
            }
        }
        hits
    }

    /// Reads one line of a hunk; false if it is not one.
    fn hunk_line(&self, h: &mut Hunk, line: &str, path: &str, hits: &mut Vec<SecretHit>) -> bool {
        match line.as_bytes().first() {
            Some(b'+') => {
                let mut seen: Vec<&str> = Vec::new();
                for span in self.spans(&line[1..]) {
                    if !seen.contains(&span.label) {
                        seen.push(span.label);
                        hits.push(SecretHit {
                            path: path.to_owned(),
                            line: h.next_line,
                            what: span.label.to_owned(),
                        });
                    }
                }
                h.next_line += 1;
                h.new_left = h.new_left.saturating_sub(1);
            }
            Some(b'-') => h.old_left = h.old_left.saturating_sub(1),
            // Some tools strip the space of an empty context line.
            Some(b' ') | None => {
                h.next_line += 1;
                h.old_left = h.old_left.saturating_sub(1);
                h.new_left = h.new_left.saturating_sub(1);
            }
            Some(b'\\') => {} // "\ No newline at end of file"
            Some(_) => return false,
        }
        true
    }
}

/// `@@ -a,b +c,d @@ …` (a count of 1 may be left out).
fn parse_hunk(line: &str) -> Option<Hunk> {
    let rest = line.strip_prefix("@@ -")?;
    let (ranges, _) = rest.split_once(" @@")?;
    let (old, new) = ranges.split_once(" +")?;
    let (_, old_left) = parse_range(old)?;
    let (next_line, new_left) = parse_range(new)?;
    if old_left == 0 && new_left == 0 {
        return None;
    }
    Some(Hunk {
        old_left,
        new_left,
        next_line,
    })
}

fn parse_range(range: &str) -> Option<(u32, u32)> {
    match range.split_once(',') {
        Some((start, len)) => Some((start.parse().ok()?, len.parse().ok()?)),
        None => Some((range.parse().ok()?, 1)),
    }
}
