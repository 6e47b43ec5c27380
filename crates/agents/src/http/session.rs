//! Saved conversations, so that a later run can resume a session.
//!
//! A session lives in `<data_dir>/sessions/<session_id>.json`, rewritten atomically (write to a
//! temporary file, then rename) after every turn.

use crate::http::conversation::Message;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The format version written to session files.
const VERSION: u32 = 1;

/// What is saved for a session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SavedSession {
    pub version: u32,
    pub session_id: String,
    /// `openai` or `anthropic`: which backend wrote it last.
    pub backend: String,
    /// The model of the last run.
    pub model: String,
    /// The system prompt of the last run (for the record: each run sends its own).
    pub system_prompt: String,
    pub messages: Vec<Message>,
}

impl SavedSession {
    pub fn new(session_id: String, backend: &str, model: &str, system_prompt: &str) -> Self {
        Self {
            version: VERSION,
            session_id,
            backend: backend.to_string(),
            model: model.to_string(),
            system_prompt: system_prompt.to_string(),
            messages: Vec::new(),
        }
    }
}

/// Why a session could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error("`{0}` is not a valid session id (letters, digits, `-` and `_` only)")]
    InvalidId(String),
    #[error("no saved conversation for session `{id}` at {path}")]
    NotFound { id: String, path: String },
    #[error("cannot read the session file {path}: {message}")]
    Read { path: String, message: String },
    #[error("cannot write the session file {path}: {source}")]
    Write {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

/// A fresh session id: `gaffer-` and 24 hex digits (time and randomness).
pub fn new_id() -> String {
    let millis = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    format!(
        "gaffer-{:011x}{:013x}",
        millis & 0xfff_ffff_ffff,
        fastrand::u64(..) >> 12
    )
}

/// Whether `id` can name a session file (no separators, nothing to escape the directory with).
pub fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 128
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// The file of session `id` under `data_dir`.
pub fn path(data_dir: &Path, id: &str) -> Result<PathBuf, SessionError> {
    if !valid_id(id) {
        return Err(SessionError::InvalidId(id.to_string()));
    }
    Ok(data_dir.join("sessions").join(format!("{id}.json")))
}

/// Loads session `id`.
pub async fn load(data_dir: &Path, id: &str) -> Result<SavedSession, SessionError> {
    let file = path(data_dir, id)?;
    let shown = file.display().to_string();
    let text = match tokio::fs::read_to_string(&file).await {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(SessionError::NotFound {
                id: id.to_string(),
                path: shown,
            });
        }
        Err(e) => {
            return Err(SessionError::Read {
                path: shown,
                message: e.to_string(),
            });
        }
    };
    serde_json::from_str(&text).map_err(|e| SessionError::Read {
        path: shown,
        message: e.to_string(),
    })
}

/// Saves `session`, replacing any earlier version atomically.
pub async fn save(data_dir: &Path, session: &SavedSession) -> Result<(), SessionError> {
    let file = path(data_dir, &session.session_id)?;
    let write_err = |source| SessionError::Write {
        path: file.display().to_string(),
        source,
    };
    if let Some(dir) = file.parent() {
        tokio::fs::create_dir_all(dir).await.map_err(write_err)?;
    }
    let text =
        serde_json::to_vec_pretty(session).map_err(|e| write_err(std::io::Error::other(e)))?;
    let tmp = file.with_extension(format!("json.{}.tmp", fastrand::u32(..)));
    tokio::fs::write(&tmp, text).await.map_err(write_err)?;
    if let Err(e) = tokio::fs::rename(&tmp, &file).await {
        let _ = tokio::fs::remove_file(&tmp).await;
        return Err(write_err(e));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_valid_and_distinct() {
        let a = new_id();
        let b = new_id();
        assert!(valid_id(&a), "{a}");
        assert_ne!(a, b);
        assert!(!valid_id("../x"));
        assert!(!valid_id("a/b"));
        assert!(!valid_id(""));
    }

    #[tokio::test]
    async fn save_then_load() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = SavedSession::new(new_id(), "openai", "m", "sys");
        s.messages.push(Message::user_text("hi"));
        save(dir.path(), &s).await.unwrap();
        save(dir.path(), &s).await.unwrap();
        assert_eq!(load(dir.path(), &s.session_id).await.unwrap(), s);
        let files = std::fs::read_dir(dir.path().join("sessions"))
            .unwrap()
            .count();
        assert_eq!(files, 1, "no temporary file left behind");
        assert!(matches!(
            load(dir.path(), "missing").await,
            Err(SessionError::NotFound { .. })
        ));
        assert!(matches!(
            load(dir.path(), "../../etc/passwd").await,
            Err(SessionError::InvalidId(_))
        ));
    }
}
