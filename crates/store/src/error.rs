use gaffer_core::{JobId, ProjectId, RunId, TaskId};

/// What can go wrong in a store. Callers match on the first few; the rest are reported.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("task {0} does not exist")]
    TaskNotFound(TaskId),
    #[error("project {0} does not exist")]
    ProjectNotFound(ProjectId),
    #[error("run {0} does not exist")]
    RunNotFound(RunId),
    #[error("job {0} does not exist")]
    JobNotFound(JobId),
    #[error("task {task} changed since it was read (expected version {expected}, found {found})")]
    VersionConflict {
        task: TaskId,
        expected: i64,
        found: i64,
    },
    #[error("job {job} is no longer leased by {owner}")]
    LeaseLost { job: JobId, owner: String },
    #[error("invalid: {0}")]
    Invalid(String),
    #[error("the database is newer than this gaffer (schema {found}, this build knows {known})")]
    SchemaTooNew { found: i64, known: i64 },
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error("database error: {0}")]
    Database(String),
    /// The database cannot be reached (a server store's connection failed or was lost); trying
    /// again later may succeed. The message names the server, never its password.
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
}

pub type Result<T> = std::result::Result<T, StoreError>;
