//! Errors of this crate.

/// Why a process could not be run or supervised.
///
/// Note that a process that runs but fails (non-zero exit, killed by a
/// signal, timed out) is *not* an error: see [`crate::Termination`].
#[derive(Debug, thiserror::Error)]
pub enum ProcError {
    /// The program could not be started (not found, not executable, bad
    /// working directory, ...).
    #[error("cannot start {program}: {source}")]
    Spawn {
        /// The program that was to be run.
        program: String,
        /// The underlying OS error.
        #[source]
        source: std::io::Error,
    },
    /// The program was to run in a private network ([`crate::PrivateNet`]) and that could not
    /// be set up: it did not run.
    #[error("cannot start {program} in a private network: {step}: {source}")]
    PrivateNet {
        /// The program that was to be run.
        program: String,
        /// What failed.
        step: crate::NetStep,
        /// The underlying OS error.
        #[source]
        source: std::io::Error,
    },
    /// An I/O error while setting up pipes or waiting for the process.
    #[error("process I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// The function must be called from within a Tokio runtime.
    #[error("gaffer-proc must be used inside a Tokio runtime")]
    NoRuntime,
    /// The background task supervising a process panicked or was aborted.
    #[error("process supervisor task failed: {0}")]
    Supervisor(String),
}
