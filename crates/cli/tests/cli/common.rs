//! The hermetic environment every test runs `gaffer` in, and a project fixture with a scripted
//! agent.
//!
//! Every command starts from an empty environment: `PATH`, then the test's own `HOME`, no system
//! or global git configuration, a fixed identity, the C locale, UTC, and `TMPDIR` inside the test's
//! temporary directory (so that what gaffer leaves in a temporary directory, such as
//! `gaffer demo --keep`, goes away with the test). Nothing talks to the network: the daemon
//! listens on 127.0.0.1 with `--port 0`.

use assert_cmd::Command;
use gaffer_test_support::{TestRepo, hermetic_git_env};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// How long one gaffer command may take before the test fails (a hung command must not hang
/// the test run).
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(120);

/// How long a task may take to reach a status the test waits for.
pub const TASK_DEADLINE: Duration = Duration::from_secs(120);

/// The gaffer binary under test, run in `dir` in the hermetic environment of a test whose
/// private home is `home` and whose temporary files go under `tmp`.
pub fn gaffer_in(dir: &Path, home: &Path, tmp: &Path) -> Command {
    let mut cmd = Command::from_std(std_gaffer_in(dir, home, tmp));
    cmd.timeout(COMMAND_TIMEOUT);
    cmd
}

/// [`gaffer_in`] as a plain `std::process::Command`, for tests that need its pipes.
pub fn std_gaffer_in(dir: &Path, home: &Path, tmp: &Path) -> std::process::Command {
    std::fs::create_dir_all(tmp).unwrap();
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_gaffer"));
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .envs(hermetic_git_env(home))
        .env("TMPDIR", tmp)
        .current_dir(dir);
    cmd
}

/// A temporary directory that is not a git repository (git's search stops at its parent), with
/// a private home.
pub struct Sandbox {
    _tmp: tempfile::TempDir,
    root: PathBuf,
}

impl Sandbox {
    pub fn new() -> Sandbox {
        let tmp = tempfile::Builder::new()
            .prefix("gaffer-cli-test-")
            .tempdir()
            .unwrap();
        let root = tmp.path().canonicalize().unwrap();
        std::fs::create_dir_all(root.join("home")).unwrap();
        std::fs::create_dir_all(root.join("work")).unwrap();
        Sandbox { _tmp: tmp, root }
    }

    /// An empty directory outside any git repository.
    pub fn dir(&self) -> PathBuf {
        self.root.join("work")
    }

    /// `TMPDIR` of the commands started here.
    pub fn tmp(&self) -> PathBuf {
        self.root.join("tmp")
    }

    /// gaffer in [`Sandbox::dir`]; git does not look above the sandbox for a repository.
    pub fn gaffer(&self) -> Command {
        let mut cmd = Command::from_std(self.std_gaffer());
        cmd.timeout(COMMAND_TIMEOUT);
        cmd
    }

    /// [`Sandbox::gaffer`] as a plain `std::process::Command`.
    pub fn std_gaffer(&self) -> std::process::Command {
        let mut cmd = std_gaffer_in(&self.dir(), &self.root.join("home"), &self.tmp());
        let ceiling = self.root.parent().unwrap_or(Path::new("/"));
        cmd.env("GIT_CEILING_DIRECTORIES", ceiling);
        cmd
    }
}

/// The fixture's configuration: a scripted coder and a verify command that fails when a file
/// named BROKEN exists, so a script can make a task fail verify.
pub const GAFFER_TOML: &str = r#"# The CLI tests' project.
[project]
name = "fixture"
target = "main"

[verify]
command = "test ! -e BROKEN"
timeout = "60s"

[engine]
concurrency = 2
worktree_pool = 0

[limits]
verify_failures_per_tier = 1

[agents.scripted-agent]
backend = "scripted"
script = "script.toml"

[roles]
coder = ["scripted-agent"]

[server]
# Tests always pass --port 0; this keeps `gaffer doctor`'s port check off a shared port.
port = 0
"#;

/// What the scripted agent does, by task title.
pub const SCRIPT: &str = r##"
[[task]]
match = "notes"
[[task.attempt]]
summary = "Wrote notes.txt."
actions = [
  { status = "writing notes.txt" },
  { write = "notes.txt", content = "landed notes\n" },
]

[[task]]
match = "readme"
[[task.attempt]]
summary = "Retitled the README."
actions = [{ replace = "README.md", from = "# test repository", to = "# landed readme" }]

