//! Errors of this crate.

use std::path::PathBuf;

/// What to tell a person whose bubblewrap is missing or cannot create a
/// sandbox.
pub const BWRAP_HINT: &str = "install the `bubblewrap` package (apt install bubblewrap, \
     dnf install bubblewrap); it needs unprivileged user namespaces: check \
     `sysctl user.max_user_namespaces` (must be > 0), on Debian \
     `sysctl -w kernel.unprivileged_userns_clone=1`, on Ubuntu 23.10+ \
     `sysctl -w kernel.apparmor_restrict_unprivileged_userns=0` (or an AppArmor \
     profile for bwrap); or set the sandbox mode to `none` to run unconfined";

/// Why a sandbox could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    /// `bwrap` is neither on `PATH` nor at `/usr/bin/bwrap`.
    #[error("bubblewrap (bwrap) was not found on PATH or at /usr/bin/bwrap")]
    NotFound,
    /// `bwrap` exists but could not run a trivial confined command.
    #[error("bubblewrap at {} cannot start a sandbox: {reason}", bwrap.display())]
    Unusable {
        /// The `bwrap` that was tried.
        bwrap: PathBuf,
        /// What went wrong (bwrap's own message when it gave one).
        reason: String,
    },
    /// A path the policy cannot do without does not exist.
    #[error("the {what} {} does not exist or cannot be resolved: {source}", path.display())]
    MissingPath {
        /// Which path: "worktree" or "home".
        what: &'static str,
        /// The path as given.
        path: PathBuf,
        /// Why it could not be resolved.
        #[source]
        source: std::io::Error,
    },
    /// A name given for the sandbox's `/etc/hosts` is not a host name.
    #[error("`{name}` is not a host name (letters, digits, `-`, `.`, `_`)")]
    InvalidHostName {
        /// The name as given.
        name: String,
    },
    /// The sandbox's hosts file could not be written.
    #[error("cannot write the sandbox's hosts file {}: {source}", path.display())]
    HostsFile {
        /// Where it was to be written.
        path: PathBuf,
        /// Why it could not be.
        #[source]
        source: std::io::Error,
    },
    /// bwrap's arguments are strings, so paths must be valid UTF-8.
    #[error("the path {} is not valid UTF-8", path.display())]
    NonUtf8Path {
        /// The offending path.
        path: PathBuf,
    },
}

impl SandboxError {
    /// A next step for the person reading the error, if there is one.
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            Self::NotFound | Self::Unusable { .. } => Some(BWRAP_HINT),
            Self::MissingPath { .. }
            | Self::NonUtf8Path { .. }
            | Self::InvalidHostName { .. }
            | Self::HostsFile { .. } => None,
        }
    }
}
