//! Pausing a provider after it rate-limits.
//!
//! When a provider answers HTTP 429, every run using it should hold back, not only the one that
//! was refused. A [`ProviderGate`] records "paused until T"; runs wait on it before each request
//! (and say so with a `Status` event). Share one gate per provider endpoint:
//! [`ProviderGate::shared`] hands out the same gate for the same base URL within a process.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// "Paused until" for one provider endpoint.
#[derive(Debug, Default)]
pub struct ProviderGate {
    paused_until: Mutex<Option<Instant>>,
}

impl ProviderGate {
    /// A gate of its own (not shared with other backends).
    pub fn new() -> ProviderGate {
        ProviderGate::default()
    }

    /// The process-wide gate for `base_url` (compared without a trailing `/`, case-insensitive).
    pub fn shared(base_url: &str) -> Arc<ProviderGate> {
        static GATES: OnceLock<Mutex<HashMap<String, Arc<ProviderGate>>>> = OnceLock::new();
        let key = base_url.trim_end_matches('/').to_ascii_lowercase();
        let mut gates = GATES
            .get_or_init(Default::default)
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        Arc::clone(gates.entry(key).or_default())
    }

    /// Pauses the provider for `duration` from now. A pause already running longer is kept.
    pub fn pause_for(&self, duration: Duration) {
        let Some(until) = Instant::now().checked_add(duration) else {
            return;
        };
        let mut paused = self.lock();
        if paused.is_none_or(|current| current < until) {
            *paused = Some(until);
        }
    }

    /// How much longer the provider is paused, if it is.
    pub fn remaining(&self) -> Option<Duration> {
        let paused = *self.lock();
        paused
            .map(|until| until.saturating_duration_since(Instant::now()))
            .filter(|d| !d.is_zero())
    }

    /// Waits until the provider is no longer paused (a pause extended meanwhile is waited for
    /// too). Returns at once when it is not paused.
    pub async fn wait(&self) {
        while let Some(remaining) = self.remaining() {
            tokio::time::sleep(remaining).await;
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Instant>> {
        self.paused_until
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_gates_are_per_base_url() {
        let a = ProviderGate::shared("http://127.0.0.1:1/v1/");
        let b = ProviderGate::shared("HTTP://127.0.0.1:1/v1");
        let c = ProviderGate::shared("http://127.0.0.1:2/v1");
        assert!(Arc::ptr_eq(&a, &b));
        assert!(!Arc::ptr_eq(&a, &c));
    }

    #[tokio::test]
    async fn a_pause_is_waited_for_and_never_shortened() {
        let gate = ProviderGate::new();
        assert_eq!(gate.remaining(), None);
        gate.wait().await;
        gate.pause_for(Duration::from_millis(150));
        gate.pause_for(Duration::from_millis(10));
        assert!(gate.remaining().unwrap() > Duration::from_millis(100));
        let start = Instant::now();
        gate.wait().await;
        assert!(start.elapsed() >= Duration::from_millis(140));
        assert_eq!(gate.remaining(), None);
    }
}