[[task]]
match = "slow"
[[task.attempt]]
delay_ms = 600000
summary = "Took its time."
actions = [{ write = "slow.txt", content = "slow\n" }]

[[task]]
match = "leisurely"
[[task.attempt]]
delay_ms = 2000
summary = "Wrote leisure.txt."
actions = [{ write = "leisure.txt", content = "slowly\n" }]

[[task]]
match = "question"
[[task.attempt]]
summary = "Asked which greeting."
actions = [{ question = "Which greeting?" }]
[[task.attempt]]
summary = "Wrote the greeting."
actions = [{ write = "greeting.txt", content = "Hello\n" }]

[[task]]
match = "broken"
[[task.attempt]]
summary = "Broke the build."
actions = [{ write = "BROKEN", content = "verify fails while this file exists\n" }]
"##;

/// A git repository on `main` with [`GAFFER_TOML`], [`SCRIPT`], a README and an unrelated
/// tracked file `other.txt`, all committed.
pub struct Project {
    pub repo: TestRepo,
    /// Variables every gaffer command of this project gets beside the hermetic environment.
    pub env: Vec<(String, String)>,
}

impl Project {
    pub fn new() -> Project {
        let project = Project::bare();
        project.repo.write("gaffer.toml", GAFFER_TOML);
        project.repo.write("script.toml", SCRIPT);
        project.repo.write("other.txt", "unrelated\n");
        project
            .repo
            .commit_all("fixture: gaffer.toml and the agent's script");
        project
    }

    /// A repository on `main` with only a README, no gaffer.toml.
    pub fn bare() -> Project {
        Project {
            repo: TestRepo::new(),
            env: Vec::new(),
        }
    }

    pub fn path(&self) -> &Path {
        self.repo.path()
    }

    /// gaffer in the repository.
    pub fn gaffer(&self) -> Command {
        self.gaffer_at(self.path())
    }

    /// [`Project::gaffer`] as a plain `std::process::Command`.
    pub fn std_gaffer(&self) -> std::process::Command {
        let mut cmd = std_gaffer_in(self.path(), self.repo.home(), &self.repo.scratch("tmp"));
        cmd.envs(self.env.iter().map(|(k, v)| (k, v)));
        cmd
    }

    /// gaffer in another directory of this test (with this test's home and temp dir).
    pub fn gaffer_at(&self, dir: &Path) -> Command {
        let mut cmd = gaffer_in(dir, self.repo.home(), &self.repo.scratch("tmp"));
        cmd.envs(self.env.iter().map(|(k, v)| (k, v)));
        cmd
    }

