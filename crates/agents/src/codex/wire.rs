//! The lines `codex exec --json` prints, as far as gaffer reads them. Every field is optional
//! and unknown fields are skipped; a line whose known fields have unexpected types is ignored.
//!
//! Measured on Codex 0.169.0:
//!
//! * `{"type":"thread.started","thread_id":…}` first (the same id again on resume);
//! * `{"type":"turn.started"}`, then `item.started` / `item.updated` / `item.completed` lines
//!   carrying an `item` with an `id` and a `type`: `agent_message` (`text`), `reasoning`
//!   (`text`), `command_execution` (`command`, `aggregated_output`, `exit_code`, `status`),
//!   `file_change` (`changes: [{path, kind}]`, `status`), `mcp_tool_call` (`server`, `tool`,
//!   `arguments`, `result`, `error`, `status`), `web_search` (`query`), `todo_list`
//!   (`items: [{text, completed}]`) and `error` (`message`, a warning such as unknown model
//!   metadata: the turn goes on);
//! * `{"type":"turn.completed","usage":{"input_tokens","cached_input_tokens","output_tokens",…}}`
//!   with totals for the whole thread so far (a resumed thread's first turn includes the turns
//!   of earlier runs), or `{"type":"error","message":…}` followed by
//!   `{"type":"turn.failed","error":{"message":…}}`.

use serde::Deserialize;
use serde_json::Value;

/// One line of output.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct Line {
    #[serde(rename = "type")]
    pub kind: String,
    /// `thread.started`.
    pub thread_id: Option<String>,
    /// `turn.completed`.
    pub usage: Option<ThreadUsage>,
    /// `turn.failed`.
    pub error: Option<ErrorBody>,
    /// `error`.
    pub message: Option<String>,
    /// `item.*`.
    pub item: Option<Item>,
}

/// Token totals of the thread so far, as Codex counts them: `input_tokens` includes the cached
/// ones.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(default)]
pub struct ThreadUsage {
    pub input_tokens: u64,
    pub cached_input_tokens: u64,
    pub output_tokens: u64,
}

/// `{"message": …}`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct ErrorBody {
    pub message: Option<String>,
}

/// A thread item, whatever its type.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct Item {
    pub id: Option<String>,
    #[serde(rename = "type")]
    pub kind: String,
    /// `agent_message`, `reasoning`.
    pub text: Option<String>,
    /// `command_execution`.
    pub command: Option<String>,
    pub aggregated_output: Option<String>,
    pub exit_code: Option<i64>,
    /// `command_execution`, `file_change`, `mcp_tool_call`: `in_progress`, `completed`,
    /// `failed`, `declined`.
    pub status: Option<String>,
    /// `file_change`.
    pub changes: Option<Vec<FileChange>>,
    /// `mcp_tool_call`.
    pub server: Option<String>,
    pub tool: Option<String>,
    pub arguments: Option<Value>,
    pub result: Option<Value>,
    pub error: Option<ErrorBody>,
    /// `web_search`.
    pub query: Option<String>,
    /// `todo_list`.
    pub items: Option<Vec<TodoItem>>,
    /// `error`.
    pub message: Option<String>,
}

/// One path of a `file_change`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct FileChange {
    pub path: String,
    /// `add`, `delete` or `update`.
    pub kind: Option<Value>,
}

/// One entry of a `todo_list`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct TodoItem {
    pub text: String,
    pub completed: bool,
}
