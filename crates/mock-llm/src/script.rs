//! The script: which conversations exist, how each is recognised, and what each turn answers.
//!
//! A script is plain data. Write it as TOML or JSON (see the crate's README for the format) and
//! load it with [`Script::load`], or build it in Rust with the `with_*` methods:
//!
//! ```
//! use gaffer_mock_llm::{Conversation, ErrorSpec, Script, Turn};
//! use serde_json::json;
//!
//! let script = Script::new()
//!     .with_conversation(
//!         Conversation::new("edit")
//!             .with_marker("MOCK:edit")
//!             .with_turn(
//!                 Turn::tool_call("write_file", json!({"path": "a.txt", "content": "hi\n"}))
//!                     .with_error(ErrorSpec::times(429, 1).with_retry_after(1)),
//!             )
//!             .with_turn(Turn::text("Wrote a.txt.")),
//!     )
//!     .with_default("edit");
//! assert!(script.validate().is_ok());
//! ```

use std::collections::HashSet;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::ScriptError;

/// The request header that picks a conversation by name, unless the script names another.
pub const DEFAULT_SELECTION_HEADER: &str = "x-mock-conversation";

/// Everything the server answers from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Script {
    /// The conversations, in the order markers are tried.
    #[serde(default)]
    pub conversations: Vec<Conversation>,
    /// Name of the conversation that answers requests no other conversation claims. Without
    /// one, such requests get the [`done_text`](Self::done_text) answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
    /// The text answered once a conversation has no turns left (default `"done"`).
    #[serde(default = "default_done_text")]
    pub done_text: String,
    /// The request header whose value names the conversation to use (default
    /// `x-mock-conversation`).
    #[serde(default = "default_selection_header")]
    pub selection_header: String,
    /// Model names listed by `GET /v1/models`.
    #[serde(default = "default_models")]
    pub models: Vec<String>,
}

/// One scripted exchange with one agent run: how to recognise it, and its turns in order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Conversation {
    /// Unique name; also what the selection header's value must equal to pick it.
    pub name: String,
    /// A substring that, found anywhere in the request's system prompt, instructions, messages
    /// or input, picks this conversation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub marker: Option<String>,
    /// A model name that picks this conversation when the request asks for exactly it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// The answers, one per model turn: the first request gets `turns[0]`, the request that
    /// already carries one assistant turn in its history gets `turns[1]`, and so on.
    #[serde(default)]
    pub turns: Vec<Turn>,
    /// Overrides the script's [`done_text`](Script::done_text) for this conversation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub done_text: Option<String>,
}

/// One model answer, with optional failures and misbehaviour before or during it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Turn {
    /// Assistant text, streamed in pieces of [`chunk_chars`](Self::chunk_chars) characters.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub text: String,
    /// Tool calls, after the text, in each API's own format.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tool_calls: Vec<ToolCall>,
    /// Token usage reported for this turn (default: [`Usage::default`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<Usage>,
    /// HTTP failures answered before the turn succeeds, in order (see [`ErrorSpec`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<ErrorSpec>,
    /// Wait this long before answering anything (errors included).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub delay_ms: u64,
    /// Wait this long between stream pieces.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub chunk_delay_ms: u64,
    /// Size of text and argument pieces in a stream, in characters (default 16).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chunk_chars: Option<usize>,
    /// Stop answering, before the response or in the middle of it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stall: Option<Stall>,
    /// A raw line inserted into the stream verbatim (followed by a blank line), e.g.
    /// `data: {"oops`. A non-streaming answer becomes this line alone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub malformed_line: Option<String>,
    /// How many stream pieces precede the malformed line (default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub malformed_after: Option<usize>,
}

/// A tool call the model makes. Use the tool names the client offers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ToolCall {
    /// The tool's name, e.g. `write_file`, `Write`, `Bash`, `shell`, `apply_patch`.
    pub name: String,
    /// The arguments. An object is sent as its JSON text; a string is sent verbatim as the
    /// arguments text, which is how to send arguments that are not valid JSON.
    #[serde(default = "empty_object")]
    pub arguments: serde_json::Value,
    /// Free-form input for a Responses API custom tool (Codex's `apply_patch` on some models).
    /// When set, the Responses API answers a `custom_tool_call` with this `input`; the other APIs
    /// send a function call with arguments `{"input": …}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<String>,
    /// The call id. By default one is made up that also encodes the turn number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
}

