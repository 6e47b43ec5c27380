//! Waking waiters when the board changes ([`crate::Store::subscribe`]).

use std::sync::Arc;

/// What changed, for waiters to wake on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Change {
    /// Events were appended to the log.
    Events,
    /// A job became claimable: enqueued, released, or imported queued or leased.
    Jobs,
}

/// Called with each [`Change`]; see [`crate::Store::subscribe`] for what it may do.
pub type Listener = Arc<dyn Fn(Change) + Send + Sync>;
