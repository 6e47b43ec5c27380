//! The runtime that drives tasks through the state machine of `gaffer-core`.
//!
//! - [`Board`] opens a project (settings, repository, store) and offers what people do to tasks:
//!   add, cancel, retry, approve, reject, answer. Every change goes through [`apply`]: read the
//!   task, run the pure machine, write the new state, its events and the jobs its effects need in
//!   one store transaction.
//! - [`Engine`] runs the loop: recovery on start, the scheduler (promote, start, settle epics),
//!   the merge queue (candidates stacked on the train ahead, verified in parallel within the
//!   host's heavy-work budget, the passing prefix landed at once), and workers that claim jobs
//!   under leases (agent runs, verify, landing, cleanup), heartbeat them, and report their
//!   results back as machine inputs, completing the job in the same transaction.
//!
//! Because every effect becomes a leased job in the same transaction as the state that asked
//! for it, a `kill -9` at any instant loses nothing: on restart the jobs of the dead instance go
//! back to the queue, their processes are killed, and each job runs to one recorded completion.

mod actions;
mod apply;
mod attach;
mod authorship;
mod baseline;
mod best_of;
mod board;
mod board_read;
mod budget;
mod clean;
mod conclude;
mod confine;
mod edit;
mod engine;
mod error;
mod fresh;
mod heartbeats;
mod host;
mod idle;
pub mod intake;
mod jobs;
mod landing;
mod listening;
mod needs;
mod owner;
mod paths;
mod phases;
mod pricing;
mod process_record;
mod prompts;
mod proposals;
mod queue;
mod queue_lease;
mod queue_move;
mod queue_report;
mod recovery;
mod redacting_store;
mod registry;
mod remote_sync;
mod repo_map;
mod reports;
mod revert;
mod review;
mod risk;
mod routing;
mod run_access;
mod said;
mod scheduler;
mod secrets;
pub mod store;
mod who;
pub mod worker;
mod worker_tokens;
mod write_scope;

pub use actions::Performed;
pub use apply::{Applied, Extra, apply};
pub use baseline::Baseline;
pub use board::{Board, BoardOptions, SandboxReport, StatusReport, main_worktree, project_key};
pub use budget::{BudgetReport, TaskSpend, spent as cost_of_runs, task_budget};
pub use conclude::{JobReport, conclude};
pub use confine::{describe as describe_confinement, sandbox_for};
pub use engine::{Engine, EngineHandle};
pub use error::EngineError;
pub use gaffer_api::{Action, Place, TaskChanges};
pub use host::{HeldBack, HostBudget, HostLoad};
pub use idle::{SURVEY_LABEL, is_survey};
pub use landing::Landing;
pub use owner::daemon_prefix;
pub use paths::StatePaths;
pub use phases::{Phase, PhaseTotal};
pub use pricing::priced;
pub use prompts::{OVERRIDE_DIR as PROMPT_OVERRIDE_DIR, last_handoff};
pub use proposals::{parse_lines as proposal_lines, proposal_body};
pub use queue_lease::queue_lease_name;
pub use queue_report::{HostReport, QueueEntryReport, QueueExit, QueueMetrics, QueueReport};
pub use registry::{agent_by_name, agents_from_settings, default_agent};
pub use reports::MAX_REPORT;
pub use revert::{REVERTS_PREFIX, reverts_label};
pub use routing::WorkerReport;
pub use run_access::{RandomError, RunAccess, random_secret, same_secret};
pub use secrets::Secrets;
pub use worker_tokens::{WORKER_TOKEN_PREFIX, worker_token_hash};
