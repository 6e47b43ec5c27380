//! [`PgStore`]: gaffer's [`Store`] in PostgreSQL, for several gaffer processes (or hosts)
//! sharing one board. Same tables, same rules ([`gaffer_store::rules`]) and same conformance
//! suite as the embedded SQLite store.
//!
//! **Driver.** The synchronous `postgres` crate, each connection owned by a dedicated OS thread
//! of the store ([`pool`]). The trait is synchronous and every method is one transaction, but
//! the engine calls it from async code: the sync client cannot be called on a thread that drives
//! a Tokio runtime (it panics), and an async driver (sqlx, tokio-postgres) would need the same
//! bridge back from sync to async. So a method sends its transaction to a connection thread and
//! blocks on the reply, exactly as it would block on a local SQLite file.
//!
//! **Transactions.** Writes run at READ COMMITTED with row locks, reads at REPEATABLE READ READ
//! ONLY; serialization failures and deadlocks are retried whole, a connection lost before
//! COMMIT is replaced and the call run again ([`session`] says why each).
//!
//! **Claims.** `claim_job` takes the first claimable row in claim order (priority, then age)
//! with `SELECT … FOR NO KEY UPDATE SKIP LOCKED` on a partial index of queued and leased jobs:
//! concurrent claimers skip each other's rows instead of waiting, and each job goes to one
//! owner. A candidate out of attempts is marked failed (exhausted) and the next one taken, as
//! in SQLite ([`jobs`]). Task versions are compare-and-swap
//! (`UPDATE … WHERE id = $1 AND version = $2`).
//!
//! **NOTIFY.** Every transaction that appends events notifies `gaffer_<schema>_events` with the
//! last seq, and every one that enqueues jobs or gives leased ones back notifies
//! `gaffer_<schema>_jobs`, inside the transaction so that delivery happens only on commit
//! ([`notify`]). [`PgStore::events_channel`] and [`PgStore::jobs_channel`] name them for a
//! LISTEN side.
//!
//! **Schema.** Migrations are embedded (`migrations/`) and applied at open under an advisory
//! lock, in the store's own PostgreSQL schema (`public` unless told otherwise, created if
//! missing; every connection's `search_path` names it), so that several boards, or tests, can
//! share one database.

mod children;
mod commit;
mod copy;
mod error;
mod events;
mod hosts;
mod jobs;
mod leases;
mod listen;
mod migrate;
mod notify;
mod pool;
mod projects;
mod rows;
mod runs;
mod session;
mod settings;
mod store;
mod tasks;
mod tx;
mod worker_tokens;

pub use migrate::MigrateReport;

use crate::error::TxResult;
use crate::pool::Pool;
use crate::session::Mode;
use crate::settings::Settings;
use crate::tx::Tx;
use gaffer_core::Clock;
use gaffer_store::{Result, Store, SystemClock};
use std::sync::Arc;

/// The schema a store uses unless told otherwise.
pub const DEFAULT_SCHEMA: &str = "public";

/// Connection threads (and so connections) per store unless told otherwise.
pub const DEFAULT_CONNECTIONS: usize = 4;

/// How to open a [`PgStore`] beyond its URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PgOptions {
    /// The PostgreSQL schema holding the store's tables (lowercase letters, digits and `_`).
    pub schema: String,
    /// How many connections (each on its own thread) the store uses at most.
    pub connections: usize,
    /// Run every transaction at the database server's time (this machine's clock plus an
    /// offset measured every minute) instead of the store's clock: daemons on machines whose
    /// clocks disagree then still agree on when a lease expires. For a store opened with the
    /// system clock; a test's fixed clock must keep it off.
    pub server_clock: bool,
}

impl Default for PgOptions {
    fn default() -> Self {
        PgOptions {
            schema: DEFAULT_SCHEMA.to_string(),
            connections: DEFAULT_CONNECTIONS,
            server_clock: false,
        }
    }
}

/// A [`Store`] in a PostgreSQL database. Any number of them, in one process or several, may
/// open the same database and schema.
pub struct PgStore {
    settings: Arc<Settings>,
    pool: Pool,
    listeners: Arc<listen::Listeners>,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore")
            .field("server", &self.settings.server)
            .field("schema", &self.settings.schema)
            .finish_non_exhaustive()
    }
}

