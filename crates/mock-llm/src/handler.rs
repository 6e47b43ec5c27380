//! Answering one request: log it, pick the conversation and turn, then fail, stall or render
//! the turn in the API's format.

use std::borrow::Cow;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::Value;
use tokio_util::sync::CancellationToken;

use crate::answer::Answer;
use crate::body::Delivery;
use crate::log::{Api, Outcome, RequestRecord, loggable_headers};
use crate::reply::{error_response, json_response, shutting_down};
use crate::script::{ErrorSpec, Stall, Turn, error_for_attempt};
use crate::select::{count_turns, haystack, select};
use crate::state::Shared;
use crate::{anthropic, openai_chat, responses, sse, template};

/// The most a request body may weigh.
const BODY_LIMIT: usize = 64 * 1024 * 1024;

/// A request taken apart: the log record so far, and the body.
struct Incoming {
    record: RequestRecord,
    body: Option<Value>,
    body_len: usize,
    headers: HeaderMap,
}

/// `POST /v1/chat/completions`.
pub(crate) async fn chat_completions(
    State(shared): State<Arc<Shared>>,
    request: Request,
) -> Response {
    model_request(&shared, Api::ChatCompletions, request).await
}

/// `POST /v1/messages`.
pub(crate) async fn messages(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    model_request(&shared, Api::Messages, request).await
}

/// `POST /v1/responses`.
pub(crate) async fn responses(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    model_request(&shared, Api::Responses, request).await
}

/// `POST /v1/messages/count_tokens`.
pub(crate) async fn count_tokens(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let incoming = take_apart(&shared, Api::CountTokens, request).await;
    let len = incoming.body_len;
    finish_simple(&shared, incoming, anthropic::count_tokens(len))
}

/// `GET /v1/models`.
pub(crate) async fn models(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let incoming = take_apart(&shared, Api::Models, request).await;
    let body = responses::models_body(&shared.script.models, now());
    finish_simple(&shared, incoming, body)
}

/// `GET /healthz`.
pub(crate) async fn health(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let incoming = take_apart(&shared, Api::Health, request).await;
    finish_simple(&shared, incoming, serde_json::json!({"ok": true}))
}

/// Any other path: 404, logged, so a client calling something unexpected shows up.
pub(crate) async fn not_found(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let mut incoming = take_apart(&shared, Api::Unknown, request).await;
    let message = format!(
        "the mock model server has no route {} {}",
        incoming.record.method, incoming.record.path
    );
    incoming.record.outcome = Outcome::Rejected {
        status: 404,
        message: message.clone(),
    };
    shared.log.push(incoming.record);
    json_response(
        StatusCode::NOT_FOUND,
        &openai_chat::error_body(404, &message),
        None,
    )
}

async fn take_apart(shared: &Shared, api: Api, request: Request) -> Incoming {
    let (parts, body) = request.into_parts();
    let bytes = axum::body::to_bytes(body, BODY_LIMIT)
        .await
        .unwrap_or_default();
    let parsed = if bytes.is_empty() {
        None
    } else {
        serde_json::from_slice::<Value>(&bytes).ok()
    };
    let record = RequestRecord {
        seq: shared.next_seq(),
        method: parts.method.to_string(),
        path: parts.uri.path().to_string(),
        query: parts.uri.query().map(str::to_string),
        headers: loggable_headers(&parts.headers),
        body: parsed.clone().unwrap_or(Value::Null),
        raw_body: (parsed.is_none() && !bytes.is_empty()).then(|| raw_prefix(&bytes)),
        api,
        stream: false,
        conversation: None,
        selected_by: None,
        turn: None,
        scripted: false,
        attempt: None,
        outcome: Outcome::Answered,
        usage: None,
    };
    Incoming {
        record,
        body: parsed,
        body_len: bytes.len(),
        headers: parts.headers,
    }
}

fn finish_simple(shared: &Shared, incoming: Incoming, body: Value) -> Response {
    shared.log.push(incoming.record);
    json_response(StatusCode::OK, &body, None)
}

