//! Responses that are not a turn: scripted errors, JSON documents, "shutting down".

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use crate::log::Api;
use crate::script::ErrorSpec;
use crate::{anthropic, openai_chat, responses};

/// A scripted error: the API's usual error body (or the verbatim one) and `retry-after`.
pub(crate) fn error_response(api: Api, error: &ErrorSpec) -> Response {
    let status = StatusCode::from_u16(error.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let retry_after = error.retry_after;
    if let Some(body) = &error.body {
        let content_type = if serde_json::from_str::<Value>(body).is_ok() {
            "application/json"
        } else {
            "text/plain; charset=utf-8"
        };
        let mut response = (status, Body::from(body.clone())).into_response();
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
        add_retry_after(&mut response, retry_after);
        return response;
    }
    let message = error.message.as_deref().unwrap_or("scripted error");
    let body = match api {
        Api::Messages | Api::CountTokens => anthropic::error_body(error.status, message),
        Api::Responses => responses::error_body(error.status, message),
        _ => openai_chat::error_body(error.status, message),
    };
    json_response(status, &body, retry_after)
}

/// A JSON document with a status.
pub(crate) fn json_response(
    status: StatusCode,
    body: &Value,
    retry_after: Option<u64>,
) -> Response {
    let mut response = (status, Body::from(body.to_string())).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    add_retry_after(&mut response, retry_after);
    response
}

fn add_retry_after(response: &mut Response, seconds: Option<u64>) {
    if let Some(seconds) = seconds {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    }
}

/// 503: what a waiting request gets when the server stops.
pub(crate) fn shutting_down() -> Response {
    json_response(
        StatusCode::SERVICE_UNAVAILABLE,
        &openai_chat::error_body(503, "the mock model server is shutting down"),
        None,
    )
}
