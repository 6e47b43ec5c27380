//! `write_file {path, content}`: creates or replaces a file.

use super::{ToolContext, ToolError, ToolOutput, args, writable};
use serde::Deserialize;
use serde_json::Value;

#[derive(Deserialize)]
struct Args {
    path: String,
    content: String,
}

pub async fn run(ctx: &ToolContext, input: &Value) -> Result<ToolOutput, ToolError> {
    let args: Args = args::parse("write_file", input)?;
    let path = writable(ctx, &args.path)?;
    let shown = ctx.worktree.display(&path);
    if tokio::fs::metadata(&path).await.is_ok_and(|m| m.is_dir()) {
        return Err(ToolError::Refused(format!("{shown} is a directory")));
    }
    if let Some(dir) = path.parent() {
        tokio::fs::create_dir_all(dir)
            .await
            .map_err(|e| ToolError::io(&shown, e))?;
    }
    tokio::fs::write(&path, &args.content)
        .await
        .map_err(|e| ToolError::io(&shown, e))?;
    let message = format!("wrote {shown} ({} bytes)", args.content.len());
    Ok(ToolOutput::ok(message.clone(), message))
}

#[cfg(test)]
mod tests {
    use super::super::tests::{context, output};
    use serde_json::json;
    use std::os::unix::fs::symlink;

    #[tokio::test]
    async fn writes_files_and_creates_directories() {
        let (_d, ctx) = context();
        let out = output(
            &ctx,
            "write_file",
            json!({"path": "src/new/a.rs", "content": "fn a() {}\n"}),
        )
        .await;
        assert!(!out.is_error, "{}", out.content);
        assert_eq!(out.summary, "wrote src/new/a.rs (10 bytes)");
        let written = std::fs::read_to_string(ctx.worktree.root().join("src/new/a.rs")).unwrap();
        assert_eq!(written, "fn a() {}\n");
        let out = output(
            &ctx,
            "write_file",
            json!({"path": ".git/config", "content": "x"}),
        )
        .await;
        assert!(out.is_error && out.content.contains("git"));
    }

    #[tokio::test]
    async fn refuses_paths_outside_and_leaves_them_untouched() {
        let (d, ctx) = context();
        let root = ctx.worktree.root().to_path_buf();
        symlink(d.path().join("outside"), root.join("out")).unwrap();
        symlink(d.path().join("outside/secret"), root.join("secret_link")).unwrap();
        symlink(d.path().join("outside/new"), root.join("dangling")).unwrap();
        let abs = d.path().join("outside/abs.txt").display().to_string();
        for path in [
            "../outside/escape.txt",
            abs.as_str(),
            "out/secret",
            "out/new.txt",
            "secret_link",
            "dangling",
        ] {
            let out = output(
                &ctx,
                "write_file",
                json!({"path": path, "content": "pwned"}),
            )
            .await;
            assert!(out.is_error, "{path}");
            assert!(
                out.content.starts_with("refusing"),
                "{path}: {}",
                out.content
            );
        }
        let mut outside: Vec<_> = std::fs::read_dir(d.path().join("outside"))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        outside.sort();
        assert_eq!(outside, ["secret"]);
        assert_eq!(
            std::fs::read_to_string(d.path().join("outside/secret")).unwrap(),
            "secret\n"
        );
    }
}
