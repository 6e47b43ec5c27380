//! Running `git`: one place that decides the environment, flags and error reporting of every
//! invocation.

use std::ffi::{OsStr, OsString};
use std::io::{Read, Write};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::{GAFFER_IDENTITY, GitError, Result};

/// Variables a surrounding git process (gaffer started from a hook, say) may have set that
/// would redirect every command to another repository or index.
const INHERITED_GIT_VARS: &[&str] = &[
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_COMMON_DIR",
    "GIT_NAMESPACE",
    "GIT_PREFIX",
];

/// Config applied to every invocation: never run the user's hooks (gaffer's git use is
/// plumbing, and hooks in agent worktrees would be slow and surprising), never colour output
/// we parse, and never run anything a repository's config names: an agent can leave a nested
/// repository in its worktree whose config sets `core.fsmonitor` to a command, and `git add`
/// or `status` would run it, outside any sandbox, while looking into that repository.
/// Settings given with `-c` are passed on to the git processes git itself starts, and win over
/// any repository's own config.
///
/// Checkouts that write many files (a fresh worktree, a slot whose `.gitattributes` changed)
/// use one worker per core (`checkout.workers=0`; git writes small updates itself): measured
/// on a 20,000-file repository, a full checkout took 2.2–3.5 s instead of 12–13.6 s, most of
/// it system time spent writing files one after another.
const BASE_CONFIG: &[&str] = &[
    "-c",
    "checkout.workers=0",
    "-c",
    "core.hooksPath=/dev/null",
    "-c",
    "color.ui=false",
    "-c",
    "core.fsmonitor=false",
    "-c",
    "submodule.recurse=false",
    "-c",
    "diff.ignoreSubmodules=all",
    "-c",
    "status.submoduleSummary=false",
];

/// How many times a command failing for a transient reason is run in all.
const MAX_ATTEMPTS: u32 = 6;

/// Whether git failed for a reason that goes away by itself, before it changed anything:
/// - another git process holds a lock file (`index.lock`, a ref's lock, the config lock);
/// - git read a worktree's administrative files while another `git worktree add` was still
///   writing them (git writes `commondir` non-atomically and readers die on an empty file);
/// - a `git worktree add` whose administrative directory a concurrent `git worktree prune`
///   removed: `add` makes the directory, then writes `locked` so that prune leaves it alone,
///   and a prune in between sees a directory without `gitdir` and deletes it (`add` then
///   fails writing into it and removes what it made).
pub(crate) fn is_transient(stderr: &str) -> bool {
    stderr.contains(".lock': File exists")
        || stderr.contains("could not lock config file")
        || (stderr.contains("failed to read") && stderr.contains("worktrees/"))
        || (stderr.contains("could not open '")
            && stderr.contains("worktrees/")
            && stderr.contains("for writing: No such file or directory"))
}

/// How old a lock of the refs (`packed-refs.lock`, `refs/…/<name>.lock`) must be to be taken
/// for one a dead process left. git holds these only while it rewrites a ref or the packed refs
/// (milliseconds; git itself waits up to a second for `packed-refs.lock`), so a lock this old
/// whose git is still alive would be a first; one left by a git killed with gaffer (a SIGKILL,
/// a power cut) stays forever and fails every later fetch of that repository.
const STALE_REF_LOCK: Duration = Duration::from_secs(5);

/// The lock of the refs that `stderr` says was in the way (`Unable to create '<lock>': File
/// exists.`), when it is one and older than [`STALE_REF_LOCK`]: index and config locks are never
/// taken for stale (a checkout holds the index's for as long as it writes files).
fn stale_ref_lock(dir: &Path, stderr: &str) -> Option<PathBuf> {
    let (_, rest) = stderr.split_once("Unable to create '")?;
    let (path, _) = rest.split_once("': File exists")?;
    let path = dir.join(path);
    let name = path.file_name()?.to_str()?;
    let of_refs = name == "packed-refs.lock"
        || (name.ends_with(".lock")
            && path
                .ancestors()
                .any(|a| a.file_name().is_some_and(|n| n == "refs")));
    let age = path
        .symlink_metadata()
        .ok()?
        .modified()
        .ok()?
        .elapsed()
        .ok()?;
    (of_refs && age >= STALE_REF_LOCK).then_some(path)
}

/// A `git` invocation being built.
pub(crate) struct GitCommand {
    dir: PathBuf,
    args: Vec<OsString>,
    caller_env: Vec<(String, String)>,
    late_env: Vec<(String, String)>,
    stdin: Option<Vec<u8>>,
}

/// What a finished git process produced.
pub(crate) struct GitOutput {
    /// Command line, for error messages.
    pub args: String,
    /// Exit code; `None` when killed by a signal.
    pub code: Option<i32>,
    pub stdout: Vec<u8>,
    pub stderr: String,
}

