//! Finding and killing what a child left behind outside its process group.
//!
//! Killing a process group does not reach processes that left it: agent CLIs start some tools in
//! a new session (Claude Code 2.1.329 runs each `Bash` command under `setsid`, Codex runs its
//! commands through `bwrap --new-session`), and a verify command may daemonize something. So
//! every child this crate spawns gets a token in its environment ([`TOKEN_VAR`]), inherited by
//! everything it starts; the token is part of its [`crate::ProcessIdentity`], and once the group
//! is gone every process still carrying the token is killed — after a normal exit, a timeout, a
//! cancel, and by [`crate::kill_group`] after a crash. (A process that clears its environment
//! escapes this; none of the CLIs' tools do.)

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::{procfs, sweep};

/// The environment variable holding a run's token.
pub const TOKEN_VAR: &str = "GAFFER_PROCESS_TOKEN";

/// A token no other run of this or any other gaffer process has.
pub(crate) fn new_token() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    format!("{}-{nanos}-{n}", std::process::id())
}

/// Kills (SIGKILL) every running process (but this one) whose environment holds
/// `TOKEN_VAR=token`, looking again until none is left or a few passes are done. Returns how
/// many were killed.
pub fn kill_carrying(token: &str) -> usize {
    sweep::kill_in_passes(|| carrying(token))
}

/// Running processes (not zombies, not this one) whose environment holds `TOKEN_VAR=token`.
fn carrying(token: &str) -> Vec<i32> {
    procfs::processes_with_env(TOKEN_VAR)
        .into_iter()
        .filter(|(_, value)| value == token.as_bytes())
        .map(|(pid, _)| pid)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::{Command, Stdio};
    use std::time::Duration;

    #[test]
    fn tokens_differ() {
        assert_ne!(new_token(), new_token());
    }

    #[test]
    fn processes_carrying_the_token_are_killed_and_others_spared() {
        let token = new_token();
        // A process in its own session, as Claude Code starts its commands.
        let mut marked = Command::new("setsid")
            .args(["sleep", "300"])
            .env(TOKEN_VAR, &token)
            .stdin(Stdio::null())
            .spawn()
            .unwrap();
        let mut other = Command::new("sleep")
            .arg("300")
            .env(TOKEN_VAR, "someone-else")
            .spawn()
            .unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while carrying(&token).is_empty() {
            assert!(std::time::Instant::now() < deadline);
            std::thread::sleep(Duration::from_millis(20));
        }
        assert_eq!(kill_carrying(&token), 1);
        assert!(
            marked.wait().unwrap().code().is_none(),
            "killed by a signal"
        );
        assert!(
            other.try_wait().unwrap().is_none(),
            "the other one still runs"
        );
        other.kill().unwrap();
        other.wait().unwrap();
        assert_eq!(kill_carrying(&token), 0);
    }
}
