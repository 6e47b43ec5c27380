//! The tools offered to the model, and how a call is carried out.
//!
//! | tool | arguments | does |
//! | --- | --- | --- |
//! | `read_file` | `path`, `offset?`, `limit?` | reads lines of a text file |
//! | `write_file` | `path`, `content` | creates or replaces a file (and its directories) |
//! | `edit_file` | `path`, `old`, `new` | replaces the one exact occurrence of `old` |
//! | `list_dir` | `path` | lists a directory |
//! | `search` | `pattern`, `path?`, `regex?` | finds lines containing a text or matching a regex |
//! | `run_command` | `command`, `timeout_secs?` | runs `sh -c` in the worktree, output capped |
//! | `ask_person` | `question` | ends the run with a question for a person |
//!
//! Every path is confined to the worktree (see [`crate::http::confine`]). A failing call is not an
//! error of the run: its message goes back to the model as an error result, so it can correct
//! itself.

mod args;
mod ask;
mod edit;
mod list;
mod read;
mod run;
mod search;
mod write;

use crate::http::confine::{ConfineError, Worktree};
use crate::http::error::shorten;
use serde_json::{Value, json};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// The name of the tool that asks a person a question.
pub const ASK_PERSON: &str = "ask_person";

/// A tool as offered to the model.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolDef {
    pub name: &'static str,
    pub description: &'static str,
    /// JSON schema of the arguments (an object).
    pub schema: Value,
}

/// What a tool call needs from the run.
#[derive(Debug, Clone)]
pub struct ToolContext {
    pub worktree: Worktree,
    /// Extra environment for `run_command`.
    pub env: Vec<(String, String)>,
    /// Cancels a running command.
    pub cancel: CancellationToken,
    /// `run_command`'s timeout when the model gives none.
    pub command_timeout: Duration,
    /// The environment and sandbox of the commands it runs.
    pub confine: crate::Confinement,
}

/// The result of a call, for the model and for the event stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolOutput {
    /// What the model reads.
    pub content: String,
    pub is_error: bool,
    /// One line for the `ToolResult` event.
    pub summary: String,
}

impl ToolOutput {
    pub fn ok(content: impl Into<String>, summary: impl Into<String>) -> ToolOutput {
        let content = content.into();
        ToolOutput {
            content: if content.is_empty() {
                "(no output)".to_string()
            } else {
                content
            },
            is_error: false,
            summary: summary.into(),
        }
    }
}

/// What a call did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ToolEffect {
    Output(ToolOutput),
    /// `ask_person`: the run ends with this question.
    Question(String),
}

/// Why a call failed; the message goes back to the model.
#[derive(Debug, thiserror::Error)]
pub enum ToolError {
    #[error(
        "unknown tool `{0}`; the tools are read_file, write_file, edit_file, list_dir, search, run_command and ask_person"
    )]
    UnknownTool(String),
    #[error("invalid arguments for {tool}: {message}")]
    InvalidArgs { tool: String, message: String },
    #[error(transparent)]
    Confined(#[from] ConfineError),
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{0}")]
    Refused(String),
}

impl ToolError {
    pub(crate) fn io(path: &str, source: std::io::Error) -> ToolError {
        ToolError::Io {
            path: path.to_string(),
            source,
        }
    }
}

/// Resolves a path the tool will write, refusing git's own files (`.git`).
pub(crate) fn writable(ctx: &ToolContext, path: &str) -> Result<std::path::PathBuf, ToolError> {
    let resolved = ctx.worktree.resolve(path)?;
    let inside_git = resolved
        .strip_prefix(ctx.worktree.root())
        .ok()
        .and_then(|rel| rel.components().next())
        .is_some_and(|first| first.as_os_str() == ".git");
    if inside_git {
        return Err(ToolError::Refused(format!(
            "refusing `{path}`: git's own files are managed by gaffer"
        )));
    }
    Ok(resolved)
}

/// The tools, in the order they are offered.
pub fn definitions() -> Vec<ToolDef> {
    let path = |what: &str| json!({"type": "string", "description": what});
    vec![
        ToolDef {
            name: "read_file",
            description: "Read a text file of the worktree. Returns up to `limit` lines starting at line `offset`.",
            schema: json!({
                "type": "object",
                "properties": {
                    "path": path("File path, relative to the worktree."),
                    "offset": {"type": "integer", "description": "First line to read, 1-based (default 1)."},
                    "limit": {"type": "integer", "description": "How many lines to read (default 2000)."}
                },
                "required": ["path"]
            }),
        },
        ToolDef {
            name: "write_file",
            description: "Create or overwrite a file with the given content. Missing directories are created.",
            schema: json!({
                "type": "object",
                "properties": {
                    "path": path("File path, relative to the worktree."),
                    "content": {"type": "string", "description": "The whole new content of the file."}
                },
                "required": ["path", "content"]
            }),
        },
        ToolDef {
            name: "edit_file",
            description: "Replace exactly one occurrence of `old` with `new` in a file. `old` must match the file's text exactly (whitespace included) and appear exactly once; include surrounding lines to make it unique.",
            schema: json!({
                "type": "object",
                "properties": {
                    "path": path("File path, relative to the worktree."),
                    "old": {"type": "string", "description": "The exact text to replace."},
                    "new": {"type": "string", "description": "The text to put in its place."}
                },
                "required": ["path", "old", "new"]
            }),
        },
        ToolDef {
            name: "list_dir",
            description: "List a directory of the worktree. Directories end with `/`, symbolic links with `@`.",
            schema: json!({
                "type": "object",
                "properties": {"path": path("Directory path, relative to the worktree (`.` for the root).")},
                "required": ["path"]
            }),
        },
        ToolDef {
            name: "search",
            description: "Search the text files under a path for lines containing `pattern` (or matching it as a regular expression when `regex` is true). Returns `path:line: text` lines.",
            schema: json!({
                "type": "object",
                "properties": {
                    "pattern": {"type": "string", "description": "The text to find."},
                    "path": path("File or directory to search, relative to the worktree (default: the whole worktree)."),
                    "regex": {"type": "boolean", "description": "Treat `pattern` as a regular expression (default false)."}
                },
                "required": ["pattern"]
            }),
        },
        ToolDef {
            name: "run_command",
            description: "Run a shell command (`sh -c`) in the worktree, with no input. Returns the exit code and the end of its combined output.",
            schema: json!({
                "type": "object",
                "properties": {
                    "command": {"type": "string", "description": "The command line."},
                    "timeout_secs": {"type": "integer", "description": "Kill the command after this many seconds (default 120, at most 1800)."}
                },
                "required": ["command"]
            }),
        },
        ToolDef {
            name: ASK_PERSON,
            description: "Ask a person one question when you cannot go on without their decision. Your run ends; it resumes with their answer.",
            schema: json!({
                "type": "object",
                "properties": {"question": {"type": "string", "description": "The question, with the context needed to answer it."}},
                "required": ["question"]
            }),
        },
    ]
}

