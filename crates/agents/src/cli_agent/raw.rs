//! The raw transcript of a CLI run: every line the agent printed on standard output, exactly as
//! printed, one per line, plus the tail of its standard error. It is data kept for `gaffer log`,
//! audit and replay, never mixed into gaffer's own logs.
//!
//! Both live in the run's own directory (`RunRequest::run_dir`), which no other run uses:
//! `<run_dir>/raw.jsonl` and `<run_dir>/raw.stderr.txt`.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// An open raw transcript. Writing never fails the run: an I/O error is logged once and the
/// transcript is dropped.
pub(crate) struct RawLog {
    path: PathBuf,
    file: Option<BufWriter<File>>,
}

impl RawLog {
    /// Creates `<run_dir>/raw.jsonl` (and `run_dir` when missing).
    pub(crate) fn create(run_dir: &Path) -> RawLog {
        let path = run_dir.join("raw.jsonl");
        let file = std::fs::create_dir_all(run_dir)
            .and_then(|()| File::create(&path))
            .map(BufWriter::new);
        match file {
            Ok(file) => RawLog {
                path,
                file: Some(file),
            },
            Err(e) => {
                tracing::warn!("cannot keep the raw transcript {}: {e}", path.display());
                RawLog { path, file: None }
            }
        }
    }

    /// Where the transcript is written.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Appends one line; `flush` pushes it to the file (do it when no more lines are waiting).
    pub(crate) fn write(&mut self, line: &str, flush: bool) {
        let Some(file) = &mut self.file else { return };
        let result =
            writeln!(file, "{line}").and_then(|()| if flush { file.flush() } else { Ok(()) });
        if let Err(e) = result {
            tracing::warn!(
                "cannot write the raw transcript {}: {e}",
                self.path.display()
            );
            self.file = None;
        }
    }

    /// Flushes the transcript and writes the standard error tail beside it when there is one.
    pub(crate) fn close(mut self, stderr: &str) {
        if let Some(mut file) = self.file.take()
            && let Err(e) = file.flush()
        {
            tracing::warn!(
                "cannot write the raw transcript {}: {e}",
                self.path.display()
            );
        }
        if !stderr.trim().is_empty() {
            let path = self.path.with_extension("stderr.txt");
            if let Err(e) = std::fs::write(&path, stderr) {
                tracing::warn!("cannot keep the agent's stderr {}: {e}", path.display());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_stderr_are_kept_in_the_run_directory() {
        let dir = tempfile::tempdir().unwrap();
        let run_dir = dir.path().join("runs/42");
        let mut raw = RawLog::create(&run_dir);
        assert_eq!(raw.path(), run_dir.join("raw.jsonl"));
        raw.write("{\"a\":1}", false);
        raw.write("not json", true);
        raw.close("boom\n");
        assert_eq!(
            std::fs::read_to_string(run_dir.join("raw.jsonl")).unwrap(),
            "{\"a\":1}\nnot json\n"
        );
        let stderr = run_dir.join("raw.stderr.txt");
        assert_eq!(std::fs::read_to_string(stderr).unwrap(), "boom\n");
    }

    #[test]
    fn no_stderr_file_without_stderr() {
        let dir = tempfile::tempdir().unwrap();
        let raw = RawLog::create(dir.path());
        raw.close(" \n");
        assert!(dir.path().join("raw.jsonl").is_file());
        assert!(!dir.path().join("raw.stderr.txt").exists());
    }
}