    /// Runs gaffer with `args`, expects success, and parses standard output as JSON.
    pub fn json(&self, args: &[&str]) -> Value {
        let out = self.gaffer().args(args).output().unwrap();
        assert!(
            out.status.success(),
            "gaffer {args:?} failed ({}):\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "gaffer {args:?} printed no JSON ({e}):\n{}",
                String::from_utf8_lossy(&out.stdout)
            )
        })
    }

    /// Adds a task (directly, or through the daemon when one runs) and returns its id.
    pub fn add_task(&self, title: &str, extra: &[&str]) -> i64 {
        let mut args = vec!["task", "add", title, "--json"];
        args.extend_from_slice(extra);
        let task = self.json(&args);
        task["id"]
            .as_i64()
            .unwrap_or_else(|| panic!("no id in {task}"))
    }

    /// `task show N --json`: `{ task, runs, events }`.
    pub fn show(&self, id: i64) -> Value {
        self.json(&["task", "show", &id.to_string(), "--json"])
    }

    pub fn status_of(&self, id: i64) -> String {
        self.show(id)["task"]["state"]["status"]
            .as_str()
            .unwrap()
            .to_string()
    }

    /// Polls the task until it has status `want`; fails at once if it ends in another terminal
    /// status, and after [`TASK_DEADLINE`] with what the task and the daemon's log say.
    pub fn wait_for_status(&self, id: i64, want: &str) -> Value {
        let deadline = Instant::now() + TASK_DEADLINE;
        loop {
            let shown = self.show(id);
            let status = shown["task"]["state"]["status"].as_str().unwrap_or("?");
            if status == want {
                return shown;
            }
            let terminal = ["merged", "failed", "cancelled"].contains(&status);
            if terminal || Instant::now() > deadline {
                panic!(
                    "task {id} is {status}, not {want}{}\ntask: {:#}\ndaemon log:\n{}",
                    if terminal { "" } else { " (deadline passed)" },
                    shown["task"],
                    self.daemon_log()
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// gaffer's state directory (the default: inside `.git`).
    pub fn state_dir(&self) -> PathBuf {
        self.path().join(".git").join("gaffer")
    }

    pub fn daemon_file(&self) -> PathBuf {
        self.state_dir().join("daemon.json")
    }

    pub fn daemon_log(&self) -> String {
        std::fs::read_to_string(self.state_dir().join("daemon.log")).unwrap_or_default()
    }

    /// `gaffer up --detach --port 0`, then the pid and port from `daemon.json`.
    pub fn start_daemon(&self) -> Daemon<'_> {
        self.start_daemon_with(&[])
    }

    /// Like [`Project::start_daemon`], with global options (`--config`, `--set`) before `up`.
    pub fn start_daemon_with(&self, global: &[&str]) -> Daemon<'_> {
        self.start_daemon_full(global, &[])
    }

    /// Like [`Project::start_daemon`], with these variables in the daemon's environment.
    pub fn start_daemon_with_env(&self, env: &[(&str, &str)]) -> Daemon<'_> {
        self.start_daemon_full(&[], env)
    }

    fn start_daemon_full(&self, global: &[&str], env: &[(&str, &str)]) -> Daemon<'_> {
        let out = self
            .gaffer()
            .envs(env.iter().copied())
            .args(global)
            .args(["up", "--detach", "--port", "0"])
            .output()
            .unwrap();
        let info = std::fs::read_to_string(self.daemon_file()).ok();
        // Whatever happened, stop it when the test ends.
        let daemon = info.as_deref().map(|text| {
            let info: Value = serde_json::from_str(text).unwrap();
            Daemon {
                project: self,
                pid: u32::try_from(info["pid"].as_u64().unwrap()).unwrap(),
                port: u16::try_from(info["port"].as_u64().unwrap()).unwrap(),
            }
        });
        assert!(
            out.status.success(),
            "gaffer up --detach failed ({}):\n{}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let stdout = String::from_utf8_lossy(&out.stdout);
        let daemon =
            daemon.unwrap_or_else(|| panic!("no daemon.json after `up --detach`: {stdout}"));
        assert_ne!(daemon.port, 0, "daemon.json names port 0");
        assert!(
            stdout.contains(&format!("http://127.0.0.1:{}", daemon.port)),
            "`up --detach` did not say where it listens: {stdout}"
        );
        assert!(
            pid_alive(daemon.pid),
            "the daemon (pid {}) is not running",
            daemon.pid
        );
        daemon
    }
}

/// A detached daemon started by a test. Dropping it stops it (`gaffer down`, then SIGKILL to
/// its process group), so that a failing test leaves no process behind.
pub struct Daemon<'a> {
    project: &'a Project,
    pub pid: u32,
    pub port: u16,
}

impl Drop for Daemon<'_> {
    fn drop(&mut self) {
        if !pid_alive(self.pid) {
            return;
        }
        let _ = self
            .project
            .gaffer()
            .arg("down")
            .timeout(Duration::from_secs(30))
            .output();
        if pid_alive(self.pid) {
            let group = nix::unistd::Pid::from_raw(self.pid as i32);
            let _ = nix::sys::signal::killpg(group, nix::sys::signal::Signal::SIGKILL);
        }
    }
}

/// The process exists and is not a zombie.
pub fn pid_alive(pid: u32) -> bool {
    let Ok(raw) = i32::try_from(pid) else {
        return false;
    };
    if nix::sys::signal::kill(nix::unistd::Pid::from_raw(raw), None).is_err() {
        return false;
    }
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => !stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z')),
        Err(_) => false,
    }
}

/// Polls `check` every 50 ms until it returns something, failing with `what` after `timeout`.
pub fn wait_until<T>(what: &str, timeout: Duration, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = check() {
            return value;
        }
        if Instant::now() > deadline {
            panic!("timed out after {timeout:?} waiting for {what}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Kills a child process the test started if the test ends before it exited.
pub struct ChildGuard(pub std::process::Child);

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub fn wait_for_exit(
    child: &mut std::process::Child,
    timeout: Duration,
) -> std::process::ExitStatus {
    wait_until("the process to exit", timeout, || child.try_wait().unwrap())
}

pub fn stdout_of(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn stderr_of(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}
