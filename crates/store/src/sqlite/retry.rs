//! Contention handling: SQLite lets one writer in at a time, and every other connection that wants
//! to write gets SQLITE_BUSY. Two layers make sure no caller ever sees "database is locked":
//!
//! 1. A busy handler on each connection ([`busy`]): while another process holds the write lock,
//!    the connection yields, then sleeps 20 µs, 40 µs … 640 µs (jittered) between tries, for up
//!    to [`BUSY_TIMEOUT`] in all. SQLite's own (`busy_timeout`) sleeps 1, 2, 5, 10 … 100 ms:
//!    a write transaction lasts tens of microseconds, so a waiter slept through dozens of
//!    turns, and under eight writers one claim in a hundred waited 20 ms or more. (Writers of
//!    this process do not even get here: they wait their turn on the file's [`super::gate`].)
//! 2. A bounded retry of the whole transaction ([`retry`]), with jittered exponential backoff,
//!    for the cases where SQLite returns BUSY or LOCKED without waiting (a WAL being recovered
//!    or reset by another connection, a busy timeout that ran out under a long burst). Jitter
//!    keeps the connections that lost a race from coming back in lockstep.

use crate::StoreError;
use std::hash::{BuildHasher, RandomState};
use std::time::{Duration, Instant};

/// How long the busy handler waits for the write lock before one attempt fails with BUSY.
pub(super) const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The busy handler's tries that only yield the processor: the holder is usually about to
/// commit.
const BUSY_YIELDS: i32 = 4;

/// The longest pause between two tries of the busy handler (before jitter).
const BUSY_MAX_PAUSE: Duration = Duration::from_micros(640);

/// How long the busy handler waits before try `count` (0-based), or `None` once
/// [`BUSY_TIMEOUT`] has been spent: zero for the first [`BUSY_YIELDS`], then doubling from
/// 20 µs up to [`BUSY_MAX_PAUSE`].
fn busy_pause(count: i32) -> Option<Duration> {
    const RAMP: [u64; 6] = [20, 40, 80, 160, 320, 640];
    let Ok(n) = usize::try_from(count) else {
        return None;
    };
    let yields = BUSY_YIELDS as usize;
    if n < yields {
        return Some(Duration::ZERO);
    }
    let ramped = n - yields;
    if ramped < RAMP.len() {
        return Some(Duration::from_micros(RAMP[ramped]));
    }
    let ramp_total: u64 = RAMP.iter().sum();
    let spent = Duration::from_micros(ramp_total)
        + BUSY_MAX_PAUSE * u32::try_from(ramped - RAMP.len()).unwrap_or(u32::MAX);
    (spent < BUSY_TIMEOUT).then_some(BUSY_MAX_PAUSE)
}

/// The connections' busy handler (`sqlite3_busy_handler`): called by SQLite with the number of
/// times it already was for this lock; `false` gives up (the statement fails with BUSY).
pub(super) fn busy(count: i32) -> bool {
    match busy_pause(count) {
        Some(Duration::ZERO) => {
            std::thread::yield_now();
            true
        }
        Some(pause) => {
            std::thread::sleep(jittered(pause));
            true
        }
        None => false,
    }
}

/// Whole-transaction attempts before an error is reported.
const MAX_ATTEMPTS: u32 = 12;

/// An error inside a transaction: either SQLite's (possibly retryable) or already one of ours.
#[derive(Debug)]
pub(super) enum TxError {
    Sql(rusqlite::Error),
    Store(StoreError),
}

impl From<rusqlite::Error> for TxError {
    fn from(e: rusqlite::Error) -> Self {
        TxError::Sql(e)
    }
}

impl From<StoreError> for TxError {
    fn from(e: StoreError) -> Self {
        TxError::Store(e)
    }
}

impl TxError {
    pub(super) fn is_busy(&self) -> bool {
        match self {
            TxError::Sql(e) => is_busy(e),
            TxError::Store(_) => false,
        }
    }

    pub(super) fn into_store(self) -> StoreError {
        match self {
            TxError::Store(e) => e,
            TxError::Sql(e) if is_busy(&e) => StoreError::Database(format!(
                "the database stayed locked by another writer through {MAX_ATTEMPTS} attempts \
                 ({e}); is another program holding a long transaction on it?"
            )),
            TxError::Sql(e) => StoreError::Database(e.to_string()),
        }
    }
}

pub(super) type TxResult<T> = std::result::Result<T, TxError>;

fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
    )
}

