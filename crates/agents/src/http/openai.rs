//! The `openai` backend: gaffer's agent loop over an OpenAI-compatible chat-completions API.
//!
//! Works with OpenAI itself and with the servers that speak the same API: Ollama
//! (`http://127.0.0.1:11434/v1`), vLLM, LM Studio, the llama.cpp server, and gateways. The base
//! URL includes the version path (`…/v1`); requests go to `<base_url>/chat/completions` with
//! `stream: true`, `stream_options.include_usage` and the tools as `function` tools.

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

/// The base URL used when `OPENAI_BASE_URL` is not set.
pub const DEFAULT_OPENAI_BASE_URL: &str = gaffer_config::OPENAI.endpoint;

/// An agent over an OpenAI-compatible chat-completions API.
pub struct OpenAiBackend {
    inner: HttpBackend,
}

impl OpenAiBackend {
    /// A backend with these options.
    pub fn new(options: HttpAgentOptions) -> Result<OpenAiBackend, AgentError> {
        Ok(OpenAiBackend {
            inner: HttpBackend::new(
                Arc::new(OpenAiApi::for_base_url(&options.base_url)),
                options,
            )?,
        })
    }

    /// A backend configured from `OPENAI_BASE_URL` and `OPENAI_API_KEY` (see
    /// [`HttpAgentOptions::openai_from_env`]).
    pub fn from_env(model: impl Into<String>) -> Result<OpenAiBackend, AgentError> {
        OpenAiBackend::new(HttpAgentOptions::openai_from_env(model))
    }

    /// The options it was built with.
    pub fn options(&self) -> &HttpAgentOptions {
        self.inner.options()
    }
}

/// The backend of an `openai` agent.
pub(crate) fn openai_from_settings(
    agent: &gaffer_config::AgentSettings,
    own: &gaffer_config::HttpSettings,
    at: &crate::from_settings::Build<'_>,
) -> Result<OpenAiBackend, AgentError> {
    let provider = &gaffer_config::OPENAI;
    OpenAiBackend::new(HttpAgentOptions::from_settings(provider, agent, own, at))
}

impl AgentBackend for OpenAiBackend {
    fn backend(&self) -> &str {
        "openai"
    }

    fn start(
        &self,
        request: RunRequest,
        cancel: CancellationToken,
    ) -> Result<RunHandle, AgentError> {
        self.inner.start(request, cancel)
    }
}

/// The chat-completions wire format.
pub(crate) struct OpenAiApi {
    /// The name of the output limit: OpenAI's own API wants `max_completion_tokens` (its
    /// reasoning models refuse `max_tokens`); the compatible servers know `max_tokens`.
    limit_field: &'static str,
}

impl OpenAiApi {
    pub(crate) fn for_base_url(base_url: &str) -> OpenAiApi {
        let host = reqwest::Url::parse(base_url)
            .ok()
            .and_then(|url| url.host_str().map(str::to_ascii_lowercase))
            .unwrap_or_default();
        let hosted = ["openai.com", "openai.azure.com"]
            .iter()
            .any(|domain| host == *domain || host.ends_with(&format!(".{domain}")));
        OpenAiApi {
            limit_field: if hosted {
                "max_completion_tokens"
            } else {
                "max_tokens"
            },
        }
    }
}

impl Provider for OpenAiApi {
    fn name(&self) -> &'static str {
        "openai"
    }

    fn url(&self, base_url: &str) -> String {
        format!("{}/chat/completions", base_url.trim_end_matches('/'))
    }

    fn headers(&self, api_key: Option<&str>) -> Vec<(String, String)> {
        api_key
            .map(|key| vec![("authorization".to_string(), format!("Bearer {key}"))])
            .unwrap_or_default()
    }

    fn body(&self, request: &ModelRequest<'_>) -> Value {
        let mut messages = Vec::new();
        if !request.system.is_empty() {
            messages.push(json!({"role": "system", "content": request.system}));
        }
        for message in request.messages {
            wire_messages(message, &mut messages);
        }
        let tools: Vec<Value> = request
            .tools
            .iter()
            .map(|t| {
                json!({
                    "type": "function",
                    "function": {"name": t.name, "description": t.description, "parameters": t.schema}
                })
            })
            .collect();
        let mut body = json!({
            "model": request.model,
            "messages": messages,
            "stream": true,
            "stream_options": {"include_usage": true},
        });
        body[self.limit_field] = json!(request.max_output_tokens);
        if !tools.is_empty() {
            body["tools"] = Value::Array(tools);
        }
        body
    }

    fn decoder(&self) -> Box<dyn StreamDecoder> {
        Box::new(crate::http::openai_stream::Decoder::default())
    }

    fn decode_whole(&self, body: &Value) -> Result<ModelResponse, HttpError> {
        crate::http::openai_stream::decode_whole(body)
    }
}

