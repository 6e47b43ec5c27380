use gaffer_core::{TaskId, TransitionError};

/// Errors of the engine and the board, each saying what to do about it where that is known.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Store(#[from] gaffer_store::StoreError),
    #[error(transparent)]
    Git(#[from] gaffer_git::GitError),
    #[error(transparent)]
    Config(#[from] gaffer_config::ConfigError),
    #[error(transparent)]
    Agent(#[from] gaffer_agents::AgentError),
    #[error(transparent)]
    Process(#[from] gaffer_proc::ProcError),
    #[error("task {task}: {source}")]
    Transition {
        task: TaskId,
        #[source]
        source: TransitionError,
    },
    #[error("{0}")]
    Invalid(String),
    /// Something the request names does not exist (a run of another task, say).
    #[error("{0}")]
    NotFound(String),
    /// A fine request the board's state refuses: why, and what to do instead.
    #[error("{message}")]
    Refused { message: String, hint: String },
    /// A request a person can put right: what is wrong, and how.
    #[error("{message}")]
    InvalidInput { message: String, hint: String },
    /// A caller asked for what it may not do (a remote worker beyond its token).
    #[error("{0}")]
    Forbidden(String),
    #[error("no agent is configured for the {role} role")]
    NoAgent { role: String },
    #[error("the state directory {path} is in use by another gaffer (pid {pid})")]
    Locked { path: String, pid: String },
    /// Several daemons share the board (`[store] url`) but no `project.remote` carries the
    /// code between them.
    #[error(
        "this board is shared with other daemons, but project.remote is not set: the daemons \
         exchange code only through a remote"
    )]
    SharedBoardWithoutRemote,
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
    #[error("task {0} changed concurrently too many times; try again")]
    Contention(TaskId),
    #[error("background work failed: {0}")]
    Join(String),
    #[error(transparent)]
    Sandbox(#[from] gaffer_sandbox::SandboxError),
}

impl EngineError {
    /// What to do about this error, when the error knows.
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            EngineError::SharedBoardWithoutRemote => Some(
                "set project.remote in gaffer.toml to the remote every daemon's clone pushes to \
                 (e.g. remote = \"origin\"), or remove [store] url to keep the board local",
            ),
            _ => None,
        }
    }

    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        EngineError::Io {
            context: context.into(),
            source,
        }
    }
}

pub type Result<T> = std::result::Result<T, EngineError>;
