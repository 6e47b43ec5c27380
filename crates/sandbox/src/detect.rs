//! Finding bwrap and proving it can start a sandbox here.

use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::error::SandboxError;
use crate::flags;
use crate::policy::Network;
use gaffer_proc::SyscallFilter;

/// Where bwrap usually is when `PATH` does not say.
const FALLBACK: &str = "/usr/bin/bwrap";
/// A trivial confined command should take milliseconds; this only stops a
/// wedged bwrap from hanging the daemon's start.
const PROBE_TIMEOUT: Duration = Duration::from_secs(10);

/// bwrap on `PATH`, else at [`FALLBACK`].
pub(crate) fn find_bwrap() -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .filter(|d| d.is_absolute())
        .map(|d| d.join("bwrap"))
        .chain([PathBuf::from(FALLBACK)])
        .find(|p| is_executable(p) && p.to_str().is_some())
}

fn is_executable(path: &Path) -> bool {
    path.metadata()
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// Runs `true` under `bwrap` with every namespace a policy may ask for,
/// and returns bwrap's version line.
pub(crate) fn probe(bwrap: &Path, filter: Option<&SyscallFilter>) -> Result<String, SandboxError> {
    let unusable = |reason: String| SandboxError::Unusable {
        bwrap: bwrap.to_path_buf(),
        reason,
    };
    let version = run(Command::new(bwrap).arg("--version")).map_err(unusable)?;
    let mut confined = Command::new(bwrap);
    confined
        .args(flags::options(&[], Network::None, &[], Some("/")))
        .args(["--", "/bin/sh", "-c", ":"]);
    // Under the filter every confined process gets: a bwrap that cannot run with it (one that
    // needs its setuid bit, which `no_new_privs` disables) is found here, not at the first task.
    if let Some(filter) = filter {
        filter.install(&mut confined);
    }
    run(&mut confined).map_err(unusable)?;
    Ok(version.trim().to_owned())
}

/// Runs `cmd` to completion (or [`PROBE_TIMEOUT`]) and returns its stdout,
/// or why it failed (its stderr when it said something).
fn run(cmd: &mut Command) -> Result<String, String> {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|err| format!("cannot run it: {err}"))?;
    let deadline = Instant::now() + PROBE_TIMEOUT;
    // Output is a line or two, far below a pipe's capacity, so polling
    // before reading cannot deadlock.
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(2)),
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("no answer within {PROBE_TIMEOUT:?}"));
            }
            Err(err) => return Err(format!("cannot wait for it: {err}")),
        }
    };
    let (mut out, mut err) = (String::new(), String::new());
    if let Some(mut stdout) = child.stdout.take() {
        let _ = stdout.read_to_string(&mut out);
    }
    if let Some(mut stderr) = child.stderr.take() {
        let _ = stderr.read_to_string(&mut err);
    }
    if status.success() {
        Ok(out)
    } else if err.trim().is_empty() {
        Err(format!("it failed ({status})"))
    } else {
        Err(err.trim().to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failing_probe_reports_stderr() {
        let err = run(Command::new("/bin/sh").args(["-c", "echo nope >&2; exit 3"])).unwrap_err();
        assert_eq!(err, "nope");
        let err = run(Command::new("/bin/sh").args(["-c", "exit 3"])).unwrap_err();
        assert!(err.contains("exit status: 3"), "{err}");
    }

    #[test]
    fn a_program_that_cannot_start_is_unusable() {
        let err = probe(Path::new("/nonexistent/bwrap"), None).unwrap_err();
        assert!(
            matches!(err, SandboxError::Unusable { ref reason, .. } if reason.contains("cannot run")),
            "{err}"
        );
        assert!(err.hint().is_some_and(|h| h.contains("bubblewrap")));
    }
}
