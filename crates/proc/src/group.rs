//! Signalling whole process groups, safely.
//!
//! Two situations are handled differently:
//!
//! * While the group leader is known to be the process we spawned (it is
//!   our unreaped child, or its start time still matches), the group id
//!   cannot have been reused, so `killpg` is safe and atomic.
//! * Once the leader is gone, the group id is only held by whatever members
//!   remain. Those are found by scanning `/proc` for processes with that
//!   process group that started no earlier than the leader, and are
//!   signalled one by one.

use std::collections::HashSet;

use nix::errno::Errno;
use nix::sys::signal::{Signal, kill, killpg};
use nix::unistd::Pid;

use crate::identity::ProcessIdentity;
use crate::procfs;

/// How many `/proc` scans [`kill_group`] makes, at most, to catch members
/// forked while it was killing their parents.
const MAX_SWEEPS: usize = 8;

/// True if `pgid` may be signalled at all: never pid 0/1 (or negative,
/// which `kill` would interpret as "every process"), never our own group.
pub(crate) fn is_signallable_group(pgid: i32) -> bool {
    pgid > 1 && pgid != nix::unistd::getpgrp().as_raw()
}

/// Sends `signal` to the whole group `pgid` with `killpg`.
///
/// Only call this while the group leader is known to be ours. Returns
/// `false` if the group no longer exists or may not be signalled.
pub(crate) fn signal_group(pgid: i32, signal: Signal) -> bool {
    if !is_signallable_group(pgid) {
        return false;
    }
    match killpg(Pid::from_raw(pgid), signal) {
        Ok(()) => true,
        Err(Errno::ESRCH) => false,
        Err(err) => {
            tracing::warn!(pgid, %signal, %err, "killpg failed");
            false
        }
    }
}

/// Sends `signal` individually to each live member of `id`'s group that
/// started no earlier than `id.start_time`. Returns the pids signalled.
pub(crate) fn signal_members(id: &ProcessIdentity, signal: Signal) -> Vec<i32> {
    if !is_signallable_group(id.pgid) {
        return Vec::new();
    }
    let me = nix::unistd::getpid().as_raw();
    procfs::live_members(id.pgid, id.start_time)
        .into_iter()
        .filter(|p| p.pid > 1 && p.pid != me)
        .filter(|p| kill(Pid::from_raw(p.pid), signal).is_ok())
        .map(|p| p.pid)
        .collect()
}

/// Number of live (non-zombie) members of `id`'s group that started no
/// earlier than `id.start_time`.
pub(crate) fn live_member_count(id: &ProcessIdentity) -> usize {
    procfs::live_members(id.pgid, id.start_time).len()
}

/// SIGKILLs every process of the group of `id`, for cleaning up after a
/// run whose supervisor (for example a previous gaffer daemon) is gone.
///
/// * If the leader is still the same process (pid and start time match)
///   and still leads group `id.pgid`, the whole group is killed with
///   `killpg`.
/// * Whether or not the leader survives, every other process whose process
///   group is `id.pgid` and whose start time is `>= id.start_time` is
///   killed too (children left behind by a dead leader).
///
/// Then every process still carrying the identity's token (descendants that left the group)
/// is killed too.
///
/// Returns how many distinct processes were signalled. Never signals pid or
/// pgid `<= 1`, the calling process, or the caller's own process group.
///
/// Start times restart at every boot: do not call this with an identity
/// recorded before a reboot (see [`crate::boot_id`]).
pub fn kill_group(id: &ProcessIdentity) -> usize {
    if id.pid <= 1 || !is_signallable_group(id.pgid) {
        return 0;
    }
    let me = nix::unistd::getpid().as_raw();
    let mut signalled: HashSet<i32> = HashSet::new();

    if let Some(leader) = procfs::read_stat(id.pid)
        && leader.start_time == id.start_time
        && !leader.is_exited()
        && id.pid != me
    {
        if leader.pgrp == id.pgid {
            // The leader pins the group id, so nothing can have reused it.
            let members = procfs::live_members(id.pgid, 0);
            if signal_group(id.pgid, Signal::SIGKILL) {
                signalled.extend(members.iter().map(|p| p.pid));
                signalled.insert(id.pid);
            }
        } else if kill(Pid::from_raw(id.pid), Signal::SIGKILL).is_ok() {
            // The leader moved to another group; it is still ours to kill.
            signalled.insert(id.pid);
        }
    }

    // Members left behind (or forked while we were killing): repeat until a
    // scan finds nobody new.
    for _ in 0..MAX_SWEEPS {
        let hit = signal_members(id, Signal::SIGKILL);
        let before = signalled.len();
        signalled.extend(hit);
        if signalled.len() == before {
            break;
        }
    }
    // Descendants that left the group (a new session) still carry the token.
    let escaped = id.token.as_deref().map_or(0, crate::escaped::kill_carrying);
    signalled.len() + escaped
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::current_identity;

    #[test]
    fn refuses_init_and_invalid_groups() {
        for pgid in [-1, 0, 1] {
            assert!(!is_signallable_group(pgid));
            let id = ProcessIdentity {
                pid: 12345,
                pgid,
                start_time: 0,
                token: None,
            };
            assert_eq!(kill_group(&id), 0);
        }
        let id = ProcessIdentity {
            pid: 1,
            pgid: 12345,
            start_time: 0,
            token: None,
        };
        assert_eq!(kill_group(&id), 0);
    }

    #[test]
    fn refuses_own_group() {
        let me = current_identity();
        assert!(!is_signallable_group(me.pgid));
        assert_eq!(kill_group(&me), 0);
        assert!(signal_members(&me, Signal::SIGKILL).is_empty());
    }
}
