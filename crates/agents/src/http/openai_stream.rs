//! Decoding chat-completions responses: the streamed chunks (`data: {...}` up to
//! `data: [DONE]`) and whole JSON answers.

use crate::http::conversation::Block;
use crate::http::error::{HttpError, error_message};
use crate::http::provider::{ModelResponse, StreamDecoder, count, parse_data, tool_input};
use crate::http::sse::SseEvent;
use gaffer_core::Usage;
use serde_json::Value;

/// Accumulates the chunks of one streamed answer.
#[derive(Debug, Default)]
pub struct Decoder {
    text: String,
    calls: Vec<PartialCall>,
    usage: Usage,
    finish_reason: Option<String>,
    done: bool,
}

#[derive(Debug, Default)]
struct PartialCall {
    id: String,
    name: String,
    arguments: String,
}

impl StreamDecoder for Decoder {
    fn event(&mut self, event: &SseEvent) -> Result<bool, HttpError> {
        if event.data.trim() == "[DONE]" {
            self.done = true;
            return Ok(true);
        }
        let chunk = parse_data(event)?;
        if chunk.get("error").is_some_and(|e| !e.is_null()) {
            return Err(HttpError::InStream {
                message: error_message(&chunk.to_string()),
                retryable: true,
            });
        }
        if let Some(usage) = chunk.get("usage").filter(|u| u.is_object()) {
            self.usage = usage_of(usage);
        }
        let Some(choice) = chunk.pointer("/choices/0") else {
            return Ok(false);
        };
        let delta = &choice["delta"];
        if let Some(text) = delta.get("content").and_then(Value::as_str) {
            self.text.push_str(text);
        }
        if let Some(calls) = delta.get("tool_calls").and_then(Value::as_array) {
            for (position, call) in calls.iter().enumerate() {
                let index = call
                    .get("index")
                    .and_then(Value::as_u64)
                    .map_or(position, |i| i as usize);
                if index > 1024 {
                    return Err(HttpError::Malformed(format!("tool call index {index}")));
                }
                if self.calls.len() <= index {
                    self.calls.resize_with(index + 1, PartialCall::default);
                }
                let partial = &mut self.calls[index];
                if let Some(id) = call.get("id").and_then(Value::as_str) {
                    partial.id = id.to_string();
                }
                let function = &call["function"];
                if let Some(name) = function.get("name").and_then(Value::as_str)
                    && partial.name.is_empty()
                {
                    partial.name = name.to_string();
                }
                match function.get("arguments") {
                    Some(Value::String(piece)) => partial.arguments.push_str(piece),
                    Some(object @ Value::Object(_)) => partial.arguments = object.to_string(),
                    _ => {}
                }
            }
        }
        if let Some(reason) = choice.get("finish_reason").and_then(Value::as_str) {
            self.finish_reason = Some(reason.to_string());
        }
        Ok(false)
    }

    fn finish(self: Box<Self>) -> Result<ModelResponse, HttpError> {
        if !self.done && self.finish_reason.is_none() {
            return Err(HttpError::Malformed(
                "the stream ended before the answer was complete".into(),
            ));
        }
        let mut blocks = vec![Block::Text { text: self.text }];
        for (i, call) in self.calls.into_iter().enumerate() {
            if call.name.is_empty() && call.arguments.is_empty() {
                continue;
            }
            blocks.push(Block::ToolUse {
                id: if call.id.is_empty() {
                    format!("call_{i}")
                } else {
                    call.id
                },
                name: call.name,
                input: tool_input(&call.arguments),
            });
        }
        Ok(ModelResponse {
            blocks,
            usage: self.usage,
            stop_reason: self.finish_reason,
        })
    }
}

