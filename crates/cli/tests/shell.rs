//! The interactive shell, driven in a real terminal: `gaffer` runs in a tmux pane of a fixed
//! size; the test types with `send-keys` and reads the screen with `capture-pane`, waiting on
//! deadlines (never fixed sleeps) for what it expects to appear.
//!
//! tmux is required. When it is missing the test fails, unless `GAFFER_SKIP_TMUX=1` is set
//! outside CI (then it says loudly that it skipped); with `CI` set it always fails.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use gaffer_test_support::{TestRepo, hermetic_git_env};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// How long the screen may take to show what the test waits for.
const DEADLINE: Duration = Duration::from_secs(120);
const WIDTH: u16 = 160;
const HEIGHT: u16 = 48;
const SESSION: &str = "gaffer-shell";

const GAFFER_TOML: &str = r#"# The shell test's project.
[project]
name = "shellfix"
target = "main"

[verify]
command = "true"
timeout = "60s"

[engine]
concurrency = 2
worktree_pool = 0

[agents.scripted-agent]
backend = "scripted"
script = "script.toml"

[roles]
coder = ["scripted-agent"]

# A task labelled `risky` is high risk, so it waits for a person's approval before it merges.
[[risk.labels]]
label = "risky"
risk = "high"

[server]
port = 0
"#;

const SCRIPT: &str = r#"
[[task]]
match = "notes"
[[task.attempt]]
summary = "Wrote notes.txt."
actions = [{ write = "notes.txt", content = "landed notes\n" }]
"#;

/// Whether tmux can be used; `None` when the test should stop (skipped loudly).
fn tmux_available() -> Option<()> {
    let found = Command::new("tmux")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success());
    if found {
        return Some(());
    }
    let in_ci = std::env::var_os("CI").is_some_and(|v| !v.is_empty());
    let skip = std::env::var("GAFFER_SKIP_TMUX").is_ok_and(|v| v == "1");
    if in_ci || !skip {
        panic!(
            "tmux is not installed, and the shell test needs it (apt-get install tmux){}",
            if in_ci {
                "; CI must install it"
            } else {
                "; set GAFFER_SKIP_TMUX=1 to skip this test locally"
            }
        );
    }
    // Straight to the file descriptor: the test harness captures `eprintln!` of passing tests.
    let _ = std::io::Write::write_all(
        &mut std::io::stderr(),
        b"\n**************************************************************\n\
          *** SKIPPED: the interactive shell test (tmux is missing,   ***\n\
          *** GAFFER_SKIP_TMUX=1). Install tmux to run it.            ***\n\
          **************************************************************\n",
    );
    None
}

/// A tmux server of the test's own (its own socket, no configuration file), killed on drop.
struct Tmux {
    socket: PathBuf,
}

impl Tmux {
    fn command(&self) -> Command {
        let mut cmd = Command::new("tmux");
        cmd.arg("-u")
            .arg("-f")
            .arg("/dev/null")
            .arg("-S")
            .arg(&self.socket)
            .env_remove("TMUX")
            .env("LANG", "C.UTF-8");
        cmd
    }

    fn run(&self, args: &[&str]) -> Output {
        let out = self.command().args(args).output().unwrap();
        assert!(
            out.status.success(),
            "tmux {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    /// Types `text` literally, then presses Enter.
    fn type_line(&self, text: &str) {
        self.run(&["send-keys", "-t", SESSION, "-l", text]);
        self.run(&["send-keys", "-t", SESSION, "Enter"]);
    }

    fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", SESSION];
        args.extend_from_slice(keys);
        self.run(&args);
    }

    fn screen(&self) -> String {
        let out = self.run(&["capture-pane", "-p", "-t", SESSION]);
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.command().arg("kill-server").output();
    }
}

struct Fixture {
    repo: TestRepo,
    tmux: Tmux,
}

impl Fixture {
    fn new() -> Fixture {
        Fixture::with(GAFFER_TOML, SCRIPT, &[])
    }

    /// A repository with this configuration, agent script and files.
    fn with(gaffer_toml: &str, script: &str, files: &[(&str, &str)]) -> Fixture {
        let repo = TestRepo::new();
        repo.write("gaffer.toml", gaffer_toml);
        repo.write("script.toml", script);
        for (path, text) in files {
            repo.write(path, text);
        }
        repo.commit_all("fixture: gaffer.toml and the agent's script");
        std::fs::create_dir_all(repo.scratch("tmp")).unwrap();
        let tmux = Tmux {
            socket: repo.scratch("tmux.sock"),
        };
        Fixture { repo, tmux }
    }

