//! The `anthropic` backend: gaffer's agent loop over the Anthropic Messages API.
//!
//! The base URL is the API root without the version (`https://api.anthropic.com`, or a local
//! proxy or test server); requests go to `<base_url>/v1/messages` with `stream: true`, the
//! `x-api-key` and `anthropic-version: 2023-06-01` headers, and the tools as custom tools.

use crate::event::{RunHandle, RunRequest};
use crate::http::backend::HttpBackend;
use crate::http::conversation::{Block, Message, Speaker};
use crate::http::error::HttpError;
use crate::http::options::HttpAgentOptions;
use crate::http::provider::{ModelRequest, ModelResponse, Provider, StreamDecoder};
use crate::registry::{AgentBackend, AgentError};
use serde_json::{Value, json};
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

/// The base URL used when `ANTHROPIC_BASE_URL` is not set.
pub const DEFAULT_ANTHROPIC_BASE_URL: &str = gaffer_config::ANTHROPIC.endpoint;
/// The API version sent in `anthropic-version`.
pub const ANTHROPIC_VERSION: &str = "2023-06-01";

/// An agent over the Anthropic Messages API.
pub struct AnthropicBackend {
    inner: HttpBackend,
}

impl AnthropicBackend {
    /// A backend with these options.
    pub fn new(options: HttpAgentOptions) -> Result<AnthropicBackend, AgentError> {
        Ok(AnthropicBackend {
            inner: HttpBackend::new(Arc::new(AnthropicApi), options)?,
        })
    }

    /// A backend configured from `ANTHROPIC_BASE_URL` and `ANTHROPIC_API_KEY` (see
    /// [`HttpAgentOptions::anthropic_from_env`]).
    pub fn from_env(model: impl Into<String>) -> Result<AnthropicBackend, AgentError> {
        AnthropicBackend::new(HttpAgentOptions::anthropic_from_env(model))
    }

    /// The options it was built with.
    pub fn options(&self) -> &HttpAgentOptions {
        self.inner.options()
    }
}

/// The backend of an `anthropic` agent.
pub(crate) fn anthropic_from_settings(
    agent: &gaffer_config::AgentSettings,
    own: &gaffer_config::HttpSettings,
    at: &crate::from_settings::Build<'_>,
) -> Result<AnthropicBackend, AgentError> {
    let provider = &gaffer_config::ANTHROPIC;
    AnthropicBackend::new(HttpAgentOptions::from_settings(provider, agent, own, at))
}

impl AgentBackend for AnthropicBackend {
    fn backend(&self) -> &str {
        "anthropic"
    }

    fn start(
        &self,
        request: RunRequest,
        cancel: CancellationToken,
    ) -> Result<RunHandle, AgentError> {
        self.inner.start(request, cancel)
    }
}

/// The Messages wire format.
pub(crate) struct AnthropicApi;

impl Provider for AnthropicApi {
    fn name(&self) -> &'static str {
        "anthropic"
    }

    fn url(&self, base_url: &str) -> String {
        format!("{}/v1/messages", base_url.trim_end_matches('/'))
    }

    fn headers(&self, api_key: Option<&str>) -> Vec<(String, String)> {
        let mut headers = vec![(
            "anthropic-version".to_string(),
            ANTHROPIC_VERSION.to_string(),
        )];
        if let Some(key) = api_key {
            headers.push(("x-api-key".to_string(), key.to_string()));
        }
        headers
    }

    fn body(&self, request: &ModelRequest<'_>) -> Value {
        let messages: Vec<Value> = request.messages.iter().map(wire_message).collect();
        let tools: Vec<Value> = request
            .tools
            .iter()
            .map(
                |t| json!({"name": t.name, "description": t.description, "input_schema": t.schema}),
            )
            .collect();
        let mut body = json!({
            "model": request.model,
            "max_tokens": request.max_output_tokens,
            "messages": messages,
            "stream": true,
        });
        if !request.system.is_empty() {
            body["system"] = Value::String(request.system.to_string());
        }
        if !tools.is_empty() {
            body["tools"] = Value::Array(tools);
        }
        body
    }

    fn decoder(&self) -> Box<dyn StreamDecoder> {
        Box::new(crate::http::anthropic_stream::Decoder::default())
    }

    fn decode_whole(&self, body: &Value) -> Result<ModelResponse, HttpError> {
        crate::http::anthropic_stream::decode_whole(body)
    }
}

/// One message in the Messages format. Empty text blocks are dropped (the API refuses them),
/// and a message left empty says so in words.
fn wire_message(message: &Message) -> Value {
    let mut content: Vec<Value> = message
        .content
        .iter()
        .filter_map(|block| match block {
            Block::Text { text } if text.is_empty() => None,
            Block::Text { text } => Some(json!({"type": "text", "text": text})),
            Block::ToolUse { id, name, input } => {
                let input = if input.is_object() {
                    input.clone()
                } else {
                    json!({})
                };
                Some(json!({"type": "tool_use", "id": id, "name": name, "input": input}))
            }
            Block::ToolResult {
                tool_use_id,
                content,
                is_error,
            } => Some(json!({
                "type": "tool_result",
                "tool_use_id": tool_use_id,
                "content": content,
                "is_error": is_error,
            })),
        })
        .collect();
    if content.is_empty() {
        content.push(json!({"type": "text", "text": "(empty)"}));
    }
    let role = match message.role {
        Speaker::User => "user",
        Speaker::Assistant => "assistant",
    };
    json!({"role": role, "content": content})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_request_body_follows_messages() {
        let messages = vec![
            Message::user_text("do it"),
            Message {
                role: Speaker::Assistant,
                content: vec![
                    Block::Text {
                        text: String::new(),
                    },
                    Block::ToolUse {
                        id: "toolu_1".into(),
                        name: "read_file".into(),
                        input: json!({"path": "a"}),
                    },
                ],
            },
            Message {
                role: Speaker::User,
                content: vec![Block::ToolResult {
                    tool_use_id: "toolu_1".into(),
                    content: "text".into(),
                    is_error: false,
                }],
            },
        ];
        let tools = crate::http::tools::definitions();
        let body = AnthropicApi.body(&ModelRequest {
            model: "claude",
            system: "sys",
            messages: &messages,
            tools: &tools,
            max_output_tokens: 50,
        });
        assert_eq!(body["system"], "sys");
        assert_eq!(body["max_tokens"], 50);
        assert_eq!(body["tools"][0]["input_schema"]["type"], "object");
        let wire = body["messages"].as_array().unwrap();
        assert_eq!(
            wire[0],
            json!({"role": "user", "content": [{"type": "text", "text": "do it"}]})
        );
        assert_eq!(
            wire[1]["content"],
            json!([{"type": "tool_use", "id": "toolu_1", "name": "read_file", "input": {"path": "a"}}])
        );
        assert_eq!(wire[2]["content"][0]["type"], "tool_result");
        assert_eq!(wire[2]["content"][0]["is_error"], false);
        assert_eq!(AnthropicApi.url("http://h:1/"), "http://h:1/v1/messages");
        assert!(
            AnthropicApi
                .headers(Some("k"))
                .contains(&("x-api-key".into(), "k".into()))
        );
    }
}
