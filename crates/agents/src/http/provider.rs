//! What differs between model APIs: the endpoint, headers, request body and response format.

use crate::http::conversation::{Block, Message, Speaker};
use crate::http::error::HttpError;
use crate::http::sse::SseEvent;
use crate::http::tools::ToolDef;
use gaffer_core::Usage;

/// One request to the model.
#[derive(Debug, Clone, Copy)]
pub struct ModelRequest<'a> {
    pub model: &'a str,
    pub system: &'a str,
    pub messages: &'a [Message],
    pub tools: &'a [ToolDef],
    pub max_output_tokens: u32,
}

/// One complete answer of the model.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ModelResponse {
    /// Text and tool calls, in the order the model produced them.
    pub blocks: Vec<Block>,
    /// Tokens of this request: `input_tokens` excludes cached tokens, which are counted in
    /// `cached_tokens`. `cost_usd` is always 0 (the engine prices tokens).
    pub usage: Usage,
    /// Why the model stopped (`stop`, `tool_calls`, `end_turn`, `max_tokens`…), as reported.
    pub stop_reason: Option<String>,
}

impl ModelResponse {
    /// The text of the answer (text blocks joined by blank lines).
    pub fn text(&self) -> String {
        self.blocks
            .iter()
            .filter_map(|b| match b {
                Block::Text { text } if !text.is_empty() => Some(text.as_str()),
                _ => None,
            })
            .collect::<Vec<_>>()
            .join("\n\n")
    }

    /// The answer as an assistant message of the conversation (empty text blocks dropped).
    pub fn message(&self) -> Message {
        let content: Vec<Block> = self
            .blocks
            .iter()
            .filter(|b| !matches!(b, Block::Text { text } if text.is_empty()))
            .cloned()
            .collect();
        Message {
            role: Speaker::Assistant,
            content,
        }
    }
}

/// A model API.
pub trait Provider: Send + Sync + 'static {
    /// `openai` or `anthropic`.
    fn name(&self) -> &'static str;
    /// The URL to POST to, from the configured base URL.
    fn url(&self, base_url: &str) -> String;
    /// Authentication and version headers.
    fn headers(&self, api_key: Option<&str>) -> Vec<(String, String)>;
    /// The JSON body of a streaming request.
    fn body(&self, request: &ModelRequest<'_>) -> serde_json::Value;
    /// A decoder for one streamed response.
    fn decoder(&self) -> Box<dyn StreamDecoder>;
    /// Decodes a whole JSON (non-streamed) response, for servers that ignore `stream: true`.
    fn decode_whole(&self, body: &serde_json::Value) -> Result<ModelResponse, HttpError>;
}

/// Turns the events of one streamed response into a [`ModelResponse`].
pub trait StreamDecoder: Send {
    /// Takes one event; true once the response is complete (nothing more is read).
    fn event(&mut self, event: &SseEvent) -> Result<bool, HttpError>;
    /// The response, once the stream ended. Errors if it ended before the response was complete.
    fn finish(self: Box<Self>) -> Result<ModelResponse, HttpError>;
}

/// Parses one event's JSON data, or says which line was malformed.
pub fn parse_data(event: &SseEvent) -> Result<serde_json::Value, HttpError> {
    serde_json::from_str(&event.data).map_err(|e| {
        HttpError::Malformed(format!(
            "a stream event is not valid JSON ({e}): `{}`",
            crate::http::error::shorten(&event.data, 200)
        ))
    })
}

/// Tool arguments as JSON: parsed when they are JSON, `{}` when empty, else kept as a string
/// (the tool then tells the model its arguments were not JSON).
pub fn tool_input(raw: &str) -> serde_json::Value {
    if raw.trim().is_empty() {
        return serde_json::json!({});
    }
    serde_json::from_str(raw).unwrap_or_else(|_| serde_json::Value::String(raw.to_string()))
}

/// A `u64` field of a JSON object, 0 when absent.
pub fn count(value: &serde_json::Value, pointer: &str) -> u64 {
    value.pointer(pointer).and_then(|v| v.as_u64()).unwrap_or(0)
}