    /// The hermetic environment every gaffer of this test runs in.
    fn env(&self) -> Vec<(String, String)> {
        let mut env = hermetic_git_env(self.repo.home());
        env.push((
            "PATH".into(),
            std::env::var("PATH").unwrap_or_else(|_| "/usr/bin:/bin".into()),
        ));
        env.push((
            "TMPDIR".into(),
            self.repo.scratch("tmp").to_string_lossy().into_owned(),
        ));
        env
    }

    fn gaffer(&self) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_gaffer"));
        cmd.env_clear()
            .envs(self.env())
            .current_dir(self.repo.path());
        cmd
    }

    /// Opens the shell in a tmux pane; when gaffer exits the pane says so and stays.
    fn open_shell(&self) {
        let mut line = String::from("env -i");
        for (k, v) in self.env() {
            line.push_str(&format!(" {}", quote(&format!("{k}={v}"))));
        }
        line.push_str(" TERM=tmux-256color ");
        line.push_str(&quote(env!("CARGO_BIN_EXE_gaffer")));
        line.push_str("; echo \"[gaffer exited with $?]\"; sleep 600");
        let width = WIDTH.to_string();
        let height = HEIGHT.to_string();
        let dir = self.repo.path().to_string_lossy().into_owned();
        self.tmux.run(&[
            "new-session",
            "-d",
            "-s",
            SESSION,
            "-x",
            &width,
            "-y",
            &height,
            "-c",
            &dir,
            &line,
        ]);
    }

    /// Polls the screen until `check` holds; fails with the screen and the logs at the deadline.
    fn wait_for(&self, what: &str, check: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + DEADLINE;
        loop {
            let screen = self.tmux.screen();
            if check(&screen) {
                return screen;
            }
            if Instant::now() > deadline {
                panic!(
                    "timed out after {DEADLINE:?} waiting for {what}\n\
                     --- screen ---\n{screen}\n--- shell.log ---\n{}\n--- daemon.log ---\n{}",
                    self.state_file("shell.log"),
                    self.state_file("daemon.log"),
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn wait_for_text(&self, text: &str) -> String {
        self.wait_for_all(&[text])
    }

    /// Waits until every one of `texts` is on the screen at once (a capture may catch the
    /// terminal halfway through a redraw, so nothing is asserted on a single capture).
    fn wait_for_all(&self, texts: &[&str]) -> String {
        self.wait_for(&format!("{texts:?} on screen"), |s| {
            texts.iter().all(|t| s.contains(t))
        })
    }

    fn state_file(&self, name: &str) -> String {
        std::fs::read_to_string(self.state_dir().join(name)).unwrap_or_default()
    }

    fn state_dir(&self) -> PathBuf {
        self.repo.path().join(".git").join("gaffer")
    }
}

/// Single quotes for `sh`.
fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// A daemon started by the test; stopped (and killed if it must be) on drop.
struct Daemon<'a> {
    fixture: &'a Fixture,
    pid: i32,
}

impl Daemon<'_> {
    fn start(fixture: &Fixture) -> Daemon<'_> {
        let out = fixture
            .gaffer()
            .args(["up", "--detach", "--port", "0"])
            .output()
            .unwrap();
        let info =
            std::fs::read_to_string(fixture.state_dir().join("daemon.json")).unwrap_or_else(|e| {
                panic!(
                    "no daemon.json after `gaffer up --detach` ({e}): {}\n{}",
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr)
                )
            });
        let info: serde_json::Value = serde_json::from_str(&info).unwrap();
        let pid = i32::try_from(info["pid"].as_i64().unwrap()).unwrap();
        let daemon = Daemon { fixture, pid };
        assert!(
            out.status.success(),
            "gaffer up --detach failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        daemon
    }
}

impl Drop for Daemon<'_> {
    fn drop(&mut self) {
        let _ = self
            .fixture
            .gaffer()
            .arg("down")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status();
        let pid = nix::unistd::Pid::from_raw(self.pid);
        if nix::sys::signal::kill(pid, None).is_ok() {
            let _ = nix::sys::signal::killpg(pid, nix::sys::signal::Signal::SIGKILL);
        }
    }
}

/// The lines of the board: the left column of the screen, inside its border.
/// `gaffer task show N --json`, read beside the shell.
fn show(fixture: &Fixture, id: i64) -> serde_json::Value {
    let out = fixture
        .gaffer()
        .args(["task", "show", &id.to_string(), "--json"])
        .output()
        .unwrap();
    serde_json::from_slice(&out.stdout).unwrap_or_default()
}

