//! Who drives the merge queue of a shared board: the daemon holding the store's named lease
//! `queue:<project id>`. It takes or extends the lease once per engine loop (its heartbeat) and
//! gives it up on a clean stop; a dead holder's lease runs out after `engine.lease` and the
//! next live daemon that asks takes the queue over.
//!
//! The queue keeps no state in memory (`queue.rs`): task states, candidates, their verify jobs
//! and the `land` job are on the board, candidate commits on the remote
//! (`refs/gaffer/candidates/<task>`, see `remote_sync.rs`), so a new holder plans from what the
//! last one left: a landing it started is finished by whichever daemon claims the `land` job
//! (a compare-and-swap on the remote's target, which recognises a landing already pushed), and
//! candidates it built are verified or rebuilt as the planner says.

use crate::board::Board;
use std::sync::atomic::{AtomicBool, Ordering};

pub(crate) struct QueueLease {
    name: String,
    owner: String,
    /// Whether it was held at the last look (to log each change once).
    held: AtomicBool,
}

impl QueueLease {
    pub(crate) fn new(board: &Board, owner: &str) -> QueueLease {
        QueueLease {
            name: queue_lease_name(board),
            owner: owner.to_string(),
            held: AtomicBool::new(false),
        }
    }

    /// Whether it was held at the last look ([`QueueLease::hold`]).
    pub(crate) fn held(&self) -> bool {
        self.held.load(Ordering::SeqCst)
    }

    /// Whether this engine drives the queue now: always when the board is not shared, else
    /// while it holds the lease (taken or extended by this call).
    pub(crate) fn hold(&self, board: &Board) -> bool {
        if !board.shared {
            return true;
        }
        let lease_ms = board.settings.engine.lease.as_millis() as i64;
        let held = board
            .store
            .hold_lease(&self.name, &self.owner, lease_ms)
            .unwrap_or_else(|e| {
                tracing::warn!("cannot take the merge queue's lease: {e}");
                false
            });
        if self.held.swap(held, Ordering::SeqCst) != held {
            if held {
                tracing::info!(owner = %self.owner, "this daemon drives the merge queue");
            } else {
                tracing::info!("another daemon drives the merge queue");
            }
        }
        held
    }

    /// Gives the lease up (a clean stop), so that another daemon takes the queue at once.
    pub(crate) fn release(&self, board: &Board) {
        if !board.shared {
            return;
        }
        if let Err(e) = board.store.release_lease(&self.name, &self.owner) {
            tracing::warn!("cannot release the merge queue's lease: {e}");
        }
    }
}

/// The name of the lease of `board`'s merge queue.
pub fn queue_lease_name(board: &Board) -> String {
    format!("queue:{}", board.project.id)
}
