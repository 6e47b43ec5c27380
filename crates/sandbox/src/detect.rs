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

/// Under the filter, the probe proves that a hard link fails (exit 3 if it was made).
const LINK_REFUSED: &str = ": > /tmp/gaffer-probe || exit 4; ! ln /tmp/gaffer-probe /tmp/gaffer-probe-2 2>/dev/null || exit 3";

/// Runs `true` under `bwrap` with every namespace a policy may ask for,
/// and returns bwrap's version line. With `filter`, the command runs under it and must find
/// that a hard link fails.
pub(crate) fn probe(bwrap: &Path, filter: Option<&SyscallFilter>) -> Result<String, SandboxError> {
    let unusable = |reason: String| SandboxError::Unusable {
        bwrap: bwrap.to_path_buf(),
        reason,
    };
    let version = run(Command::new(bwrap).arg("--version")).map_err(unusable)?;
    let mut confined = Command::new(bwrap);
    let script = if filter.is_some() { LINK_REFUSED } else { ":" };
    confined
        .args(flags::options(&[], Network::None, &[], Some("/")))
        .args(["--", "/bin/sh", "-c", script]);
    // Under the filter every confined process gets: a bwrap that cannot run with it (one that
    // needs its setuid bit, which `no_new_privs` disables) is found here, not at the first task.
    if let Some(filter) = filter {
        filter.install(&mut confined);
    }
    run(&mut confined).map_err(unusable)?;
    Ok(version.trim().to_owned())
}

/// [`probe`] under `filter`, and if bwrap cannot run under it, without: a bwrap that needs its
/// setuid bit (on hosts without unprivileged user namespaces; `no_new_privs` disables the bit)
/// or a kernel that refuses seccomp filters still confines, only without the filter (the
/// engine then checks worktrees file by file). bwrap's version and the filter kept.
pub(crate) fn probe_filtered(
    bwrap: &Path,
    filter: Option<SyscallFilter>,
) -> Result<(String, Option<SyscallFilter>), SandboxError> {
    let Some(filter) = filter else {
        return Ok((probe(bwrap, None)?, None));
    };
    match probe(bwrap, Some(&filter)) {
        Ok(version) => Ok((version, Some(filter))),
        Err(err) => {
            let version = probe(bwrap, None)?;
            tracing::warn!(%err, what = filter.what(), "sandbox: bwrap cannot run under gaffer's system call filter; confining without it");
            Ok((version, None))
        }
    }
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

    /// A bwrap that fails under `no_new_privs` (as a setuid one does) still confines, without
    /// the filter; one that fails anyway is unusable.
    #[test]
    fn a_bwrap_that_cannot_run_under_the_filter_is_used_without_it() {
        let dir = tempfile::tempdir().unwrap();
        let fake = dir.path().join("bwrap");
        std::fs::write(
            &fake,
            "#!/bin/sh\n[ \"$1\" = --version ] && { echo 'bubblewrap 0.0'; exit 0; }\n\
             grep -q '^NoNewPrivs:[[:space:]]*1' /proc/self/status && { echo refused >&2; exit 1; }\n\
             exit 0\n",
        )
        .unwrap();
        std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
        let filter = crate::links::filter().unwrap();
        let (version, kept) = probe_filtered(&fake, Some(filter.clone())).unwrap();
        assert_eq!(version, "bubblewrap 0.0");
        assert_eq!(kept, None);
        // The filter is what the fake refuses: without it the probe passes as is.
        assert!(probe(&fake, Some(&filter)).is_err());
        assert!(probe(&fake, None).is_ok());
        let broken = dir.path().join("broken");
        std::fs::write(&broken, "#!/bin/sh\necho no >&2; exit 1\n").unwrap();
        std::fs::set_permissions(&broken, std::fs::Permissions::from_mode(0o755)).unwrap();
        assert!(probe_filtered(&broken, Some(filter)).is_err());
    }

    /// A filter under which a link can still be made (here one that allows everything) is
    /// not kept: the probe made the link.
    #[test]
    fn a_filter_that_lets_a_link_through_is_not_kept() {
        let Some(bwrap) = find_bwrap() else {
            assert!(
                std::env::var_os("CI").is_none_or(|v| v.is_empty()),
                "CI is set, so this test may not be skipped, but bwrap is missing"
            );
            eprintln!("SKIPPED: no bwrap");
            return;
        };
        let allow_all = SyscallFilter::new(
            vec![libc::sock_filter {
                code: (libc::BPF_RET | libc::BPF_K) as u16,
                jt: 0,
                jf: 0,
                k: libc::SECCOMP_RET_ALLOW,
            }],
            "allows everything",
        );
        assert!(probe(&bwrap, Some(&allow_all)).is_err());
        let (_, kept) = probe_filtered(&bwrap, Some(allow_all)).unwrap();
        assert_eq!(kept, None);
        let (_, kept) = probe_filtered(&bwrap, crate::links::filter()).unwrap();
        assert!(kept.is_some());
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
