//! Errors at the edge: every library error becomes one message, an optional hint, and a distinct
//! exit code (documented in the README).

use gaffer_engine::EngineError;
use std::process::ExitCode;

/// What kind of failure, which decides the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Something unexpected inside gaffer or its environment (1).
    Internal,
    /// The command line was wrong (2; clap uses it too).
    Usage,
    /// gaffer.toml or an override is invalid (3).
    Config,
    /// A task, run or file that does not exist (4).
    NotFound,
    /// The action is not allowed in the task's current state (5).
    Conflict,
    /// The daemon is not running, already running, or unreachable (6).
    Daemon,
    /// Git refused or the repository is not usable (7).
    Git,
    /// Work did not reach its goal (a demo task did not merge, doctor found problems) (8).
    Unfinished,
}

impl Kind {
    pub fn code(self) -> u8 {
        match self {
            Kind::Internal => 1,
            Kind::Usage => 2,
            Kind::Config => 3,
            Kind::NotFound => 4,
            Kind::Conflict => 5,
            Kind::Daemon => 6,
            Kind::Git => 7,
            Kind::Unfinished => 8,
        }
    }
}

#[derive(Debug)]
pub struct CliError {
    pub kind: Kind,
    pub message: String,
    pub hint: Option<String>,
    broken_pipe: bool,
}

pub type CliResult<T> = Result<T, CliError>;

impl CliError {
    pub fn new(kind: Kind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            hint: None,
            broken_pipe: false,
        }
    }
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
    pub fn is_broken_pipe(&self) -> bool {
        self.broken_pipe
    }
    pub fn exit_code(&self) -> ExitCode {
        ExitCode::from(self.kind.code())
    }
    pub fn print(&self) {
        errln!("error: {}", self.message);
        if let Some(hint) = &self.hint {
            errln!("  hint: {hint}");
        }
    }
}

impl From<std::io::Error> for CliError {
    fn from(e: std::io::Error) -> Self {
        let broken_pipe = e.kind() == std::io::ErrorKind::BrokenPipe;
        Self {
            kind: Kind::Internal,
            message: e.to_string(),
            hint: None,
            broken_pipe,
        }
    }
}

impl From<gaffer_config::ConfigError> for CliError {
    fn from(e: gaffer_config::ConfigError) -> Self {
        // The config error's Display already carries file, line, key and hint.
        CliError::new(Kind::Config, e.to_string())
    }
}

impl From<gaffer_git::GitError> for CliError {
    fn from(e: gaffer_git::GitError) -> Self {
        let hint = match &e {
            gaffer_git::GitError::NotARepository(_) => {
                Some("run gaffer inside a git repository, or pass -C <dir>".to_string())
            }
            gaffer_git::GitError::TooOld { .. } => Some(
                "install git 2.38 or newer (gaffer needs `git merge-tree --write-tree`)".into(),
            ),
            _ => None,
        };
        CliError {
            kind: Kind::Git,
            message: e.to_string(),
            hint,
            broken_pipe: false,
        }
    }
}

impl From<gaffer_store::StoreError> for CliError {
    fn from(e: gaffer_store::StoreError) -> Self {
        use gaffer_store::StoreError as S;
        let kind = match &e {
            S::TaskNotFound(_) | S::ProjectNotFound(_) | S::RunNotFound(_) | S::JobNotFound(_) => {
                Kind::NotFound
            }
            S::VersionConflict { .. }
            | S::LeaseLost { .. }
            | S::NotEmpty(_)
            | S::SeqOutOfOrder { .. } => Kind::Conflict,
            S::Invalid(_) => Kind::Usage,
            S::Unavailable(_) => Kind::Config,
            _ => Kind::Internal,
        };
        let hint = match &e {
            S::TaskNotFound(_) => Some("`gaffer task list` shows the tasks".to_string()),
            S::SchemaTooNew { .. } => Some("upgrade gaffer".to_string()),
            S::Unavailable(_) => Some(
                "check [store] url (or GAFFER_STORE__URL) and that the PostgreSQL server is up"
                    .to_string(),
            ),
            _ => None,
        };
        CliError {
            kind,
            message: e.to_string(),
            hint,
            broken_pipe: false,
        }
    }
}

impl From<gaffer_agents::AgentError> for CliError {
    fn from(e: gaffer_agents::AgentError) -> Self {
        let kind = match &e {
            gaffer_agents::AgentError::UnknownAgent(_) => Kind::NotFound,
            gaffer_agents::AgentError::Unavailable { .. }
            | gaffer_agents::AgentError::Script { .. } => Kind::Config,
            _ => Kind::Internal,
        };
        CliError::new(kind, e.to_string())
    }
}

impl From<EngineError> for CliError {
    fn from(e: EngineError) -> Self {
        match e {
            EngineError::Store(e) => e.into(),
            EngineError::Git(e) => e.into(),
            EngineError::Config(e) => e.into(),
            EngineError::Agent(e) => e.into(),
            EngineError::Transition { task, source } => {
                CliError::new(Kind::Conflict, format!("task {task}: {source}"))
                    .hint(format!("`gaffer task show {task}` shows where it is"))
            }
            EngineError::Invalid(m) => CliError::new(Kind::Usage, m),
            EngineError::InvalidInput { message, hint } => {
                CliError::new(Kind::Usage, message).hint(hint)
            }
            EngineError::NotFound(message) => CliError::new(Kind::NotFound, message),
            EngineError::Refused { message, hint } => {
                CliError::new(Kind::Conflict, message).hint(hint)
            }
            EngineError::NoAgent { role } => CliError::new(
                Kind::Config,
                format!("no agent is configured for the {role} role"),
            )
            .hint(format!(
                "add an agent under [agents] and name it in roles.{role} in gaffer.toml"
            )),
            EngineError::Locked { path, pid } => CliError::new(
                Kind::Daemon,
                format!("the state directory {path} is in use by another gaffer (pid {pid})"),
            )
            .hint("`gaffer down` stops it"),
            EngineError::SharedBoardWithoutRemote => {
                let hint = e.hint().unwrap_or_default();
                CliError::new(Kind::Config, e.to_string()).hint(hint)
            }
            EngineError::Sandbox(e) => {
                let error = CliError::new(Kind::Config, e.to_string());
                match e.hint() {
                    Some(hint) => error.hint(format!(
                        "{hint}; or set [sandbox] mode = \"none\" in gaffer.toml to run unconfined"
                    )),
                    None => error,
                }
            }
            other => CliError::new(Kind::Internal, other.to_string()),
        }
    }
}
