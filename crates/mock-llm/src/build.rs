//! Building a script in Rust: constructors and `with_*` methods for every script type.
//!
//! Each method takes the value and returns it changed, so a script reads top to bottom:
//! `Script::new().with_conversation(Conversation::new("x").with_turn(Turn::text("hi")))`.

use crate::script::{Conversation, ErrorSpec, Script, Stall, ToolCall, Turn, Usage, empty_object};

impl Script {
    /// Adds a conversation.
    pub fn with_conversation(mut self, conversation: Conversation) -> Self {
        self.conversations.push(conversation);
        self
    }

    /// Names the conversation that answers unclaimed requests.
    pub fn with_default(mut self, name: impl Into<String>) -> Self {
        self.default = Some(name.into());
        self
    }

    /// Sets the text answered when a conversation has no turns left.
    pub fn with_done_text(mut self, text: impl Into<String>) -> Self {
        self.done_text = text.into();
        self
    }

    /// Sets the header whose value names a conversation.
    pub fn with_selection_header(mut self, header: impl Into<String>) -> Self {
        self.selection_header = header.into();
        self
    }

    /// Sets the model names `GET /v1/models` lists.
    pub fn with_models(mut self, models: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.models = models.into_iter().map(Into::into).collect();
        self
    }
}

impl Conversation {
    /// A conversation with no turns and no way to be picked but its name (by header) or being
    /// the default.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            marker: None,
            model: None,
            turns: Vec::new(),
            done_text: None,
        }
    }

    /// Picks this conversation when `marker` appears in the request's prompt.
    pub fn with_marker(mut self, marker: impl Into<String>) -> Self {
        self.marker = Some(marker.into());
        self
    }

    /// Picks this conversation when the request asks for exactly this model.
    pub fn with_model(mut self, model: impl Into<String>) -> Self {
        self.model = Some(model.into());
        self
    }

    /// Appends a turn.
    pub fn with_turn(mut self, turn: Turn) -> Self {
        self.turns.push(turn);
        self
    }

    /// Sets the text answered once the turns run out.
    pub fn with_done_text(mut self, text: impl Into<String>) -> Self {
        self.done_text = Some(text.into());
        self
    }
}

impl Turn {
    /// A turn that only says `text`.
    pub fn text(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            ..Self::default()
        }
    }

    /// A turn that only calls one tool.
    pub fn tool_call(name: impl Into<String>, arguments: serde_json::Value) -> Self {
        Self::default().with_tool_call(name, arguments)
    }

    /// Sets the text.
    pub fn with_text(mut self, text: impl Into<String>) -> Self {
        self.text = text.into();
        self
    }

    /// Adds a tool call.
    pub fn with_tool_call(mut self, name: impl Into<String>, arguments: serde_json::Value) -> Self {
        self.tool_calls.push(ToolCall::new(name, arguments));
        self
    }

    /// Adds a free-form (custom) tool call; see [`ToolCall::input`].
    pub fn with_custom_tool_call(
        mut self,
        name: impl Into<String>,
        input: impl Into<String>,
    ) -> Self {
        self.tool_calls.push(ToolCall::custom(name, input));
        self
    }

    /// Sets the reported usage.
    pub fn with_usage(mut self, input_tokens: u64, output_tokens: u64, cached_tokens: u64) -> Self {
        self.usage = Some(Usage {
            input_tokens,
            output_tokens,
            cached_tokens,
        });
        self
    }

    /// Adds an HTTP failure before success.
    pub fn with_error(mut self, error: ErrorSpec) -> Self {
        self.errors.push(error);
        self
    }

    /// Waits before answering.
    pub fn with_delay_ms(mut self, delay_ms: u64) -> Self {
        self.delay_ms = delay_ms;
        self
    }

    /// Waits between stream pieces.
    pub fn with_chunk_delay_ms(mut self, chunk_delay_ms: u64) -> Self {
        self.chunk_delay_ms = chunk_delay_ms;
        self
    }

    /// Sets the size of stream pieces.
    pub fn with_chunk_chars(mut self, chunk_chars: usize) -> Self {
        self.chunk_chars = Some(chunk_chars);
        self
    }

    /// Stops answering; see [`Stall`].
    pub fn with_stall(mut self, stall: Stall) -> Self {
        self.stall = Some(stall);
        self
    }

    /// Inserts a raw malformed line after the first stream piece.
    pub fn with_malformed_line(mut self, line: impl Into<String>) -> Self {
        self.malformed_line = Some(line.into());
        self
    }
}

impl ToolCall {
    /// A function call with JSON arguments.
    pub fn new(name: impl Into<String>, arguments: serde_json::Value) -> Self {
        Self {
            name: name.into(),
            arguments,
            input: None,
            id: None,
        }
    }

    /// A free-form (custom) tool call; see [`ToolCall::input`].
    pub fn custom(name: impl Into<String>, input: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            arguments: empty_object(),
            input: Some(input.into()),
            id: None,
        }
    }

    /// Uses this call id instead of a made-up one.
    pub fn with_id(mut self, id: impl Into<String>) -> Self {
        self.id = Some(id.into());
        self
    }
}

impl ErrorSpec {
    /// Fails the first attempt only.
    pub fn once(status: u16) -> Self {
        Self::times(status, 1)
    }

    /// Fails the first `times` attempts.
    pub fn times(status: u16, times: u32) -> Self {
        Self {
            status,
            times: Some(times),
            retry_after: None,
            message: None,
            body: None,
        }
    }

    /// Fails every attempt.
    pub fn always(status: u16) -> Self {
        Self {
            status,
            times: None,
            retry_after: None,
            message: None,
            body: None,
        }
    }

    /// Sends a `retry-after` header with this many seconds.
    pub fn with_retry_after(mut self, seconds: u64) -> Self {
        self.retry_after = Some(seconds);
        self
    }

    /// Sets the message inside the usual error body.
    pub fn with_message(mut self, message: impl Into<String>) -> Self {
        self.message = Some(message.into());
        self
    }

    /// Sends this body verbatim.
    pub fn with_body(mut self, body: impl Into<String>) -> Self {
        self.body = Some(body.into());
        self
    }
}
