//! The cost each Claude Code session had reached when its last run ended.
//!
//! `total_cost_usd` on Claude Code's `result` line is the session's total, earlier runs
//! included. The run's own cost normally comes from `model_usage_since_last_result` (see
//! `run_usage.rs`); for a CLI that does not print it, the backend keeps the session's total in
//! `<data_dir>/claude-sessions/<session id>.json` after every run and subtracts it on resume. It
//! lives in the data directory, beside the CLI's saved sessions, because the next run of the
//! session needs it. A missing or unreadable file means nothing recorded: the run is then
//! charged the whole session so far.

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// What gaffer records about a session.
#[derive(Debug, Default, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct SessionTotals {
    /// The session's `total_cost_usd` at the end of its last run.
    pub total_cost_usd: f64,
}

/// Where the totals of `session` are kept, or `None` for an id unfit for a file name.
fn path(data_dir: &Path, session: &str) -> Option<PathBuf> {
    let plain = !session.is_empty()
        && session.len() <= 128
        && session
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    plain.then(|| {
        data_dir
            .join("claude-sessions")
            .join(format!("{session}.json"))
    })
}

/// The totals `session` had after its last run, if gaffer recorded them.
pub(crate) fn load(data_dir: &Path, session: &str) -> Option<SessionTotals> {
    path(data_dir, session)
        .and_then(|p| std::fs::read_to_string(p).ok())
        .and_then(|text| serde_json::from_str(&text).ok())
}

/// Records the totals of `session` after a run. Failure only loses accuracy, so it is logged.
pub(crate) fn save(data_dir: &Path, session: &str, totals: SessionTotals) {
    let Some(path) = path(data_dir, session) else {
        return;
    };
    let written = serde_json::to_string(&totals)
        .map_err(std::io::Error::other)
        .and_then(|text| {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)?;
            }
            std::fs::write(&path, text)
        });
    if let Err(e) = written {
        tracing::warn!(
            "cannot record claude session cost in {}: {e}",
            path.display()
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn totals_round_trip_and_are_absent_until_saved() {
        let dir = tempfile::tempdir().unwrap();
        let id = "55adf0cc-a3e6-44f7-8559-5f451b264482";
        assert_eq!(load(dir.path(), id), None);
        let totals = SessionTotals {
            total_cost_usd: 0.00507,
        };
        save(dir.path(), id, totals);
        assert_eq!(load(dir.path(), id), Some(totals));
        assert!(
            dir.path()
                .join("claude-sessions")
                .join(format!("{id}.json"))
                .is_file()
        );
    }

    #[test]
    fn odd_session_ids_are_not_files_and_garbage_is_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let totals = SessionTotals {
            total_cost_usd: 1.0,
        };
        save(dir.path(), "../escape", totals);
        assert_eq!(load(dir.path(), "../escape"), None);
        assert!(!dir.path().join("escape.json").exists());
        save(dir.path(), "", totals);
        assert_eq!(load(dir.path(), ""), None);

        let sessions = dir.path().join("claude-sessions");
        std::fs::create_dir_all(&sessions).unwrap();
        std::fs::write(sessions.join("s1.json"), "not json").unwrap();
        assert_eq!(load(dir.path(), "s1"), None);
    }
}
