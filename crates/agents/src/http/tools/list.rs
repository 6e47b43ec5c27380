//! `list_dir {path}`: the entries of a directory.

use super::{ToolContext, ToolError, ToolOutput, args};
use serde::Deserialize;
use serde_json::Value;

/// At most this many entries are listed.
const MAX_ENTRIES: usize = 1000;

#[derive(Deserialize)]
struct Args {
    #[serde(default)]
    path: String,
}

pub async fn run(ctx: &ToolContext, input: &Value) -> Result<ToolOutput, ToolError> {
    let args: Args = args::parse("list_dir", input)?;
    let path = ctx.worktree.resolve(&args.path)?;
    let shown = ctx.worktree.display(&path);
    let mut dir = tokio::fs::read_dir(&path)
        .await
        .map_err(|e| ToolError::io(&shown, e))?;
    let mut entries = Vec::new();
    while let Some(entry) = dir
        .next_entry()
        .await
        .map_err(|e| ToolError::io(&shown, e))?
    {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name == ".git" {
            continue;
        }
        let suffix = match entry.file_type().await {
            Ok(t) if t.is_dir() => "/",
            Ok(t) if t.is_symlink() => "@",
            _ => "",
        };
        entries.push(format!("{name}{suffix}"));
    }
    entries.sort();
    let count = entries.len();
    let mut out = entries
        .into_iter()
        .take(MAX_ENTRIES)
        .collect::<Vec<_>>()
        .join("\n");
    if count > MAX_ENTRIES {
        out.push_str(&format!(
            "\n[{} more entries not shown]",
            count - MAX_ENTRIES
        ));
    }
    if count == 0 {
        out = "(empty directory)".to_string();
    }
    Ok(ToolOutput::ok(
        out,
        format!("listed {shown} ({count} entries)"),
    ))
}

#[cfg(test)]
mod tests {
    use super::super::tests::{context, output};
    use serde_json::json;
    use std::os::unix::fs::symlink;

    #[tokio::test]
    async fn lists_sorted_with_kinds() {
        let (d, ctx) = context();
        let root = ctx.worktree.root().to_path_buf();
        std::fs::create_dir_all(root.join("src")).unwrap();
        std::fs::create_dir_all(root.join(".git")).unwrap();
        std::fs::write(root.join("b.txt"), "").unwrap();
        symlink(root.join("b.txt"), root.join("a_link")).unwrap();
        symlink(d.path().join("outside"), root.join("out")).unwrap();
        let out = output(&ctx, "list_dir", json!({"path": "."})).await;
        assert_eq!(out.content, "a_link@\nb.txt\nout@\nsrc/");
        let out = output(&ctx, "list_dir", json!({"path": "src"})).await;
        assert_eq!(out.content, "(empty directory)");
        for path in ["..", "out", "/"] {
            let out = output(&ctx, "list_dir", json!({"path": path})).await;
            assert!(
                out.is_error && out.content.starts_with("refusing"),
                "{path}: {}",
                out.content
            );
        }
    }
}
