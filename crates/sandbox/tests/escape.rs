//! Escape attempts from inside the sandbox, each run through `gaffer_proc::run` and judged
//! from outside: from the host's files and processes, not from what the sandbox says.
//!
//! Every attempt is also run once without the sandbox, where it must get through (when that
//! is safe to do): a probe that cannot see an escape would pass for the wrong reason.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command};
use std::sync::Mutex;

use common::{Layout, as_nobody, has_runuser, is_root, run, script, unique};
use gaffer_proc::ProcessOutcome;
use gaffer_sandbox::{Network, Sandbox};

/// Printed first by every attempt: the sandboxed command did start.
const STARTED: &str = "ATTEMPT-STARTED";

/// Things outside any layout that attempts aim at.
struct Host {
    /// A host process with a secret in its environment.
    decoy: Mutex<Child>,
    decoy_pid: u32,
    decoy_secret: String,
    /// A TCP listener on the host's loopback.
    listener: TcpListener,
}

impl Host {
    /// The decoy runs as `user` without capabilities, as a daemon of that user would: a root
    /// decoy's capabilities alone would keep a sandboxed process from reading its environment.
    fn new(user: User) -> Self {
        let decoy_secret = unique("decoy-secret");
        let mut decoy = if is_root() {
            let mut setpriv = Command::new("setpriv");
            if user == User::Nobody {
                setpriv.args(["--reuid=nobody", "--regid=nogroup", "--clear-groups"]);
            }
            setpriv.args(["--bounding-set=-all", "--inh-caps=-all", "sleep"]);
            setpriv
        } else {
            Command::new("sleep")
        };
        let decoy = decoy
            .arg("120")
            .env("GAFFER_DECOY_SECRET", &decoy_secret)
            .spawn()
            .unwrap();
        Self {
            decoy_pid: decoy.id(),
            decoy: Mutex::new(decoy),
            decoy_secret,
            listener: TcpListener::bind("127.0.0.1:0").unwrap(),
        }
    }

    fn port(&self) -> u16 {
        self.listener.local_addr().unwrap().port()
    }

    fn decoy_alive(&self) -> bool {
        self.decoy.lock().unwrap().try_wait().unwrap().is_none()
    }
}

impl Drop for Host {
    fn drop(&mut self) {
        if let Ok(mut decoy) = self.decoy.lock() {
            let _ = decoy.kill();
            let _ = decoy.wait();
        }
    }
}

type Judge<'a> = Box<dyn Fn(&ProcessOutcome) -> bool + 'a>;

struct Attempt<'a> {
    name: &'static str,
    shell: &'static str,
    script: String,
    network: Network,
    /// From the outcome and the host's state: did it get through?
    escaped: Judge<'a>,
    /// Host paths the attempt may create, removed afterwards.
    litter: Vec<PathBuf>,
    /// Whether to prove the probe by running it unconfined too.
    control: bool,
}

fn attempt<'a>(name: &'static str, script: String, escaped: Judge<'a>) -> Attempt<'a> {
    Attempt {
        name,
        shell: "/bin/sh",
        script,
        network: Network::Host,
        escaped,
        litter: Vec::new(),
        control: true,
    }
}

/// A hard link of a worktree file made at `second` with `tool` (`ln` or `link`).
fn hard_link(name: &'static str, tool: &str, second: PathBuf) -> Attempt<'static> {
    let script = format!(
        ": > wt.txt && {tool} wt.txt '{}' && echo {WRITTEN}",
        second.display()
    );
    attempt(name, script, written_or_exists(second))
}

fn exists(path: PathBuf) -> Judge<'static> {
    Box::new(move |_| path.exists())
}

/// Printed when a write inside the sandbox succeeded.
const WRITTEN: &str = "WRITE-ACCEPTED";

/// A write to a hidden path must fail, not land in a throwaway tmpfs.
fn written_or_exists(path: PathBuf) -> Judge<'static> {
    Box::new(move |outcome| path.exists() || outcome.tail.contains(WRITTEN))
}

fn shows(secret: &str) -> Judge<'_> {
    Box::new(move |outcome| outcome.tail.contains(secret))
}

