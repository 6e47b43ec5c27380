//! Running a command to completion, keeping the tail of its output.

use std::net::TcpListener;
use std::os::fd::OwnedFd;
use std::process::Stdio;

use tokio::net::unix::pipe;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::error::ProcError;
use crate::identity::ProcessIdentity;
use crate::outcome::ProcessOutcome;
use crate::readers;
use crate::spawner;
use crate::spec::CommandSpec;
use crate::supervise::{Limits, supervise};

/// Runs `spec` to completion in its own process group.
///
/// stdout and stderr share one pipe, so the outcome's `tail` shows them
/// interleaved in the order they were written. `on_start` is called with
/// the child's identity right after it starts, before waiting; persist it
/// there so a restarted daemon can [`crate::kill_group`] a lost run.
///
/// On timeout, or when `cancel` fires, the whole group gets SIGTERM, then
/// SIGKILL after [`CommandSpec::kill_grace`]. When the leader exits on its
/// own, members it left behind are terminated the same way. Either way the
/// leader is reaped and no member of the group is left running when this
/// returns. Dropping the returned future SIGKILLs the group.
///
/// Errors only if the process cannot be started or waited for; a failing
/// process is reported through [`ProcessOutcome::termination`].
///
/// With [`CommandSpec::private_net`] the listeners are dropped, so connections to its ports
/// are refused: use [`run_with_listeners`] to relay them.
pub async fn run(
    spec: &CommandSpec,
    cancel: &CancellationToken,
    on_start: impl FnOnce(&ProcessIdentity),
) -> Result<ProcessOutcome, ProcError> {
    run_with_listeners(spec, cancel, |identity, _| on_start(identity)).await
}

/// [`run`], with `on_start` also given the listeners of the child's private network (see
/// [`crate::LineProcess::listeners`]; empty without [`CommandSpec::private_net`]). Start the
/// relays there, e.g. as Tokio tasks: this future waits for the process.
pub async fn run_with_listeners(
    spec: &CommandSpec,
    cancel: &CancellationToken,
    on_start: impl FnOnce(&ProcessIdentity, Vec<(u16, TcpListener)>),
) -> Result<ProcessOutcome, ProcError> {
    let (read_end, write_end) = std::io::pipe()?;
    let write_end_for_stderr = write_end.try_clone()?;
    let read_end = pipe::Receiver::from_owned_fd(OwnedFd::from(read_end))?;

    let started = Instant::now();
    let mut spawned = spawner::spawn(
        spec,
        Stdio::from(write_end),
        Stdio::from(write_end_for_stderr),
    )?;
    // Only `spawn_lines` hands out a stdin to write to: here a piped one is closed at once.
    drop(spawned.child.stdin.take());
    on_start(
        spawned.guard.identity(),
        std::mem::take(&mut spawned.listeners),
    );

    let tail = readers::shared_tail(spec.tail_bytes);
    let stop = CancellationToken::new();
    let reader = readers::spawn_reader(readers::copy_into_tail(
        read_end,
        tail.clone(),
        stop.clone(),
    ));

    let limits = Limits {
        started,
        timeout: spec.timeout,
        grace: spec.kill_grace,
    };
    let finished = supervise(spawned, limits, cancel).await?;
    readers::drain(vec![reader], &stop).await;

    let (tail, total_bytes) = readers::render_tail(&tail);
    Ok(ProcessOutcome {
        termination: finished.termination,
        duration: finished.duration,
        tail,
        total_bytes,
    })
}
