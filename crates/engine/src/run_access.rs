//! What an agent may do through the daemon's API while it runs: each run gets a token of its
//! own ([`RunAccess::issue`]), good only for reporting on its own task (progress, a question, a
//! proposal) and only until the run ends ([`RunAccess::revoke`]). The server asks
//! [`RunAccess::check`] which run a token belongs to; what that run may call is the server's rule.
//!
//! The daemon's own token never reaches an agent: an agent that could approve its own change or
//! read every task would make the approval gate and the sandbox pointless.

use gaffer_core::{RunId, TaskId};
use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

/// Random bytes in a secret: 256 bits.
const SECRET_BYTES: usize = 32;

/// The operating system could not give random bytes.
#[derive(Debug, thiserror::Error)]
#[error("the operating system's random number generator failed: {0}")]
pub struct RandomError(String);

/// A fresh secret from the operating system's random number generator: 256 bits, as 64 lowercase
/// hex digits (safe in a header, a cookie, a URL and an environment variable).
pub fn random_secret() -> Result<String, RandomError> {
    let mut bytes = [0u8; SECRET_BYTES];
    getrandom::fill(&mut bytes).map_err(|e| RandomError(e.to_string()))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// Whether `a` and `b` are equal, in time that does not depend on where they differ.
pub fn same_secret(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The tokens of the runs going now, and where the API is. Shared by the engine (which issues
/// and revokes) and the server (which checks).
#[derive(Default)]
pub struct RunAccess {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    grants: HashMap<RunId, Grant>,
    api_url: Option<String>,
}

struct Grant {
    task: TaskId,
    token: String,
}

impl RunAccess {
    pub fn new() -> RunAccess {
        RunAccess::default()
    }

    /// A fresh token for `run` of `task`, replacing any the run had. Should the operating
    /// system's random number generator fail, the answer is an empty string, which
    /// [`RunAccess::check`] never accepts: the agent then cannot report, but nothing is opened.
    pub fn issue(&self, task: TaskId, run: RunId) -> String {
        let token = match random_secret() {
            Ok(token) => token,
            Err(e) => {
                tracing::error!(%task, %run, "no token for the run: {e}");
                self.lock().grants.remove(&run);
                return String::new();
            }
        };
        let grant = Grant {
            task,
            token: token.clone(),
        };
        self.lock().grants.insert(run, grant);
        token
    }

    /// Forgets `run`'s token (when the run ends); nothing happens if it had none.
    pub fn revoke(&self, run: RunId) {
        self.lock().grants.remove(&run);
    }

    /// The task and run `token` was issued for, while the run lasts.
    pub fn check(&self, token: &str) -> Option<(TaskId, RunId)> {
        let token = token.trim();
        if token.is_empty() {
            return None;
        }
        // Every grant is compared in full, so the time taken says nothing about the tokens.
        let inner = self.lock();
        let mut found = None;
        for (run, grant) in &inner.grants {
            if same_secret(&grant.token, token) {
                found = Some((grant.task, *run));
            }
        }
        found
    }

    /// The daemon's API as agents reach it (`http://127.0.0.1:7420`), once the daemon listens.
    pub fn api_url(&self) -> Option<String> {
        self.lock().api_url.clone()
    }

    /// Set by the daemon after it binds its listener.
    pub fn set_api_url(&self, url: String) {
        self.lock().api_url = Some(url);
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // The map is never left half-changed, so a panic elsewhere does not spoil it.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl std::fmt::Debug for RunAccess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let inner = self.lock();
        f.debug_struct("RunAccess")
            .field("runs", &inner.grants.len())
            .field("api_url", &inner.api_url)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_long_random_and_hex() {
        let (a, b) = (random_secret().unwrap(), random_secret().unwrap());
        assert_eq!(a.len(), 64);
        assert!(
            a.bytes()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        );
        assert_ne!(a, b);
    }

    #[test]
    fn a_token_names_its_run_until_revoked() {
        let access = RunAccess::new();
        let token = access.issue(TaskId(4), RunId(9));
        let other = access.issue(TaskId(5), RunId(10));
        assert_ne!(token, other);
        assert_eq!(access.check(&token), Some((TaskId(4), RunId(9))));
        assert_eq!(
            access.check(&format!(" {token}\n")),
            Some((TaskId(4), RunId(9)))
        );
        assert_eq!(access.check(&other), Some((TaskId(5), RunId(10))));
        assert_eq!(access.check(&token[..63]), None);
        assert_eq!(access.check(""), None);
        access.revoke(RunId(9));
        assert_eq!(access.check(&token), None);
        assert_eq!(access.check(&other), Some((TaskId(5), RunId(10))));
        access.revoke(RunId(77));
    }

    #[test]
    fn a_new_token_replaces_the_runs_old_one() {
        let access = RunAccess::new();
        let first = access.issue(TaskId(1), RunId(1));
        let second = access.issue(TaskId(1), RunId(1));
        assert_eq!(access.check(&first), None);
        assert_eq!(access.check(&second), Some((TaskId(1), RunId(1))));
    }

    #[test]
    fn the_api_url_is_set_once_the_daemon_listens() {
        let access = RunAccess::new();
        assert_eq!(access.api_url(), None);
        access.set_api_url("http://127.0.0.1:7420".into());
        assert_eq!(access.api_url().as_deref(), Some("http://127.0.0.1:7420"));
        let shown = format!("{access:?}");
        assert!(shown.contains("runs: 0"), "{shown}");
    }

    #[test]
    fn secrets_compare_exactly() {
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abc", "abd"));
        assert!(!same_secret("abc", "abcd"));
        assert!(!same_secret("", "a"));
    }
}
