//! Errors of git operations.

use std::path::PathBuf;

/// Result of a git operation.
pub type Result<T> = std::result::Result<T, GitError>;

/// Why a git operation failed.
#[derive(Debug, thiserror::Error)]
pub enum GitError {
    /// The `git` program could not be started (not installed, not on `PATH`, or the working
    /// directory vanished).
    #[error("cannot run `{args}`: {source}")]
    Spawn {
        /// The command line, for the message.
        args: String,
        /// The operating-system error.
        #[source]
        source: std::io::Error,
    },
    /// git ran and exited unsuccessfully.
    #[error("`{args}` failed (exit {}): {}", code.map_or_else(|| "by signal".to_owned(), |c| c.to_string()), stderr.trim())]
    Failed {
        /// The command line, for the message.
        args: String,
        /// The exit code; `None` when killed by a signal.
        code: Option<i32>,
        /// What git wrote to stderr.
        stderr: String,
    },
    /// git's output was not in the expected format.
    #[error("unexpected git output: {0}")]
    Parse(String),
    /// The path is not inside a git repository.
    #[error("{} is not inside a git repository", .0.display())]
    NotARepository(PathBuf),
    /// The repository has no working tree (a bare repository).
    #[error("{} is a bare repository; gaffer needs a working tree", .0.display())]
    Bare(PathBuf),
    /// The installed git is older than gaffer needs.
    #[error("git {found} is too old; gaffer needs git {need} or newer")]
    TooOld {
        /// The version found.
        found: String,
        /// The minimum version.
        need: &'static str,
    },
    /// The caller passed a value git would misread (an option-like revision, a malformed
    /// author, a name with a slash, ...).
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// A revision that must exist does not resolve.
    #[error("`{0}` does not resolve to an object")]
    UnknownRevision(String),
    /// A conditional ref deletion found the ref at another value.
    #[error("ref {refname} is at {}, not the expected {expected}", actual.as_ref().map_or("nothing", |o| o.as_str()))]
    RefMoved {
        /// The ref.
        refname: String,
        /// The value the caller expected.
        expected: crate::Oid,
        /// The value found (`None`: the ref does not exist).
        actual: Option<crate::Oid>,
    },
    /// The branch cannot be used because it exists already, at another commit or checked out
    /// in another worktree.
    #[error("branch {branch} already exists{}", .checked_out_in.as_ref().map(|p| format!(" and is checked out in {}", p.display())).unwrap_or_default())]
    BranchExists {
        /// The branch name (without `refs/heads/`).
        branch: String,
        /// The worktree that has it checked out, if any.
        checked_out_in: Option<PathBuf>,
    },
    /// A path gaffer wants for a worktree is occupied by something it must not touch.
    #[error("{} is in use: {reason}", path.display())]
    PathInUse {
        /// The path.
        path: PathBuf,
        /// What occupies it.
        reason: String,
    },
    /// A filesystem operation outside git failed.
    #[error("{op} {}: {source}", path.display())]
    Io {
        /// What was being done ("remove", "create", ...).
        op: &'static str,
        /// The path.
        path: PathBuf,
        /// The operating-system error.
        #[source]
        source: std::io::Error,
    },
    /// [`pull_into_checkout`](crate::pull_into_checkout) refused; nothing was touched.
    #[error(transparent)]
    PullRefused(#[from] PullRefused),
}

/// Why [`pull_into_checkout`](crate::pull_into_checkout) refused to change the user's checkout.
/// When this is returned, no file, index entry or ref was modified.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PullRefused {
    /// Files with uncommitted changes (staged, unstaged, or untracked/ignored files the pull
    /// would overwrite) are also changed by the pull.
    #[error("uncommitted changes to files the pull would change: {}", files.join(", "))]
    DirtyOverlap {
        /// The overlapping paths, relative to the top of the checkout, sorted.
        files: Vec<String>,
    },
    /// Merging would conflict.
    #[error("the merge would conflict in: {}", files.join(", "))]
    Conflicts {
        /// The conflicting paths, sorted.
        files: Vec<String>,
    },
    /// The checkout is not on the expected branch.
    #[error("the checkout is on {}, not {expected}", actual.as_deref().unwrap_or("a detached HEAD"))]
    NotOnBranch {
        /// The branch the caller expected.
        expected: String,
        /// The branch checked out (`None`: detached HEAD).
        actual: Option<String>,
    },
}

impl GitError {
    /// An [`GitError::Io`] error.
    pub(crate) fn io(op: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        GitError::Io {
            op,
            path: path.into(),
            source,
        }
    }
}