/// The attempts against `l`, a fresh layout for each run.
fn attempts<'a>(l: &'a Layout, host: &'a Host) -> Vec<Attempt<'a>> {
    let root_file = PathBuf::from(format!("/{}", unique("gaffer-escape")));
    let tmp_file = PathBuf::from(format!("/tmp/{}", unique("gaffer-escape")));
    let remounted = PathBuf::from(format!("/{}", unique("gaffer-escape")));
    let nested = PathBuf::from(format!("/{}", unique("gaffer-escape")));
    let bashrc = l.user_home.join(".bashrc");
    let w = |p: &PathBuf| format!("echo pwned > '{}' && echo {WRITTEN}", p.display());
    vec![
        Attempt {
            control: false,
            litter: vec![root_file.clone()],
            ..attempt("write into /", w(&root_file), written_or_exists(root_file))
        },
        Attempt {
            litter: vec![tmp_file.clone()],
            ..attempt("write into the host's /tmp", w(&tmp_file), exists(tmp_file))
        },
        attempt(
            // Lands in the private /tmp (this layout lives under the host's): only the host
            // can say whether it got out.
            "write beside the state dir",
            w(&l.root.join("pwned")),
            exists(l.root.join("pwned")),
        ),
        attempt(
            "write into the home",
            w(&l.user_home.join("pwned")),
            written_or_exists(l.user_home.join("pwned")),
        ),
        attempt(
            "append to the home's .bashrc",
            format!("echo pwned >> '{}' && echo {WRITTEN}", bashrc.display()),
            Box::new(move |outcome| {
                outcome.tail.contains(WRITTEN)
                    || std::fs::read_to_string(&bashrc).unwrap() != "# untouched\n"
            }),
        ),
        attempt(
            "write into the state dir",
            w(&l.state.join("pwned")),
            written_or_exists(l.state.join("pwned")),
        ),
        attempt(
            "write into another task's worktree",
            w(&l.other_worktree.join("pwned")),
            written_or_exists(l.other_worktree.join("pwned")),
        ),
        attempt(
            "write through a symlink in the worktree",
            "echo pwned > homelink/pwned".into(),
            written_or_exists(l.user_home.join("pwned")),
        ),
        // A second name of a worktree's file outside it: writes through it would reach the
        // worktree unseen by gaffer's tree watch, from this run or a later one (`ln` uses
        // `linkat`, coreutils' `link` the older `link`). The mounts refuse these already
        // (links do not cross mounts); the filter that refuses links inside the worktree too
        // is tested in `wrap.rs`.
        hard_link(
            "make a second name (hard link) of a worktree file in the agent's home",
            "ln",
            l.agent_home.join("second"),
        ),
        hard_link(
            "make a hard link with link(2) in the scratch directory",
            "link",
            l.scratch.join("second"),
        ),
        attempt(
            "read a file in the home",
            format!("cat '{}'", l.user_home.join("secret.txt").display()),
            shows(&l.home_secret),
        ),
        attempt(
            "read a file in the state dir",
            format!("cat '{}'", l.state.join("gaffer.db").display()),
            shows(&l.state_secret),
        ),
        attempt(
            "read another task's worktree",
            format!("cat '{}'", l.other_worktree.join("file.txt").display()),
            shows(&l.other_secret),
        ),
        attempt(
            "read the user's checkout",
            format!("cat '{}'", l.checkout.join("secret.txt").display()),
            shows(&l.checkout_secret),
        ),
        attempt(
            "read host processes' environments",
            "cat /proc/1/environ /proc/[0-9]*/environ 2>/dev/null | tr '\\0' '\\n' \
             | grep '^GAFFER_DECOY_SECRET='"
                .into(),
            shows(&host.decoy_secret),
        ),
        attempt(
            "see a host process in /proc",
            format!("test -d /proc/{} && echo SEEN-HOST-PROCESS", host.decoy_pid),
            shows("SEEN-HOST-PROCESS"),
        ),
        Attempt {
            control: false,
            ..attempt(
                "kill a host process",
                format!("kill -9 {}", host.decoy_pid),
                Box::new(|_| !host.decoy_alive()),
            )
        },
        Attempt {
            shell: "bash",
            network: Network::None,
            ..attempt(
                "connect to the host's loopback with Network::None",
                format!(
                    "exec 3<>/dev/tcp/127.0.0.1/{} && echo CONNECTED-TO-HOST",
                    host.port()
                ),
                shows("CONNECTED-TO-HOST"),
            )
        },
        Attempt {
            control: false,
            litter: vec![remounted.clone()],
            ..attempt(
                "remount / read-write",
                format!("mount -o remount,bind,rw /; {}", w(&remounted)),
                exists(remounted),
            )
        },
        Attempt {
            control: false,
            litter: vec![nested.clone()],
            ..attempt(
                "remount / read-write from a nested user namespace",
                format!(
                    "unshare -rm sh -c \"mount -o remount,bind,rw / ; {}\"",
                    w(&nested)
                ),
                exists(nested),
            )
        },
    ]
}

