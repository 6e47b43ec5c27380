//! Child processes for gaffer: agents and verify commands, run so that
//! nothing is ever orphaned.
//!
//! Every child started here
//!
//! * leads its own process group, so the whole tree it forks can be
//!   signalled at once;
//! * has a null stdin and a configurable (optionally cleared) environment;
//! * gets `PR_SET_PDEATHSIG(SIGKILL)` on Linux, so it dies with gaffer even
//!   if gaffer is killed with `kill -9`;
//! * names, in its environment ([`SUPERVISOR_VAR`], set before the fork and
//!   inherited by everything it starts), the gaffer process that spawned it,
//!   so that [`kill_orphans`] can find it after a crash even if nothing
//!   recorded it;
//! * is identified by a [`ProcessIdentity`] (pid, process group, start
//!   time) that can be persisted and later passed to [`kill_group`] by a
//!   restarted daemon to clean up whatever is left of a lost run.
//!
//! Two ways to run something:
//!
//! * [`run`]: to completion, keeping the last bytes of stdout+stderr;
//! * [`spawn_lines`]: stdout streamed as lines (agents' JSON events),
//!   stderr kept as a tail.
//!
//! Both enforce an optional timeout and a cancellation token by sending
//! SIGTERM to the group, then SIGKILL after a grace period, and do not
//! return before every member of the group is gone.
//!
//! Linux only in practice: identities and group scans read `/proc`.

mod error;
mod escaped;
mod group;
mod guard;
mod identity;
mod line_process;
mod outcome;
mod procfs;
mod readers;
mod run;
mod spawner;
mod spec;
mod supervise;
mod supervisor;
mod sweep;
mod tail;

pub use error::ProcError;
pub use escaped::{TOKEN_VAR, kill_carrying};
pub use group::kill_group;
pub use identity::{ProcessIdentity, boot_id, current_identity, is_alive, start_time_of};
pub use line_process::{LineProcess, spawn_lines};
pub use outcome::{ProcessOutcome, Termination};
pub use run::run;
pub use spec::{CommandSpec, DEFAULT_KILL_GRACE, DEFAULT_MAX_LINE_BYTES, DEFAULT_TAIL_BYTES};
pub use supervisor::{SUPERVISOR_VAR, kill_orphans};
