//! What to run and under which limits.

use std::path::PathBuf;
use std::time::Duration;

use crate::private_net::PrivateNet;
use crate::syscall_filter::SyscallFilter;

/// Default for [`CommandSpec::tail_bytes`]: 64 KiB.
pub const DEFAULT_TAIL_BYTES: usize = 64 * 1024;
/// Default for [`CommandSpec::kill_grace`]: 2 seconds.
pub const DEFAULT_KILL_GRACE: Duration = Duration::from_secs(2);
/// Default for [`CommandSpec::max_line_bytes`]: 8 MiB.
pub const DEFAULT_MAX_LINE_BYTES: usize = 8 * 1024 * 1024;

/// A command to run as the leader of a new process group.
///
/// The child gets a null stdin (a pipe with [`CommandSpec::stdin_piped`], for
/// [`crate::spawn_lines`]). Build one with [`CommandSpec::new`]
/// or [`CommandSpec::shell`] and the builder-style setters, or with a struct
/// literal ending in `..Default::default()`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandSpec {
    /// Program to execute. Unless it contains a `/`, it is looked up in the
    /// `PATH` given in `env` if any, else in gaffer's own `PATH` (even when
    /// `env_clear` is set). The lookup happens before anything is spawned;
    /// the program then runs under the guard shell that leads its group,
    /// with the path found as its `argv[0]`.
    pub program: String,
    /// Arguments, not including the program name.
    pub args: Vec<String>,
    /// Working directory of the child.
    pub cwd: PathBuf,
    /// Environment variables to set (after clearing, if `env_clear`).
    pub env: Vec<(String, String)>,
    /// Start from an empty environment instead of inheriting gaffer's.
    pub env_clear: bool,
    /// Kill the process group if it runs longer than this.
    pub timeout: Option<Duration>,
    /// How many trailing bytes of output to keep in the outcome's `tail`.
    pub tail_bytes: usize,
    /// After SIGTERM (on timeout or cancel), how long to wait before
    /// SIGKILL. Also how long leftover group members get after the leader
    /// exits on its own.
    pub kill_grace: Duration,
    /// For [`crate::spawn_lines`]: longer stdout lines are truncated to this
    /// many bytes (the rest of the line is read and discarded).
    pub max_line_bytes: usize,
    /// Run in a network namespace of its own, where gaffer listens on the given ports (see
    /// [`PrivateNet`]); `None`: the host's network.
    pub private_net: Option<PrivateNet>,
    /// For [`crate::spawn_lines`]: the child's stdin is a pipe whose writing end is
    /// [`crate::LineProcess::stdin`] (an agent that takes messages while it runs); otherwise
    /// it is null.
    pub stdin_piped: bool,
    /// A seccomp filter the child and everything it starts run under (installed just before
    /// `exec`); `None`: none.
    pub syscall_filter: Option<SyscallFilter>,
}

impl Default for CommandSpec {
    fn default() -> Self {
        Self {
            program: String::new(),
            args: Vec::new(),
            cwd: PathBuf::from("."),
            env: Vec::new(),
            env_clear: false,
            timeout: None,
            tail_bytes: DEFAULT_TAIL_BYTES,
            kill_grace: DEFAULT_KILL_GRACE,
            max_line_bytes: DEFAULT_MAX_LINE_BYTES,
            private_net: None,
            stdin_piped: false,
            syscall_filter: None,
        }
    }
}

impl CommandSpec {
    /// Runs `program` (no arguments yet) in `cwd`.
    pub fn new(program: impl Into<String>, cwd: impl Into<PathBuf>) -> Self {
        Self {
            program: program.into(),
            cwd: cwd.into(),
            ..Self::default()
        }
    }

    /// Runs `cmd` with `/bin/sh -c` in `cwd`. The absolute path keeps this
    /// working when the environment (and so `PATH`) is cleared.
    pub fn shell(cmd: &str, cwd: impl Into<PathBuf>) -> Self {
        Self::new("/bin/sh", cwd).args(["-c", cmd])
    }

    /// Appends one argument.
    pub fn arg(mut self, arg: impl Into<String>) -> Self {
        self.args.push(arg.into());
        self
    }

    /// Appends several arguments.
    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// Sets the working directory.
    pub fn cwd(mut self, cwd: impl Into<PathBuf>) -> Self {
        self.cwd = cwd.into();
        self
    }

    /// Adds one environment variable.
    pub fn env(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }

    /// Adds several environment variables.
    pub fn envs<I, K, V>(mut self, vars: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        self.env
            .extend(vars.into_iter().map(|(k, v)| (k.into(), v.into())));
        self
    }

    /// Whether to start from an empty environment.
    pub fn env_clear(mut self, clear: bool) -> Self {
        self.env_clear = clear;
        self
    }

    /// Sets (or removes, with `None`) the timeout.
    pub fn timeout(mut self, timeout: impl Into<Option<Duration>>) -> Self {
        self.timeout = timeout.into();
        self
    }

    /// Gives the child a pipe as stdin (see [`CommandSpec::stdin_piped`]).
    pub fn stdin_piped(mut self, piped: bool) -> Self {
        self.stdin_piped = piped;
        self
    }

    /// Sets how many trailing output bytes to keep.
    pub fn tail_bytes(mut self, bytes: usize) -> Self {
        self.tail_bytes = bytes;
        self
    }

    /// Sets the delay between SIGTERM and SIGKILL.
    pub fn kill_grace(mut self, grace: Duration) -> Self {
        self.kill_grace = grace;
        self
    }

    /// Sets the maximum length of a streamed stdout line.
    pub fn max_line_bytes(mut self, bytes: usize) -> Self {
        self.max_line_bytes = bytes;
        self
    }

    /// Sets (or removes, with `None`) the private network.
    pub fn private_net(mut self, net: impl Into<Option<PrivateNet>>) -> Self {
        self.private_net = net.into();
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_uses_sh_c() {
        let spec = CommandSpec::shell("echo hi", "/tmp");
        assert_eq!(spec.program, "/bin/sh");
        assert_eq!(spec.args, ["-c", "echo hi"]);
        assert_eq!(spec.cwd, PathBuf::from("/tmp"));
        assert_eq!(spec.tail_bytes, DEFAULT_TAIL_BYTES);
        assert_eq!(spec.kill_grace, DEFAULT_KILL_GRACE);
        assert_eq!(spec.timeout, None);
        assert_eq!(spec.private_net, None);
    }

    #[test]
    fn setters_compose() {
        let spec = CommandSpec::new("agent", "/w")
            .arg("--json")
            .args(["-p", "x"])
            .env("A", "1")
            .envs([("B", "2")])
            .env_clear(true)
            .timeout(Duration::from_secs(5))
            .tail_bytes(10)
            .kill_grace(Duration::from_millis(100))
            .max_line_bytes(1024)
            .private_net(PrivateNet::ports([443, 8080]));
        assert_eq!(spec.args, ["--json", "-p", "x"]);
        assert_eq!(
            spec.env,
            [("A".into(), "1".into()), ("B".into(), "2".into())]
        );
        assert!(spec.env_clear);
        assert_eq!(spec.timeout, Some(Duration::from_secs(5)));
        assert_eq!(spec.tail_bytes, 10);
        assert_eq!(spec.kill_grace, Duration::from_millis(100));
        assert_eq!(spec.max_line_bytes, 1024);
        assert_eq!(spec.private_net.unwrap().ports, [443, 8080]);
    }
}