/// Appends `message` in the chat-completions format: tool results become `tool` messages, text
/// a `user` or `assistant` message, tool calls the assistant's `tool_calls`.
fn wire_messages(message: &Message, out: &mut Vec<Value>) {
    let text = message
        .content
        .iter()
        .filter_map(|b| match b {
            Block::Text { text } => Some(text.as_str()),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join("\n\n");
    match message.role {
        Speaker::User => {
            for block in &message.content {
                if let Block::ToolResult {
                    tool_use_id,
                    content,
                    is_error,
                } = block
                {
                    let content = if *is_error {
                        format!("ERROR: {content}")
                    } else {
                        content.clone()
                    };
                    out.push(
                        json!({"role": "tool", "tool_call_id": tool_use_id, "content": content}),
                    );
                }
            }
            if !text.is_empty() {
                out.push(json!({"role": "user", "content": text}));
            }
        }
        Speaker::Assistant => {
            let calls: Vec<Value> = message
                .tool_uses()
                .map(|(id, name, input)| {
                    let arguments = match input {
                        Value::String(raw) => raw.clone(),
                        other => other.to_string(),
                    };
                    json!({"id": id, "type": "function", "function": {"name": name, "arguments": arguments}})
                })
                .collect();
            let mut wire = json!({"role": "assistant", "content": text});
            if !calls.is_empty() {
                if text.is_empty() {
                    wire["content"] = Value::Null;
                }
                wire["tool_calls"] = Value::Array(calls);
            }
            out.push(wire);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::tools::definitions;

    #[test]
    fn the_request_body_follows_chat_completions() {
        let messages = vec![
            Message::user_text("do it"),
            Message {
                role: Speaker::Assistant,
                content: vec![Block::ToolUse {
                    id: "call_1".into(),
                    name: "read_file".into(),
                    input: json!({"path": "a"}),
                }],
            },
            Message {
                role: Speaker::User,
                content: vec![
                    Block::ToolResult {
                        tool_use_id: "call_1".into(),
                        content: "nope".into(),
                        is_error: true,
                    },
                    Block::Text {
                        text: "more".into(),
                    },
                ],
            },
        ];
        let tools = definitions();
        let api = OpenAiApi::for_base_url("http://127.0.0.1:11434/v1");
        let body = api.body(&ModelRequest {
            model: "m",
            system: "be brief",
            messages: &messages,
            tools: &tools,
            max_output_tokens: 100,
        });
        assert_eq!(body["model"], "m");
        assert_eq!(body["stream"], true);
        assert_eq!(body["max_tokens"], 100);
        assert_eq!(body["tools"].as_array().map(Vec::len), Some(7));
        assert_eq!(body["tools"][0]["function"]["name"], "read_file");
        let wire = body["messages"].as_array().unwrap();
        assert_eq!(wire[0], json!({"role": "system", "content": "be brief"}));
        assert_eq!(wire[1], json!({"role": "user", "content": "do it"}));
        assert_eq!(wire[2]["content"], Value::Null);
        assert_eq!(
            wire[2]["tool_calls"][0]["function"]["arguments"],
            r#"{"path":"a"}"#
        );
        assert_eq!(
            wire[3],
            json!({"role": "tool", "tool_call_id": "call_1", "content": "ERROR: nope"})
        );
        assert_eq!(wire[4], json!({"role": "user", "content": "more"}));
        let hosted = OpenAiApi::for_base_url("https://api.openai.com/v1").body(&ModelRequest {
            model: "m",
            system: "",
            messages: &messages,
            tools: &[],
            max_output_tokens: 7,
        });
        assert_eq!(hosted["max_completion_tokens"], 7);
        assert!(hosted.get("max_tokens").is_none() && hosted.get("tools").is_none());
        assert_eq!(
            hosted["messages"][0]["role"], "user",
            "no empty system message"
        );
        assert_eq!(api.url("http://h/v1/"), "http://h/v1/chat/completions");
        assert_eq!(
            api.headers(Some("k")),
            vec![("authorization".to_string(), "Bearer k".to_string())]
        );
    }
}
