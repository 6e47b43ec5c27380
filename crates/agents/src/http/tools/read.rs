//! `read_file {path, offset?, limit?}`: lines of a text file.

use super::{ToolContext, ToolError, ToolOutput, args};
use serde::Deserialize;
use serde_json::Value;

/// Lines returned when the model gives no limit.
const DEFAULT_LIMIT: u64 = 2000;
/// At most this many bytes of text are returned per call.
const MAX_BYTES: usize = 100 * 1024;
/// Files larger than this are not read.
const MAX_FILE: u64 = 32 * 1024 * 1024;

#[derive(Deserialize)]
struct Args {
    path: String,
    #[serde(default, deserialize_with = "args::lenient_u64")]
    offset: Option<u64>,
    #[serde(default, deserialize_with = "args::lenient_u64")]
    limit: Option<u64>,
}

pub async fn run(ctx: &ToolContext, input: &Value) -> Result<ToolOutput, ToolError> {
    let args: Args = args::parse("read_file", input)?;
    let path = ctx.worktree.resolve(&args.path)?;
    let shown = ctx.worktree.display(&path);
    let meta = tokio::fs::metadata(&path)
        .await
        .map_err(|e| ToolError::io(&shown, e))?;
    if meta.is_dir() {
        return Err(ToolError::Refused(format!(
            "{shown} is a directory; use list_dir"
        )));
    }
    if meta.len() > MAX_FILE {
        return Err(ToolError::Refused(format!(
            "{shown} is {} bytes, too large to read (limit {MAX_FILE}); use search or run_command with head/sed",
            meta.len()
        )));
    }
    let bytes = tokio::fs::read(&path)
        .await
        .map_err(|e| ToolError::io(&shown, e))?;
    if bytes.iter().take(8192).any(|&b| b == 0) {
        return Err(ToolError::Refused(format!(
            "{shown} looks binary ({} bytes); not shown",
            bytes.len()
        )));
    }
    let text = String::from_utf8_lossy(&bytes);
    let total = text.lines().count() as u64;
    let first = args.offset.unwrap_or(1).max(1);
    let limit = args.limit.unwrap_or(DEFAULT_LIMIT).max(1);
    let mut out = String::new();
    let mut last = first.saturating_sub(1);
    for line in text
        .split_inclusive('\n')
        .skip((first - 1) as usize)
        .take(limit as usize)
    {
        if out.len() + line.len() > MAX_BYTES {
            break;
        }
        out.push_str(line);
        last += 1;
    }
    let summary = if total == 0 {
        format!("{shown} is empty")
    } else {
        format!("read {shown} lines {first}-{last} of {total}")
    };
    if first > total && total > 0 {
        return Err(ToolError::Refused(format!(
            "{shown} has {total} lines; offset {first} is past the end"
        )));
    }
    if last < total {
        if !out.ends_with('\n') {
            out.push('\n');
        }
        out.push_str(&format!(
            "[showing lines {first}-{last} of {total}; call read_file with offset={} to read on]",
            last + 1
        ));
    }
    if total == 0 {
        out = "(the file is empty)".to_string();
    }
    Ok(ToolOutput::ok(out, summary))
}

#[cfg(test)]
mod tests {
    use super::super::tests::{context, output};
    use serde_json::json;
    use std::os::unix::fs::symlink;

    #[tokio::test]
    async fn reads_whole_files_and_windows() {
        let (_d, ctx) = context();
        let root = ctx.worktree.root().to_path_buf();
        std::fs::write(root.join("a.txt"), "one\ntwo\nthree\n").unwrap();
        let out = output(&ctx, "read_file", json!({"path": "a.txt"})).await;
        assert!(!out.is_error);
        assert_eq!(out.content, "one\ntwo\nthree\n");
        let out = output(
            &ctx,
            "read_file",
            json!({"path": "a.txt", "offset": 2, "limit": 1}),
        )
        .await;
        assert!(
            out.content
                .starts_with("two\n[showing lines 2-2 of 3; call read_file with offset=3"),
            "{}",
            out.content
        );
        let out = output(&ctx, "read_file", json!({"path": "a.txt", "offset": 9})).await;
        assert!(out.is_error);
        let out = output(&ctx, "read_file", json!({"path": "missing.txt"})).await;
        assert!(
            out.is_error && out.content.contains("missing.txt"),
            "{}",
            out.content
        );
        let out = output(&ctx, "read_file", json!({"path": "."})).await;
        assert!(out.is_error && out.content.contains("directory"));
        std::fs::write(root.join("bin"), [0u8, 1, 2]).unwrap();
        assert!(
            output(&ctx, "read_file", json!({"path": "bin"}))
                .await
                .is_error
        );
    }

    #[tokio::test]
    async fn refuses_paths_outside() {
        let (d, ctx) = context();
        let root = ctx.worktree.root().to_path_buf();
        symlink(d.path().join("outside/secret"), root.join("link")).unwrap();
        symlink(d.path().join("outside"), root.join("dir")).unwrap();
        let secret = d.path().join("outside/secret").display().to_string();
        for path in ["../outside/secret", secret.as_str(), "link", "dir/secret"] {
            let out = output(&ctx, "read_file", json!({"path": path})).await;
            assert!(out.is_error, "{path}");
            assert!(
                out.content.starts_with("refusing"),
                "{path}: {}",
                out.content
            );
            assert!(!out.content.contains("secret\n"));
        }
    }
}