/// Token counts reported for a turn. `input_tokens` counts the whole prompt, cached part
/// included, as the OpenAI APIs do; the Anthropic API reports `input_tokens - cached_tokens` as
/// its `input_tokens` and `cached_tokens` as `cache_read_input_tokens`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Usage {
    /// Prompt tokens, cached ones included.
    #[serde(default)]
    pub input_tokens: u64,
    /// Completion tokens.
    #[serde(default)]
    pub output_tokens: u64,
    /// Prompt tokens read from the cache.
    #[serde(default)]
    pub cached_tokens: u64,
}

/// An HTTP failure answered instead of the turn.
///
/// A turn's errors are consumed in order by its attempts (counted per conversation and turn for
/// the life of the server): `[{status = 429, times = 1}]` fails the first attempt and answers
/// the second; an error without `times` fails every attempt from then on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ErrorSpec {
    /// HTTP status, 400 to 599.
    pub status: u16,
    /// How many attempts this error answers; absent means all remaining attempts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub times: Option<u32>,
    /// Seconds sent in a `retry-after` header.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
    /// Message inside the API's usual error body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// A body sent verbatim instead of the API's usual error body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
}

/// How a turn stops answering.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stall {
    /// Accept the request and never send a response.
    NoResponse,
    /// Send the first half of the response, then keep the connection open and send nothing.
    MidStream,
    /// Send the first half of the response, then end it (no final events).
    CloseMidStream,
}

impl Default for Script {
    fn default() -> Self {
        Self::new()
    }
}

impl Default for Usage {
    /// 100 input tokens, 20 output tokens, none cached.
    fn default() -> Self {
        Self {
            input_tokens: 100,
            output_tokens: 20,
            cached_tokens: 0,
        }
    }
}

impl Script {
    /// An empty script: every request gets the `done` answer.
    pub fn new() -> Self {
        Self {
            conversations: Vec::new(),
            default: None,
            done_text: default_done_text(),
            selection_header: default_selection_header(),
            models: default_models(),
        }
    }

    /// Reads a script file: JSON when the name ends in `.json`, TOML otherwise.
    pub fn load(path: impl AsRef<Path>) -> Result<Self, ScriptError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| ScriptError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let origin = path.display().to_string();
        if path.extension().is_some_and(|ext| ext == "json") {
            parse_json(&text, &origin)
        } else {
            parse_toml(&text, &origin)
        }
    }

    /// Parses and validates a TOML script.
    pub fn from_toml_str(text: &str) -> Result<Self, ScriptError> {
        parse_toml(text, "<string>")
    }

    /// Parses and validates a JSON script.
    pub fn from_json_str(text: &str) -> Result<Self, ScriptError> {
        parse_json(text, "<string>")
    }

    /// Checks what the types cannot: unique names, a default that exists, sensible statuses.
    pub fn validate(&self) -> Result<(), ScriptError> {
        let mut names = HashSet::new();
        for conversation in &self.conversations {
            if conversation.name.is_empty() {
                return Err(invalid("a conversation has an empty name"));
            }
            if !names.insert(conversation.name.as_str()) {
                return Err(invalid(format!(
                    "two conversations are named {:?}",
                    conversation.name
                )));
            }
            if conversation.marker.as_deref() == Some("") {
                return Err(invalid(format!(
                    "conversation {:?} has an empty marker, which would match every request",
                    conversation.name
                )));
            }
            for (index, turn) in conversation.turns.iter().enumerate() {
                turn.validate().map_err(|why| {
                    invalid(format!(
                        "conversation {:?}, turn {index}: {why}",
                        conversation.name
                    ))
                })?;
            }
        }
        if let Some(default) = &self.default
            && !names.contains(default.as_str())
        {
            return Err(invalid(format!(
                "default conversation {default:?} is not one of the conversations"
            )));
        }
        if self.selection_header.is_empty()
            || !self
                .selection_header
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(invalid(format!(
                "selection_header {:?} is not a valid header name",
                self.selection_header
            )));
        }
        Ok(())
    }

    /// The conversation with this name.
    pub fn conversation(&self, name: &str) -> Option<&Conversation> {
        self.conversations.iter().find(|c| c.name == name)
    }
}

impl Turn {
    /// The usage this turn reports.
    pub fn effective_usage(&self) -> Usage {
        self.usage.unwrap_or_default()
    }

    /// The size of stream pieces, never zero.
    pub fn effective_chunk_chars(&self) -> usize {
        self.chunk_chars.unwrap_or(16).max(1)
    }

