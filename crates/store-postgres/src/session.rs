//! One connection thread's connection, and running a whole transaction on it.
//!
//! Isolation: writes run at READ COMMITTED and take row locks for every decision they make
//! (`FOR NO KEY UPDATE`, `UPDATE … WHERE <condition>`, which PostgreSQL re-checks on the latest
//! row version once it holds the lock). That is what lets a claim skip rows other claimers
//! locked (`SKIP LOCKED`) instead of failing with serialization errors as it would under
//! REPEATABLE READ; nothing is ever deleted, so existence checks need no lock. Reads run at
//! REPEATABLE READ, READ ONLY: one snapshot for the whole call, like SQLite's read transaction,
//! and never a serialization failure.
//!
//! Retries: a serialization failure or a deadlock (`40001`, `40P01`) rolls the transaction back;
//! it is run again from the start, with a jittered backoff, a bounded number of times. A
//! connection found lost before COMMIT was sent (the server restarted while it sat idle) is
//! replaced and the transaction run again; one lost while committing is reported as
//! [`StoreError::Unavailable`]: whether it committed is unknown.

use crate::error::{TxError, TxResult};
use crate::migrate::{self, MigrateReport};
use crate::settings::{Settings, detail};
use crate::tx::{Statements, Tx};
use gaffer_core::Clock;
use gaffer_store::{Result, StoreError};
use postgres::{Client, IsolationLevel, NoTls};
use std::hash::{BuildHasher, RandomState};
use std::sync::Arc;
use std::time::Duration;

/// Whole-transaction attempts when serialization failures or deadlocks keep happening.
const MAX_CONFLICT_ATTEMPTS: u32 = 12;
/// Fresh connections tried for one call after the one it had was found lost.
const MAX_RECONNECTS: u32 = 2;
/// How many times a call waits for a server it cannot reach before failing…
const MAX_UNREACHABLE_WAITS: u32 = 5;
/// …and how long it may spend on that in all, connection attempts included.
const UNREACHABLE_FOR: Duration = Duration::from_secs(15);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    Write,
    Read,
}

/// Why an attempt failed, and whether COMMIT had been sent.
struct Failure {
    error: TxError,
    committing: bool,
}

pub(crate) struct Session {
    settings: Arc<Settings>,
    clock: Arc<dyn Clock>,
    client: Option<Client>,
    statements: Statements,
    /// With `PgOptions::server_clock`: how far the server's clock is ahead of this machine's,
    /// and when that was measured.
    offset: Option<(i64, std::time::Instant)>,
}

/// How often the server's clock is measured again.
const OFFSET_FOR: Duration = Duration::from_secs(60);

impl Session {
    pub(crate) fn new(settings: Arc<Settings>, clock: Arc<dyn Clock>) -> Session {
        Session {
            settings,
            clock,
            client: None,
            statements: Statements::new(),
            offset: None,
        }
    }

    /// The time a transaction runs at: the store's clock, or (with `server_clock`) the
    /// database server's, so that machines whose clocks disagree still agree on leases.
    fn now_ms(&mut self) -> std::result::Result<i64, TxError> {
        let local = self.clock.now_ms();
        if !self.settings.server_clock {
            return Ok(local);
        }
        if let Some((offset, at)) = self.offset
            && at.elapsed() < OFFSET_FOR
        {
            return Ok(local + offset);
        }
        let client = connected(&mut self.client, &self.settings).map_err(TxError::Store)?;
        let before = self.clock.now_ms();
        let row = client.query_one(
            "SELECT (extract(epoch FROM clock_timestamp()) * 1000)::BIGINT",
            &[],
        )?;
        let after = self.clock.now_ms();
        let server: i64 = row.try_get(0)?;
        // The server read its clock about halfway through the round trip.
        let offset = server - (before + after) / 2;
        self.offset = Some((offset, std::time::Instant::now()));
        Ok(self.clock.now_ms() + offset)
    }

    /// A connection found closed is dropped with its prepared statements (they belonged to
    /// it: a new connection has none).
    fn forget_closed(&mut self) {
        if self.client.as_ref().is_some_and(Client::is_closed) {
            self.reset();
        }
    }

    /// Drops the connection (a new one is opened for the next call).
    pub(crate) fn reset(&mut self) {
        self.client = None;
        self.statements.clear();
    }

    /// Brings the store's schema up to this build's version (see [`migrate`]).
    pub(crate) fn migrate(&mut self) -> Result<MigrateReport> {
        self.forget_closed();
        let client = connected(&mut self.client, &self.settings)?;
        migrate::run(client, &self.settings).map_err(|e| self.store_error(e, false))
    }

