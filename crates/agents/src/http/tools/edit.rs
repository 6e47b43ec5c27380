//! `edit_file {path, old, new}`: replaces the one exact occurrence of `old`.

use super::{ToolContext, ToolError, ToolOutput, args, writable};
use serde::Deserialize;
use serde_json::Value;

#[derive(Deserialize)]
struct Args {
    path: String,
    old: String,
    new: String,
}

pub async fn run(ctx: &ToolContext, input: &Value) -> Result<ToolOutput, ToolError> {
    let args: Args = args::parse("edit_file", input)?;
    if args.old.is_empty() {
        return Err(ToolError::InvalidArgs {
            tool: "edit_file".into(),
            message: "`old` is empty; use write_file to create a file".into(),
        });
    }
    let path = writable(ctx, &args.path)?;
    let shown = ctx.worktree.display(&path);
    let text = tokio::fs::read_to_string(&path)
        .await
        .map_err(|e| ToolError::io(&shown, e))?;
    match text.matches(args.old.as_str()).count() {
        0 => {
            return Err(ToolError::Refused(format!(
                "{shown}: the text to replace was not found; it must match exactly, whitespace \
                 and indentation included (read the file first)"
            )));
        }
        1 => {}
        n => {
            return Err(ToolError::Refused(format!(
                "{shown}: the text to replace appears {n} times; include more surrounding lines \
                 so that it appears exactly once"
            )));
        }
    }
    let edited = text.replacen(args.old.as_str(), &args.new, 1);
    tokio::fs::write(&path, &edited)
        .await
        .map_err(|e| ToolError::io(&shown, e))?;
    let message = format!(
        "edited {shown}: replaced {} line(s) with {}",
        args.old.lines().count().max(1),
        args.new.lines().count()
    );
    Ok(ToolOutput::ok(message.clone(), message))
}

#[cfg(test)]
mod tests {
    use super::super::tests::{context, output};
    use serde_json::json;
    use std::os::unix::fs::symlink;

    #[tokio::test]
    async fn replaces_one_exact_unique_occurrence() {
        let (_d, ctx) = context();
        let file = ctx.worktree.root().join("a.rs");
        std::fs::write(&file, "let x = 1;\nlet y = 1;\n").unwrap();
        let out = output(
            &ctx,
            "edit_file",
            json!({"path": "a.rs", "old": "x = 1", "new": "x = 2"}),
        )
        .await;
        assert!(!out.is_error, "{}", out.content);
        assert_eq!(
            std::fs::read_to_string(&file).unwrap(),
            "let x = 2;\nlet y = 1;\n"
        );

        std::fs::write(&file, "a\na\n").unwrap();
        let out = output(
            &ctx,
            "edit_file",
            json!({"path": "a.rs", "old": "a", "new": "b"}),
        )
        .await;
        assert!(
            out.is_error && out.content.contains("appears 2 times"),
            "{}",
            out.content
        );
        let out = output(
            &ctx,
            "edit_file",
            json!({"path": "a.rs", "old": "zzz", "new": "b"}),
        )
        .await;
        assert!(
            out.is_error && out.content.contains("not found"),
            "{}",
            out.content
        );
        let out = output(
            &ctx,
            "edit_file",
            json!({"path": "a.rs", "old": "", "new": "b"}),
        )
        .await;
        assert!(out.is_error);
        assert_eq!(
            std::fs::read_to_string(&file).unwrap(),
            "a\na\n",
            "failed edits change nothing"
        );
    }

    #[tokio::test]
    async fn refuses_paths_outside() {
        let (d, ctx) = context();
        symlink(
            d.path().join("outside/secret"),
            ctx.worktree.root().join("link"),
        )
        .unwrap();
        for path in ["../outside/secret", "link"] {
            let out = output(
                &ctx,
                "edit_file",
                json!({"path": path, "old": "secret", "new": "x"}),
            )
            .await;
            assert!(
                out.is_error && out.content.starts_with("refusing"),
                "{path}: {}",
                out.content
            );
        }
        assert_eq!(
            std::fs::read_to_string(d.path().join("outside/secret")).unwrap(),
            "secret\n"
        );
    }
}
