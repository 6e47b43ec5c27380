//! The raw transcript of a CLI run: every line the agent printed on standard output, exactly as
//! printed, one per line, plus the tail of its standard error. It is data kept for `gaffer log`,
//! audit and replay, never mixed into gaffer's own logs.
//!
//! Files live in `<data_dir>/raw/`, named after the time the run started and, when the engine
//! passed one, the run id (`GAFFER_RUN` in the request's environment):
//! `raw/<unix-millis>-run<id>.jsonl` and `raw/<unix-millis>-run<id>.stderr.txt`.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

/// An open raw transcript. Writing never fails the run: an I/O error is logged once and the
/// transcript is dropped.
pub(crate) struct RawLog {
    path: PathBuf,
    file: Option<BufWriter<File>>,
}

impl RawLog {
    /// Creates `<data_dir>/raw/<millis>[-run<id>].jsonl`.
    pub(crate) fn create(data_dir: &Path, run: Option<&str>) -> RawLog {
        let millis = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis())
            .unwrap_or_default();
        let name = match run.filter(|r| is_plain(r)) {
            Some(run) => format!("{millis}-run{run}"),
            None => format!("{millis}-pid{}", std::process::id()),
        };
        let dir = data_dir.join("raw");
        let path = dir.join(format!("{name}.jsonl"));
        let file = std::fs::create_dir_all(&dir)
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

/// True for a run id that is safe in a file name.
fn is_plain(s: &str) -> bool {
    !s.is_empty() && s.len() <= 40 && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_stderr_are_kept_beside_each_other() {
        let dir = tempfile::tempdir().unwrap();
        let mut raw = RawLog::create(dir.path(), Some("42"));
        let path = raw.path().to_path_buf();
        assert!(
            path.file_name()
                .unwrap()
                .to_str()
                .unwrap()
                .ends_with("-run42.jsonl")
        );
        raw.write("{\"a\":1}", false);
        raw.write("not json", true);
        raw.close("boom\n");
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "{\"a\":1}\nnot json\n"
        );
        let stderr = path.with_extension("stderr.txt");
        assert_eq!(std::fs::read_to_string(stderr).unwrap(), "boom\n");
    }

    #[test]
    fn odd_run_ids_are_not_used_in_names() {
        let dir = tempfile::tempdir().unwrap();
        let raw = RawLog::create(dir.path(), Some("../x"));
        assert!(raw.path().to_str().unwrap().contains("-pid"));
    }
}
