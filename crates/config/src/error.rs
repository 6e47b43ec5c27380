//! The one error type of this crate.
//!
//! Every variant says where the problem is (a file and line, or the environment variable or flag
//! that set the value), which key it concerns, and how to fix it. `Display` renders all of that for
//! a person, in the form
//!
//! ```text
//! gaffer.toml:7: engine.heartbeat = "40s" must be shorter than engine.lease (30s)
//!   hint: lower engine.heartbeat or raise engine.lease
//! ```

use std::fmt;
use std::path::{Path, PathBuf};

/// Why configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The configuration file exists but could not be read.
    #[error("{}: cannot read the file: {source}\n  hint: check that it is a readable UTF-8 text file", path.display())]
    Io {
        /// The file that could not be read.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },

    /// The file is not valid TOML.
    #[error("{}:{line}:{column}: {message}\n  hint: {hint}", path.display())]
    Syntax {
        /// The file.
        path: PathBuf,
        /// 1-based line of the problem.
        line: usize,
        /// 1-based column of the problem.
        column: usize,
        /// What is wrong.
        message: String,
        /// How to fix it.
        hint: String,
    },

    /// The file is valid TOML but a value is wrong: an unknown key, a value of the wrong type or
    /// out of range, or settings that contradict each other.
    #[error("{}: {message}\n  hint: {hint}", Location { path: path.as_deref(), line: *line })]
    Invalid {
        /// The file, when the value came from one.
        path: Option<PathBuf>,
        /// 1-based line of the offending key, when known.
        line: Option<usize>,
        /// Dotted key, e.g. `engine.heartbeat` or `agents.claude.backend`.
        key: String,
        /// What is wrong; it names the key and, where there is one, the value.
        message: String,
        /// How to fix it.
        hint: String,
    },

    /// A value set by an environment variable or a command-line flag is wrong.
    #[error("{source_name}: {message}\n  hint: {hint}")]
    Override {
        /// Where the value came from, e.g. `GAFFER_ENGINE__CONCURRENCY` or
        /// `--set engine.concurrency`.
        source_name: String,
        /// Dotted key the override sets.
        key: String,
        /// What is wrong.
        message: String,
        /// How to fix it.
        hint: String,
    },
}

impl ConfigError {
    /// The dotted key the error concerns, when there is one.
    pub fn key(&self) -> Option<&str> {
        match self {
            ConfigError::Invalid { key, .. } | ConfigError::Override { key, .. } => Some(key),
            ConfigError::Io { .. } | ConfigError::Syntax { .. } => None,
        }
    }

    /// The 1-based line in the configuration file the error points at, when there is one.
    pub fn line(&self) -> Option<usize> {
        match self {
            ConfigError::Syntax { line, .. } => Some(*line),
            ConfigError::Invalid { line, .. } => *line,
            ConfigError::Io { .. } | ConfigError::Override { .. } => None,
        }
    }

    /// The suggested fix, when there is one.
    pub fn hint(&self) -> Option<&str> {
        match self {
            ConfigError::Syntax { hint, .. }
            | ConfigError::Invalid { hint, .. }
            | ConfigError::Override { hint, .. } => Some(hint),
            ConfigError::Io { .. } => None,
        }
    }
}

/// `path:line`, `path`, or a neutral word when the value has no file.
struct Location<'a> {
    path: Option<&'a Path>,
    line: Option<usize>,
}

impl fmt::Display for Location<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.path, self.line) {
            (Some(path), Some(line)) => write!(f, "{}:{line}", path.display()),
            (Some(path), None) => write!(f, "{}", path.display()),
            (None, _) => f.write_str("configuration"),
        }
    }
}