fn board_column(screen: &str) -> Vec<String> {
    screen
        .lines()
        .map(|l| {
            let left: String = l.chars().take(usize::from(WIDTH) * 2 / 5).collect();
            left.trim_matches(|c: char| c == '│' || c.is_whitespace())
                .to_string()
        })
        .collect()
}

/// The board shows group `status` containing task `#id`.
fn board_has(screen: &str, status: &str, id: i64) -> bool {
    let column = board_column(screen);
    let header = format!("{status} (");
    let Some(start) = column.iter().position(|l| l.starts_with(&header)) else {
        return false;
    };
    let task = format!("#{id} ");
    column[start + 1..]
        .iter()
        .take_while(|l| !l.contains(" (") || l.contains('#'))
        .any(|l| l.contains(&task))
}

#[test]
fn the_shell_adds_a_task_shows_it_and_approves_it() {
    if tmux_available().is_none() {
        return;
    }
    let fixture = Fixture::new();
    fixture.open_shell();
    fixture.wait_for_all(&[
        "no daemon",
        "shellfix",
        "Board",
        "Feed (following the store)",
    ]);

    // /help opens in a pane; Esc closes it.
    fixture.tmux.type_line("/help");
    fixture.wait_for_all(&["Slash commands", "/task TITLE [--label L]"]);
    fixture.tmux.keys(&["Escape"]);
    fixture.wait_for("the help to close", |s| !s.contains("Slash commands"));

    // No daemon: the task goes straight onto the board.
    fixture
        .tmux
        .type_line("/task Write the notes --label risky");
    fixture.wait_for("task 1 in the backlog, labelled risky, high risk", |s| {
        board_has(s, "backlog", 1)
            && s.contains("added task 1: Write the notes")
            && s.contains("labels    risky")
            && s.contains("risk      high")
    });

    // /scale needs a daemon and says so.
    fixture.tmux.type_line("/scale 3");
    fixture.wait_for_text("no daemon runs, so there is nothing to scale");

    // The daemon starts: the shell notices it, follows its stream, and the task runs up to the
    // approval gate.
    let _daemon = Daemon::start(&fixture);
    fixture.wait_for_text("Feed (live from the daemon)");
    fixture.wait_for("task 1 awaiting approval", |s| {
        board_has(s, "awaiting_approval", 1) && s.contains("next      /approve 1")
    });

    // Tab completes the command, then the only task waiting for approval.
    fixture.tmux.keys(&["-l", "/appr"]);
    fixture.tmux.keys(&["Tab"]);
    fixture.tmux.keys(&["Tab"]);
    // (capture-pane drops the trailing space.)
    fixture.wait_for_text("› /approve 1");
    fixture.tmux.keys(&["Enter"]);
    fixture.wait_for("task 1 merged", |s| {
        board_has(s, "merged", 1) && !board_has(s, "awaiting_approval", 1)
    });
    assert_eq!(
        fixture.repo.git(&["show", "gaffer/landed/main:notes.txt"]),
        "landed notes"
    );

    // /scale through the daemon; the diff opens in a pane.
    fixture.tmux.type_line("/scale 3");
    fixture.wait_for_text("up to 3 agents now run at once");

    // A person's decisions on proposals and budgets, through the daemon.
    fixture
        .tmux
        .type_line("/task Cache the config --kind proposal");
    fixture.wait_for_text("added task 2: Cache the config");
    fixture.tmux.type_line("/budget 2 $1.50");
    fixture.wait_for("the budget to be set", |_| {
        show(&fixture, 2)["task"]["budget_usd"] == 1.5
    });
    fixture.tmux.type_line("/accept 2");
    fixture.wait_for("task 2 to be a task", |_| {
        show(&fixture, 2)["task"]["kind"] == "task"
    });
    fixture
        .tmux
        .type_line("/task Rename every module --kind proposal");
    fixture.wait_for_text("added task 3: Rename every module");
    fixture.tmux.type_line("/decline 3 churn");
    fixture.wait_for_text("task 3: cancelled");
    fixture.tmux.type_line("/budget 3 lots");
    fixture.wait_for_text("`lots` is not an amount of US dollars");

    // Undo: the merged task is reverted by task 4 (as risky as what it undoes: it waits for
    // approval); a task that waits there can be neither edited nor moved in the queue.
    fixture.tmux.type_line("/revert 1");
    fixture.wait_for_text("task 4 reverts task 1");
    fixture.wait_for("task 4 awaiting approval", |s| {
        board_has(s, "awaiting_approval", 4)
    });
    fixture.tmux.type_line("/edit 4 --dep 2");
    fixture.wait_for_text("`edit` is not allowed while the task is awaiting_approval");
    fixture.tmux.type_line("/move 4 --to 1");
    fixture.wait_for_text("task 4 is not waiting in the merge queue");
    fixture.tmux.type_line("/approve 4");
    fixture.wait_for("task 4 merged", |s| board_has(s, "merged", 4));
    assert!(
        !fixture
            .repo
            .git(&["ls-tree", "--name-only", "gaffer/landed/main"])
            .contains("notes.txt"),
        "the revert landed"
    );

    fixture.tmux.type_line("/diff 1");
    fixture.wait_for_all(&["diff #1", "+landed notes"]);
    fixture.tmux.keys(&["Escape"]);
    fixture.wait_for("the diff to close", |s| !s.contains("+landed notes"));

    // History: `/` then Up brings back the last command.
    fixture.tmux.keys(&["-l", "/"]);
    fixture.tmux.keys(&["Up"]);
    fixture.wait_for_text("› /diff 1");
    fixture.tmux.keys(&["C-u"]);

    fixture.tmux.type_line("/quit");
    fixture.wait_for_text("[gaffer exited with 0]");
}

