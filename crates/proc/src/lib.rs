//! Child processes for gaffer: agents and verify commands, run so that
//! nothing is ever orphaned, and nothing outlives its supervisor.
//!
//! Every child started here
//!
//! * leads its own process group, so the whole tree it forks can be
//!   signalled at once; the leader is a tiny `/bin/sh` guard that runs the
//!   program and passes its exit status (or the signal that killed it) on
//!   (see [`Termination::Signaled`] for the one ambiguity);
//! * has a null stdin (or, for [`spawn_lines`] with [`CommandSpec::stdin_piped`], a pipe the
//!   caller writes) and a configurable (optionally cleared) environment;
//! * dies with gaffer, group and all, even if gaffer is killed with `kill -9`:
//!   the guard gets `PR_SET_PDEATHSIG(SIGHUP)` and then kills its whole group,
//!   whatever the program under it does (a shell that does not exec its last
//!   command included);
//! * carries two marks in its environment, inherited by everything it starts,
//!   even what leaves the group: the run's token ([`TOKEN_VAR`]) and, set
//!   before the fork, the gaffer process that spawned it ([`SUPERVISOR_VAR`]);
//! * is identified by a [`ProcessIdentity`] (the guard's pid, process group,
//!   start time, and the token) that can be persisted and later passed to
//!   [`kill_group`] by a restarted daemon to clean up whatever is left of a
//!   lost run.
//!
//! A restarted daemon also calls [`kill_orphans`], which kills every process
//! whose marked supervisor is dead: this finds children spawned just before a
//! crash that nobody recorded, and descendants that left their group.
//!
//! Two ways to run something:
//!
//! * [`run`]: to completion, keeping the last bytes of stdout+stderr;
//! * [`spawn_lines`]: stdout streamed as lines (agents' JSON events),
//!   stderr kept as a tail.
//!
//! Either can start the child in a private network namespace ([`PrivateNet`]): only a
//! loopback, on which gaffer listens at the ports asked for and gets the listeners back
//! ([`LineProcess::listeners`], [`run_with_listeners`]) to relay connections from inside.
//!
//! Both enforce an optional timeout and a cancellation token by sending
//! SIGTERM to the group, then SIGKILL after a grace period, and do not
//! return before every member of the group is gone; then whatever still
//! carries the run's token is killed too.
//!
//! Linux only in practice: the parent-death signal, identities and scans
//! read or need `/proc` and `prctl`.

mod error;
mod escaped;
mod group;
mod guard;
mod identity;
mod line_process;
mod outcome;
mod private_net;
mod procfs;
mod readers;
mod resolve;
mod run;
mod shell_guard;
mod spawner;
mod spec;
mod supervise;
mod supervisor;
mod sweep;
mod syscall_filter;
mod tail;

pub use error::ProcError;
pub use escaped::{TOKEN_VAR, kill_carrying};
pub use group::kill_group;
pub use identity::{ProcessIdentity, boot_id, current_identity, is_alive, start_time_of};
pub use line_process::{LineProcess, spawn_lines};
pub use outcome::{ProcessOutcome, Termination};
pub use private_net::{MAX_PRIVATE_PORTS, NetStep, PrivateNet};
pub use resolve::program_path;
pub use run::{run, run_with_listeners};
pub use spec::{CommandSpec, DEFAULT_KILL_GRACE, DEFAULT_MAX_LINE_BYTES, DEFAULT_TAIL_BYTES};
pub use supervisor::{SUPERVISOR_VAR, kill_orphans};
pub use syscall_filter::SyscallFilter;
