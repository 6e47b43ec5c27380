//! The schema, embedded in the binary and applied in order. The `schema_version` table of the
//! store's schema lists the migrations applied; a schema written by a newer gaffer is refused
//! rather than misread.

use crate::error::TxResult;
use crate::settings::Settings;
use gaffer_store::StoreError;
use postgres::Client;

/// Every migration, oldest first. Never edit one that has shipped; append a new file.
const MIGRATIONS: &[&str] = &[
    include_str!("../migrations/0001_initial.sql"),
    include_str!("../migrations/0002_leases.sql"),
    include_str!("../migrations/0003_needs_and_hosts.sql"),
    include_str!("../migrations/0004_worker_tokens.sql"),
];

/// The first key of the advisory lock that migrations hold (the second is the schema's hash):
/// "gaf" in ASCII, so as not to collide with other programs' locks by chance.
const LOCK_CLASS: i32 = 0x0067_6166;

/// The schema version this build writes.
pub(crate) fn known_version() -> i64 {
    i64::try_from(MIGRATIONS.len()).unwrap_or(i64::MAX)
}

/// What a migration did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrateReport {
    /// The schema migrated.
    pub schema: String,
    /// Its version before (0: it had no gaffer tables).
    pub from: i64,
    /// Its version now (this build's).
    pub to: i64,
}

impl MigrateReport {
    /// Whether any migration was applied.
    pub fn changed(&self) -> bool {
        self.from != self.to
    }
}

/// Brings the store's schema up to [`known_version`], creating the schema if it is missing.
///
/// Everything happens in one transaction holding a transaction-scoped advisory lock on the
/// schema's name, so that several processes opening one database at once take turns: the
/// first creates the tables, the others then find them and apply nothing. Creating the schema
/// is under the lock too (`CREATE SCHEMA IF NOT EXISTS` alone can still race).
pub(crate) fn run(client: &mut Client, settings: &Settings) -> TxResult<MigrateReport> {
    let known = known_version();
    let schema = settings.schema.as_str();
    let mut tx = client.transaction()?;
    tx.execute(
        "SELECT pg_advisory_xact_lock($1, hashtext($2))",
        &[&LOCK_CLASS, &schema],
    )?;
    let exists = tx
        .query_opt("SELECT 1 FROM pg_namespace WHERE nspname = $1", &[&schema])?
        .is_some();
    if !exists {
        tx.batch_execute(&format!("CREATE SCHEMA {}", settings.quoted_schema()))?;
    }
    // The connection's search_path named the schema before it existed; name it again so that
    // the tables below are created in it.
    tx.batch_execute(&format!(
        "SET LOCAL search_path TO {};
         CREATE TABLE IF NOT EXISTS schema_version (
             version    BIGINT PRIMARY KEY,
             applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
         )",
        settings.quoted_schema()
    ))?;
    let found: i64 = tx
        .query_one(
            "SELECT coalesce(max(version), 0)::BIGINT FROM schema_version",
            &[],
        )?
        .try_get(0)?;
    if found > known {
        return Err(StoreError::SchemaTooNew { found, known }.into());
    }
    let start = usize::try_from(found).unwrap_or(0);
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(start) {
        tx.batch_execute(sql)?;
        let version = i64::try_from(index + 1).unwrap_or(i64::MAX);
        tx.execute(
            "INSERT INTO schema_version (version) VALUES ($1)",
            &[&version],
        )?;
        tracing::info!(version, schema, "applied store migration");
    }
    tx.commit()?;
    Ok(MigrateReport {
        schema: schema.to_string(),
        from: found,
        to: known.max(found),
    })
}