#[test]
fn the_shell_reports_errors_and_quits_on_ctrl_c() {
    if tmux_available().is_none() {
        return;
    }
    let fixture = Fixture::new();
    fixture.open_shell();
    fixture.wait_for_text("no daemon");
    fixture.tmux.type_line("/approve 7");
    fixture.wait_for_text("task 7 does not exist");
    fixture.tmux.type_line("hello");
    fixture.wait_for_text("commands start with `/`");
    fixture.tmux.keys(&["C-c"]);
    fixture.wait_for_text("[gaffer exited with 0]");
    assert!(
        Path::new(&fixture.state_dir().join("shell_history")).exists(),
        "no history file"
    );
}

/// pytest's output on a broken login, coloured (`--color=yes`).
const PYTEST: &str = "============================= test session starts ==============================
collected 4 items

tests/test_auth.py \u{1b}[31mFF\u{1b}[0m\u{1b}[32m..\u{1b}[0m                                                   [100%]

=================================== FAILURES ===================================
__________________________________ test_login __________________________________

>       assert client.post(\"/login\").status_code == 200
\u{1b}[1m\u{1b}[31mE       assert 401 == 200\u{1b}[0m

tests/test_auth.py:9: AssertionError
_________________________________ test_logout __________________________________

>       client.get(\"/logout\")
\u{1b}[1m\u{1b}[31mE       KeyError: 'user_id'\u{1b}[0m

shop/auth.py:41: KeyError
=========================== short test summary info ============================
\u{1b}[31mFAILED\u{1b}[0m tests/test_auth.py::test_login - assert 401 == 200
\u{1b}[31mFAILED\u{1b}[0m tests/test_auth.py::test_logout - KeyError: 'user_id'
========================= 2 failed, 2 passed in 0.12s ==========================
";

#[test]
fn the_shell_says_which_tests_failed() {
    if tmux_available().is_none() {
        return;
    }
    let toml = GAFFER_TOML
        .replace(
            "command = \"true\"",
            "command = \"test ! -e BROKEN || { cat pytest.txt; exit 1; }\"",
        )
        .replace(
            "[agents.",
            "[limits]\nverify_failures_per_tier = 1\n\n[agents.",
        );
    let script = "[[task]]\nmatch = \"login\"\n[[task.attempt]]\nsummary = \"Broke it.\"\n\
                  actions = [{ write = \"BROKEN\", content = \"1\\n\" }]\n";
    let fixture = Fixture::with(&toml, script, &[("pytest.txt", PYTEST)]);
    let _daemon = Daemon::start(&fixture);
    fixture.open_shell();
    fixture.wait_for_text("Feed (live from the daemon)");
    fixture.tmux.type_line("/task Fix the login");
    fixture.wait_for("task 1 failed", |s| board_has(s, "failed", 1));
    // The selected task's panel leads with the headline, not the command or the output.
    fixture.wait_for_all(&["note      2 tests failed: test_login, test_logout"]);
    fixture.tmux.type_line("/show 1");
    let screen = fixture.wait_for_all(&[
        "last verify:",
        ": 2 tests failed: test_login, test_logout",
        "tests/test_auth.py::test_login",
        "assert 401 == 200",
        "tests/test_auth.py::test_logout",
        "KeyError: 'user_id'",
    ]);
    assert!(
        !screen.contains("test session starts"),
        "the output stays folded:\n{screen}"
    );
    assert!(!screen.contains("[31m"), "no escape code shows:\n{screen}");
    fixture.tmux.keys(&["Escape"]);
    fixture.tmux.type_line("/quit");
    fixture.wait_for_text("[gaffer exited with 0]");
}
