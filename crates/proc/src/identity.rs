//! Identifying a process robustly across pid reuse.
//!
//! A pid alone is not an identity: once a process is reaped the kernel may
//! hand its pid to an unrelated process. Pairing the pid with the start
//! time from `/proc/<pid>/stat` (clock ticks after boot) makes the pair
//! unique for the lifetime of one boot.

use serde::{Deserialize, Serialize};

use crate::procfs;

/// Who a spawned child is: enough to find and kill it, and its whole
/// process group, from a different (restarted) process.
///
/// Persist this as soon as [`crate::run`] calls `on_start` (or
/// [`crate::spawn_lines`] returns) so a daemon that restarts after being
/// killed can clean up with [`crate::kill_group`].
///
/// `start_time` is only meaningful within one boot of the machine; store
/// [`boot_id`] alongside it if identities may outlive a reboot.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ProcessIdentity {
    /// Process id of the group leader: the process gaffer spawned, which is
    /// the guard shell running the program, not the program itself.
    pub pid: i32,
    /// Process group id; equal to `pid` for processes spawned by this crate.
    pub pgid: i32,
    /// Field 22 of `/proc/<pid>/stat`: start time in clock ticks after boot.
    pub start_time: u64,
    /// The value of [`crate::TOKEN_VAR`] in the child's environment, inherited by everything it
    /// starts: finds descendants that left the process group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
}

/// Start time (field 22 of `/proc/<pid>/stat`) of process `pid`, or `None`
/// if no such process exists.
///
/// A zombie (exited but not yet reaped) still has a start time, so this
/// returns `Some` for it; use [`is_alive`] to ask whether it still runs.
pub fn start_time_of(pid: i32) -> Option<u64> {
    procfs::read_stat(pid).map(|stat| stat.start_time)
}

/// True if the process `id` describes still exists (same pid *and* same
/// start time) and has not exited. A zombie counts as not alive.
pub fn is_alive(id: &ProcessIdentity) -> bool {
    procfs::read_stat(id.pid)
        .is_some_and(|stat| stat.start_time == id.start_time && !stat.is_exited())
}

/// The identity of the calling process (for example a daemon's worker id).
///
/// `start_time` is 0 if `/proc` cannot be read.
pub fn current_identity() -> ProcessIdentity {
    let pid = nix::unistd::getpid().as_raw();
    ProcessIdentity {
        pid,
        pgid: nix::unistd::getpgrp().as_raw(),
        start_time: start_time_of(pid).unwrap_or(0),
        token: None,
    }
}

/// The kernel's random id of the current boot
/// (`/proc/sys/kernel/random/boot_id`), or `None` if unavailable.
///
/// Start times restart at zero on every boot, so an identity recorded
/// before a reboot must not be passed to [`crate::kill_group`] afterwards:
/// compare a stored boot id with this one first.
pub fn boot_id() -> Option<String> {
    std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
        .ok()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn current_identity_is_alive() {
        let me = current_identity();
        assert_eq!(me.pid, std::process::id() as i32);
        assert!(me.start_time > 0);
        assert!(is_alive(&me));
    }

    #[test]
    fn wrong_start_time_is_not_alive() {
        let mut me = current_identity();
        me.start_time += 1;
        assert!(!is_alive(&me));
    }

    #[test]
    fn boot_id_is_readable() {
        assert!(boot_id().is_some());
    }

    #[test]
    fn identity_round_trips_through_json() {
        let id = ProcessIdentity {
            pid: 10,
            pgid: 11,
            start_time: 5,
            token: None,
        };
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(json, r#"{"pid":10,"pgid":11,"start_time":5}"#);
        assert_eq!(serde_json::from_str::<ProcessIdentity>(&json).unwrap(), id);
    }
}