impl GitCommand {
    /// `git` running in `dir` with the caller's extra environment.
    pub fn new(dir: &Path, env: &[(String, String)]) -> GitCommand {
        GitCommand {
            dir: dir.to_path_buf(),
            args: Vec::new(),
            caller_env: env.to_vec(),
            late_env: Vec::new(),
            stdin: None,
        }
    }

    pub fn arg(mut self, arg: impl AsRef<OsStr>) -> GitCommand {
        self.args.push(arg.as_ref().to_owned());
        self
    }

    pub fn args<I, S>(mut self, args: I) -> GitCommand
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.args
            .extend(args.into_iter().map(|a| a.as_ref().to_owned()));
        self
    }

    /// Sets a variable after (so overriding) the caller's environment.
    pub fn env(mut self, key: &str, value: &str) -> GitCommand {
        self.late_env.push((key.to_owned(), value.to_owned()));
        self
    }

    /// Commits made by this command are authored and committed by gaffer, unless the caller's
    /// environment or the process environment names someone else.
    pub fn default_identity(mut self) -> GitCommand {
        let (name, email) = GAFFER_IDENTITY;
        for (key, value) in [
            ("GIT_AUTHOR_NAME", name),
            ("GIT_AUTHOR_EMAIL", email),
            ("GIT_COMMITTER_NAME", name),
            ("GIT_COMMITTER_EMAIL", email),
        ] {
            let in_caller_env = self.caller_env.iter().any(|(k, _)| k == key);
            if !in_caller_env && std::env::var_os(key).is_none() {
                self.late_env.push((key.to_owned(), value.to_owned()));
            }
        }
        self
    }

    /// Feeds `input` to git's stdin (otherwise stdin is closed).
    pub fn stdin(mut self, input: impl Into<Vec<u8>>) -> GitCommand {
        self.stdin = Some(input.into());
        self
    }

    fn display(&self) -> String {
        let mut s = String::from("git");
        for arg in &self.args {
            s.push(' ');
            s.push_str(&arg.to_string_lossy());
        }
        s
    }

    /// Runs git to completion, whatever its exit code. Fails only if it cannot be started.
    ///
    /// A run that failed for a transient reason (see [`is_transient`]) is retried a few
    /// times with a growing pause.
    ///
    /// When the last attempt still finds a lock of the refs in its way, and that lock is old
    /// enough to have been left by a dead process ([`STALE_REF_LOCK`]), the lock is removed and
    /// git runs once more.
    pub fn output(self) -> Result<GitOutput> {
        let mut pause = Duration::from_millis(10);
        let mut attempt = 1;
        loop {
            let out = self.output_once()?;
            if out.code == Some(0) || !is_transient(&out.stderr) {
                return Ok(out);
            }
            if attempt >= MAX_ATTEMPTS {
                let Some(lock) = stale_ref_lock(&self.dir, &out.stderr) else {
                    return Ok(out);
                };
                tracing::warn!(target: "gaffer_git", lock = %lock.display(), "removing a lock of the refs a dead git left behind");
                if std::fs::remove_file(&lock).is_err() {
                    return Ok(out);
                }
                return self.output_once();
            }
            tracing::debug!(target: "gaffer_git", args = %out.args, stderr = %out.stderr.trim(), "transient git failure; retrying");
            std::thread::sleep(pause);
            pause *= 2;
            attempt += 1;
        }
    }

    /// The process to start: every invocation's config and environment, stdout and stderr
    /// piped, stdin piped when there is input (or `keep_stdin`), closed otherwise.
    fn command(&self, keep_stdin: bool) -> Command {
        let mut cmd = Command::new("git");
        cmd.current_dir(&self.dir)
            .args(BASE_CONFIG)
            .args(&self.args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .stdin(if self.stdin.is_some() || keep_stdin {
                Stdio::piped()
            } else {
                Stdio::null()
            });
        for var in INHERITED_GIT_VARS {
            cmd.env_remove(var);
        }
        cmd.env("LC_ALL", "C").env("GIT_TERMINAL_PROMPT", "0");
        cmd.envs(self.caller_env.iter().map(|(k, v)| (k, v)));
        cmd.envs(self.late_env.iter().map(|(k, v)| (k, v)));
        cmd
    }

    /// Starts git to talk to it over its stdin and stdout (a `--batch` command); its stderr
    /// is dropped.
    pub fn spawn_batch(self) -> Result<std::process::Child> {
        let mut cmd = self.command(true);
        cmd.stderr(Stdio::null());
        cmd.spawn().map_err(|source| GitError::Spawn {
            args: self.display(),
            source,
        })
    }

    /// Starts git in the background, in a process group of its own (so that [`Running::stop`]
    /// stops the helpers it starts too, such as parallel checkout's workers); stdout is
    /// dropped, stderr kept for the error. Not retried: the caller decides what a failure means.
    pub fn start(self) -> Result<Running> {
        let args = self.display();
        let mut cmd = self.command(false);
        cmd.stdout(Stdio::null()).process_group(0);
        die_with_this_thread(&mut cmd);
        let mut child = cmd.spawn().map_err(|source| GitError::Spawn {
            args: args.clone(),
            source,
        })?;
        let stderr = child.stderr.take().map(|mut pipe| {
            std::thread::spawn(move || {
                let mut bytes = Vec::new();
                let _ = pipe.read_to_end(&mut bytes);
                String::from_utf8_lossy(&bytes).into_owned()
            })
        });
        Ok(Running {
            args,
            child,
            status: None,
            stderr,
        })
    }

    fn output_once(&self) -> Result<GitOutput> {
        let args = self.display();
        let mut cmd = self.command(false);

        let started = Instant::now();
        let spawn_err = |source| GitError::Spawn {
            args: args.clone(),
            source,
        };
        let mut child = cmd.spawn().map_err(spawn_err)?;
        let output = match (&self.stdin, child.stdin.take()) {
            (Some(input), Some(mut pipe)) => {
                // Write from another thread so a git that prints before reading cannot
                // deadlock against us. A write error means git exited early; its exit status
                // and stderr tell the story, so the error itself is dropped.
                std::thread::scope(|scope| {
                    scope.spawn(move || {
                        let _ = pipe.write_all(input);
                    });
                    child.wait_with_output()
                })
            }
            _ => child.wait_with_output(),
        }
        .map_err(spawn_err)?;
        let code = output.status.code();
        tracing::debug!(
            target: "gaffer_git",
            dir = %self.dir.display(),
            %args,
            ?code,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "git"
        );
        Ok(GitOutput {
            args,
            code,
            stdout: output.stdout,
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        })
    }

    /// Runs git, requires exit code 0, and returns stdout as text (lossily decoded) without
    /// its trailing newline.
    pub fn run(self) -> Result<String> {
        let out = self.output()?.success()?;
        Ok(out.stdout_text().trim_end_matches('\n').to_owned())
    }

    /// Runs git, requires exit code 0, and returns stdout as bytes.
    pub fn run_bytes(self) -> Result<Vec<u8>> {
        Ok(self.output()?.success()?.stdout)
    }
}

