//! Server-Sent Events framing: each function returns one complete event, blank line included.

use serde_json::Value;

/// The content type of an SSE response.
pub(crate) const CONTENT_TYPE: &str = "text/event-stream";

/// The OpenAI chat-completions end-of-stream sentinel.
pub(crate) const DONE: &str = "data: [DONE]\n\n";

/// An event with a name line (`event: NAME`), as the Anthropic and Responses APIs send.
pub(crate) fn named(name: &str, data: &Value) -> String {
    format!("event: {name}\ndata: {data}\n\n")
}

/// An event with only a data line, as the chat-completions API sends.
pub(crate) fn data(data: &Value) -> String {
    format!("data: {data}\n\n")
}

/// A raw line sent verbatim, ending its event.
pub(crate) fn raw(line: &str) -> String {
    format!("{}\n\n", line.trim_end_matches('\n'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn events_end_with_a_blank_line() {
        assert_eq!(
            named("ping", &json!({"type": "ping"})),
            "event: ping\ndata: {\"type\":\"ping\"}\n\n"
        );
        assert_eq!(data(&json!(1)), "data: 1\n\n");
        assert_eq!(raw("data: {oops\n"), "data: {oops\n\n");
    }
}
