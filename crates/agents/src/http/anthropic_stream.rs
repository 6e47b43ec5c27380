//! Decoding Messages responses: the streamed events (`message_start`, `content_block_*`,
//! `message_delta`, `message_stop`, `ping`, `error`) and whole JSON answers.

use crate::http::conversation::Block;
use crate::http::error::{HttpError, error_message};
use crate::http::provider::{ModelResponse, StreamDecoder, count, parse_data, tool_input};
use crate::http::sse::SseEvent;
use gaffer_core::Usage;
use serde_json::Value;

/// Accumulates the events of one streamed answer.
#[derive(Debug, Default)]
pub struct Decoder {
    blocks: Vec<Partial>,
    usage: Usage,
    stop_reason: Option<String>,
    started: bool,
    done: bool,
}

#[derive(Debug)]
enum Partial {
    Text(String),
    Tool {
        id: String,
        name: String,
        json: String,
        /// The input given at block start (used when no `input_json_delta` follows).
        initial: Value,
    },
    /// Thinking and other block types, ignored.
    Other,
}

impl StreamDecoder for Decoder {
    fn event(&mut self, event: &SseEvent) -> Result<bool, HttpError> {
        let data = parse_data(event)?;
        let kind = data
            .get("type")
            .and_then(Value::as_str)
            .or(event.event.as_deref())
            .unwrap_or_default();
        match kind {
            "message_start" => {
                self.started = true;
                self.usage = usage_of(&data["message"]["usage"]);
            }
            "content_block_start" => {
                let index = index_of(&data)?;
                let block = &data["content_block"];
                let partial = match block["type"].as_str() {
                    Some("text") => {
                        Partial::Text(block["text"].as_str().unwrap_or_default().into())
                    }
                    Some("tool_use") => Partial::Tool {
                        id: block["id"].as_str().unwrap_or_default().into(),
                        name: block["name"].as_str().unwrap_or_default().into(),
                        json: String::new(),
                        initial: block.get("input").cloned().unwrap_or(Value::Null),
                    },
                    _ => Partial::Other,
                };
                if self.blocks.len() <= index {
                    self.blocks.resize_with(index + 1, || Partial::Other);
                }
                self.blocks[index] = partial;
            }
            "content_block_delta" => {
                let index = index_of(&data)?;
                let delta = &data["delta"];
                match (self.blocks.get_mut(index), delta["type"].as_str()) {
                    (Some(Partial::Text(text)), Some("text_delta")) => {
                        text.push_str(delta["text"].as_str().unwrap_or_default());
                    }
                    (Some(Partial::Tool { json, .. }), Some("input_json_delta")) => {
                        json.push_str(delta["partial_json"].as_str().unwrap_or_default());
                    }
                    (None, _) => {
                        return Err(HttpError::Malformed(format!(
                            "a delta for content block {index}, which was never started"
                        )));
                    }
                    _ => {}
                }
            }
            "message_delta" => {
                if let Some(reason) = data.pointer("/delta/stop_reason").and_then(Value::as_str) {
                    self.stop_reason = Some(reason.to_string());
                }
                let usage = &data["usage"];
                if let Some(output) = usage.get("output_tokens").and_then(Value::as_u64) {
                    self.usage.output_tokens = output;
                }
                if usage.get("input_tokens").and_then(Value::as_u64).is_some() {
                    let later = usage_of(usage);
                    self.usage.input_tokens = later.input_tokens;
                    self.usage.cached_tokens = later.cached_tokens;
                }
            }
            "message_stop" => {
                self.done = true;
                return Ok(true);
            }
            "error" => {
                let error_type = data
                    .pointer("/error/type")
                    .and_then(Value::as_str)
                    .unwrap_or("");
                return Err(HttpError::InStream {
                    message: error_message(&data.to_string()),
                    retryable: matches!(
                        error_type,
                        "overloaded_error" | "api_error" | "rate_limit_error" | "timeout_error"
                    ),
                });
            }
            _ => {}
        }
        Ok(false)
    }

    fn finish(self: Box<Self>) -> Result<ModelResponse, HttpError> {
        if !self.done {
            return Err(HttpError::Malformed(if self.started {
                "the stream ended before `message_stop`".into()
            } else {
                "the stream ended without a `message_start`".into()
            }));
        }
        let blocks = self
            .blocks
            .into_iter()
            .filter_map(|partial| match partial {
                Partial::Text(text) => Some(Block::Text { text }),
                Partial::Tool {
                    id,
                    name,
                    json,
                    initial,
                } => Some(Block::ToolUse {
                    id,
                    name,
                    input: if json.is_empty() && initial.is_object() {
                        initial
                    } else {
                        tool_input(&json)
                    },
                }),
                Partial::Other => None,
            })
            .collect();
        Ok(ModelResponse {
            blocks,
            usage: self.usage,
            stop_reason: self.stop_reason,
        })
    }
}