/// A git process started with [`GitCommand::start`].
pub(crate) struct Running {
    args: String,
    child: std::process::Child,
    /// How git ended, once it was reaped (from then on its id may name another process).
    status: Option<std::process::ExitStatus>,
    stderr: Option<std::thread::JoinHandle<String>>,
}

impl Running {
    /// `None` while git runs (or a process it started still holds its stderr open); once it
    /// has ended, what it came to (a [`GitError::Failed`] unless it exited 0). Never blocks.
    pub fn try_finish(&mut self) -> Option<Result<()>> {
        let status = match self.status {
            Some(status) => status,
            None => match self.child.try_wait() {
                Ok(None) => return None,
                Ok(Some(status)) => {
                    self.status = Some(status);
                    status
                }
                Err(source) => {
                    return Some(Err(GitError::Spawn {
                        args: self.args.clone(),
                        source,
                    }));
                }
            },
        };
        if self
            .stderr
            .as_ref()
            .is_some_and(|reader| !reader.is_finished())
        {
            return None;
        }
        let stderr = self
            .stderr
            .take()
            .and_then(|reader| reader.join().ok())
            .unwrap_or_default();
        Some(if status.success() {
            Ok(())
        } else {
            Err(GitError::Failed {
                args: self.args.clone(),
                code: status.code(),
                stderr,
            })
        })
    }

