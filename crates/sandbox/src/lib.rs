//! Confinement for every process gaffer starts for a task, with
//! [bubblewrap](https://github.com/containers/bubblewrap) (`bwrap`).
//!
//! [`Sandbox::detect`] finds bwrap once per daemon and proves it can start
//! a sandbox here (it needs unprivileged user namespaces).
//! [`Sandbox::wrap`] turns a [`gaffer_proc::CommandSpec`] and a [`Policy`]
//! into a spec that runs bwrap, which sets the sandbox up and then executes
//! the original command; run it with [`gaffer_proc::run`] or
//! [`gaffer_proc::spawn_lines`] as before.
//!
//! # What is confined, and what each flag buys
//!
//! * Filesystem: `--ro-bind / /` makes everything read-only. The policy's
//!   hidden paths (the user's home, gaffer's state directory, the user's
//!   checkout) are each replaced by an empty tmpfs (`--tmpfs`, made
//!   read-only with `--remount-ro` at the end), so secrets in them cannot
//!   be read and nothing can be written there. The worktree, the run's
//!   scratch directory, the agent's data directory and the process's home
//!   are bound writable (`--bind`) on top, even inside a hidden path:
//!   mounts are sorted parents first because bwrap applies them in order.
//!   `/tmp` is a fresh tmpfs, `/dev` a minimal one (`--dev`), `/proc` a new
//!   procfs (`--proc`).
//! * `--unshare-pid`: the process sees only its own tree in `/proc`, so it
//!   can neither read `/proc/<daemon>/environ` (API keys) nor signal any
//!   host process.
//! * `--unshare-user` and `--cap-drop ALL`: no capabilities, even when the
//!   daemon runs as root (bwrap otherwise keeps root's, and `CAP_SYS_ADMIN`
//!   could simply remount `/` read-write).
//! * `--unshare-net` with [`Network::None`]: only a private loopback, no
//!   host or internet connections. [`Network::Host`] keeps the host's.
//!   [`Network::Private`] keeps the network namespace gaffer-proc made for
//!   the process ([`gaffer_proc::PrivateNet`]): a loopback where gaffer
//!   listens at chosen ports and [`relay`]s each to one service outside (a
//!   model's API, gaffer's own HTTP port), and nothing else. bwrap cannot
//!   forward ports, and a daemon that is not root cannot enter a namespace
//!   bwrap made, hence the namespace made before bwrap starts.
//!   [`PolicyBuilder::hosts`] binds a hosts file over `/etc/hosts` so the
//!   services' names resolve to that loopback (TLS still checks the real
//!   certificate, end to end through the relay).
//! * `--unshare-ipc`, `--unshare-uts`: no shared memory or semaphores with
//!   host processes; a hostname of its own.
//! * `--new-session`: no controlling terminal, so no `TIOCSTI` keystroke
//!   injection into the terminal gaffer was started from.
//! * `--die-with-parent`: the sandbox dies (SIGKILL) with its bwrap, and the
//!   pid namespace takes every process left inside with it.
//!
//! The environment is the caller's: `CommandSpec::env` and `env_clear`
//! apply to bwrap, which passes its environment on. Only `HOME` is added,
//! when the policy sets a home.
//!
//! Cancelling or timing out a wrapped run kills the whole sandbox at once:
//! the program runs in its own session and pid namespace, out of reach of
//! gaffer-proc's SIGTERM to the group, and dies by SIGKILL when bwrap does.
//!
//! # What [`SandboxMode::None`] gives up
//!
//! Everything above: the process runs with the full rights of the user
//! running gaffer. It can read the home directory (SSH keys, cloud
//! credentials, other projects), gaffer's state and every other task's
//! worktree, write anywhere the user can, read other processes'
//! environments and signal them, and use the network.

mod detect;
mod error;
mod flags;
mod hosts;
mod links;
mod mode;
mod mounts;
mod policy;
mod program;
mod relay;
mod sandbox;

pub use error::{BWRAP_HINT, SandboxError};
pub use mode::{SandboxMode, UnknownMode};
pub use policy::{Network, Policy, PolicyBuilder};
pub use relay::relay;
pub use sandbox::Sandbox;
