//! What the API renderers need to know about the answer they render.

use crate::script::{Turn, Usage};

/// One answer to render: the turn, where it sits, and the request's model.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Answer<'a> {
    /// The turn (a scripted one, or the made-up "done" turn).
    pub turn: &'a Turn,
    /// The turn's position in its conversation, encoded into the ids of its tool calls.
    pub turn_index: usize,
    /// The model the request asked for, echoed back.
    pub model: &'a str,
    /// The request's sequence number, which makes message and response ids unique.
    pub seq: u64,
    /// Seconds since the Unix epoch, for `created` fields.
    pub created: u64,
}

impl Answer<'_> {
    /// The usage to report.
    pub fn usage(&self) -> Usage {
        self.turn.effective_usage()
    }

    /// The size of stream pieces.
    pub fn chunk_chars(&self) -> usize {
        self.turn.effective_chunk_chars()
    }

    /// The id of the `index`-th tool call, with the API's usual prefix, unless the script set
    /// one.
    pub fn call_id(&self, prefix: &str, index: usize) -> String {
        match self.turn.tool_calls.get(index).and_then(|c| c.id.clone()) {
            Some(id) => id,
            None => crate::ids::item_id(prefix, self.turn_index, index),
        }
    }
}