    fn validate(&self) -> Result<(), String> {
        for error in &self.errors {
            if !(400..=599).contains(&error.status) {
                return Err(format!(
                    "error status {} is not between 400 and 599",
                    error.status
                ));
            }
            if error.times == Some(0) {
                return Err("an error with times = 0 never happens; remove it".to_string());
            }
        }
        if self.chunk_chars == Some(0) {
            return Err("chunk_chars must be at least 1".to_string());
        }
        for call in &self.tool_calls {
            if call.name.is_empty() {
                return Err("a tool call has an empty name".to_string());
            }
        }
        Ok(())
    }
}

impl ToolCall {
    /// The arguments as the text a function call carries.
    pub fn arguments_text(&self) -> String {
        if let Some(input) = &self.input {
            return serde_json::json!({ "input": input }).to_string();
        }
        match &self.arguments {
            serde_json::Value::String(raw) => raw.clone(),
            other => other.to_string(),
        }
    }

    /// The arguments as a JSON value (what Anthropic's `tool_use.input` carries). Arguments
    /// given as text are parsed; text that is not JSON is passed as a string.
    pub fn arguments_value(&self) -> serde_json::Value {
        if let Some(input) = &self.input {
            return serde_json::json!({ "input": input });
        }
        match &self.arguments {
            serde_json::Value::String(raw) => {
                serde_json::from_str(raw).unwrap_or_else(|_| serde_json::Value::String(raw.clone()))
            }
            other => other.clone(),
        }
    }
}

/// The error a turn answers on its `attempt`-th try (1-based), if any.
pub(crate) fn error_for_attempt(errors: &[ErrorSpec], attempt: u32) -> Option<&ErrorSpec> {
    let mut covered: u32 = 0;
    for error in errors {
        match error.times {
            None => return Some(error),
            Some(times) => {
                covered = covered.saturating_add(times);
                if attempt <= covered {
                    return Some(error);
                }
            }
        }
    }
    None
}

fn parse_toml(text: &str, origin: &str) -> Result<Script, ScriptError> {
    let script: Script = toml::from_str(text).map_err(|source| ScriptError::Toml {
        origin: origin.to_string(),
        source,
    })?;
    script.validate()?;
    Ok(script)
}

fn parse_json(text: &str, origin: &str) -> Result<Script, ScriptError> {
    let script: Script = serde_json::from_str(text).map_err(|source| ScriptError::Json {
        origin: origin.to_string(),
        source,
    })?;
    script.validate()?;
    Ok(script)
}

fn invalid(why: impl Into<String>) -> ScriptError {
    ScriptError::Invalid(why.into())
}

fn default_done_text() -> String {
    "done".to_string()
}

fn default_selection_header() -> String {
    DEFAULT_SELECTION_HEADER.to_string()
}

fn default_models() -> Vec<String> {
    vec!["mock-model".to_string()]
}

pub(crate) fn empty_object() -> serde_json::Value {
    serde_json::Value::Object(serde_json::Map::new())
}

fn is_zero(value: &u64) -> bool {
    *value == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_are_consumed_in_order_and_an_unbounded_one_lasts() {
        let errors = vec![ErrorSpec::times(429, 2), ErrorSpec::once(500)];
        let statuses: Vec<_> = (1..=4)
            .map(|attempt| error_for_attempt(&errors, attempt).map(|e| e.status))
            .collect();
        assert_eq!(statuses, vec![Some(429), Some(429), Some(500), None]);

        let always = vec![ErrorSpec::once(429), ErrorSpec::always(500)];
        assert_eq!(error_for_attempt(&always, 1).map(|e| e.status), Some(429));
        assert_eq!(error_for_attempt(&always, 99).map(|e| e.status), Some(500));
    }

    #[test]
    fn string_arguments_are_sent_verbatim() {
        let call = ToolCall::new("f", serde_json::json!("{not json"));
        assert_eq!(call.arguments_text(), "{not json");
        assert_eq!(call.arguments_value(), serde_json::json!("{not json"));
        let call = ToolCall::new("f", serde_json::json!("{\"a\":1}"));
        assert_eq!(call.arguments_value(), serde_json::json!({"a": 1}));
    }

    #[test]
    fn validation_names_the_problem() {
        let script = Script::new().with_default("missing");
        assert!(
            script
                .validate()
                .is_err_and(|e| e.to_string().contains("missing"))
        );
        let script = Script::new()
            .with_conversation(Conversation::new("a"))
            .with_conversation(Conversation::new("a"));
        assert!(
            script
                .validate()
                .is_err_and(|e| e.to_string().contains("two conversations"))
        );
        let script = Script::new().with_conversation(
            Conversation::new("a").with_turn(Turn::text("x").with_error(ErrorSpec::once(200))),
        );
        assert!(
            script
                .validate()
                .is_err_and(|e| e.to_string().contains("turn 0"))
        );
    }
}
