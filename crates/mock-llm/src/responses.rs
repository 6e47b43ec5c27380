//! The OpenAI Responses API as the Codex CLI uses it: `POST /v1/responses`.
//!
//! Streaming answers are named SSE events, each with a `sequence_number`: `response.created`,
//! `response.in_progress`, then per output item `response.output_item.added`, its deltas
//! (`response.output_text.delta` for a message, `response.function_call_arguments.delta` for a
//! `function_call`, `response.custom_tool_call_input.delta` for a `custom_tool_call`) and
//! `response.output_item.done` with the whole item, and finally `response.completed` whose
//! `usage` has `input_tokens`, `input_tokens_details.cached_tokens`, `output_tokens` and
//! `total_tokens` (Codex refuses a usage without `total_tokens`).
//!
//! Response ids encode the turn, so a client that continues with `previous_response_id`
//! instead of resending the history still gets the next turn.

use serde_json::{Value, json};

use crate::answer::Answer;
use crate::chunks::split;
use crate::ids::turn_tag;
use crate::select::{HistoryItem, count_turns};
use crate::sse;

/// Item types that only the model produces.
const MODEL_ITEM_TYPES: &[&str] = &[
    "function_call",
    "custom_tool_call",
    "local_shell_call",
    "reasoning",
    "web_search_call",
];

/// The request's history: assistant messages and tool calls in `input` are model items.
pub(crate) fn history(body: &Value) -> Vec<HistoryItem> {
    let Some(items) = body.get("input").and_then(Value::as_array) else {
        return Vec::new();
    };
    items
        .iter()
        .map(|item| {
            let kind = item
                .get("type")
                .and_then(Value::as_str)
                .unwrap_or("message");
            let role = item.get("role").and_then(Value::as_str);
            let is_model = (kind == "message" && role == Some("assistant"))
                || MODEL_ITEM_TYPES.contains(&kind);
            if !is_model {
                return HistoryItem::Other;
            }
            let call_ids = item
                .get("call_id")
                .and_then(Value::as_str)
                .map(|id| vec![id.to_string()])
                .unwrap_or_default();
            HistoryItem::Model { call_ids }
        })
        .collect()
}

/// The turn for a request: the turns in `input`, or one past the turn of the
/// `previous_response_id` when that is one of ours and says more.
pub(crate) fn turn_index(body: &Value) -> usize {
    let counted = count_turns(&history(body));
    let continued = body
        .get("previous_response_id")
        .and_then(Value::as_str)
        .and_then(turn_tag)
        .map_or(0, |turn| turn + 1);
    counted.max(continued)
}

/// The streamed answer, one SSE event per element.
pub(crate) fn render_stream(answer: &Answer<'_>) -> Vec<String> {
    let mut stream = Stream::default();
    stream.push(
        "response.created",
        json!({"response": response_shell(answer, "in_progress", json!([]), None)}),
    );
    stream.push(
        "response.in_progress",
        json!({"response": response_shell(answer, "in_progress", json!([]), None)}),
    );
    let mut output = Vec::new();
    let mut output_index = 0;
    if has_message(answer) {
        let item_id = format!("msg_mock_t{}_{}", answer.turn_index, answer.seq);
        let text = &answer.turn.text;
        stream.push(
            "response.output_item.added",
            json!({
                "output_index": output_index,
                "item": {"id": item_id, "type": "message", "status": "in_progress",
                         "role": "assistant", "content": []},
            }),
        );
        stream.push(
            "response.content_part.added",
            json!({"item_id": item_id, "output_index": output_index, "content_index": 0,
                   "part": {"type": "output_text", "text": "", "annotations": []}}),
        );
        for piece in split(text, answer.chunk_chars()) {
            stream.push(
                "response.output_text.delta",
                json!({"item_id": item_id, "output_index": output_index, "content_index": 0,
                       "delta": piece}),
            );
        }
        stream.push(
            "response.output_text.done",
            json!({"item_id": item_id, "output_index": output_index, "content_index": 0,
                   "text": text}),
        );
        stream.push(
            "response.content_part.done",
            json!({"item_id": item_id, "output_index": output_index, "content_index": 0,
                   "part": {"type": "output_text", "text": text, "annotations": []}}),
        );
        let item = message_item(answer);
        stream.push(
            "response.output_item.done",
            json!({"output_index": output_index, "item": item}),
        );
        output.push(item);
        output_index += 1;
    }
    for index in 0..answer.turn.tool_calls.len() {
        let done = call_item(answer, index);
        let mut added = done.clone();
        added["status"] = json!("in_progress");
        let (field, delta_event, done_event) = if is_custom(&done) {
            (
                "input",
                "response.custom_tool_call_input.delta",
                "response.custom_tool_call_input.done",
            )
        } else {
            (
                "arguments",
                "response.function_call_arguments.delta",
                "response.function_call_arguments.done",
            )
        };
        let full = done[field].as_str().unwrap_or_default().to_string();
        added[field] = json!("");
        let item_id = done["id"].clone();
        stream.push(
            "response.output_item.added",
            json!({"output_index": output_index, "item": added}),
        );
        for piece in split(&full, answer.chunk_chars()) {
            stream.push(
                delta_event,
                json!({"item_id": item_id, "output_index": output_index, "delta": piece}),
            );
        }
        stream.push(
            done_event,
            json!({"item_id": item_id, "output_index": output_index, field: full}),
        );
        stream.push(
            "response.output_item.done",
            json!({"output_index": output_index, "item": done}),
        );
        output.push(done);
        output_index += 1;
    }
    stream.push(
        "response.completed",
        json!({"response": response_shell(answer, "completed", json!(output), Some(usage(answer)))}),
    );
    stream.events
}