impl PgStore {
    /// Opens the store in the `public` schema of the database at `url` (libpq style:
    /// `postgres://user:password@host:port/db?options`) and migrates it to this build's schema.
    /// Times come from `clock`. Fails with [`gaffer_store::StoreError::Unavailable`] when the
    /// server cannot be reached and [`gaffer_store::StoreError::SchemaTooNew`] if a newer gaffer
    /// wrote the schema.
    pub fn open(url: &str, clock: Arc<dyn Clock>) -> Result<PgStore> {
        Self::open_with(url, &PgOptions::default(), clock)
    }

    /// [`PgStore::open`] with the system clock.
    pub fn open_default(url: &str) -> Result<PgStore> {
        Self::open(url, Arc::new(SystemClock))
    }

    /// [`PgStore::open`] in another schema than `public`, created if missing.
    pub fn open_in_schema(url: &str, schema: &str, clock: Arc<dyn Clock>) -> Result<PgStore> {
        let options = PgOptions {
            schema: schema.to_string(),
            ..PgOptions::default()
        };
        Self::open_with(url, &options, clock)
    }

    /// [`PgStore::open`] with every option.
    pub fn open_with(url: &str, options: &PgOptions, clock: Arc<dyn Clock>) -> Result<PgStore> {
        let settings = Arc::new(Settings::new(url, &options.schema, options.server_clock)?);
        let pool = Pool::start(settings.clone(), clock, options.connections)?;
        pool.run(|session| session.migrate())?;
        Ok(PgStore {
            settings,
            pool,
            listeners: Arc::default(),
        })
    }

    /// The schema version this build writes.
    pub fn schema_version() -> i64 {
        migrate::known_version()
    }

    /// The server, as `postgres://user@host:port/db` (never with the password).
    pub fn server(&self) -> &str {
        &self.settings.server
    }

    /// The PostgreSQL schema holding the store's tables.
    pub fn schema(&self) -> &str {
        &self.settings.schema
    }

    /// The channel notified, on commit, with the last seq of every transaction that appended
    /// events (`gaffer_<schema>_events`).
    pub fn events_channel(&self) -> &str {
        &self.settings.channels.events
    }

    /// The channel notified, on commit, by every transaction that enqueued jobs or made leased
    /// ones claimable again (`gaffer_<schema>_jobs`; empty payload).
    pub fn jobs_channel(&self) -> &str {
        &self.settings.channels.jobs
    }

    /// Runs `f` as a write transaction on a connection thread.
    fn write<T: Send + 'static>(
        &self,
        f: impl FnMut(&mut Tx<'_>, i64) -> TxResult<T> + Send + 'static,
    ) -> Result<T> {
        self.pool.run(move |s| s.transact(Mode::Write, f))
    }

    /// Runs `f` as a read-only transaction (one snapshot) on a connection thread.
    fn read<T: Send + 'static>(
        &self,
        f: impl FnMut(&mut Tx<'_>, i64) -> TxResult<T> + Send + 'static,
    ) -> Result<T> {
        self.pool.run(move |s| s.transact(Mode::Read, f))
    }
}

/// Brings the `public` schema of the database at `url` to this build's version (what
/// [`PgStore::open`] does first), and says what it was and is now. Backs `gaffer store migrate`.
pub fn migrate(url: &str) -> Result<MigrateReport> {
    migrate_schema(url, DEFAULT_SCHEMA)
}

/// [`migrate`] for the store in `schema`.
pub fn migrate_schema(url: &str, schema: &str) -> Result<MigrateReport> {
    let settings = Arc::new(Settings::new(url, schema, false)?);
    let pool = Pool::start(settings, Arc::new(SystemClock), 1)?;
    pool.run(|session| session.migrate())
}

/// The store's handle is checked to be what the engine needs.
const _: fn() = || {
    fn is_store<T: Store + Send + Sync + 'static>() {}
    is_store::<PgStore>();
};
