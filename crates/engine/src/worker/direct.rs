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
    fn call(&self, call: &WorkerCall) -> gaffer_store::Result<serde_json::Value> {
        super::serve(&self.board, &self.worker, call.clone()).map_err(as_store_error)
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
