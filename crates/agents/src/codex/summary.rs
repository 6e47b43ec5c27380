//! Short, human summaries of Codex's items: `shell: cargo test`, `add src/x.rs, update README.md`.

use super::wire::{FileChange, TodoItem};
use crate::cli_agent::text::{SUMMARY_CHARS, one_line, relative, shorten};
use serde_json::Value;
use std::path::Path;

/// The command Codex ran, without the `/bin/bash -lc '…'` wrapper it adds.
pub(crate) fn command(command: &str) -> String {
    format!("shell: {}", one_line(&unwrap_shell(command)))
}

/// `bash -lc 'inner'` → `inner` (any shell path, `-c` or `-lc`); anything else unchanged.
fn unwrap_shell(command: &str) -> String {
    let trimmed = command.trim();
    for flag in [" -lc ", " -c "] {
        let Some((shell, rest)) = trimmed.split_once(flag) else {
            continue;
        };
        let shell_name = shell.rsplit('/').next().unwrap_or(shell);
        if !matches!(shell_name, "bash" | "sh" | "zsh" | "dash") {
            continue;
        }
        return match rest.strip_prefix('\'').and_then(|r| r.strip_suffix('\'')) {
            Some(quoted) => quoted.replace(r"'\''", "'"),
            None => rest.to_string(),
        };
    }
    trimmed.to_string()
}

/// The result of a command: `exit 0: first line of output`.
pub(crate) fn command_result(exit_code: Option<i64>, status: Option<&str>, output: &str) -> String {
    let head = match (exit_code, status) {
        (Some(code), _) => format!("exit {code}"),
        (None, Some(status)) => status.to_string(),
        (None, None) => "ended".to_string(),
    };
    let output = one_line(output);
    if output.is_empty() {
        head
    } else {
        format!("{head}: {output}")
    }
}

/// The paths of a patch with what happened to each: `add src/x.rs, update README.md`.
pub(crate) fn file_changes(changes: &[FileChange], worktree: &Path) -> String {
    let parts: Vec<String> = changes
        .iter()
        .map(|c| {
            let kind = match &c.kind {
                Some(Value::String(kind)) => kind.clone(),
                Some(Value::Object(map)) => map
                    .get("type")
                    .and_then(Value::as_str)
                    .unwrap_or("change")
                    .to_string(),
                _ => "change".to_string(),
            };
            format!("{kind} {}", relative(&c.path, worktree))
        })
        .collect();
    if parts.is_empty() {
        "patch".to_string()
    } else {
        shorten(&parts.join(", "), SUMMARY_CHARS)
    }
}

/// `server.tool {arguments}`.
pub(crate) fn mcp_call(server: &str, tool: &str, arguments: Option<&Value>) -> String {
    match arguments {
        None | Some(Value::Null) => format!("{server}.{tool}"),
        Some(Value::Object(map)) if map.is_empty() => format!("{server}.{tool}"),
        Some(args) => shorten(&format!("{server}.{tool} {args}"), SUMMARY_CHARS),
    }
}

/// The first text of an MCP result (`{"content":[{"type":"text","text":…}]}`).
pub(crate) fn mcp_result(result: Option<&Value>) -> String {
    let text = result
        .and_then(|r| r.get("content"))
        .and_then(Value::as_array)
        .and_then(|blocks| {
            blocks
                .iter()
                .find_map(|b| b.get("text").and_then(Value::as_str))
        });
    text.map(one_line).unwrap_or_default()
}

/// Progress of a to-do list: `2/3 done; next: Run the tests`.
pub(crate) fn todo(items: &[TodoItem]) -> String {
    let done = items.iter().filter(|i| i.completed).count();
    let head = format!("{done}/{} done", items.len());
    match items.iter().find(|i| !i.completed) {
        Some(next) => format!("{head}; next: {}", one_line(&next.text)),
        None => head,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn shell_wrappers_are_removed() {
        assert_eq!(command("/bin/bash -lc 'cargo test'"), "shell: cargo test");
        assert_eq!(command("bash -lc 'echo '\\''hi'\\'''"), "shell: echo 'hi'");
        assert_eq!(command("/usr/bin/zsh -c ls"), "shell: ls");
        assert_eq!(
            command("python -c 'print(1)'"),
            "shell: python -c 'print(1)'"
        );
        assert_eq!(command("npm test"), "shell: npm test");
    }

    #[test]
    fn command_results_show_the_exit_code() {
        assert_eq!(
            command_result(Some(0), Some("completed"), "a\nb\n"),
            "exit 0: a …"
        );
        assert_eq!(command_result(None, Some("declined"), ""), "declined");
    }

    #[test]
    fn file_changes_list_paths_relative_to_the_worktree() {
        let changes = vec![
            FileChange {
                path: "/w/src/x.rs".into(),
                kind: Some(json!("add")),
            },
            FileChange {
                path: "/w/README.md".into(),
                kind: Some(json!({"type": "update", "move_path": null})),
            },
        ];
        assert_eq!(
            file_changes(&changes, Path::new("/w")),
            "add src/x.rs, update README.md"
        );
        assert_eq!(file_changes(&[], Path::new("/w")), "patch");
    }

    #[test]
    fn todo_lists_show_progress() {
        let items = vec![
            TodoItem {
                text: "Read".into(),
                completed: true,
            },
            TodoItem {
                text: "Write".into(),
                completed: false,
            },
        ];
        assert_eq!(todo(&items), "1/2 done; next: Write");
    }

    #[test]
    fn mcp_calls_name_server_and_tool() {
        assert_eq!(
            mcp_call("db", "query", Some(&json!({"q": 1}))),
            r#"db.query {"q":1}"#
        );
        assert_eq!(mcp_call("db", "ping", None), "db.ping");
        let result = json!({"content": [{"type": "text", "text": "3 rows"}]});
        assert_eq!(mcp_result(Some(&result)), "3 rows");
    }
}
