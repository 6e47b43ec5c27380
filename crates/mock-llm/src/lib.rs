//! A scripted model server: it speaks the HTTP APIs real model providers speak and answers
//! from a script, so that agents — gaffer's own loop, the Claude Code CLI, the Codex CLI — can
//! be driven with no account and no network (DESIGN §5, "Testing without a real model").
//!
//! # APIs
//!
//! | route | API | used by |
//! |---|---|---|
//! | `POST /v1/chat/completions` | OpenAI chat completions, streaming or not | gaffer's `openai` loop, Ollama-style clients |
//! | `POST /v1/messages` (any query, e.g. `?beta=true`) | Anthropic Messages, streaming or not | gaffer's `anthropic` loop, Claude Code |
//! | `POST /v1/responses` | OpenAI Responses, streaming or not | Codex CLI |
//! | `POST /v1/messages/count_tokens` | a rough count | Anthropic clients |
//! | `GET /v1/models` | a small list | OpenAI clients, Codex |
//! | `GET /healthz` | `{"ok": true}` | whoever waits for it to be up |
//!
//! Every route also answers without its `/v1` prefix. Anything else is a logged 404.
//!
//! # How a request is answered
//!
//! 1. **Conversation**: the one named by the `x-mock-conversation` header; else the first whose
//!    `marker` occurs in the request's system prompt, instructions, messages or input; else the
//!    first whose `model` is the requested model; else the script's `default`.
//! 2. **Turn**: counted from the request itself — the number of assistant turns already in its
//!    history — so a client resending its history gets the next turn and a resumed session
//!    continues where it was. Past the last turn, or with no conversation, the answer is the
//!    text `done` (configurable).
//! 3. **Attempt**: each (conversation, turn) counts its attempts for the life of the server; the
//!    turn's `errors` answer the first ones (e.g. one 429, then success).
//! 4. **Answer**: after `delay_ms`, the turn's text and tool calls in the API's own format, or a
//!    stall, or a stream with a malformed line in it.
//!
//! Every request is logged ([`MockServer::requests`], and a JSON Lines file if asked).
//!
//! # Example
//!
//! ```no_run
//! # async fn example() -> Result<(), Box<dyn std::error::Error>> {
//! use gaffer_mock_llm::{Conversation, MockServer, Script, Turn};
//!
//! let script = Script::from_toml_str(r#"
//!     [[conversations]]
//!     name = "hello"
//!     marker = "MOCK:hello"
//!     turns = [{ text = "Hello!" }]
//! "#)?;
//! let server = MockServer::start(script).await?;
//! // Point a client at server.openai_base_url() or server.base_url() …
//! let requests = server.requests();
//! server.shutdown().await?;
//! # Ok(()) }
//! ```
//!
//! The script format is described in the crate's README.

mod answer;
mod anthropic;
mod body;
mod build;
mod chunks;
mod error;
mod handler;
mod ids;
mod log;
mod openai_chat;
mod reply;
mod responses;
mod script;
mod select;
mod server;
mod sse;
mod state;
mod template;

pub use error::{ScriptError, ServerError};
pub use log::{Api, Outcome, REDACTED, RequestRecord};
pub use script::{
    Conversation, DEFAULT_SELECTION_HEADER, ErrorSpec, Script, Stall, ToolCall, Turn, Usage,
};
pub use select::SelectedBy;
pub use server::{MockServer, ServerOptions, serve_forever};
