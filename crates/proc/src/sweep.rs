//! Killing every process a `/proc` scan selects, scanning again until none is left.
//!
//! Used for processes found by a mark in their environment (a run's token, a dead supervisor's
//! marker): they are not in a process group we can signal at once, and may fork while we kill
//! them, so one scan is not enough.

use std::collections::HashSet;
use std::time::Duration;

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

/// How many times to look, at most (to catch processes forked meanwhile).
const PASSES: usize = 5;
/// Pause between passes, so the killed are gone from `/proc` when we look again.
const PAUSE: Duration = Duration::from_millis(50);

/// SIGKILLs every pid `select` returns, calling it again after a pause until it returns nothing
/// or [`PASSES`] are done. Never signals pid `<= 1`. Returns how many distinct processes were
/// signalled.
pub(crate) fn kill_in_passes(mut select: impl FnMut() -> Vec<i32>) -> usize {
    let mut killed = HashSet::new();
    for _ in 0..PASSES {
        let found = select();
        if found.is_empty() {
            break;
        }
        for pid in found.into_iter().filter(|&pid| pid > 1) {
            if kill(Pid::from_raw(pid), Signal::SIGKILL).is_ok() {
                killed.insert(pid);
            }
        }
        std::thread::sleep(PAUSE);
    }
    killed.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    #[test]
    fn kills_what_is_selected_and_counts_each_once() {
        let mut child = Command::new("sleep").arg("300").spawn().unwrap();
        let pid = child.id() as i32;
        let mut calls = 0;
        // Selected in every pass (as a process stuck in the kernel would be), plus pid 1.
        let killed = kill_in_passes(|| {
            calls += 1;
            vec![pid, 1]
        });
        assert_eq!(killed, 1);
        assert_eq!(calls, PASSES);
        assert!(child.wait().unwrap().code().is_none(), "killed by a signal");
    }

    #[test]
    fn stops_when_nothing_is_left() {
        let mut calls = 0;
        assert_eq!(
            kill_in_passes(|| {
                calls += 1;
                Vec::new()
            }),
            0
        );
        assert_eq!(calls, 1);
    }
}
