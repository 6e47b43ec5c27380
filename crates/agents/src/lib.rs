//! Agent backends behind one trait and one normalized event stream (DESIGN §5).
//!
//! A backend starts a run in a worktree and returns a [`RunHandle`]: a stream of [`AgentEvent`]s
//! that always ends with exactly one [`AgentEvent::Finished`]. The engine never looks at a
//! backend's raw output; it reads these events, and decides from evidence it checks itself (a
//! commit on the branch, verify's exit code) what happened.
//!
//! This crate holds the trait, the event types, and the built-in `scripted` backend that edits
//! files from a script (what `gaffer demo` and the tests use). The real CLI and HTTP backends
//! plug in behind the same trait.

pub mod claude;
mod cli_agent;
pub mod codex;
pub mod command;
mod confinement;
mod edge;
mod event;
mod from_settings;
pub mod http;
mod inbox;
mod lines;
mod registry;
mod scripted;

pub use command::CommandBackend;

/// The ledgers under an agent's data directory (see `cli_agent::Ledger`): the engine hides them
/// from the sandbox, so that a run cannot cheapen the next.
pub const LEDGER_DIRS: &[&str] = &[claude::SESSIONS.dir, codex::THREADS.dir];

pub use confinement::{Confinement, Relays};
pub use edge::Environment;
pub use event::{AgentEvent, Outcome, RunHandle, RunRequest};
pub use from_settings::{
    Build, agent_by_name, agents_from_settings, default_agent, endpoints_of, key_of, program_of,
};
pub use inbox::{Inbox, InboxClosed};
pub use lines::{classify_line, classify_text};
pub use registry::{AgentBackend, AgentError, AgentSpec, ByHand, Registry};
pub use scripted::{Script, ScriptAction, ScriptAttempt, ScriptTask, ScriptedBackend};