    /// Runs `f` as one transaction, retried whole as the module documentation says. `f` gets
    /// the time of its attempt from the store's clock.
    pub(crate) fn transact<T>(
        &mut self,
        mode: Mode,
        mut f: impl FnMut(&mut Tx<'_>, i64) -> TxResult<T>,
    ) -> Result<T> {
        let mut conflicts = 0;
        let mut reconnects = 0;
        let mut unreachable = 0;
        let began = std::time::Instant::now();
        loop {
            let failure = match self.attempt(mode, &mut f) {
                Ok(value) => return Ok(value),
                Err(failure) => failure,
            };
            let lost = failure.error.is_connection_loss()
                || self.client.as_ref().is_some_and(Client::is_closed);
            if lost {
                self.reset();
            }
            if failure.error.is_conflict() && conflicts + 1 < MAX_CONFLICT_ATTEMPTS {
                conflicts += 1;
                tracing::debug!(conflicts, "transaction conflict; running it again");
                std::thread::sleep(jittered(Duration::from_millis(1u64 << conflicts.min(7))));
                continue;
            }
            // The server is down or restarting (a failover takes seconds): wait a little rather
            // than lose the result of work that finished meanwhile.
            if matches!(failure.error, TxError::Store(StoreError::Unavailable(_)))
                && !failure.committing
                && unreachable < MAX_UNREACHABLE_WAITS
                && began.elapsed() < UNREACHABLE_FOR
            {
                unreachable += 1;
                std::thread::sleep(jittered(Duration::from_millis(
                    250u64 << unreachable.min(4),
                )));
                continue;
            }
            if lost && !failure.committing && reconnects < MAX_RECONNECTS {
                reconnects += 1;
                tracing::info!(server = %self.settings.server, "connection lost; reconnecting");
                continue;
            }
            return Err(self.store_error(failure.error, failure.committing));
        }
    }

    fn attempt<T>(
        &mut self,
        mode: Mode,
        f: &mut impl FnMut(&mut Tx<'_>, i64) -> TxResult<T>,
    ) -> std::result::Result<T, Failure> {
        let before_commit = |error: TxError| Failure {
            error,
            committing: false,
        };
        self.forget_closed();
        // Measured (when due) before the transaction starts, on the same connection.
        self.now_ms().map_err(before_commit)?;
        let client = connected(&mut self.client, &self.settings)
            .map_err(|e| before_commit(TxError::Store(e)))?;
        let builder = match mode {
            Mode::Write => client
                .build_transaction()
                .isolation_level(IsolationLevel::ReadCommitted),
            Mode::Read => client
                .build_transaction()
                .isolation_level(IsolationLevel::RepeatableRead)
                .read_only(true),
        };
        let inner = builder.start().map_err(|e| before_commit(e.into()))?;
        let mut tx = Tx::new(inner, &mut self.statements);
        let now = self.clock.now_ms() + self.offset.map_or(0, |(offset, _)| offset);
        let value = f(&mut tx, now).map_err(before_commit)?;
        tx.notify(&self.settings.channels).map_err(before_commit)?;
        tx.commit().map_err(|error| Failure {
            error,
            committing: true,
        })?;
        Ok(value)
    }

    fn store_error(&self, e: TxError, committing: bool) -> StoreError {
        if e.is_unstorable_text() {
            return StoreError::Invalid(
                "text with a NUL character cannot be stored in PostgreSQL".into(),
            );
        }
        let lost = e.is_connection_loss();
        let conflict = e.is_conflict();
        match e {
            TxError::Store(e) => e,
            TxError::Pg(e) if lost && committing => {
                StoreError::Unavailable(self.settings.scrub(&format!(
                    "the connection to {} was lost while committing (whether the change was \
                     written is unknown): {}",
                    self.settings.server,
                    detail(&e)
                )))
            }
            TxError::Pg(e) if lost => self.settings.unavailable("lost the connection to", &e),
            TxError::Pg(e) if conflict => StoreError::Database(self.settings.scrub(&format!(
                "transactions kept conflicting through {MAX_CONFLICT_ATTEMPTS} attempts: {}",
                detail(&e)
            ))),
            TxError::Pg(e) => StoreError::Database(self.settings.scrub(&detail(&e))),
        }
    }
}

/// The connection, opened (with the store's `search_path`) if there is none.
fn connected<'c>(client: &'c mut Option<Client>, settings: &Settings) -> Result<&'c mut Client> {
    if client.as_ref().is_some_and(Client::is_closed) {
        *client = None;
    }
    if client.is_none() {
        *client = Some(connect(settings)?);
    }
    client
        .as_mut()
        .ok_or_else(|| StoreError::Database("no connection".into()))
}

/// Opens one connection. Unqualified names resolve in the store's schema only (it need not
/// exist yet: opening the store creates it); times are UTC.
pub(crate) fn connect(settings: &Settings) -> Result<Client> {
    let mut client = settings
        .config
        .connect(NoTls)
        .map_err(|e| settings.unavailable("cannot connect to", &e))?;
    client
        .batch_execute(&format!(
            "SET search_path TO {}; SET TIME ZONE 'UTC'; SET client_min_messages TO WARNING",
            settings.quoted_schema()
        ))
        .map_err(|e| settings.unavailable("cannot set up a connection to", &e))?;
    Ok(client)
}

/// `base` scaled by a random factor in [0.5, 1.5), so that transactions that conflicted do not
/// come back in lockstep.
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
}