/// Carries out one call. Never fails: errors become error outputs for the model.
pub async fn call(ctx: &ToolContext, name: &str, input: &Value) -> ToolEffect {
    let result = match name {
        "read_file" => read::run(ctx, input).await,
        "write_file" => write::run(ctx, input).await,
        "edit_file" => edit::run(ctx, input).await,
        "list_dir" => list::run(ctx, input).await,
        "search" => search::run(ctx, input).await,
        "run_command" => run::run(ctx, input).await,
        ASK_PERSON => return ask::run(input).unwrap_or_else(error_effect),
        other => Err(ToolError::UnknownTool(other.to_string())),
    };
    result.map(ToolEffect::Output).unwrap_or_else(error_effect)
}

fn error_effect(error: ToolError) -> ToolEffect {
    let content = error.to_string();
    ToolEffect::Output(ToolOutput {
        summary: shorten(&content, 200),
        content,
        is_error: true,
    })
}

/// A one-line description of a call, for the `ToolCall` event.
pub fn describe(name: &str, input: &Value) -> String {
    let field = |key: &str| input.get(key).and_then(Value::as_str).unwrap_or("");
    let text = match name {
        "read_file" | "list_dir" | "edit_file" => format!("{name} {}", field("path")),
        "write_file" => format!(
            "{name} {} ({} bytes)",
            field("path"),
            field("content").len()
        ),
        "search" => match input.get("path").and_then(Value::as_str) {
            Some(path) => format!("search `{}` in {path}", field("pattern")),
            None => format!("search `{}`", field("pattern")),
        },
        "run_command" => format!("run_command `{}`", field("command")),
        ASK_PERSON => format!("ask_person: {}", field("question")),
        other => other.to_string(),
    };
    shorten(text.trim_end(), 200)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A worktree in a temporary directory, with a sibling `outside` directory holding `secret`.
    pub(crate) fn context() -> (tempfile::TempDir, ToolContext) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("wt")).unwrap();
        std::fs::create_dir_all(dir.path().join("outside")).unwrap();
        std::fs::write(dir.path().join("outside/secret"), "secret\n").unwrap();
        let ctx = ToolContext {
            worktree: Worktree::open(&dir.path().join("wt")).unwrap(),
            env: vec![("GAFFER_TEST_VAR".into(), "from-env".into())],
            cancel: CancellationToken::new(),
            command_timeout: Duration::from_secs(30),
            confine: Default::default(),
        };
        (dir, ctx)
    }

    pub(crate) async fn output(ctx: &ToolContext, name: &str, input: Value) -> ToolOutput {
        match call(ctx, name, &input).await {
            ToolEffect::Output(out) => out,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn every_definition_is_an_object_schema_with_its_required_fields() {
        let defs = definitions();
        assert_eq!(defs.len(), 7);
        for def in &defs {
            assert_eq!(def.schema["type"], "object", "{}", def.name);
            for required in def.schema["required"].as_array().unwrap() {
                let key = required.as_str().unwrap();
                assert!(
                    def.schema["properties"].get(key).is_some(),
                    "{}.{key}",
                    def.name
                );
            }
        }
    }

    #[tokio::test]
    async fn unknown_tools_and_bad_arguments_are_error_results() {
        let (_d, ctx) = context();
        let out = output(&ctx, "delete_everything", json!({})).await;
        assert!(out.is_error && out.content.contains("unknown tool"));
        let out = output(&ctx, "read_file", json!({"offset": 3})).await;
        assert!(
            out.is_error && out.content.contains("path"),
            "{}",
            out.content
        );
        let out = output(&ctx, "read_file", Value::String("{not json".into())).await;
        assert!(
            out.is_error && out.content.contains("not valid JSON"),
            "{}",
            out.content
        );
    }

    #[test]
    fn descriptions_are_short() {
        let d = describe("run_command", &json!({"command": "x".repeat(500)}));
        assert!(d.chars().count() <= 201);
        assert_eq!(
            describe("read_file", &json!({"path": "a.rs"})),
            "read_file a.rs"
        );
    }
}
