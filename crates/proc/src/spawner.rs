//! Starting children: the guard, process group, null (or piped) stdin, environment, the
//! marks (token and supervisor), and the parent-death signal.
//!
//! The process actually forked is the guard shell (`shell_guard`), which leads
//! the group and runs the program; the program is looked up first
//! (`resolve`), so a missing one is still a spawn error.
//!
//! With a private network, the child enters it first (`private_net`), then sets its
//! parent-death signal: the last thing before exec, as without.
//!
//! `PR_SET_PDEATHSIG` fires when the *thread* that forked the child exits,
//! not when the process does. Tokio may run our code on short-lived
//! threads (e.g. its blocking pool, whose idle threads exit after a few
//! seconds), which would kill healthy children at random. So every fork
//! happens on one dedicated thread that lives as long as the process; the
//! signal then fires exactly when gaffer itself dies, including `kill -9`.

use std::io;
use std::net::TcpListener;
use std::path::Path;
use std::process::Stdio;
use std::sync::{OnceLock, mpsc};

use tokio::process::{Child, Command};
use tokio::runtime::Handle;

use crate::error::ProcError;
use crate::guard::GroupGuard;
use crate::identity::ProcessIdentity;
use crate::spec::CommandSpec;
use crate::{private_net, procfs, resolve, shell_guard, supervisor};

/// A freshly started child, already protected by a kill-on-drop guard.
#[derive(Debug)]
pub(crate) struct Spawned {
    pub child: Child,
    pub guard: GroupGuard,
    /// With a private network: the listeners in it, by port.
    pub listeners: Vec<(u16, TcpListener)>,
}

/// Starts `spec` as the leader of a new process group with the given
/// stdout and stderr. Must be called inside a Tokio runtime.
pub(crate) fn spawn(
    spec: &CommandSpec,
    stdout: Stdio,
    stderr: Stdio,
) -> Result<Spawned, ProcError> {
    let handle = Handle::try_current().map_err(|_| ProcError::NoRuntime)?;
    let spawn_error = |source| ProcError::Spawn {
        program: spec.program.clone(),
        source,
    };
    let program = resolve::program_path(spec).map_err(spawn_error)?;
    let net_error = |(step, source)| ProcError::PrivateNet {
        program: spec.program.clone(),
        step,
        source,
    };
    let token = crate::escaped::new_token();
    let mut cmd = build_command(spec, &program, stdout, stderr);
    cmd.env(crate::escaped::TOKEN_VAR, &token);
    // Marked before the fork: findable by `kill_orphans` even if gaffer dies
    // before anyone records the identity.
    cmd.env(supervisor::SUPERVISOR_VAR, supervisor::own_marker());
    let handoff = spec
        .private_net
        .as_ref()
        .map(|net| private_net::prepare(net, &mut cmd))
        .transpose()
        .map_err(net_error)?;
    set_parent_death_signal(&mut cmd);
    if let Some(filter) = &spec.syscall_filter {
        filter.install(cmd.as_std_mut());
    }
    let child = match spawn_on_dedicated_thread(cmd, handle) {
        Ok(child) => child,
        Err(source) => {
            return Err(match handoff.as_ref().and_then(|h| h.failed_step()) {
                Some(step) => net_error((step, source)),
                None => spawn_error(source),
            });
        }
    };
    let identity = ProcessIdentity {
        token: Some(token),
        ..identify(&child)?
    };
    tracing::debug!(program = %spec.program, pid = identity.pid, "spawned");
    // From here on a failure kills the child, which must not run without its listeners.
    let guard = GroupGuard::new(identity);
    let listeners = match handoff {
        Some(handoff) => handoff.receive().map_err(net_error)?,
        None => Vec::new(),
    };
    Ok(Spawned {
        child,
        guard,
        listeners,
    })
}

