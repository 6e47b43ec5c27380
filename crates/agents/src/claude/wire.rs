//! The lines Claude Code prints with `--output-format stream-json --verbose`, as far as gaffer
//! reads them. Every field is optional and unknown fields are skipped, so a newer CLI that adds
//! fields still parses; a line whose known fields have unexpected types is ignored.
//!
//! Measured on Claude Code 2.1.329:
//!
//! * `{"type":"system","subtype":"init","session_id":…,"model":…,"cwd":…,"tools":[…],…}` first;
//!   other subtypes (`api_retry` with `error_status` and `error`, `compact_boundary`, hooks…)
//!   may follow;
//! * `{"type":"assistant","message":{"model":…,"content":[ONE block],…},"session_id":…,
//!   "parent_tool_use_id":null}`, one line per content block (`text`, `thinking`, `tool_use`);
//!   an API failure is an assistant line with `"model":"<synthetic>"`, `"error":…`,
//!   `"is_api_error_message":true` and the provider's message as its text;
//! * `{"type":"system","subtype":"permission_denied","tool_name":…,"tool_use_id":…,
//!   "message":…}` when a tool call is refused for want of permission, before its result;
//! * `{"type":"user","message":{"content":[{"type":"tool_result","tool_use_id":…,"content":…,
//!   "is_error":…}]},"tool_use_result":…}` for each tool result;
//! * with `--input-format stream-json --replay-user-messages`, `{"type":"user","message":
//!   {"role":"user","content":TEXT},"isReplay":true,…}` for each message read from standard
//!   input, when the agent takes it into its conversation (the prompt first);
//! * `{"type":"result","subtype":"success"|"error_max_turns"|…,"is_error":…,"result":…,
//!   "errors":[…],"num_turns":…,"total_cost_usd":…,"usage":{…},"modelUsage":{…},
//!   "model_usage_since_last_result":{…},"permission_denials":[…],"session_id":…}` last; a
//!   message read after the agent's last answer began makes one more turn: another `init`,
//!   its replay, and another `result` (whose `total_cost_usd` counts both).
//!
//! On `--resume` the session id stays the same, `usage` and `model_usage_since_last_result`
//! count this process's requests only, while `total_cost_usd` and `modelUsage` are the
//! session's totals (Claude Code restores them from the session's transcript).

use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::Value;
use std::collections::HashMap;

/// One line of output.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct Line {
    #[serde(rename = "type")]
    pub kind: String,
    pub subtype: Option<String>,
    pub session_id: Option<String>,
    /// `system` lines: the model in use.
    pub model: Option<String>,
    /// `assistant` and `user` lines: the message; `system`/`permission_denied`: why.
    pub message: Option<MessageField>,
    /// `user` lines: a message read from standard input, replayed when the agent took it into
    /// its conversation (with `--replay-user-messages`).
    #[serde(rename = "isReplay")]
    pub is_replay: Option<bool>,
    /// Set on lines from a sub-agent (the `Task` tool); `null` for the main conversation.
    pub parent_tool_use_id: Option<String>,
    /// `assistant` lines: set when the message stands for an API error.
    pub is_api_error_message: Option<bool>,
    /// `assistant` lines: the error kind of an API error (`server_error`, `rate_limit`…).
    pub error: Option<Value>,
    /// `result` and `system`/`api_retry` lines.
    pub api_error_status: Option<Value>,
    /// `result` lines.
    pub is_error: Option<bool>,
    pub result: Option<String>,
    pub errors: Option<Vec<Value>>,
    pub num_turns: Option<u32>,
    pub total_cost_usd: Option<f64>,
    pub usage: Option<TokenUsage>,
    /// `result` lines: tokens and cost per model since the previous result, which in print
    /// mode (one result per process) is this run.
    pub model_usage_since_last_result: Option<HashMap<String, ModelUsage>>,
    /// `result` lines: the tool calls refused for want of permission.
    pub permission_denials: Option<Vec<Denial>>,
    /// `system`/`api_retry` lines.
    pub error_status: Option<Value>,
    /// `system`/`permission_denied` lines.
    pub tool_name: Option<String>,
    pub tool_use_id: Option<String>,
}

impl Line {
    /// The conversation message of an `assistant` or `user` line.
    pub fn conversation(&self) -> Option<&Message> {
        match &self.message {
            Some(MessageField::Conversation(message)) => Some(message),
            _ => None,
        }
    }

    /// The text `message` of a `system` line.
    pub fn message_text(&self) -> Option<&str> {
        match &self.message {
            Some(MessageField::Text(text)) => Some(text),
            _ => None,
        }
    }
}

/// `message` is an object on conversation lines and a sentence on some `system` lines.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(crate) enum MessageField {
    Conversation(Message),
    Text(String),
}

/// A message of the conversation.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct Message {
    pub model: Option<String>,
    pub content: Content,
}

/// Message content: a list of blocks, plain text (a user message as it was sent), or anything
/// else, which gaffer does not read.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(crate) enum Content {
    Blocks(Vec<Block>),
    Text(String),
    Other(IgnoredAny),
}

impl Default for Content {
    fn default() -> Self {
        Content::Blocks(Vec::new())
    }
}

impl Content {
    /// The blocks, or none for plain text.
    pub fn blocks(&self) -> &[Block] {
        match self {
            Content::Blocks(blocks) => blocks,
            Content::Text(_) | Content::Other(_) => &[],
        }
    }
}

/// One content block, whatever its type (`text`, `thinking`, `tool_use`, `tool_result`…).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct Block {
    #[serde(rename = "type")]
    pub kind: String,
    pub text: Option<String>,
    /// `tool_use`: the call's id.
    pub id: Option<String>,
    /// `tool_use`: the tool's name.
    pub name: Option<String>,
    /// `tool_use`: the arguments.
    pub input: Option<Value>,
    /// `tool_result`: the call it answers.
    pub tool_use_id: Option<String>,
    /// `tool_result`: a string or a list of `{"type":"text","text":…}` blocks.
    pub content: Option<Value>,
    pub is_error: Option<bool>,
}

/// Token counts of a `result` line (for the whole run).
#[derive(Debug, Default, Clone, Copy, Deserialize)]
#[serde(default)]
pub(crate) struct TokenUsage {
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cache_read_input_tokens: u64,
    pub cache_creation_input_tokens: u64,
}

/// One model's share of a `result` line's `modelUsage` or `model_usage_since_last_result`.
#[derive(Debug, Default, Clone, Copy, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(crate) struct ModelUsage {
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cache_read_input_tokens: u64,
    pub cache_creation_input_tokens: u64,
    #[serde(rename = "costUSD")]
    pub cost_usd: f64,
}

/// One entry of a `result` line's `permission_denials`.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub(crate) struct Denial {
    pub tool_name: Option<String>,
    pub tool_use_id: Option<String>,
}
