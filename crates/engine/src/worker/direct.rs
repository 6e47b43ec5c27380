//! A worker's calls straight into a daemon's board in the same process: what the HTTP route
//! does without the network (in-process tests of workers use it).

use super::protocol::{WorkerCall, WorkerIdentity};
use super::store::Transport;
use crate::board::Board;
use crate::error::EngineError;
use gaffer_store::StoreError;
use std::sync::Arc;

/// Calls [`super::serve`] on `board` as `worker`.
pub struct Direct {
    board: Arc<Board>,
    worker: WorkerIdentity,
}

impl Direct {
    pub fn new(board: Arc<Board>, worker: WorkerIdentity) -> Direct {
        Direct { board, worker }
    }
}

impl Transport for Direct {
    /// The call and its reply go through JSON, as over HTTP: what cannot cross the wire fails
    /// here too.
    fn call(&self, call: &WorkerCall) -> gaffer_store::Result<serde_json::Value> {
        let wire = |e: serde_json::Error| StoreError::Invalid(format!("not wire-safe: {e}"));
        let sent: WorkerCall =
            serde_json::from_str(&serde_json::to_string(call).map_err(wire)?).map_err(wire)?;
        let reply = super::serve(&self.board, &self.worker, sent).map_err(as_store_error)?;
        serde_json::from_str(&serde_json::to_string(&reply).map_err(wire)?).map_err(wire)
    }
}

/// What a worker's store says of a refusal: the store's own error, or why it was refused.
pub fn as_store_error(error: EngineError) -> StoreError {
    match error {
        EngineError::Store(e) => e,
        EngineError::Forbidden(why) => StoreError::Invalid(format!("the daemon refused: {why}")),
        other => StoreError::Invalid(other.to_string()),
    }
}
