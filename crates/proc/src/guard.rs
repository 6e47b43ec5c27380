//! Kill-on-drop protection for a spawned process group.

use nix::sys::signal::Signal;

use crate::group;
use crate::identity::ProcessIdentity;

/// Kills the process group when dropped, unless told the work is done.
///
/// Created right after spawning, so a panic, an early `?` return or a
/// dropped future can never leave the group running.
#[derive(Debug)]
pub(crate) struct GroupGuard {
    identity: ProcessIdentity,
    state: State,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// The leader is our unreaped child: its pgid cannot be reused, so
    /// `killpg` is safe.
    LeaderRunning,
    /// The leader has been reaped: only members found in `/proc` (started
    /// after the leader) may be signalled.
    LeaderReaped,
    /// Nothing is left to clean up.
    Done,
}

impl GroupGuard {
    pub fn new(identity: ProcessIdentity) -> Self {
        Self {
            identity,
            state: State::LeaderRunning,
        }
    }

    pub fn identity(&self) -> &ProcessIdentity {
        &self.identity
    }

    /// Records that the leader has been reaped.
    pub fn leader_reaped(&mut self) {
        self.state = State::LeaderReaped;
    }

    /// Records that no process of the group remains.
    pub fn disarm(&mut self) {
        self.state = State::Done;
    }
}

impl Drop for GroupGuard {
    fn drop(&mut self) {
        match self.state {
            State::LeaderRunning => {
                tracing::debug!(pgid = self.identity.pgid, "killing abandoned process group");
                group::signal_group(self.identity.pgid, Signal::SIGKILL);
            }
            State::LeaderReaped => {
                group::signal_members(&self.identity, Signal::SIGKILL);
            }
            State::Done => {}
        }
    }
}
