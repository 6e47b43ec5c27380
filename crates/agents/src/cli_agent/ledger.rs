//! What a CLI's session had reached when its last run ended, kept between runs.
//!
//! Claude Code and Codex report usage for the whole session (Claude's `total_cost_usd`, Codex's
//! thread token totals), earlier runs included. To book each run only its own share, a backend
//! records the session's totals in `<data_dir>/<ledger>/<session id>.json` after every run and
//! subtracts them on resume (`claude-sessions/`, `codex-threads/`). The ledger lives in the data
//! directory, beside the CLI's saved sessions, because the next run of the session needs it; the
//! engine hides it from the sandbox ([`crate::LEDGER_DIRS`]), so a run cannot cheapen the next.
//! A missing or unreadable file means nothing recorded.

use serde::Serialize;
use serde::de::DeserializeOwned;
use std::path::{Path, PathBuf};

/// One backend's ledger: the directory under the data directory, and what it records (for the
/// warning when it cannot).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ledger {
    pub dir: &'static str,
    pub what: &'static str,
}

impl Ledger {
    /// Where the totals of `session` are kept, or `None` for an id unfit for a file name.
    fn path(self, data_dir: &Path, session: &str) -> Option<PathBuf> {
        let plain = !session.is_empty()
            && session.len() <= 128
            && session
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        plain.then(|| data_dir.join(self.dir).join(format!("{session}.json")))
    }

    /// The totals `session` had after its last run, if gaffer recorded them.
    pub(crate) fn load<T: DeserializeOwned>(self, data_dir: &Path, session: &str) -> Option<T> {
        self.path(data_dir, session)
            .and_then(|p| std::fs::read_to_string(p).ok())
            .and_then(|text| serde_json::from_str(&text).ok())
    }

    /// Records the totals of `session` after a run. Failure only loses accuracy, so it is
    /// logged.
    pub(crate) fn save<T: Serialize>(self, data_dir: &Path, session: &str, totals: &T) {
        let Some(path) = self.path(data_dir, session) else {
            return;
        };
        let written = serde_json::to_string(totals)
            .map_err(std::io::Error::other)
            .and_then(|text| {
                if let Some(dir) = path.parent() {
                    std::fs::create_dir_all(dir)?;
                }
                std::fs::write(&path, text)
            });
        if let Err(e) = written {
            tracing::warn!("cannot record {} in {}: {e}", self.what, path.display());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    const LEDGER: Ledger = Ledger {
        dir: "test-sessions",
        what: "test totals",
    };

    #[derive(Debug, Default, Clone, Copy, PartialEq, Serialize, Deserialize)]
    struct Totals {
        cost: f64,
        tokens: u64,
    }

    #[test]
    fn totals_round_trip_and_are_absent_until_saved() {
        let dir = tempfile::tempdir().unwrap();
        let id = "55adf0cc-a3e6-44f7-8559-5f451b264482";
        assert_eq!(LEDGER.load::<Totals>(dir.path(), id), None);
        let totals = Totals {
            cost: 0.00507,
            tokens: 400,
        };
        LEDGER.save(dir.path(), id, &totals);
        assert_eq!(LEDGER.load(dir.path(), id), Some(totals));
        assert!(
            dir.path()
                .join("test-sessions")
                .join(format!("{id}.json"))
                .is_file()
        );
    }

    #[test]
    fn odd_session_ids_are_not_files_and_garbage_is_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let totals = Totals {
            cost: 1.0,
            tokens: 1,
        };
        LEDGER.save(dir.path(), "../escape", &totals);
        assert_eq!(LEDGER.load::<Totals>(dir.path(), "../escape"), None);
        assert!(!dir.path().join("escape.json").exists());
        LEDGER.save(dir.path(), "", &totals);
        assert_eq!(LEDGER.load::<Totals>(dir.path(), ""), None);

        let sessions = dir.path().join("test-sessions");
        std::fs::create_dir_all(&sessions).unwrap();
        std::fs::write(sessions.join("s1.json"), "not json").unwrap();
        assert_eq!(LEDGER.load::<Totals>(dir.path(), "s1"), None);
    }
}
