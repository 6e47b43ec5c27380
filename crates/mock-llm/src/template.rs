//! The `{{cwd}}` placeholder: a script cannot know the directory an agent runs in, but the
//! agent's request usually says it, and tools like Claude Code's `Write` want absolute paths.
//!
//! The working directory is read from the request's prompt text: a line containing
//! `working directory: PATH` (any case; Claude Code's environment section) or
//! `<cwd>PATH</cwd>` (Codex's environment context).

use crate::script::Turn;

/// The placeholder replaced by the working directory.
pub(crate) const CWD: &str = "{{cwd}}";

/// The working directory the request's prompt text mentions, if any.
pub(crate) fn working_directory(haystack: &str) -> Option<String> {
    if let Some(start) = haystack.find("<cwd>") {
        let rest = &haystack[start + "<cwd>".len()..];
        if let Some(end) = rest.find("</cwd>") {
            let path = rest[..end].trim();
            if !path.is_empty() {
                return Some(path.to_string());
            }
        }
    }
    const LABEL: &str = "working directory: ";
    let lower = haystack.to_ascii_lowercase();
    let start = lower.find(LABEL)? + LABEL.len();
    let line = haystack[start..].lines().next()?.trim();
    (!line.is_empty()).then(|| line.to_string())
}

/// Whether the turn uses the placeholder anywhere.
pub(crate) fn uses_cwd(turn: &Turn) -> bool {
    turn.text.contains(CWD)
        || turn.tool_calls.iter().any(|call| {
            call.input
                .as_deref()
                .is_some_and(|input| input.contains(CWD))
                || call.arguments.to_string().contains(CWD)
        })
}

/// The turn with every `{{cwd}}` in its text, tool arguments and tool inputs replaced.
pub(crate) fn fill_cwd(turn: &Turn, cwd: &str) -> Turn {
    let mut turn = turn.clone();
    turn.text = turn.text.replace(CWD, cwd);
    for call in &mut turn.tool_calls {
        replace_in_value(&mut call.arguments, cwd);
        if let Some(input) = &mut call.input {
            *input = input.replace(CWD, cwd);
        }
    }
    turn
}

fn replace_in_value(value: &mut serde_json::Value, cwd: &str) {
    match value {
        serde_json::Value::String(text) => *text = text.replace(CWD, cwd),
        serde_json::Value::Array(items) => items.iter_mut().for_each(|v| replace_in_value(v, cwd)),
        serde_json::Value::Object(map) => map.values_mut().for_each(|v| replace_in_value(v, cwd)),
        serde_json::Value::Null | serde_json::Value::Bool(_) | serde_json::Value::Number(_) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn finds_the_directory_in_claude_and_codex_prompts() {
        let claude = "<env>\nWorking directory: /tmp/wt one\nIs directory a git repo: Yes\n</env>";
        assert_eq!(working_directory(claude).as_deref(), Some("/tmp/wt one"));
        let newer = "Primary working directory: /srv/x\n";
        assert_eq!(working_directory(newer).as_deref(), Some("/srv/x"));
        let codex = "<environment_context>\n  <cwd>/home/u/wt</cwd>\n</environment_context>";
        assert_eq!(working_directory(codex).as_deref(), Some("/home/u/wt"));
        assert_eq!(working_directory("nothing here"), None);
    }

    #[test]
    fn fills_text_arguments_and_inputs() {
        let turn = Turn::text("in {{cwd}}")
            .with_tool_call("Write", json!({"file_path": "{{cwd}}/a.txt", "n": 1}))
            .with_custom_tool_call("apply_patch", "*** Add File: {{cwd}}/b\n");
        assert!(uses_cwd(&turn));
        let filled = fill_cwd(&turn, "/w");
        assert_eq!(filled.text, "in /w");
        assert_eq!(
            filled.tool_calls[0].arguments,
            json!({"file_path": "/w/a.txt", "n": 1})
        );
        assert_eq!(
            filled.tool_calls[1].input.as_deref(),
            Some("*** Add File: /w/b\n")
        );
        assert!(!uses_cwd(&Turn::text("plain")));
    }
}