/// Decodes a non-streamed `chat.completion` object.
pub fn decode_whole(body: &Value) -> Result<ModelResponse, HttpError> {
    if body.get("error").is_some_and(|e| !e.is_null()) {
        return Err(HttpError::InStream {
            message: error_message(&body.to_string()),
            retryable: true,
        });
    }
    let message = body
        .pointer("/choices/0/message")
        .ok_or_else(|| HttpError::Malformed("the answer has no `choices[0].message`".into()))?;
    let text = message
        .get("content")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let mut blocks = vec![Block::Text { text }];
    let calls = message.get("tool_calls").and_then(Value::as_array);
    for (i, call) in calls.into_iter().flatten().enumerate() {
        let arguments = match &call["function"]["arguments"] {
            Value::String(raw) => tool_input(raw),
            Value::Null => tool_input(""),
            other => other.clone(),
        };
        blocks.push(Block::ToolUse {
            id: call
                .get("id")
                .and_then(Value::as_str)
                .map_or_else(|| format!("call_{i}"), str::to_string),
            name: call["function"]["name"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
            input: arguments,
        });
    }
    Ok(ModelResponse {
        blocks,
        usage: body.get("usage").map(usage_of).unwrap_or_default(),
        stop_reason: body
            .pointer("/choices/0/finish_reason")
            .and_then(Value::as_str)
            .map(str::to_string),
    })
}

/// `prompt_tokens` includes cached tokens; they are split out.
fn usage_of(usage: &Value) -> Usage {
    let cached = count(usage, "/prompt_tokens_details/cached_tokens");
    Usage {
        input_tokens: count(usage, "/prompt_tokens").saturating_sub(cached),
        output_tokens: count(usage, "/completion_tokens"),
        cached_tokens: cached,
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

    #[test]
    fn text_tool_calls_and_usage() {
        let stream = r#"data: {"choices":[{"index":0,"delta":{"role":"assistant","content":"Hel"}}]}

data: {"choices":[{"index":0,"delta":{"content":"lo"}}]}

data: {"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_a","type":"function","function":{"name":"write_file","arguments":"{\"path\":"}}]}}]}

data: {"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"\"a.txt\",\"content\":\"x\"}"}}]}}]}

data: {"choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"function":{"name":"list_dir","arguments":""}}]}}]}

data: {"choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}

data: {"choices":[],"usage":{"prompt_tokens":100,"completion_tokens":20,"prompt_tokens_details":{"cached_tokens":60}}}

data: [DONE]

"#;
        let response = decode(stream).unwrap();
        assert_eq!(response.text(), "Hello");
        assert_eq!(
            response.blocks[1],
            Block::ToolUse {
                id: "call_a".into(),
                name: "write_file".into(),
                input: json!({"path": "a.txt", "content": "x"})
            }
        );
        assert_eq!(
            response.blocks[2],
            Block::ToolUse {
                id: "call_1".into(),
                name: "list_dir".into(),
                input: json!({})
            }
        );
        assert_eq!(response.usage.input_tokens, 40);
        assert_eq!(response.usage.cached_tokens, 60);
        assert_eq!(response.usage.output_tokens, 20);
        assert_eq!(response.stop_reason.as_deref(), Some("tool_calls"));
    }

    #[test]
    fn broken_streams_are_errors() {
        let err =
            decode("data: {\"choices\":[{\"delta\":{\"content\":\"a\"}}]}\n\ndata: {oops\n\n")
                .unwrap_err();
        assert!(matches!(err, HttpError::Malformed(_)), "{err}");
        let err = decode("data: {\"choices\":[{\"delta\":{\"content\":\"a\"}}]}\n\n").unwrap_err();
        assert!(err.to_string().contains("ended before"), "{err}");
        let err = decode("data: {\"error\":{\"message\":\"model crashed\"}}\n\n").unwrap_err();
        assert!(err.to_string().contains("model crashed") && err.is_retryable());
        let ok = decode(
            "data: {\"choices\":[{\"delta\":{\"content\":\"a\"},\"finish_reason\":\"stop\"}]}\n\n",
        );
        assert_eq!(
            ok.unwrap().text(),
            "a",
            "no [DONE] is fine after a finish_reason"
        );
    }

    #[test]
    fn whole_answers() {
        let body = json!({
            "choices": [{"message": {"role": "assistant", "content": null, "tool_calls": [
                {"id": "c", "type": "function", "function": {"name": "read_file", "arguments": "{\"path\":\"x\"}"}}
            ]}, "finish_reason": "tool_calls"}],
            "usage": {"prompt_tokens": 5, "completion_tokens": 2}
        });
        let response = decode_whole(&body).unwrap();
        assert_eq!(response.text(), "");
        assert_eq!(response.message().content.len(), 1);
        assert_eq!(response.usage.input_tokens, 5);
        assert!(decode_whole(&json!({"nope": 1})).is_err());
    }
}
