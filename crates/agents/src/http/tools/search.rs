//! `search {pattern, path?, regex?}`: lines of text files containing a text or matching a regex.
//!
//! Walks the directory without following symbolic links (so it never leaves the worktree), and
//! skips `.git`, `node_modules` and `target` directories, binary files and files over 2 MiB.

use super::{ToolContext, ToolError, ToolOutput, args};
use crate::http::error::shorten;
use regex::Regex;
use serde::Deserialize;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// At most this many matching lines are returned.
const MAX_MATCHES: usize = 200;
/// At most this many files are read.
const MAX_FILES: usize = 20_000;
/// Larger files are skipped.
const MAX_FILE: u64 = 2 * 1024 * 1024;
/// Matching lines are cut to this many characters.
const MAX_LINE: usize = 240;
/// Directories never searched.
const SKIPPED_DIRS: [&str; 3] = [".git", "node_modules", "target"];

#[derive(Deserialize)]
struct Args {
    pattern: String,
    #[serde(default)]
    path: Option<String>,
    #[serde(default)]
    regex: Option<bool>,
}

pub async fn run(ctx: &ToolContext, input: &Value) -> Result<ToolOutput, ToolError> {
    let args: Args = args::parse("search", input)?;
    if args.pattern.is_empty() {
        return Err(ToolError::InvalidArgs {
            tool: "search".into(),
            message: "the pattern is empty".into(),
        });
    }
    let source = if args.regex.unwrap_or(false) {
        args.pattern.clone()
    } else {
        regex::escape(&args.pattern)
    };
    let matcher = Regex::new(&source).map_err(|e| ToolError::InvalidArgs {
        tool: "search".into(),
        message: format!("invalid regular expression: {e}"),
    })?;
    let start = ctx.worktree.resolve(args.path.as_deref().unwrap_or(""))?;
    let root = ctx.worktree.root().to_path_buf();
    let pattern = args.pattern.clone();
    let found = tokio::task::spawn_blocking(move || walk(&root, &start, &matcher))
        .await
        .map_err(|e| ToolError::Refused(format!("the search failed: {e}")))??;
    let count = found.lines.len();
    let mut out = found.lines.join("\n");
    if found.truncated {
        out.push_str(&format!(
            "\n[stopped after {MAX_MATCHES} matches or {MAX_FILES} files; narrow the path or pattern]"
        ));
    }
    if count == 0 {
        out = format!("no matches for `{pattern}`");
    }
    let more = if found.truncated { "+" } else { "" };
    Ok(ToolOutput::ok(
        out,
        format!("{count}{more} matches in {} files", found.files),
    ))
}

struct Found {
    lines: Vec<String>,
    files: usize,
    truncated: bool,
}

fn walk(root: &Path, start: &Path, matcher: &Regex) -> Result<Found, ToolError> {
    let shown = |p: &Path| p.strip_prefix(root).unwrap_or(p).display().to_string();
    let meta = std::fs::symlink_metadata(start).map_err(|e| ToolError::io(&shown(start), e))?;
    let mut found = Found {
        lines: Vec::new(),
        files: 0,
        truncated: false,
    };
    let mut pending: Vec<PathBuf> = Vec::new();
    if meta.is_dir() {
        pending.push(start.to_path_buf());
    } else {
        search_file(start, &shown(start), matcher, &mut found);
    }
    while let Some(dir) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut entries: Vec<_> = entries.filter_map(Result::ok).collect();
        entries.sort_by_key(|e| e.file_name());
        let mut subdirs = Vec::new();
        for entry in entries {
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            if kind.is_dir() {
                let name = entry.file_name();
                if !SKIPPED_DIRS.iter().any(|s| name == *s) {
                    subdirs.push(entry.path());
                }
            } else if kind.is_file() {
                if found.files >= MAX_FILES || found.lines.len() >= MAX_MATCHES {
                    found.truncated = true;
                    return Ok(found);
                }
                let path = entry.path();
                search_file(&path, &shown(&path), matcher, &mut found);
            }
        }
        pending.extend(subdirs.into_iter().rev());
    }
    Ok(found)
}

fn search_file(path: &Path, shown: &str, matcher: &Regex, found: &mut Found) {
    if std::fs::metadata(path).map_or(true, |m| m.len() > MAX_FILE) {
        return;
    }
    let Ok(bytes) = std::fs::read(path) else {
        return;
    };
    if bytes.iter().take(8192).any(|&b| b == 0) {
        return;
    }
    found.files += 1;
    let text = String::from_utf8_lossy(&bytes);
    for (number, line) in text.lines().enumerate() {
        if matcher.is_match(line) {
            if found.lines.len() >= MAX_MATCHES {
                found.truncated = true;
                return;
            }
            found.lines.push(format!(
                "{shown}:{}: {}",
                number + 1,
                shorten(line.trim_end(), MAX_LINE)
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{context, output};
    use serde_json::json;
    use std::os::unix::fs::symlink;

    #[tokio::test]
    async fn finds_substrings_and_regexes() {
        let (d, ctx) = context();
        let root = ctx.worktree.root().to_path_buf();
        std::fs::create_dir_all(root.join("src/deep")).unwrap();
        std::fs::create_dir_all(root.join("target")).unwrap();
        std::fs::write(root.join("src/a.rs"), "fn main() {}\nlet a.b = 1;\n").unwrap();
        std::fs::write(root.join("src/deep/b.rs"), "fn helper() {}\n").unwrap();
        std::fs::write(root.join("target/c.rs"), "fn skipped() {}\n").unwrap();
        std::fs::write(root.join("bin"), b"fn \0 binary").unwrap();
        symlink(d.path().join("outside"), root.join("out")).unwrap();
        std::fs::write(d.path().join("outside/x.rs"), "fn outside() {}\n").unwrap();

        let out = output(&ctx, "search", json!({"pattern": "fn "})).await;
        assert_eq!(
            out.content,
            "src/a.rs:1: fn main() {}\nsrc/deep/b.rs:1: fn helper() {}"
        );
        let out = output(&ctx, "search", json!({"pattern": "a.b"})).await;
        assert_eq!(
            out.content, "src/a.rs:2: let a.b = 1;",
            "literal by default"
        );
        let out = output(
            &ctx,
            "search",
            json!({"pattern": "^fn \\w+\\(", "regex": true, "path": "src/deep"}),
        )
        .await;
        assert_eq!(out.content, "src/deep/b.rs:1: fn helper() {}");
        let out = output(&ctx, "search", json!({"pattern": "(", "regex": true})).await;
        assert!(out.is_error && out.content.contains("regular expression"));
        let out = output(&ctx, "search", json!({"pattern": "nothing here"})).await;
        assert!(!out.is_error && out.content.starts_with("no matches"));
        let out = output(
            &ctx,
            "search",
            json!({"pattern": "fn", "path": "../outside"}),
        )
        .await;
        assert!(out.is_error && out.content.starts_with("refusing"));
        let out = output(&ctx, "search", json!({"pattern": "fn", "path": "out"})).await;
        assert!(out.is_error && out.content.starts_with("refusing"));
    }

    #[tokio::test]
    async fn results_are_capped() {
        let (_d, ctx) = context();
        let text = "match\n".repeat(500);
        std::fs::write(ctx.worktree.root().join("many.txt"), text).unwrap();
        let out = output(&ctx, "search", json!({"pattern": "match"})).await;
        assert_eq!(
            out.content
                .lines()
                .filter(|l| l.starts_with("many.txt:"))
                .count(),
            200
        );
        assert!(out.content.contains("[stopped after"));
    }
}