/// What one write may spend waiting for the database in all: its turn on the file's gate
/// ([`super::gate`]), its busy handler and its retries. A writer that waited its turn behind
/// others has that much less left (without this, the k-th of k writers queued behind another
/// process's long transaction failed only after k times the whole budget).
pub(super) const WRITE_BUDGET: Duration = Duration::from_secs(65);

/// The error of a write that did not get its turn on the gate within [`WRITE_BUDGET`].
pub(super) fn no_turn() -> StoreError {
    StoreError::Database(format!(
        "the database stayed locked: no turn to write within {WRITE_BUDGET:?} (the writers \
         ahead waited on another writer); is another program holding a long transaction on it?"
    ))
}

/// Runs `attempt` until it succeeds, fails with something other than BUSY/LOCKED, or the attempts
/// run out. `attempt` must be a whole transaction, so that running it again is safe.
pub(super) fn retry<T>(attempt: impl FnMut() -> TxResult<T>) -> crate::Result<T> {
    retry_since(Instant::now(), attempt)
}

/// [`retry`] for a write that began waiting at `started` (for its turn on the gate): it is not
/// tried again once [`WRITE_BUDGET`] has passed since.
pub(super) fn retry_since<T>(
    started: Instant,
    mut attempt: impl FnMut() -> TxResult<T>,
) -> crate::Result<T> {
    let mut tries = 0;
    loop {
        match attempt() {
            Ok(v) => return Ok(v),
            Err(e)
                if e.is_busy() && tries + 1 < MAX_ATTEMPTS && started.elapsed() < WRITE_BUDGET =>
            {
                tries += 1;
                tracing::debug!(tries, "database busy; retrying the transaction");
                std::thread::sleep(jittered(Duration::from_millis(2u64 << tries.min(6))));
            }
            Err(e) => return Err(e.into_store()),
        }
    }
}

/// `base` scaled by a random factor in [0.5, 1.5).
fn jittered(base: Duration) -> Duration {
    // RandomState is seeded randomly per thread and advanced per instance: a cheap random source.
    let r = RandomState::new().hash_one(std::thread::current().id());
    let permille = 500 + (r % 1000);
    base * u32::try_from(permille).unwrap_or(1000) / 1000
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jitter_stays_within_half_to_one_and_a_half() {
        for _ in 0..1000 {
            let d = jittered(Duration::from_millis(10));
            assert!(
                d >= Duration::from_millis(5) && d < Duration::from_millis(15),
                "{d:?}"
            );
        }
    }

    #[test]
    fn the_busy_handler_yields_then_ramps_up_then_gives_up_after_the_timeout() {
        assert_eq!(busy_pause(0), Some(Duration::ZERO));
        assert_eq!(busy_pause(BUSY_YIELDS), Some(Duration::from_micros(20)));
        assert_eq!(busy_pause(BUSY_YIELDS + 5), Some(BUSY_MAX_PAUSE));
        let mut spent = Duration::ZERO;
        let mut count = 0;
        while let Some(pause) = busy_pause(count) {
            spent += pause;
            count += 1;
        }
        assert!(
            spent >= BUSY_TIMEOUT - BUSY_MAX_PAUSE && spent <= BUSY_TIMEOUT + BUSY_MAX_PAUSE,
            "{spent:?} after {count} tries"
        );
        assert!(!busy(count));
        assert_eq!(busy_pause(-1), None);
    }

    #[test]
    fn retry_stops_on_other_errors_and_after_the_bound() {
        let mut calls = 0;
        let r: crate::Result<()> = retry(|| {
            calls += 1;
            Err(StoreError::Invalid("no".into()).into())
        });
        assert!(matches!(r, Err(StoreError::Invalid(_))));
        assert_eq!(calls, 1);

        let mut calls = 0;
        let r: crate::Result<()> = retry(|| {
            calls += 1;
            Err(rusqlite::Error::SqliteFailure(
                rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_BUSY),
                None,
            )
            .into())
        });
        assert!(matches!(r, Err(StoreError::Database(_))));
        assert_eq!(calls, MAX_ATTEMPTS);
    }

    #[test]
    fn a_write_that_waited_out_its_budget_is_not_tried_again() {
        let mut calls = 0;
        let long_ago = Instant::now()
            .checked_sub(WRITE_BUDGET)
            .expect("the clock goes back that far");
        let r: crate::Result<()> = retry_since(long_ago, || {
            calls += 1;
            Err(rusqlite::Error::SqliteFailure(
                rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_BUSY),
                None,
            )
            .into())
        });
        assert!(matches!(r, Err(StoreError::Database(_))));
        assert_eq!(calls, 1, "the time in line counts against the budget");
    }
}
