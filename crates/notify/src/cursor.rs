//! Where the notifier is in the event log, per hook, kept in a small JSON file so that a
//! restarted daemon neither sends a delivered batch again nor loses one that was not delivered.
//!
//! Each hook's position is the last event it has been told about (or that it does not listen
//! to); reading resumes after the lowest of them, and each hook skips what it already had.
//! A hook that is new in the configuration starts where reading was, so it is not sent the
//! project's history.

use gaffer_core::Seq;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct CursorFile {
    /// The last event read.
    read: i64,
    /// By hook id: the last event the hook has been told about.
    hooks: BTreeMap<String, i64>,
}

/// The positions, shared by the reader and the hooks' workers.
#[derive(Debug)]
pub(crate) struct Cursor {
    path: PathBuf,
    state: Mutex<CursorFile>,
}

impl Cursor {
    /// The positions saved at `path` for `hooks`; without a file (first start), every hook
    /// starts at `now`.
    pub fn load(path: &Path, hooks: &[String], now: Seq) -> Cursor {
        let saved: Option<CursorFile> = std::fs::read_to_string(path)
            .ok()
            .and_then(|text| serde_json::from_str(&text).ok());
        let state = match saved {
            Some(saved) => CursorFile {
                read: saved.read,
                hooks: hooks
                    .iter()
                    .map(|id| {
                        let at = saved.hooks.get(id).copied().unwrap_or(saved.read);
                        (id.clone(), at)
                    })
                    .collect(),
            },
            None => CursorFile {
                read: now.0,
                hooks: hooks.iter().map(|id| (id.clone(), now.0)).collect(),
            },
        };
        let cursor = Cursor {
            path: path.to_path_buf(),
            state: Mutex::new(state),
        };
        cursor.save();
        cursor
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, CursorFile> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Where reading starts: after the lowest position of any hook.
    pub fn start(&self) -> Seq {
        let state = self.lock();
        Seq(state.hooks.values().copied().min().unwrap_or(state.read))
    }

    /// The last event `hook` has been told about.
    pub fn of(&self, hook: &str) -> Seq {
        let state = self.lock();
        Seq(state.hooks.get(hook).copied().unwrap_or(state.read))
    }

    /// Records that everything up to `seq` was read.
    pub fn read(&self, seq: Seq) {
        let changed = {
            let mut state = self.lock();
            let changed = seq.0 > state.read;
            state.read = state.read.max(seq.0);
            changed
        };
        if changed {
            self.save();
        }
    }

    /// Records that `hook` has been told everything up to `seq`.
    pub fn delivered(&self, hook: &str, seq: Seq) {
        {
            let mut state = self.lock();
            let at = state.hooks.entry(hook.to_string()).or_insert(seq.0);
            *at = (*at).max(seq.0);
        }
        self.save();
    }

    fn save(&self) {
        let text = {
            let state = self.lock();
            serde_json::to_string_pretty(&*state).unwrap_or_default()
        };
        let tmp = self.path.with_extension("json.tmp");
        let result = std::fs::write(&tmp, text).and_then(|()| std::fs::rename(&tmp, &self.path));
        if let Err(e) = result {
            tracing::warn!(
                "cannot save the notifier's position in {}: {e}",
                self.path.display()
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_survive_a_restart_and_new_hooks_start_where_reading_was() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notify.json");
        let hooks = vec!["a".to_string(), "b".to_string()];
        let cursor = Cursor::load(&path, &hooks, Seq(10));
        assert_eq!(cursor.start(), Seq(10));
        cursor.read(Seq(20));
        cursor.delivered("a", Seq(20));
        cursor.delivered("b", Seq(15));
        drop(cursor);

        let hooks = vec!["a".to_string(), "b".to_string(), "c".to_string()];
        let cursor = Cursor::load(&path, &hooks, Seq(99));
        assert_eq!(cursor.of("a"), Seq(20));
        assert_eq!(cursor.of("b"), Seq(15));
        assert_eq!(cursor.of("c"), Seq(20));
        assert_eq!(cursor.start(), Seq(15));
    }
}
