//! Short, human summaries of Claude Code's tool calls: `Write src/x.rs`, `Bash: cargo test`.

use crate::cli_agent::text::{SUMMARY_CHARS, one_line, relative, shorten};
use serde_json::Value;
use std::path::Path;

/// A one-line summary of a call to `name` with arguments `input`, paths relative to `worktree`.
pub(crate) fn tool_call(name: &str, input: &Value, worktree: &Path) -> String {
    let field = |key: &str| input.get(key).and_then(Value::as_str);
    let path = |key: &str| field(key).map(|p| relative(p, worktree));
    let summary = match name {
        "Write" | "Edit" | "MultiEdit" | "Read" => path("file_path").map(|p| format!("{name} {p}")),
        "NotebookEdit" => path("notebook_path").map(|p| format!("{name} {p}")),
        "Bash" => field("command").map(|c| format!("Bash: {}", one_line(c))),
        "Grep" => field("pattern").map(|p| match path("path") {
            Some(dir) => format!("Grep {p} in {dir}"),
            None => format!("Grep {p}"),
        }),
        "Glob" => field("pattern").map(|p| format!("Glob {p}")),
        "LS" => path("path").map(|p| format!("LS {p}")),
        "WebFetch" => field("url").map(|u| format!("WebFetch {u}")),
        "WebSearch" => field("query").map(|q| format!("WebSearch {q}")),
        "Task" | "Agent" => field("description").map(|d| format!("{name}: {d}")),
        "TodoWrite" => input
            .get("todos")
            .and_then(Value::as_array)
            .map(|t| format!("TodoWrite ({} items)", t.len())),
        _ => None,
    };
    summary.unwrap_or_else(|| generic(name, input))
}

/// `name {compact arguments}`, cut to one line.
fn generic(name: &str, input: &Value) -> String {
    match input {
        Value::Object(map) if map.is_empty() => name.to_string(),
        Value::Null => name.to_string(),
        other => shorten(&format!("{name} {other}"), SUMMARY_CHARS),
    }
}

/// A one-line summary of a tool result's content (a string or a list of text blocks).
pub(crate) fn tool_result(content: Option<&Value>) -> String {
    one_line(&result_text(content))
}

/// The whole text of a tool result's content.
pub(crate) fn result_text(content: Option<&Value>) -> String {
    match content {
        Some(Value::String(text)) => text.clone(),
        Some(Value::Array(blocks)) => {
            let text: Vec<&str> = blocks
                .iter()
                .filter_map(|b| b.get("text").and_then(Value::as_str))
                .collect();
            text.join("\n")
        }
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn file_tools_name_the_path_relative_to_the_worktree() {
        let wt = Path::new("/w");
        let input = json!({"file_path": "/w/src/x.rs", "content": "fn main() {}"});
        assert_eq!(tool_call("Write", &input, wt), "Write src/x.rs");
        assert_eq!(tool_call("Edit", &input, wt), "Edit src/x.rs");
        assert_eq!(
            tool_call("Read", &json!({"file_path": "/etc/hosts"}), wt),
            "Read /etc/hosts"
        );
    }

    #[test]
    fn commands_show_their_first_line() {
        let wt = Path::new("/w");
        let input = json!({"command": "cargo test\ncargo fmt", "description": "run tests"});
        assert_eq!(tool_call("Bash", &input, wt), "Bash: cargo test …");
    }

    #[test]
    fn other_tools_show_their_arguments() {
        let wt = Path::new("/w");
        assert_eq!(
            tool_call("Grep", &json!({"pattern": "TODO", "path": "/w/src"}), wt),
            "Grep TODO in src"
        );
        assert_eq!(
            tool_call("mcp__db__query", &json!({"sql": "select 1"}), wt),
            r#"mcp__db__query {"sql":"select 1"}"#
        );
        assert_eq!(tool_call("ExitPlanMode", &json!({}), wt), "ExitPlanMode");
        // A known tool with unexpected arguments falls back to the generic form.
        assert_eq!(
            tool_call("Write", &json!({"path": "a"}), wt),
            r#"Write {"path":"a"}"#
        );
    }

    #[test]
    fn results_are_one_line() {
        assert_eq!(
            tool_result(Some(&json!("File created\nmore"))),
            "File created …"
        );
        assert_eq!(
            tool_result(Some(
                &json!([{"type": "text", "text": "ok"}, {"type": "image"}])
            )),
            "ok"
        );
        assert_eq!(tool_result(None), "");
    }
}
