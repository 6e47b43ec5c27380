//! Waiting for a spawned group: timeout, cancellation, graceful shutdown,
//! and making sure no member of the group outlives the leader.

use std::os::unix::process::ExitStatusExt;
use std::process::ExitStatus;
use std::time::Duration;

use nix::sys::signal::Signal;
use tokio::time::{Instant, sleep, sleep_until, timeout};
use tokio_util::sync::CancellationToken;

use crate::error::ProcError;
use crate::group;
use crate::identity::ProcessIdentity;
use crate::outcome::Termination;
use crate::spawner::Spawned;

/// How often `/proc` is scanned while waiting for group members to die.
const POLL_INTERVAL: Duration = Duration::from_millis(20);
/// How long after SIGKILL we keep waiting for members to disappear (they
/// may be stuck in uninterruptible I/O) before giving up with a warning.
const KILL_WAIT_LIMIT: Duration = Duration::from_secs(5);

/// Limits applied while supervising.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    /// When the process was spawned.
    pub started: Instant,
    /// Kill it after this long.
    pub timeout: Option<Duration>,
    /// Time between SIGTERM and SIGKILL.
    pub grace: Duration,
}

/// How the leader ended and when.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Finished {
    pub termination: Termination,
    pub duration: Duration,
}

/// Waits until the leader exits, the timeout passes or `cancel` fires.
///
/// On timeout or cancel: SIGTERM the group, give it `grace`, then SIGKILL.
/// In every case, once the leader is reaped, remaining members get SIGTERM
/// (if not already sent), then SIGKILL after the grace, and we wait until
/// none is left.
pub(crate) async fn supervise(
    spawned: Spawned,
    limits: Limits,
    cancel: &CancellationToken,
) -> Result<Finished, ProcError> {
    let Spawned {
        mut child,
        mut guard,
        ..
    } = spawned;
    let identity = guard.identity().clone();

    let deadline = async {
        match limits.timeout {
            Some(t) => sleep_until(limits.started + t).await,
            None => std::future::pending().await,
        }
    };
    let stop = tokio::select! {
        biased;
        status = child.wait() => Ok(status?),
        () = cancel.cancelled() => Err(Termination::Cancelled),
        () = deadline => Err(Termination::TimedOut),
    };

    let (termination, duration, kill_at) = match stop {
        Ok(status) => {
            guard.leader_reaped();
            let duration = limits.started.elapsed();
            // Members the leader left behind get the same grace as a
            // timed-out group.
            if !group::signal_members(&identity, Signal::SIGTERM).is_empty() {
                tracing::debug!(pgid = identity.pgid, "leader exited; terminating leftovers");
            }
            (
                termination_of(status),
                duration,
                Instant::now() + limits.grace,
            )
        }
        Err(termination) => {
            tracing::debug!(pgid = identity.pgid, ?termination, "stopping process group");
            let kill_at = Instant::now() + limits.grace;
            group::signal_group(identity.pgid, Signal::SIGTERM);
            match timeout(limits.grace, child.wait()).await {
                Ok(status) => {
                    status?;
                }
                Err(_elapsed) => {
                    group::signal_group(identity.pgid, Signal::SIGKILL);
                    child.wait().await?;
                }
            }
            guard.leader_reaped();
            (termination, limits.started.elapsed(), kill_at)
        }
    };
    reap_leftovers(&identity, kill_at).await;
    if let Some(token) = identity.token.clone() {
        // Whatever escaped the group (tools started in a new session) goes now.
        let escaped = tokio::task::spawn_blocking(move || crate::escaped::kill_carrying(&token))
            .await
            .unwrap_or(0);
        if escaped > 0 {
            tracing::debug!(escaped, "killed processes left outside the process group");
        }
    }
    guard.disarm();
    Ok(Finished {
        termination,
        duration,
    })
}

/// After the leader is reaped: waits for the remaining members of its group
/// to exit, SIGKILLing them from `kill_at` on.
async fn reap_leftovers(identity: &ProcessIdentity, kill_at: Instant) {
    let give_up = kill_at + KILL_WAIT_LIMIT;
    loop {
        if group::live_member_count(identity) == 0 {
            return;
        }
        let now = Instant::now();
        if now >= give_up {
            tracing::warn!(
                pgid = identity.pgid,
                "process group members survive SIGKILL"
            );
            return;
        }
        if now >= kill_at {
            // Repeated on purpose: catches members forked meanwhile.
            group::signal_members(identity, Signal::SIGKILL);
        }
        sleep(POLL_INTERVAL).await;
    }
}

fn termination_of(status: ExitStatus) -> Termination {
    match (status.code(), status.signal()) {
        (Some(code), _) => Termination::Exited(code),
        (None, Some(signal)) => Termination::Signaled(signal),
        (None, None) => Termination::Exited(-1),
    }
}
