//! What every request handler shares: the script, the log, the attempt counters and the
//! shutdown signal.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio_util::sync::CancellationToken;

use crate::log::RequestLog;
use crate::script::Script;

/// What every request handler shares.
#[derive(Debug)]
pub(crate) struct Shared {
    pub script: Script,
    pub log: RequestLog,
    pub shutdown: CancellationToken,
    attempts: Mutex<HashMap<(Option<usize>, usize), u32>>,
    seq: AtomicU64,
}

impl Shared {
    pub fn new(script: Script, log: RequestLog) -> Self {
        Self {
            script,
            log,
            shutdown: CancellationToken::new(),
            attempts: Mutex::default(),
            seq: AtomicU64::new(0),
        }
    }

    /// Forgets how many attempts each turn has had, so scripted errors happen again.
    pub fn reset_attempts(&self) {
        self.attempts
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
            .clear();
    }

    pub fn next_seq(&self) -> u64 {
        self.seq.fetch_add(1, Ordering::Relaxed) + 1
    }

    pub fn next_attempt(&self, conversation: Option<usize>, turn: usize) -> u32 {
        let mut attempts = self
            .attempts
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        let count = attempts.entry((conversation, turn)).or_insert(0);
        *count = count.saturating_add(1);
        *count
    }
}