/// The whole answer as one JSON object.
pub(crate) fn render_json(answer: &Answer<'_>) -> Value {
    let mut output = Vec::new();
    if has_message(answer) {
        output.push(message_item(answer));
    }
    for index in 0..answer.turn.tool_calls.len() {
        output.push(call_item(answer, index));
    }
    response_shell(answer, "completed", json!(output), Some(usage(answer)))
}

/// The API's usual error body.
pub(crate) fn error_body(status: u16, message: &str) -> Value {
    crate::openai_chat::error_body(status, message)
}

/// The body of `GET /v1/models`: the OpenAI list shape (`object`, `data`) plus an empty
/// `models` array, the shape the Codex CLI reads (empty: it keeps its own catalog).
pub(crate) fn models_body(models: &[String], created: u64) -> Value {
    let data: Vec<Value> = models
        .iter()
        .map(|id| json!({"id": id, "object": "model", "created": created, "owned_by": "gaffer-mock"}))
        .collect();
    json!({"object": "list", "data": data, "models": []})
}

#[derive(Default)]
struct Stream {
    events: Vec<String>,
    sequence: u64,
}

impl Stream {
    fn push(&mut self, kind: &str, mut data: Value) {
        data["type"] = json!(kind);
        data["sequence_number"] = json!(self.sequence);
        self.sequence += 1;
        self.events.push(sse::named(kind, &data));
    }
}

fn has_message(answer: &Answer<'_>) -> bool {
    !answer.turn.text.is_empty() || answer.turn.tool_calls.is_empty()
}

fn message_item(answer: &Answer<'_>) -> Value {
    json!({
        "id": format!("msg_mock_t{}_{}", answer.turn_index, answer.seq),
        "type": "message",
        "status": "completed",
        "role": "assistant",
        "content": [{"type": "output_text", "text": answer.turn.text, "annotations": []}],
    })
}

fn call_item(answer: &Answer<'_>, index: usize) -> Value {
    let call_id = answer.call_id("call", index);
    let Some(call) = answer.turn.tool_calls.get(index) else {
        return Value::Null;
    };
    match &call.input {
        Some(input) => json!({
            "id": crate::ids::item_id("ctc", answer.turn_index, index),
            "type": "custom_tool_call",
            "status": "completed",
            "call_id": call_id,
            "name": call.name,
            "input": input,
        }),
        None => json!({
            "id": crate::ids::item_id("fc", answer.turn_index, index),
            "type": "function_call",
            "status": "completed",
            "call_id": call_id,
            "name": call.name,
            "arguments": call.arguments_text(),
        }),
    }
}

fn is_custom(item: &Value) -> bool {
    item.get("type").and_then(Value::as_str) == Some("custom_tool_call")
}

fn response_shell(answer: &Answer<'_>, status: &str, output: Value, usage: Option<Value>) -> Value {
    json!({
        "id": crate::ids::item_id("resp", answer.turn_index, answer.seq),
        "object": "response",
        "created_at": answer.created,
        "status": status,
        "model": answer.model,
        "output": output,
        "usage": usage,
    })
}

fn usage(answer: &Answer<'_>) -> Value {
    let usage = answer.usage();
    json!({
        "input_tokens": usage.input_tokens,
        "input_tokens_details": {"cached_tokens": usage.cached_tokens},
        "output_tokens": usage.output_tokens,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": usage.input_tokens + usage.output_tokens,
    })
}