/// Who runs the sandbox.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum User {
    Me,
    Nobody,
}

/// What became of one attempt.
struct Tried {
    name: &'static str,
    /// Whether the attempt is safe to run unconfined.
    control: bool,
    /// Whether it got through; `None` if it was not run.
    escaped: Option<bool>,
}

/// Runs attempt `index` on a fresh layout, confined by `sandbox` if given; `None` when there
/// is no such attempt. Unconfined, only the attempts safe to run that way are run.
async fn try_one(
    sandbox: Option<&Sandbox>,
    user: User,
    host: &Host,
    index: usize,
) -> Option<Tried> {
    let layout = Layout::new();
    let attempt = attempts(&layout, host).into_iter().nth(index)?;
    let mut tried = Tried {
        name: attempt.name,
        control: attempt.control,
        escaped: None,
    };
    if sandbox.is_none() && !attempt.control {
        return Some(tried);
    }
    let body = format!("echo {STARTED} uid=$(id -u); {}", attempt.script);
    let spec = script(attempt.shell, &body, &layout.worktree);
    let spec = match sandbox {
        Some(sandbox) => sandbox.wrap(spec, &layout.policy(attempt.network)),
        None => spec,
    };
    let spec = match user {
        User::Me => spec,
        User::Nobody => {
            layout.give_to_nobody();
            as_nobody(spec)
        }
    };
    let outcome = run(&spec).await;
    assert!(
        outcome.tail.contains(STARTED),
        "{}: the command did not start: {outcome:?}",
        attempt.name
    );
    if user == User::Nobody {
        assert!(
            !outcome.tail.contains("uid=0"),
            "not unprivileged: {outcome:?}"
        );
    }
    tried.escaped = Some((attempt.escaped)(&outcome));
    for path in &attempt.litter {
        let _ = std::fs::remove_file(path);
    }
    Some(tried)
}

/// Runs every attempt confined as `user`, prints the tally, fails on any escape.
async fn suite(sandbox: &Sandbox, user: User) {
    let host = Host::new(user);
    let (mut tried, mut escaped) = (0, Vec::new());
    while let Some(attempt) = try_one(Some(sandbox), user, &host, tried).await {
        tried += 1;
        if attempt.escaped != Some(false) {
            escaped.push(attempt.name);
        }
    }
    println!(
        "escape suite as {user:?}: tried {tried}, refused {}",
        tried - escaped.len()
    );
    assert!(escaped.is_empty(), "escaped the sandbox: {escaped:?}");
    assert!(host.decoy_alive());
}

#[tokio::test]
async fn escape_attempts_are_refused() {
    let Some(sandbox) = common::sandbox() else {
        return;
    };
    suite(&sandbox, User::Me).await;
}

#[tokio::test]
async fn escape_attempts_are_refused_for_an_unprivileged_user() {
    let Some(sandbox) = common::sandbox() else {
        return;
    };
    if !is_root() || !has_runuser() {
        eprintln!("SKIPPED: switching to `nobody` needs root and runuser");
        return;
    }
    suite(&sandbox, User::Nobody).await;
}

/// Without the sandbox the same probes must see the escapes, else they prove nothing.
#[tokio::test]
async fn the_probes_catch_escapes_without_the_sandbox() {
    let host = Host::new(User::Me);
    let (mut index, mut controls, mut blind) = (0, 0, Vec::new());
    while let Some(attempt) = try_one(None, User::Me, &host, index).await {
        index += 1;
        if attempt.control {
            controls += 1;
            if attempt.escaped != Some(true) {
                blind.push(attempt.name);
            }
        }
    }
    println!(
        "controls: {controls} probes run unconfined, {} saw no escape",
        blind.len()
    );
    assert!(controls > 10, "only {controls} controls");
    assert!(
        blind.is_empty(),
        "these probes see no escape even unconfined: {blind:?}"
    );
}
