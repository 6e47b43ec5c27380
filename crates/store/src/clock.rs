//! The clock production stores use.

use gaffer_core::Clock;
use std::time::{SystemTime, UNIX_EPOCH};

/// Wall-clock time: milliseconds since the Unix epoch from the operating system.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> i64 {
        match SystemTime::now().duration_since(UNIX_EPOCH) {
            Ok(d) => i64::try_from(d.as_millis()).unwrap_or(i64::MAX),
            // A clock set before 1970 is broken; report the epoch rather than a negative time.
            Err(_) => 0,
        }
    }
}
