//! The Anthropic Messages API: `POST /v1/messages` (Claude Code adds `?beta=true`).
//!
//! Streaming answers are named SSE events: `message_start` (with input usage), `ping`, for each
//! content block `content_block_start`, `content_block_delta` (`text_delta` for text,
//! `input_json_delta` for a `tool_use` block's input) and `content_block_stop`, then
//! `message_delta` (stop reason and output usage) and `message_stop`.

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
                .get("content")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter(|block| block.get("type").and_then(Value::as_str) == Some("tool_use"))
                .filter_map(|block| block.get("id").and_then(Value::as_str).map(str::to_string))
                .collect();
            HistoryItem::Model { call_ids }
        })
        .collect()
}

/// The streamed answer, one SSE event per element.
pub(crate) fn render_stream(answer: &Answer<'_>) -> Vec<String> {
    let usage = answer.usage();
    let mut start_message = message_shell(answer);
    start_message["usage"] = json!({
        "input_tokens": usage.input_tokens.saturating_sub(usage.cached_tokens),
        "output_tokens": 0,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": usage.cached_tokens,
    });
    let mut events = vec![
        sse::named(
            "message_start",
            &json!({"type": "message_start", "message": start_message}),
        ),
        sse::named("ping", &json!({"type": "ping"})),
    ];
    let mut index = 0;
    if has_text_block(answer) {
        events.push(block_start(index, json!({"type": "text", "text": ""})));
        for piece in split(&answer.turn.text, answer.chunk_chars()) {
            events.push(block_delta(
                index,
                json!({"type": "text_delta", "text": piece}),
            ));
        }
        events.push(block_stop(index));
        index += 1;
    }
    for (call_index, call) in answer.turn.tool_calls.iter().enumerate() {
        events.push(block_start(
            index,
            json!({
                "type": "tool_use",
                "id": answer.call_id("toolu", call_index),
                "name": call.name,
                "input": {},
            }),
        ));
        for piece in split(&call.arguments_text(), answer.chunk_chars()) {
            events.push(block_delta(
                index,
                json!({"type": "input_json_delta", "partial_json": piece}),
            ));
        }
        events.push(block_stop(index));
        index += 1;
    }
    events.push(sse::named(
        "message_delta",
        &json!({
            "type": "message_delta",
            "delta": {"stop_reason": stop_reason(answer), "stop_sequence": null},
            "usage": {"output_tokens": usage.output_tokens},
        }),
    ));
    events.push(sse::named("message_stop", &json!({"type": "message_stop"})));
    events
}

/// The whole answer as one JSON object.
pub(crate) fn render_json(answer: &Answer<'_>) -> Value {
    let usage = answer.usage();
    let mut content = Vec::new();
    if has_text_block(answer) {
        content.push(json!({"type": "text", "text": answer.turn.text}));
    }
    for (index, call) in answer.turn.tool_calls.iter().enumerate() {
        content.push(json!({
            "type": "tool_use",
            "id": answer.call_id("toolu", index),
            "name": call.name,
            "input": call.arguments_value(),
        }));
    }
    let mut message = message_shell(answer);
    message["content"] = json!(content);
    message["stop_reason"] = json!(stop_reason(answer));
    message["usage"] = json!({
        "input_tokens": usage.input_tokens.saturating_sub(usage.cached_tokens),
        "output_tokens": usage.output_tokens,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": usage.cached_tokens,
    });
    message
}

/// The API's usual error body.
pub(crate) fn error_body(status: u16, message: &str) -> Value {
    let kind = match status {
        401 => "authentication_error",
        403 => "permission_error",
        404 => "not_found_error",
        413 => "request_too_large",
        429 => "rate_limit_error",
        529 => "overloaded_error",
        400..=499 => "invalid_request_error",
        _ => "api_error",
    };
    json!({"type": "error", "error": {"type": kind, "message": message}})
}

/// A rough token count for `POST /v1/messages/count_tokens`: a quarter of the body's length.
pub(crate) fn count_tokens(body_len: usize) -> Value {
    json!({"input_tokens": body_len / 4})
}

fn message_shell(answer: &Answer<'_>) -> Value {
    json!({
        "id": format!("msg_mock_{}", answer.seq),
        "type": "message",
        "role": "assistant",
        "model": answer.model,
        "content": [],
        "stop_reason": null,
        "stop_sequence": null,
    })
}

/// Text is sent when there is some, or when there is nothing else to send.
fn has_text_block(answer: &Answer<'_>) -> bool {
    !answer.turn.text.is_empty() || answer.turn.tool_calls.is_empty()
}

fn stop_reason(answer: &Answer<'_>) -> &'static str {
    if answer.turn.tool_calls.is_empty() {
        "end_turn"
    } else {
        "tool_use"
    }
}

fn block_start(index: usize, block: Value) -> String {
    sse::named(
        "content_block_start",
        &json!({"type": "content_block_start", "index": index, "content_block": block}),
    )
}

fn block_delta(index: usize, delta: Value) -> String {
    sse::named(
        "content_block_delta",
        &json!({"type": "content_block_delta", "index": index, "delta": delta}),
    )
}

fn block_stop(index: usize) -> String {
    sse::named(
        "content_block_stop",
        &json!({"type": "content_block_stop", "index": index}),
    )
}
