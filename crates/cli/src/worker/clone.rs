//! The worker's own clone of the project: made from the remote the daemon names (or the one
//! given with `--remote`, e.g. with the worker's credentials), under the same remote name, and
//! brought to the remote's target before the worker starts. The worker's state directory (task
//! worktrees, runs) lives inside it (`.git/gaffer`); nothing is shared with the daemon's disk.

use crate::error::{CliError, CliResult, Kind};
use gaffer_engine::worker::Welcome;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The clone under `dir`, made or brought up to date.
pub fn ensure(dir: &Path, welcome: &Welcome, remote: Option<&str>) -> CliResult<PathBuf> {
    let url = remote.unwrap_or(&welcome.remote_url);
    let repo = dir.join("repo");
    let name = &welcome.remote_name;
    if !repo.join(".git").exists() {
        std::fs::create_dir_all(dir)?;
        git(
            dir,
            &[
                "clone",
                "-q",
                "--origin",
                name,
                "--",
                url,
                &repo.to_string_lossy(),
            ],
        )?;
    } else {
        git(&repo, &["remote", "set-url", name, url])?;
        git(&repo, &["fetch", "-q", "--prune", name])?;
    }
    // The clone's own work tree only gives the configuration: it follows the target.
    let tracking = format!("{name}/{}", welcome.target);
    git(
        &repo,
        &["checkout", "-q", "-f", "-B", &welcome.target, &tracking],
    )?;
    Ok(repo)
}

fn git(dir: &Path, args: &[&str]) -> CliResult<()> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .map_err(|e| CliError::new(Kind::Git, format!("cannot run git: {e}")))?;
    if out.status.success() {
        return Ok(());
    }
    Err(CliError::new(
        Kind::Git,
        format!(
            "git {} failed in {}: {}",
            args.first().copied().unwrap_or_default(),
            dir.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        ),
    )
    .hint(
        "the worker clones the project's remote as the daemon names it; give one it can reach \
         with `gaffer worker --remote URL` (the same repository)",
    ))
}
