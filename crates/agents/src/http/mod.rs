//! gaffer's own agent loop over HTTP model APIs: the `openai` and `anthropic` backends.
//!
//! [`OpenAiBackend`] speaks the OpenAI chat-completions API, which OpenAI and most local and
//! self-hosted servers offer (Ollama, vLLM, LM Studio, the llama.cpp server, gateways).
//! [`AnthropicBackend`] speaks the Anthropic Messages API. Both stream the model's answers and
//! let it call a small set of tools confined to the run's worktree: read, write and edit files,
//! list a directory, search text, run a shell command, ask a person (see [`tools`]).
//!
//! ```text
//! let backend = OpenAiBackend::new(HttpAgentOptions {
//!     base_url: "http://127.0.0.1:11434/v1".into(),   // Ollama
//!     model: "qwen2.5-coder:14b".into(),
//!     ..HttpAgentOptions::default()
//! })?;
//! let handle = backend.start(request, cancel)?;       // events: Started … Finished
//! ```
//!
//! What a run does:
//!
//! * **Events.** `Started` with the model and a session id, then for every model answer its
//!   `Text`, a `Status` per `STATUS:` line, and `Usage`; `ToolCall`/`ToolResult` per tool call;
//!   `Question` when the model calls `ask_person` or writes a `QUESTION:` line (the run then
//!   ends successfully, waiting for the answer); `Finished` with turns, summed tokens, the last
//!   text and the session id. Cost is left at 0: the engine prices tokens.
//! * **Limits.** `max_turns` model answers, `max_total_tokens` tokens (input, output and cached,
//!   summed over the run's requests), and the request's `max_wall`. Past one, the run fails
//!   and says which. Cancelling the token ends the run promptly, killing any running command's
//!   process group.
//! * **Retries.** HTTP 408/409/429/5xx, connection errors, timeouts and malformed streams are
//!   retried with exponential backoff and jitter, honouring `retry-after` ([`RetryPolicy`]). A
//!   429 also pauses every run on the same provider ([`ProviderGate`]); runs say so with a
//!   `Status` event while they wait. A failure that persists fails the run with the provider's
//!   message.
//! * **Resume.** The conversation is saved after every turn in
//!   `<data_dir>/sessions/<session_id>.json`; a run with `resume_session` loads it and adds the
//!   new prompt as a user message. Tool calls left without a result (a question, a cancel) get
//!   one first, as both APIs require.
//! * **Privacy.** With `privacy_local`, a run refuses to start unless the endpoint is on this
//!   machine or a private network ([`check_local`]).
//!
//! **Transport.** Plain `http://` always works (local and private servers). `https://` uses
//! rustls with the Mozilla root certificates bundled in the binary (no system OpenSSL), so the
//! hosted APIs work too. Proxies are taken from the usual `HTTP_PROXY`/`HTTPS_PROXY`/`NO_PROXY`
//! variables, except with `privacy_local`, where no proxy is ever used.

mod agent_loop;
mod anthropic;
mod anthropic_stream;
mod backend;
mod client;
pub mod confine;
mod conversation;
mod error;
mod gate;
mod markers;
mod openai;
mod openai_stream;
mod options;
mod privacy;
mod provider;
mod retry;
mod session;
mod sse;
pub mod tools;

pub(crate) use anthropic::anthropic_from_settings;
pub use anthropic::{ANTHROPIC_VERSION, AnthropicBackend, DEFAULT_ANTHROPIC_BASE_URL};
pub use error::HttpError;
pub use gate::ProviderGate;
pub(crate) use openai::openai_from_settings;
pub use openai::{DEFAULT_OPENAI_BASE_URL, OpenAiBackend};
pub use options::HttpAgentOptions;
pub use privacy::{NotLocal, check_local};
pub use retry::{MAX_RETRY_AFTER, RetryPolicy};
