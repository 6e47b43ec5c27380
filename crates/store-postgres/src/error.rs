//! Errors inside a transaction, and which of PostgreSQL's are worth trying again.

use gaffer_store::StoreError;
use postgres::error::SqlState;

/// An error inside a transaction: PostgreSQL's (possibly retryable) or already one of ours.
#[derive(Debug)]
pub(crate) enum TxError {
    Pg(postgres::Error),
    Store(StoreError),
}

impl From<postgres::Error> for TxError {
    fn from(e: postgres::Error) -> Self {
        TxError::Pg(e)
    }
}

impl From<StoreError> for TxError {
    fn from(e: StoreError) -> Self {
        TxError::Store(e)
    }
}

pub(crate) type TxResult<T> = std::result::Result<T, TxError>;

impl TxError {
    /// A serialization failure or a deadlock: the transaction was rolled back and running it
    /// again from the start is the documented remedy.
    pub(crate) fn is_conflict(&self) -> bool {
        matches!(
            self.code(),
            Some(c) if *c == SqlState::T_R_SERIALIZATION_FAILURE
                || *c == SqlState::T_R_DEADLOCK_DETECTED
        )
    }

    /// The connection is gone (closed, or the server is shutting the session down).
    pub(crate) fn is_connection_loss(&self) -> bool {
        match self {
            TxError::Pg(e) => {
                e.is_closed()
                    || e.code().is_some_and(|c| {
                        c.code().starts_with("08")
                            || *c == SqlState::ADMIN_SHUTDOWN
                            || *c == SqlState::CRASH_SHUTDOWN
                            || *c == SqlState::CANNOT_CONNECT_NOW
                    })
            }
            TxError::Store(_) => false,
        }
    }

    fn code(&self) -> Option<&SqlState> {
        match self {
            TxError::Pg(e) => e.code(),
            TxError::Store(_) => None,
        }
    }

    /// Text PostgreSQL cannot store (a NUL character): the caller's input, not the database.
    pub(crate) fn is_unstorable_text(&self) -> bool {
        matches!(
            self.code(),
            Some(c) if *c == SqlState::CHARACTER_NOT_IN_REPERTOIRE
                || *c == SqlState::UNTRANSLATABLE_CHARACTER
        )
    }
}
