//! The OpenAI chat-completions API: `POST /v1/chat/completions`.
//!
//! Streaming answers are `data: {chunk}` events: a first chunk with the assistant role, text
//! deltas, tool-call deltas (the first for each call carries its index, id and name, the next
//! ones fragments of its arguments), a chunk with the `finish_reason`, a usage chunk with no
//! choices when the request set `stream_options.include_usage`, then `data: [DONE]`.

use serde_json::{Value, json};

use crate::answer::Answer;
use crate::chunks::split;
use crate::select::HistoryItem;
use crate::sse;

/// The request's history: assistant messages are model items.
pub(crate) fn history(body: &Value) -> Vec<HistoryItem> {
    let Some(messages) = body.get("messages").and_then(Value::as_array) else {
        return Vec::new();
    };
    messages
        .iter()
        .map(|message| {
            if message.get("role").and_then(Value::as_str) != Some("assistant") {
                return HistoryItem::Other;
            }
            let call_ids = message
                .get("tool_calls")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|call| call.get("id").and_then(Value::as_str).map(str::to_string))
                .collect();
            HistoryItem::Model { call_ids }
        })
        .collect()
}

/// Whether the request asked for a usage chunk at the end of the stream.
pub(crate) fn include_usage(body: &Value) -> bool {
    body.pointer("/stream_options/include_usage")
        .and_then(Value::as_bool)
        .unwrap_or(false)
}

/// The streamed answer, one SSE event per element.
pub(crate) fn render_stream(answer: &Answer<'_>, include_usage: bool) -> Vec<String> {
    let chunk = |delta: Value, finish_reason: Value| {
        sse::data(&json!({
            "id": completion_id(answer),
            "object": "chat.completion.chunk",
            "created": answer.created,
            "model": answer.model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
        }))
    };
    let mut events = vec![chunk(
        json!({"role": "assistant", "content": ""}),
        Value::Null,
    )];
    for piece in split(&answer.turn.text, answer.chunk_chars()) {
        events.push(chunk(json!({"content": piece}), Value::Null));
    }
    for (index, call) in answer.turn.tool_calls.iter().enumerate() {
        events.push(chunk(
            json!({"tool_calls": [{
                "index": index,
                "id": answer.call_id("call", index),
                "type": "function",
                "function": {"name": call.name, "arguments": ""},
            }]}),
            Value::Null,
        ));
        for piece in split(&call.arguments_text(), answer.chunk_chars()) {
            events.push(chunk(
                json!({"tool_calls": [{"index": index, "function": {"arguments": piece}}]}),
                Value::Null,
            ));
        }
    }
    events.push(chunk(json!({}), json!(finish_reason(answer))));
    if include_usage {
        events.push(sse::data(&json!({
            "id": completion_id(answer),
            "object": "chat.completion.chunk",
            "created": answer.created,
            "model": answer.model,
            "choices": [],
            "usage": usage(answer),
        })));
    }
    events.push(sse::DONE.to_string());
    events
}

/// The whole answer as one JSON object.
pub(crate) fn render_json(answer: &Answer<'_>) -> Value {
    let mut message = json!({
        "role": "assistant",
        "content": if answer.turn.text.is_empty() && !answer.turn.tool_calls.is_empty() {
            Value::Null
        } else {
            json!(answer.turn.text)
        },
    });
    if !answer.turn.tool_calls.is_empty() {
        let calls: Vec<Value> = answer
            .turn
            .tool_calls
            .iter()
            .enumerate()
            .map(|(index, call)| {
                json!({
                    "id": answer.call_id("call", index),
                    "type": "function",
                    "function": {"name": call.name, "arguments": call.arguments_text()},
                })
            })
            .collect();
        message["tool_calls"] = json!(calls);
    }
    json!({
        "id": completion_id(answer),
        "object": "chat.completion",
        "created": answer.created,
        "model": answer.model,
        "choices": [{"index": 0, "message": message, "finish_reason": finish_reason(answer)}],
        "usage": usage(answer),
    })
}

/// The API's usual error body.
pub(crate) fn error_body(status: u16, message: &str) -> Value {
    let kind = match status {
        429 => "rate_limit_exceeded",
        401 => "invalid_api_key",
        400..=499 => "invalid_request_error",
        _ => "server_error",
    };
    json!({"error": {"message": message, "type": kind, "param": null, "code": kind}})
}

fn finish_reason(answer: &Answer<'_>) -> &'static str {
    if answer.turn.tool_calls.is_empty() {
        "stop"
    } else {
        "tool_calls"
    }
}

fn usage(answer: &Answer<'_>) -> Value {
    let usage = answer.usage();
    json!({
        "prompt_tokens": usage.input_tokens,
        "completion_tokens": usage.output_tokens,
        "total_tokens": usage.input_tokens + usage.output_tokens,
        "prompt_tokens_details": {"cached_tokens": usage.cached_tokens},
    })
}

fn completion_id(answer: &Answer<'_>) -> String {
    format!("chatcmpl-mock-{}", answer.seq)
}
