//! Time as a port: the store and engine ask a [`Clock`] for "now", so tests can fix it.

use std::sync::atomic::{AtomicI64, Ordering};

/// Milliseconds since the Unix epoch, as every timestamp in gaffer is stored.
pub trait Clock: Send + Sync {
    fn now_ms(&self) -> i64;
}

/// A clock that only moves when told to; for tests.
#[derive(Debug, Default)]
pub struct FixedClock(AtomicI64);

impl FixedClock {
    pub fn new(ms: i64) -> Self {
        Self(AtomicI64::new(ms))
    }
    pub fn advance(&self, ms: i64) {
        self.0.fetch_add(ms, Ordering::SeqCst);
    }
    pub fn set(&self, ms: i64) {
        self.0.store(ms, Ordering::SeqCst);
    }
}

impl Clock for FixedClock {
    fn now_ms(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}