    /// Kills git and every process of its group, and waits for git to end. Whatever it was
    /// writing is left half-written. The thread reading its stderr is not waited for: a
    /// process that left the group (a filter that made itself a daemon) may hold the pipe
    /// open, and the caller holds a lock.
    pub fn stop(mut self) {
        if self.status.is_some() {
            // Reaped: its id may be someone else's now.
            return;
        }
        // The group is git's own (`process_group(0)`) and git is not reaped yet, so its id
        // cannot name anyone else's group.
        if let Ok(pid) = i32::try_from(self.child.id()) {
            let _ = nix::sys::signal::killpg(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl GitOutput {
    /// `self` if git exited 0, otherwise the corresponding [`GitError::Failed`].
    pub fn success(self) -> Result<GitOutput> {
        if self.code == Some(0) {
            Ok(self)
        } else {
            Err(self.into_error())
        }
    }

    /// The [`GitError::Failed`] describing this (unsuccessful) run.
    pub fn into_error(self) -> GitError {
        GitError::Failed {
            args: self.args,
            code: self.code,
            stderr: self.stderr,
        }
    }

    pub fn stdout_text(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }
}

/// Splits NUL-terminated output (`-z`) into its fields, lossily decoded.
pub(crate) fn split_nul(bytes: &[u8]) -> Vec<String> {
    let mut fields: Vec<String> = bytes
        .split(|&b| b == 0)
        .map(|f| String::from_utf8_lossy(f).into_owned())
        .collect();
    // The output ends with a terminator, which leaves one empty field at the end.
    if fields.last().is_some_and(String::is_empty) {
        fields.pop();
    }
    fields
}

/// Rejects values git would parse as options.
pub(crate) fn not_an_option<'a>(what: &str, value: &'a str) -> Result<&'a str> {
    if value.starts_with('-') {
        Err(GitError::InvalidArgument(format!(
            "{what} must not start with '-': {value:?}"
        )))
    } else {
        Ok(value)
    }
}

/// Makes `cmd`'s process get SIGKILL when the thread that starts it ends, gaffer's death
/// included: in a process group of its own, a fill would not hear a Ctrl-C to gaffer's, and
/// would go on writing a pool slot after a crash while the next start reconciles it. The thread
/// that starts a fill is the one that waits for it, so it outlives it.
#[cfg(target_os = "linux")]
fn die_with_this_thread(cmd: &mut std::process::Command) {
    use std::os::unix::process::CommandExt;
    #[allow(unsafe_code)]
    // SAFETY: the closure runs in the forked child before exec, where only async-signal-safe
    // calls are allowed: it makes the `prctl` system call through nix's thin wrapper, which
    // neither allocates nor locks, and builds an `io::Error` from a raw errno value.
    unsafe {
        cmd.pre_exec(|| {
            nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGKILL)
                .map_err(|e| std::io::Error::from_raw_os_error(e as i32))
        });
    }
}

#[cfg(not(target_os = "linux"))]
fn die_with_this_thread(_cmd: &mut std::process::Command) {}

#[cfg(test)]
mod tests {
    use super::{GitCommand, STALE_REF_LOCK, is_transient};
    use gaffer_test_support::TestRepo;
    use std::time::{Duration, SystemTime};

    /// A packed branch `x` and a `packed-refs.lock` made `age` ago; deleting `x` then needs the
    /// lock.
    fn locked_repo(age: Duration) -> (TestRepo, std::path::PathBuf) {
        let repo = TestRepo::new();
        repo.git(&["branch", "x"]);
        repo.git(&["pack-refs", "--all"]);
        let lock = repo.path().join(".git/packed-refs.lock");
        let file = std::fs::File::create(&lock).unwrap();
        file.set_modified(SystemTime::now() - age).unwrap();
        (repo, lock)
    }

    fn delete_x(repo: &TestRepo) -> crate::Result<String> {
        GitCommand::new(repo.path(), &repo.env())
            .args([
                "-c",
                "core.packedRefsTimeout=0",
                "update-ref",
                "-d",
                "refs/heads/x",
            ])
            .run()
    }

    #[test]
    fn a_lock_of_the_refs_a_dead_git_left_is_removed() {
        let (repo, lock) = locked_repo(STALE_REF_LOCK + Duration::from_secs(60));
        delete_x(&repo).unwrap();
        assert!(!lock.exists());
        assert_eq!(repo.git(&["branch", "--list", "x"]), "");
    }

    #[test]
    fn a_young_lock_of_the_refs_is_left_to_its_git() {
        let (repo, lock) = locked_repo(Duration::ZERO);
        let err = delete_x(&repo).unwrap_err();
        assert!(err.to_string().contains("packed-refs.lock"), "{err}");
        assert!(lock.exists());
    }

    #[test]
    fn recognises_transient_failures() {
        assert!(is_transient(
            "fatal: Unable to create '/r/.git/index.lock': File exists.\n\nAnother git process seems to be running"
        ));
        assert!(is_transient(
            "fatal: failed to read .git/worktrees/t1/commondir: Success"
        ));
        assert!(is_transient(
            "error: could not lock config file .git/config: File exists"
        ));
        // Seen with git 2.47 when a prune ran in the middle of `git worktree add`.
        assert!(is_transient(
            "fatal: could not open '.git/worktrees/revert-1/gitdir' for writing: No such file or directory\n"
        ));
        assert!(!is_transient(
            "fatal: could not open 'notes.txt' for writing: No such file or directory"
        ));
        assert!(!is_transient(
            "fatal: cannot lock ref 'refs/heads/x': is at 1234 but expected 5678"
        ));
        assert!(!is_transient("fatal: not a git repository"));
    }
}
