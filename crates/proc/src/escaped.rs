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

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The environment variable holding a run's token.
pub const TOKEN_VAR: &str = "GAFFER_PROCESS_TOKEN";

/// How many times to look again after killing (to catch processes forked meanwhile).
const PASSES: usize = 5;
const PAUSE: Duration = Duration::from_millis(50);

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

/// Kills (SIGKILL) every running process (but this one) whose environment holds `TOKEN_VAR=token`, looking
/// again until none is left or [`PASSES`] are done. Returns how many were killed.
pub fn kill_carrying(token: &str) -> usize {
    let needle = format!("{TOKEN_VAR}={token}");
    let mut killed = 0;
    for _ in 0..PASSES {
        let found = carrying(&needle);
        if found.is_empty() {
            break;
        }
        for pid in found {
            if kill(Pid::from_raw(pid), Signal::SIGKILL).is_ok() {
                killed += 1;
            }
        }
        std::thread::sleep(PAUSE);
    }
    killed
}

/// Running processes (not zombies, not this one) whose environment contains `needle`.
fn carrying(needle: &str) -> Vec<i32> {
    let me = std::process::id() as i32;
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .filter(|&pid| pid != me)
        .filter(|pid| {
            let Ok(environ) = std::fs::read(format!("/proc/{pid}/environ")) else {
                return false;
            };
            environ.split(|b| *b == 0).any(|v| v == needle.as_bytes()) && !is_zombie(*pid)
        })
        .collect()
}

fn is_zombie(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| {
            let (_, rest) = stat.rsplit_once(')')?;
            Some(rest.trim_start().starts_with(['Z', 'X']))
        })
        .unwrap_or(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::{Command, Stdio};

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
        while carrying(&format!("{TOKEN_VAR}={token}")).is_empty() {
            assert!(std::time::Instant::now() < deadline);
            std::thread::sleep(PAUSE);
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
