//! The token totals each Codex thread had when its last run ended.
//!
//! Codex reports usage as totals for the whole thread, and a resumed thread starts from the
//! totals of the runs before it. To record each run's own tokens, the backend keeps the totals
//! in `<data_dir>/codex-threads/<thread id>.json` and subtracts them on resume. A missing or
//! unreadable file means zero (the run is then charged the whole thread so far).

use super::wire::ThreadUsage;
use std::path::{Path, PathBuf};

/// Where the totals of `thread` are kept, or `None` for an id unfit for a file name.
fn path(data_dir: &Path, thread: &str) -> Option<PathBuf> {
    let plain = !thread.is_empty()
        && thread.len() <= 128
        && thread
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    plain.then(|| {
        data_dir
            .join("codex-threads")
            .join(format!("{thread}.json"))
    })
}

/// The totals `thread` had after its last run (zero when unknown).
pub(crate) fn load(data_dir: &Path, thread: &str) -> ThreadUsage {
    path(data_dir, thread)
        .and_then(|p| std::fs::read_to_string(p).ok())
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or_default()
}

/// Records the totals of `thread` after a run. Failure only loses accuracy, so it is logged.
pub(crate) fn save(data_dir: &Path, thread: &str, totals: ThreadUsage) {
    let Some(path) = path(data_dir, thread) else {
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
            "cannot record codex thread usage in {}: {e}",
            path.display()
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn totals_round_trip_and_default_to_zero() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(load(dir.path(), "t-1"), ThreadUsage::default());
        let totals = ThreadUsage {
            input_tokens: 400,
            cached_input_tokens: 100,
            output_tokens: 60,
        };
        save(dir.path(), "t-1", totals);
        assert_eq!(load(dir.path(), "t-1"), totals);
    }

    #[test]
    fn odd_thread_ids_are_not_files() {
        let dir = tempfile::tempdir().unwrap();
        let totals = ThreadUsage {
            input_tokens: 1,
            ..ThreadUsage::default()
        };
        save(dir.path(), "../escape", totals);
        assert_eq!(load(dir.path(), "../escape"), ThreadUsage::default());
        assert!(!dir.path().join("escape.json").exists());
    }
}
