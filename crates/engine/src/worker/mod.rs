//! Remote workers: machines that take a shared board's agent runs and verify without a
//! database connection of their own. A worker talks to a daemon's HTTP API with a worker
//! token (`gaffer worker --server URL --token T`): it claims jobs, heartbeats their leases,
//! records its runs and their events, and reports each result, all through [`WorkerCall`]s,
//! outbound only. It runs the engine's own job code, in its own clone and sandbox, on a board
//! whose store is the daemon ([`WorkerStore`]); code moves only through the project's remote,
//! as between daemons (`remote_sync.rs`). The daemon checks every call against the token
//! ([`serve`]) and concludes every result itself (`conclude.rs`): the state machine never runs
//! on a worker.

mod direct;
pub mod protocol;
mod serve;
mod store;

pub use direct::{Direct, as_store_error};
pub use protocol::{Welcome, WorkerCall, WorkerIdentity, owner_prefix};
pub use serve::{MAX_SLOTS, WORKER_KINDS, serve};
pub use store::{Transport, WorkerStore};

use crate::conclude::JobReport;
use crate::error::Result;
use gaffer_core::{Job, RunId, Task};

/// Where a job's result goes instead of the local store: the daemon, for a worker.
pub trait Reporter: Send + Sync {
    /// Reports `job`'s result as `holder`, which claimed it.
    fn report(&self, job: &Job, holder: &str, report: JobReport) -> Result<()>;
}

/// What a worker's board asks of the daemon beyond its store's calls: filing the proposals an
/// agent's run made (`PROPOSAL:` lines), which the daemon files as it files its own (once each).
pub trait Remote: Send + Sync {
    fn propose(&self, run: RunId, proposals: &[(String, String)]) -> Result<Vec<Task>>;
}