fn build_command(spec: &CommandSpec, program: &Path, stdout: Stdio, stderr: Stdio) -> Command {
    let mut cmd = Command::new(shell_guard::SHELL);
    cmd.args(shell_guard::args(program, &spec.args))
        .current_dir(&spec.cwd)
        .stdin(if spec.stdin_piped {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(stdout)
        .stderr(stderr)
        .process_group(0);
    if spec.env_clear {
        cmd.env_clear();
    }
    cmd.envs(spec.env.iter().map(|(k, v)| (k, v)));
    cmd
}

/// Makes the guard receive SIGHUP (on which it kills its group) when the
/// thread that forked it (the dedicated spawner thread, so: gaffer) dies.
///
/// The signals the guard relies on start with their default action: an
/// ignored signal stays ignored across exec, and a shell cannot trap a
/// signal that was ignored when it started (gaffer run under `nohup` ignores
/// SIGHUP; started with `&` from a script, SIGINT and SIGQUIT).
#[cfg(target_os = "linux")]
fn set_parent_death_signal(cmd: &mut Command) {
    use nix::sys::signal::{SigHandler, Signal, signal};
    let parent = std::process::id();
    #[allow(unsafe_code)]
    // SAFETY: `pre_exec` runs the closure in the forked child before exec,
    // where only async-signal-safe operations are allowed. The closure only
    // makes the `sigaction`, `prctl` and `getppid` system calls (nix's thin
    // wrappers, which neither allocate nor lock) and builds `io::Error`s from
    // raw errno values, which does not allocate either. It captures a `u32`.
    // Setting SIG_DFL installs no handler, so nothing can run at a bad time.
    unsafe {
        cmd.pre_exec(move || {
            for sig in [
                Signal::SIGHUP,
                Signal::SIGINT,
                Signal::SIGQUIT,
                Signal::SIGTERM,
            ] {
                signal(sig, SigHandler::SigDfl)?;
            }
            nix::sys::prctl::set_pdeathsig(Signal::SIGHUP)?;
            // If gaffer died before the prctl took effect, the signal will
            // never come: give up instead of running as an orphan.
            if nix::unistd::getppid().as_raw() as u32 != parent {
                return Err(io::Error::from_raw_os_error(libc::ESRCH));
            }
            Ok(())
        });
    }
}

#[cfg(not(target_os = "linux"))]
fn set_parent_death_signal(_cmd: &mut Command) {}

type Job = Box<dyn FnOnce() + Send>;

/// The sending side of the spawner thread's queue, or `None` if the thread
/// could not be created (then spawning happens on the calling thread).
fn spawner() -> Option<&'static mpsc::Sender<Job>> {
    static SPAWNER: OnceLock<Option<mpsc::Sender<Job>>> = OnceLock::new();
    SPAWNER
        .get_or_init(|| {
            let (tx, rx) = mpsc::channel::<Job>();
            let thread = std::thread::Builder::new()
                .name("gaffer-proc-spawner".into())
                .spawn(move || {
                    for job in rx {
                        // A panicking job must not take the thread (and so
                        // every child's parent-death signal) down with it.
                        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
                    }
                });
            match thread {
                Ok(_) => Some(tx),
                Err(err) => {
                    tracing::warn!(%err, "cannot start spawner thread; spawning inline");
                    None
                }
            }
        })
        .as_ref()
}

/// Runs `cmd.spawn()` on the spawner thread, inside `handle`'s runtime, and
/// waits for the result. The command (holding our copies of the child's
/// pipe ends) is dropped there right after spawning.
fn spawn_on_dedicated_thread(cmd: Command, handle: Handle) -> io::Result<Child> {
    let (reply_tx, reply_rx) = mpsc::sync_channel(1);
    let job: Job = Box::new(move || {
        let _entered = handle.enter();
        let mut cmd = cmd;
        let result = cmd.spawn();
        drop(cmd);
        let _ = reply_tx.send(result);
    });
    match spawner() {
        Some(tx) => {
            if let Err(mpsc::SendError(job)) = tx.send(job) {
                job();
            }
        }
        None => job(),
    }
    reply_rx
        .recv()
        .unwrap_or_else(|_| Err(io::Error::other("spawner thread failed while spawning")))
}

fn identify(child: &Child) -> Result<ProcessIdentity, ProcError> {
    let pid = child
        .id()
        .ok_or_else(|| io::Error::other("child was reaped before it could be identified"))?;
    let pid = pid as i32;
    // The child is unreaped, so its /proc entry exists even if it has
    // already exited.
    let (pgid, start_time) = match procfs::read_stat(pid) {
        Some(stat) => (stat.pgrp, stat.start_time),
        None => {
            tracing::warn!(pid, "cannot read /proc stat of new child");
            (pid, 0)
        }
    };
    Ok(ProcessIdentity {
        pid,
        pgid,
        start_time,
        token: None,
    })
}
