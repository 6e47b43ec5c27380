//! How a finished process ended.

use std::time::Duration;

/// How the process (the group leader) ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Termination {
    /// Exited on its own with this exit code.
    Exited(i32),
    /// Killed by this signal number, not by us (e.g. it crashed, or
    /// something else killed it).
    ///
    /// The program runs under a guard shell, which sees death by signal `n`
    /// as status `128 + n`: a program that *exits* with such a status on
    /// purpose (say 130) is reported as `Signaled(n)` too.
    Signaled(i32),
    /// Ran past [`crate::CommandSpec::timeout`] and was killed.
    TimedOut,
    /// The cancellation token fired and the process was killed.
    Cancelled,
}

/// The result of running a process to completion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessOutcome {
    /// How it ended.
    pub termination: Termination,
    /// Wall time from spawn until the leader was reaped.
    pub duration: Duration,
    /// The last [`crate::CommandSpec::tail_bytes`] bytes of output, as lossy
    /// UTF-8, starting at a line boundary when possible.
    ///
    /// For [`crate::run`] this is stdout and stderr interleaved in the order
    /// they were written (both go to one pipe). For
    /// [`crate::spawn_lines`] it is stderr only (stdout went to the lines).
    pub tail: String,
    /// Total bytes of the stream(s) the tail was taken from.
    pub total_bytes: u64,
}

impl ProcessOutcome {
    /// True if the process exited on its own with code 0.
    pub fn success(&self) -> bool {
        self.termination == Termination::Exited(0)
    }

    /// The exit code, if the process exited on its own.
    pub fn exit_code(&self) -> Option<i32> {
        match self.termination {
            Termination::Exited(code) => Some(code),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(termination: Termination) -> ProcessOutcome {
        ProcessOutcome {
            termination,
            duration: Duration::ZERO,
            tail: String::new(),
            total_bytes: 0,
        }
    }

    #[test]
    fn success_only_for_exit_zero() {
        assert!(outcome(Termination::Exited(0)).success());
        assert!(!outcome(Termination::Exited(1)).success());
        assert!(!outcome(Termination::Signaled(9)).success());
        assert!(!outcome(Termination::TimedOut).success());
        assert!(!outcome(Termination::Cancelled).success());
    }

    #[test]
    fn exit_code_only_for_exits() {
        assert_eq!(outcome(Termination::Exited(3)).exit_code(), Some(3));
        assert_eq!(outcome(Termination::Signaled(15)).exit_code(), None);
        assert_eq!(outcome(Termination::TimedOut).exit_code(), None);
    }
}
