use gaffer_core::{JobId, ProjectId, RunId, Seq, TaskId};

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
    /// [`crate::Store::import_rows`] into a store that holds something already (what it holds).
    #[error("cannot import a board into a store that is not empty: it holds {0}")]
    NotEmpty(String),
    /// [`crate::Store::import_events`] of an event whose seq is not above the one before it (the
    /// store's last, or the previous of the batch).
    #[error("cannot import event {seq} after event {after}: sequence numbers must increase")]
    SeqOutOfOrder { seq: Seq, after: Seq },
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