async fn model_request(shared: &Shared, api: Api, request: Request) -> Response {
    let Incoming {
        mut record,
        body,
        headers,
        ..
    } = take_apart(shared, api, request).await;
    let Some(body) = body.filter(Value::is_object) else {
        let message = "the request body is not a JSON object".to_string();
        record.outcome = Outcome::Rejected {
            status: 400,
            message: message.clone(),
        };
        shared.log.push(record);
        return error_response(api, &ErrorSpec::once(400).with_message(message));
    };

    let script = &shared.script;
    let streaming = body.get("stream").and_then(Value::as_bool).unwrap_or(false);
    let model = body
        .get("model")
        .and_then(Value::as_str)
        .unwrap_or("mock-model")
        .to_string();
    let header_value = headers
        .get(script.selection_header.as_str())
        .and_then(|value| value.to_str().ok());
    let prompt_text = haystack(&body);
    let selection = select(script, header_value, &prompt_text, Some(&model));
    let conversation = selection.and_then(|(index, _)| script.conversations.get(index));
    let turn_index = match api {
        Api::Messages => count_turns(&anthropic::history(&body)),
        Api::Responses => responses::turn_index(&body),
        _ => count_turns(&openai_chat::history(&body)),
    };
    let scripted_turn = conversation.and_then(|c| c.turns.get(turn_index));
    let mut turn = match scripted_turn {
        Some(turn) => Cow::Borrowed(turn),
        None => {
            let text = conversation
                .and_then(|c| c.done_text.clone())
                .unwrap_or_else(|| script.done_text.clone());
            Cow::Owned(Turn::text(text))
        }
    };
    if template::uses_cwd(&turn) {
        match template::working_directory(&prompt_text) {
            Some(cwd) => turn = Cow::Owned(template::fill_cwd(&turn, &cwd)),
            None => tracing::warn!(
                "the turn uses {} but the request names no working directory",
                template::CWD
            ),
        }
    }
    let turn: &Turn = &turn;
    let attempt = shared.next_attempt(selection.map(|(index, _)| index), turn_index);
    let error = error_for_attempt(&turn.errors, attempt);

    record.stream = streaming;
    record.conversation = conversation.map(|c| c.name.clone());
    record.selected_by = selection.map(|(_, by)| by);
    record.turn = Some(turn_index);
    record.scripted = scripted_turn.is_some();
    record.attempt = Some(attempt);
    record.outcome = match (error, turn.stall, &turn.malformed_line) {
        (Some(error), _, _) => Outcome::Error {
            status: error.status,
        },
        (None, Some(stall), _) => Outcome::Stalled { stall },
        (None, None, Some(_)) => Outcome::Malformed,
        (None, None, None) => Outcome::Answered,
    };
    if matches!(record.outcome, Outcome::Answered | Outcome::Malformed) {
        record.usage = Some(turn.effective_usage());
    }
    tracing::debug!(
        seq = record.seq,
        conversation = ?record.conversation,
        turn = turn_index,
        attempt,
        outcome = ?record.outcome,
        "mock model request"
    );
    let seq = record.seq;
    shared.log.push(record);

    if turn.delay_ms > 0
        && !wait_or_shutdown(&shared.shutdown, Duration::from_millis(turn.delay_ms)).await
    {
        return shutting_down();
    }
    if let Some(error) = error {
        let mut error = error.clone();
        if error.message.is_none() {
            error.message = Some(format!(
                "scripted error {} (conversation {}, turn {turn_index}, attempt {attempt})",
                error.status,
                conversation.map_or("<none>", |c| c.name.as_str()),
            ));
        }
        return error_response(api, &error);
    }
    if turn.stall == Some(Stall::NoResponse) {
        shared.shutdown.cancelled().await;
        return shutting_down();
    }

    let answer = Answer {
        turn,
        turn_index,
        model: &model,
        seq,
        created: now(),
    };
    deliver(shared, api, &answer, &body, streaming)
}

/// The scripted answer, as a stream of server-sent events or one JSON document, with the
/// turn's pacing, stall and malformed line.
fn deliver(
    shared: &Shared,
    api: Api,
    answer: &Answer<'_>,
    body: &Value,
    streaming: bool,
) -> Response {
    let turn = answer.turn;
    let mut delivery = if streaming {
        let events = match api {
            Api::Messages => anthropic::render_stream(answer),
            Api::Responses => responses::render_stream(answer),
            _ => openai_chat::render_stream(answer, openai_chat::include_usage(body)),
        };
        Delivery::new(sse::CONTENT_TYPE, events)
    } else {
        let json = match api {
            Api::Messages => anthropic::render_json(answer),
            Api::Responses => responses::render_json(answer),
            _ => openai_chat::render_json(answer),
        };
        Delivery::new("application/json", vec![json.to_string()])
    };
    delivery.piece_delay = Duration::from_millis(turn.chunk_delay_ms);
    delivery.stall = turn.stall;
    if let Some(line) = &turn.malformed_line {
        delivery = delivery.with_malformed_line(line, turn.malformed_after.unwrap_or(1), streaming);
    }
    delivery.into_response(shared.shutdown.clone())
}

/// Sleeps; `false` if the server began shutting down first.
async fn wait_or_shutdown(shutdown: &CancellationToken, duration: Duration) -> bool {
    tokio::select! {
        () = tokio::time::sleep(duration) => true,
        () = shutdown.cancelled() => false,
    }
}

/// At most 4 KiB of a body, as text.
fn raw_prefix(bytes: &[u8]) -> String {
    let end = bytes.len().min(4096);
    String::from_utf8_lossy(&bytes[..end]).into_owned()
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs())
}
