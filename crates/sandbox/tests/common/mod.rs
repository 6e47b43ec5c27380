//! Helpers for the tests that run real bubblewrap.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use gaffer_proc::{CommandSpec, ProcessOutcome};
use gaffer_sandbox::{Network, Policy, PolicyBuilder, Sandbox, SandboxMode};
use tokio_util::sync::CancellationToken;

/// The `PATH` every test command gets (its environment is cleared).
pub const PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// A working bwrap sandbox, or `None` (with a loud line) when bwrap is
/// missing or unusable. Panics instead when `CI` is set: there the sandbox
/// tests must run.
pub fn sandbox() -> Option<Sandbox> {
    match Sandbox::detect(SandboxMode::Bwrap) {
        Ok(sandbox) => Some(sandbox),
        Err(err) if std::env::var_os("CI").is_some_and(|v| !v.is_empty()) => {
            panic!("CI is set, so the sandbox tests may not be skipped, but: {err}")
        }
        Err(err) => {
            eprintln!("\n!!!!!!!! SKIPPED: {err}. The sandbox test did NOT run. !!!!!!!!\n");
            None
        }
    }
}

/// A string no other test or run produces.
pub fn unique(prefix: &str) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default();
    format!(
        "{prefix}-{}-{}-{nanos}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// Whether this process runs as root.
pub fn is_root() -> bool {
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

/// A daemon's world in a temporary directory: the user's home and
/// checkout, gaffer's state directory holding this task's worktree, another
/// task's worktree, the run's scratch directory and the agent's home.
pub struct Layout {
    _dir: tempfile::TempDir,
    pub root: PathBuf,
    pub user_home: PathBuf,
    pub checkout: PathBuf,
    pub state: PathBuf,
    pub worktree: PathBuf,
    pub other_worktree: PathBuf,
    pub scratch: PathBuf,
    pub agent_home: PathBuf,
    /// Contents of the secret files, one per hidden place.
    pub home_secret: String,
    pub state_secret: String,
    pub other_secret: String,
    pub checkout_secret: String,
}

impl Layout {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        let state = root.join("state");
        let layout = Self {
            user_home: root.join("home"),
            checkout: root.join("checkout"),
            worktree: state.join("worktrees/t1"),
            other_worktree: state.join("worktrees/t2"),
            scratch: state.join("runs/r1"),
            agent_home: state.join("agents/claude"),
            state,
            root,
            _dir: dir,
            home_secret: unique("home-secret"),
            state_secret: unique("state-secret"),
            other_secret: unique("other-secret"),
            checkout_secret: unique("checkout-secret"),
        };
        for dir in [
            &layout.user_home,
            &layout.checkout,
            &layout.worktree,
            &layout.other_worktree,
            &layout.scratch,
            &layout.agent_home,
        ] {
            std::fs::create_dir_all(dir).unwrap();
        }
        let write = |path: PathBuf, text: &str| std::fs::write(path, text).unwrap();
        write(layout.user_home.join("secret.txt"), &layout.home_secret);
        write(layout.user_home.join(".bashrc"), "# untouched\n");
        write(layout.state.join("gaffer.db"), &layout.state_secret);
        write(layout.other_worktree.join("file.txt"), &layout.other_secret);
        write(layout.checkout.join("secret.txt"), &layout.checkout_secret);
        write(layout.worktree.join("README"), "task one\n");
        // As if the repository committed a symlink pointing out of it.
        std::os::unix::fs::symlink(&layout.user_home, layout.worktree.join("homelink")).unwrap();
        layout
    }

    pub fn policy(&self, network: Network) -> Policy {
        self.builder(network).build().unwrap()
    }

    /// The policy of [`Layout::policy`], still to be built.
    pub fn builder(&self, network: Network) -> PolicyBuilder {
        Policy::builder(&self.worktree)
            .writable(&self.scratch)
            .home(&self.agent_home)
            .hide(&self.user_home)
            .hide(&self.state)
            .hide(&self.checkout)
            .network(network)
    }

    /// Gives the whole layout to `nobody`, for runs as that user.
    pub fn give_to_nobody(&self) {
        let status = std::process::Command::new("chown")
            .args(["-R", "nobody:"])
            .arg(&self.root)
            .status()
            .unwrap();
        assert!(status.success());
    }
}

/// `script` for `shell` (`/bin/sh` or `bash`) in `cwd`, with a cleared
/// environment holding only [`PATH`].
pub fn script(shell: &str, script: &str, cwd: &Path) -> CommandSpec {
    CommandSpec::new(shell, cwd)
        .args(["-c", script])
        .env_clear(true)
        .env("PATH", PATH)
        .timeout(Duration::from_secs(20))
}

/// Runs `spec` to completion through gaffer-proc.
pub async fn run(spec: &CommandSpec) -> ProcessOutcome {
    gaffer_proc::run(spec, &CancellationToken::new(), |_| {})
        .await
        .unwrap()
}

/// `spec` run as `nobody` through `runuser`, keeping its environment.
pub fn as_nobody(spec: CommandSpec) -> CommandSpec {
    let mut args: Vec<String> = ["-p", "-u", "nobody", "--"].map(String::from).into();
    args.push(spec.program.clone());
    args.extend(spec.args.iter().cloned());
    CommandSpec {
        program: "runuser".into(),
        args,
        ..spec
    }
}

/// Whether `runuser` exists, so tests can switch to `nobody`.
pub fn has_runuser() -> bool {
    PATH.split(':')
        .any(|d| Path::new(d).join("runuser").is_file())
}
