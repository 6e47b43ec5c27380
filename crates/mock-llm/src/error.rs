//! What can go wrong loading a script or running the server.

use std::net::SocketAddr;
use std::path::PathBuf;

/// A script could not be read, parsed or accepted.
#[derive(Debug, thiserror::Error)]
pub enum ScriptError {
    /// The file could not be read.
    #[error("cannot read script {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The TOML did not parse or did not match the format (the message names the line).
    #[error("invalid script {origin}: {source}")]
    Toml {
        /// The file name, or `<string>`.
        origin: String,
        /// The parser's error.
        source: toml::de::Error,
    },
    /// The JSON did not parse or did not match the format.
    #[error("invalid script {origin}: {source}")]
    Json {
        /// The file name, or `<string>`.
        origin: String,
        /// The parser's error.
        source: serde_json::Error,
    },
    /// The script parsed but does not make sense (the message says why).
    #[error("invalid script: {0}")]
    Invalid(String),
}

/// The server could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// The script was refused.
    #[error(transparent)]
    Script(#[from] ScriptError),
    /// The address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// The request log file could not be opened for appending.
    #[error("cannot open request log {path}: {source}")]
    LogFile {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Serving failed.
    #[error("mock model server failed: {0}")]
    Serve(std::io::Error),
    /// Waiting for Ctrl-C failed.
    #[error("cannot wait for Ctrl-C: {0}")]
    Signal(std::io::Error),
}