/// Decodes a non-streamed `message` object.
pub fn decode_whole(body: &Value) -> Result<ModelResponse, HttpError> {
    if body["type"] == "error" {
        return Err(HttpError::InStream {
            message: error_message(&body.to_string()),
            retryable: true,
        });
    }
    let content = body["content"]
        .as_array()
        .ok_or_else(|| HttpError::Malformed("the answer has no `content` array".into()))?;
    let blocks = content
        .iter()
        .filter_map(|block| match block["type"].as_str() {
            Some("text") => Some(Block::Text {
                text: block["text"].as_str().unwrap_or_default().to_string(),
            }),
            Some("tool_use") => Some(Block::ToolUse {
                id: block["id"].as_str().unwrap_or_default().to_string(),
                name: block["name"].as_str().unwrap_or_default().to_string(),
                input: block
                    .get("input")
                    .cloned()
                    .unwrap_or_else(|| tool_input("")),
            }),
            _ => None,
        })
        .collect();
    Ok(ModelResponse {
        blocks,
        usage: usage_of(&body["usage"]),
        stop_reason: body["stop_reason"].as_str().map(str::to_string),
    })
}

fn index_of(data: &Value) -> Result<usize, HttpError> {
    match data.get("index").and_then(Value::as_u64) {
        Some(index) if index <= 1024 => Ok(index as usize),
        _ => Err(HttpError::Malformed(format!(
            "a content block event without a valid `index`: {}",
            crate::http::error::shorten(&data.to_string(), 200)
        ))),
    }
}

/// `input_tokens` excludes cache reads and writes; cache writes are counted as input, cache
/// reads as cached.
fn usage_of(usage: &Value) -> Usage {
    Usage {
        input_tokens: count(usage, "/input_tokens") + count(usage, "/cache_creation_input_tokens"),
        output_tokens: count(usage, "/output_tokens"),
        cached_tokens: count(usage, "/cache_read_input_tokens"),
        cost_usd: 0.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::sse::SseParser;
    use serde_json::json;

    fn decode(stream: &str) -> Result<ModelResponse, HttpError> {
        let mut parser = SseParser::new();
        let mut decoder: Box<dyn StreamDecoder> = Box::new(Decoder::default());
        let mut events = parser.push(stream.as_bytes())?;
        events.extend(parser.finish()?);
        for event in &events {
            if decoder.event(event)? {
                break;
            }
        }
        decoder.finish()
    }

    const STREAM: &str = r#"event: message_start
data: {"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","content":[],"usage":{"input_tokens":30,"cache_read_input_tokens":70,"cache_creation_input_tokens":5,"output_tokens":1}}}

event: content_block_start
data: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}

event: ping
data: {"type": "ping"}

event: content_block_delta
data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"STATUS: reading\nOk"}}

event: content_block_stop
data: {"type":"content_block_stop","index":0}

event: content_block_start
data: {"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"toolu_1","name":"edit_file","input":{}}}

event: content_block_delta
data: {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"path\": \"a\", "}}

event: content_block_delta
data: {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"\"old\": \"x\", \"new\": \"y\"}"}}

event: content_block_stop
data: {"type":"content_block_stop","index":1}

event: message_delta
data: {"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"output_tokens":42}}

event: message_stop
data: {"type":"message_stop"}

"#;

    #[test]
    fn text_tool_use_and_usage() {
        let response = decode(STREAM).unwrap();
        assert_eq!(response.text(), "STATUS: reading\nOk");
        assert_eq!(
            response.blocks[1],
            Block::ToolUse {
                id: "toolu_1".into(),
                name: "edit_file".into(),
                input: json!({"path": "a", "old": "x", "new": "y"})
            }
        );
        assert_eq!(response.usage.input_tokens, 35);
        assert_eq!(response.usage.cached_tokens, 70);
        assert_eq!(response.usage.output_tokens, 42);
        assert_eq!(response.stop_reason.as_deref(), Some("tool_use"));
    }

    #[test]
    fn errors_and_broken_streams() {
        let overloaded = "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}\n\n";
        let err = decode(overloaded).unwrap_err();
        assert!(
            err.is_retryable() && err.to_string().contains("Overloaded"),
            "{err}"
        );
        let cut = STREAM.split("event: message_delta").next().unwrap();
        assert!(
            decode(cut)
                .unwrap_err()
                .to_string()
                .contains("message_stop")
        );
        let garbage = STREAM.replace("data: {\"type\": \"ping\"}", "data: {\"type\": pi");
        assert!(matches!(decode(&garbage), Err(HttpError::Malformed(_))));
        let bad_index = "data: {\"type\":\"content_block_delta\",\"index\":7,\"delta\":{}}\n\n";
        assert!(decode(bad_index).is_err());
    }

    #[test]
    fn whole_answers() {
        let body = json!({
            "type": "message",
            "content": [{"type": "text", "text": "hi"}, {"type": "tool_use", "id": "t", "name": "list_dir", "input": {"path": "."}}],
            "stop_reason": "tool_use",
            "usage": {"input_tokens": 3, "output_tokens": 4}
        });
        let response = decode_whole(&body).unwrap();
        assert_eq!(response.text(), "hi");
        assert_eq!(response.blocks.len(), 2);
        assert_eq!(response.usage.output_tokens, 4);
    }
}
