//! Fetching a run's new objects into the main repository through a throwaway bare repository
//! gaffer writes itself, so that no config or hook of the run's takes part (see the module
//! documentation of [`super`]).

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use super::config::fetch_dir_config;
use super::utf8;
use crate::{Git, GitError, Oid, Result};

/// Makes temporary directory names unique within the process.
static COUNTER: AtomicU64 = AtomicU64::new(0);

/// Copies into `git`'s repository the objects reachable from `tip` that it lacks, reading them
/// from the object directory `run_objects` (and the main store). The objects are checked
/// (`fetch.fsckObjects`) before they are kept; no ref and no `FETCH_HEAD` is written.
pub(super) fn fetch_objects(git: &Git, run_objects: &Path, tip: &Oid) -> Result<()> {
    let dir = FetchDir::create(git, run_objects, tip.as_str().len() == 64)?;
    git.cmd()
        .args([
            "-c",
            "fetch.fsckObjects=true",
            "fetch",
            "--quiet",
            "--no-tags",
        ])
        .args(["--no-write-fetch-head", "--no-auto-maintenance"])
        .arg("--no-recurse-submodules")
        .arg(&dir.path)
        .arg(tip.as_str())
        .run()?;
    Ok(())
}

/// A bare repository in the temporary directory with no refs, whose alternates are the run's
/// object directory and the main one. Deleted on drop.
struct FetchDir {
    path: PathBuf,
}

impl FetchDir {
    fn create(git: &Git, run_objects: &Path, sha256: bool) -> Result<FetchDir> {
        let name = format!(
            "gaffer-fetch-{}-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed),
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.subsec_nanos())
        );
        let path = std::env::temp_dir().join(name);
        // create_dir, not create_dir_all: fails rather than use a directory someone else made.
        fs::create_dir(&path).map_err(|e| GitError::io("create", &path, e))?;
        let dir = FetchDir { path };
        let alternates = format!(
            "{}\n{}\n",
            utf8(run_objects)?,
            utf8(&git.common_dir().join("objects"))?
        );
        fs::create_dir_all(dir.path.join("objects/info"))
            .and_then(|()| fs::create_dir(dir.path.join("refs")))
            .and_then(|()| fs::write(dir.path.join("HEAD"), "ref: refs/heads/none\n"))
            .and_then(|()| fs::write(dir.path.join("config"), fetch_dir_config(sha256)))
            .and_then(|()| fs::write(dir.path.join("objects/info/alternates"), alternates))
            .map_err(|e| GitError::io("write", &dir.path, e))?;
        Ok(dir)
    }
}

impl Drop for FetchDir {
    fn drop(&mut self) {
        if let Err(err) = fs::remove_dir_all(&self.path) {
            tracing::warn!(path = %self.path.display(), %err, "cannot remove temporary fetch directory");
        }
    }
}
