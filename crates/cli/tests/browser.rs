#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The web dashboard in a real browser: Debian's headless Chromium, driven by `playwright-core`
//! from `crates/server/tests/browser/dashboard.test.mjs`, against the real daemon running a
//! scripted pipeline.
//!
//! This test builds the repository and starts `gaffer up` without configuring a token, so that
//! the daemon makes its own, and hands the script the dashboard's link that `gaffer up` printed
//! (`/?token=…`); the Node script does the rest through the page (adding a task, answering a
//! question, approving a change, reading the task page, a task that failed pytest on its card,
//! the people page and its own page with the output folded, dropping the live connection,
//! restarting the daemon) and saves a screenshot of every page under
//! `target/gaffer-artifacts/screenshots/` (or `$GAFFER_ARTIFACTS/screenshots/`).
//!
//! Needs `node` on `PATH`, `/usr/bin/chromium` (`apt-get install chromium`) and `playwright-core`
//! in `.ci/npm` (`npm install --prefix .ci/npm playwright-core@1`); `.ci/run` installs them.
//! When one is missing the test fails, in CI and outside it, unless `GAFFER_SKIP_BROWSER=1`
//! (never honoured when `CI` is set), and then it says loudly that it skipped.

use gaffer_test_support::{TestRepo, hermetic_git_env};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// How long the whole browser script may take.
const SCRIPT_TIMEOUT: Duration = Duration::from_secs(300);

const GAFFER_TOML: &str = r#"# The browser test's project: a scripted coder and reviewer, and a label that needs approval.
[project]
name = "dashboard"
target = "main"

[verify]
command = "sh check.sh"
timeout = "60s"

[engine]
concurrency = 3
worktree_pool = 0

[limits]
verify_failures_per_tier = 2

[agents.scripted-coder]
backend = "scripted"
script = "coder.toml"

[agents.scripted-reviewer]
backend = "scripted"
script = "reviewer.toml"

[roles]
coder = ["scripted-coder"]
reviewer = ["scripted-reviewer"]

[[risk.labels]]
label = "risky"
risk = "high"

# The scripted agents report tokens but no cost; price them so that the usage page has figures.
[prices.scripted]
input = 3.0
output = 15.0

[server]
port = 0
"#;

/// Verify: fails while a file named BROKEN exists, and says what it checked; while
/// LOGIN_BROKEN exists, prints what pytest printed on a broken login and fails. It takes a
/// second, so that the board shows tasks verifying.
const CHECK_SH: &str = r#"#!/bin/sh
echo "verify: checking the tree"
sleep 1
if [ -e LOGIN_BROKEN ]; then
  cat pytest-login.txt
  exit 1
fi
if [ -e BROKEN ]; then
  echo "FAIL: BROKEN is still there"
  exit 1
fi
echo "ok: the tree is clean"
"#;

/// pytest's output (`--color=yes`) for a login that broke: three failing tests, one of them
/// comparing markup, which the dashboard must show as text.
const PYTEST_LOGIN: &str = "============================= test session starts ==============================
platform linux -- Python 3.11.2, pytest-8.3.3, pluggy-1.5.0
rootdir: /work/shop
configfile: pyproject.toml
collected 9 items

tests/test_auth.py \u{1b}[31mF\u{1b}[0m\u{1b}[31mF\u{1b}[0m\u{1b}[32m.\u{1b}[0m\u{1b}[32m.\u{1b}[0m                                                 [ 44%]
tests/test_banner.py \u{1b}[31mF\u{1b}[0m\u{1b}[32m.\u{1b}[0m\u{1b}[32m.\u{1b}[0m\u{1b}[32m.\u{1b}[0m\u{1b}[32m.\u{1b}[0m                                            [100%]

=================================== FAILURES ===================================
\u{1b}[31m\u{1b}[1m__________________________________ test_login __________________________________\u{1b}[0m

client = <FlaskClient <Flask 'shop'>>

    \u{1b}[94mdef\u{1b}[39;49;00m \u{1b}[92mtest_login\u{1b}[39;49;00m(client):
        response = client.post(\u{1b}[33m\"/login\"\u{1b}[39;49;00m, data={\u{1b}[33m\"user\"\u{1b}[39;49;00m: \u{1b}[33m\"ada\"\u{1b}[39;49;00m, \u{1b}[33m\"password\"\u{1b}[39;49;00m: \u{1b}[33m\"pw\"\u{1b}[39;49;00m})
>       \u{1b}[94massert\u{1b}[39;49;00m response.status_code == \u{1b}[94m200\u{1b}[39;49;00m
\u{1b}[1m\u{1b}[31mE       assert 401 == 200\u{1b}[0m
\u{1b}[1m\u{1b}[31mE        +  where 401 = <WrapperTestResponse streamed [401 UNAUTHORIZED]>.status_code\u{1b}[0m

\u{1b}[1m\u{1b}[31mtests/test_auth.py\u{1b}[0m:14: AssertionError
\u{1b}[31m\u{1b}[1m_________________________________ test_logout __________________________________\u{1b}[0m

client = <FlaskClient <Flask 'shop'>>

    \u{1b}[94mdef\u{1b}[39;49;00m \u{1b}[92mtest_logout\u{1b}[39;49;00m(client):
>       client.get(\u{1b}[33m\"/logout\"\u{1b}[39;49;00m)

\u{1b}[1m\u{1b}[31mtests/test_auth.py\u{1b}[0m:21: 
_ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ 

    \u{1b}[37m@bp\u{1b}[39;49;00m.route(\u{1b}[33m\"/logout\"\u{1b}[39;49;00m)
    \u{1b}[94mdef\u{1b}[39;49;00m \u{1b}[92mlogout\u{1b}[39;49;00m():
>       \u{1b}[94mdel\u{1b}[39;49;00m session[\u{1b}[33m\"user_id\"\u{1b}[39;49;00m]
\u{1b}[1m\u{1b}[31mE       KeyError: 'user_id'\u{1b}[0m

\u{1b}[1m\u{1b}[31mshop/auth.py\u{1b}[0m:41: KeyError
\u{1b}[31m\u{1b}[1m_________________________________ test_greets __________________________________\u{1b}[0m

    \u{1b}[94mdef\u{1b}[39;49;00m \u{1b}[92mtest_greets\u{1b}[39;49;00m():
>       \u{1b}[94massert\u{1b}[39;49;00m banner(\u{1b}[33m\"ada\"\u{1b}[39;49;00m) == \u{1b}[33m\"Hello, ada\"\u{1b}[39;49;00m
\u{1b}[1m\u{1b}[31mE       AssertionError: assert '<b>Hi</b><script>window.__xss = 1</script>' == 'Hello, ada'\u{1b}[0m

\u{1b}[1m\u{1b}[31mtests/test_banner.py\u{1b}[0m:6: AssertionError
\u{1b}[36m\u{1b}[1m=========================== short test summary info ============================\u{1b}[0m
\u{1b}[31mFAILED\u{1b}[0m tests/test_auth.py::\u{1b}[1mtest_login\u{1b}[0m - assert 401 == 200
\u{1b}[31mFAILED\u{1b}[0m tests/test_auth.py::\u{1b}[1mtest_logout\u{1b}[0m - KeyError: 'user_id'
\u{1b}[31mFAILED\u{1b}[0m tests/test_banner.py::\u{1b}[1mtest_greets\u{1b}[0m - AssertionError: assert '<b>Hi</b><script>window.__xss = 1</script>' == 'Hello, ada'
\u{1b}[31m========================= \u{1b}[31m\u{1b}[1m3 failed\u{1b}[0m, \u{1b}[32m6 passed\u{1b}[0m\u{1b}[31m in 0.42s\u{1b}[0m\u{1b}[31m ==========================\u{1b}[0m
";

/// The coder, by task title. "notes" fails verify once, then fixes it; "greeting" asks a
/// question first; "deploy" touches what the `risky` label protects; "login" fails pytest on
/// both tries and so fails; "farewell" is added while the daemon is down.
const CODER: &str = r##"
[[task]]
match = "notes"
[[task.attempt]]
delay_ms = 1500
summary = "Wrote lib/notes.sh; left a BROKEN marker behind."
actions = [
  { status = "writing lib/notes.sh" },
  { write = "lib/notes.sh", content = "#!/bin/sh\n# Print the release notes.\nnotes() {\n  echo \"release $1: $(date +%F)\"\n  return 0\n}\n" },
  { write = "BROKEN", content = "left behind\n" },
  { say = "I wrote lib/notes.sh with a notes function." },
]
[[task.attempt]]
delay_ms = 1000
summary = "Removed the BROKEN marker."
actions = [
  { status = "verify failed: removing BROKEN" },
  { delete = "BROKEN" },
  { say = "Removed the marker; verify should pass now." },
]

[[task]]
match = "greeting"
[[task.attempt]]
delay_ms = 300
summary = "Asked which greeting."
actions = [{ status = "reading the banner" }, { question = "Which greeting should the banner use?" }]
[[task.attempt]]
summary = "Wrote the greeting."
actions = [{ write = "greeting.txt", content = "Hello from the dashboard\n" }]

[[task]]
match = "deploy"
[[task.attempt]]
delay_ms = 300
summary = "Changed the deploy settings."
actions = [{ write = "deploy.toml", content = "[deploy]\nreplicas = 3\n" }]

[[task]]
match = "login"
[[task.attempt]]
delay_ms = 300
summary = "Changed the redirect after login."
actions = [{ write = "auth.py", content = "REDIRECT = '/home'\n" }, { write = "LOGIN_BROKEN", content = "pytest fails while this exists\n" }]
[[task.attempt]]
delay_ms = 300
summary = "Tried the session handling."
actions = [{ write = "auth.py", content = "REDIRECT = '/dashboard'\n" }]

[[task]]
match = "farewell"
[[task.attempt]]
delay_ms = 300
summary = "Wrote farewell.txt."
actions = [{ write = "farewell.txt", content = "Goodbye\n" }]
"##;

/// The reviewer: approves everything, with one finding on the notes.
const REVIEWER: &str = r##"
[[task]]
match = "notes"
[[task.attempt]]
summary = '{"verdict": "approve", "summary": "Fine; one nit.", "findings": [{"file": "lib/notes.sh", "line": 4, "severity": "medium", "text": "quote the date format"}]}'

[[task]]
match = "#"
[[task.attempt]]
summary = '{"verdict": "approve", "summary": "Looks right.", "findings": []}'
"##;

/// The repository's root, for `.ci/npm` and the Node script.
fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .unwrap()
        .to_path_buf()
}

/// Where screenshots go: `$GAFFER_ARTIFACTS/screenshots`, else next to the build.
fn screenshots_dir() -> PathBuf {
    match std::env::var_os("GAFFER_ARTIFACTS").filter(|v| !v.is_empty()) {
        Some(dir) => PathBuf::from(dir).join("screenshots"),
        None => {
            // target/<profile>/gaffer → target
            let exe = Path::new(env!("CARGO_BIN_EXE_gaffer"));
            exe.ancestors()
                .nth(2)
                .unwrap()
                .join("gaffer-artifacts")
                .join("screenshots")
        }
    }
}

fn on_path(name: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

/// `node_modules` holding `playwright-core`: next to `$GAFFER_TEST_NPM_BIN`, else `.ci/npm`.
fn npm_modules() -> Option<PathBuf> {
    let from_env = std::env::var_os("GAFFER_TEST_NPM_BIN")
        .map(PathBuf::from)
        .and_then(|bin| bin.parent().map(Path::to_path_buf));
    [from_env, Some(workspace().join(".ci/npm/node_modules"))]
        .into_iter()
        .flatten()
        .find(|dir| dir.join("playwright-core/package.json").is_file())
}

struct Tools {
    node: PathBuf,
    chromium: PathBuf,
    modules: PathBuf,
}

/// The tools, or why not. Missing tools fail the test unless skipping was asked for outside CI.
fn tools() -> Option<Tools> {
    let chromium = std::env::var_os("GAFFER_CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"));
    let node = on_path("node");
    let modules = npm_modules();
    let mut missing = Vec::new();
    if node.is_none() {
        missing.push("`node` on PATH (apt-get install nodejs)".to_string());
    }
    if !chromium.is_file() {
        missing.push(format!(
            "Chromium at {} (apt-get install chromium)",
            chromium.display()
        ));
    }
    if modules.is_none() {
        missing.push(
            "playwright-core in .ci/npm (npm install --prefix .ci/npm playwright-core@1)".into(),
        );
    }
    if missing.is_empty() {
        return Some(Tools {
            node: node.unwrap(),
            chromium,
            modules: modules.unwrap(),
        });
    }
    let what = missing.join("; ");
    let in_ci = std::env::var_os("CI").is_some_and(|v| !v.is_empty());
    let skip = std::env::var("GAFFER_SKIP_BROWSER").is_ok_and(|v| v == "1");
    if skip && !in_ci {
        eprintln!("\n{}", "!".repeat(78));
        eprintln!("!! SKIPPED the dashboard browser test (GAFFER_SKIP_BROWSER=1): missing {what}");
        eprintln!("!! `.ci/run` installs them; run it, or install them, to test the dashboard.");
        eprintln!("{}\n", "!".repeat(78));
        return None;
    }
    panic!(
        "the dashboard browser test needs {what}.\n`.ci/run` installs them. Outside CI, \
         GAFFER_SKIP_BROWSER=1 skips this test (loudly)."
    );
}

/// The repository the dashboard works on.
fn project() -> TestRepo {
    let repo = TestRepo::new();
    repo.write("gaffer.toml", GAFFER_TOML);
    repo.write("check.sh", CHECK_SH);
    repo.write("coder.toml", CODER);
    repo.write("reviewer.toml", REVIEWER);
    repo.write("pytest-login.txt", PYTEST_LOGIN);
    repo.commit_all("dashboard fixture");
    // No checkout holds `main`, so work lands on it directly (not beside it on a landing branch).
    repo.git(&["checkout", "--quiet", "--detach"]);
    repo
}

/// The environment every process of this test runs with: hermetic git, the test's home and
/// temporary directory. No `GAFFER_TOKEN`: the daemon makes its token.
fn environment(repo: &TestRepo) -> Vec<(String, String)> {
    let tmp = repo.scratch("tmp");
    std::fs::create_dir_all(&tmp).unwrap();
    let mut env = hermetic_git_env(repo.home());
    env.push((
        "PATH".into(),
        std::env::var("PATH").unwrap_or_else(|_| "/usr/bin:/bin".into()),
    ));
    env.push(("TMPDIR".into(), tmp.display().to_string()));
    env
}

fn gaffer(repo: &TestRepo, env: &[(String, String)]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_gaffer"));
    cmd.env_clear()
        .envs(env.iter().map(|(k, v)| (k, v)))
        .current_dir(repo.path())
        .stdin(Stdio::null());
    cmd
}

/// Stops the daemon (whichever instance runs by then) when the test ends, however it ends.
struct Daemon<'a> {
    repo: &'a TestRepo,
    env: Vec<(String, String)>,
}

impl Daemon<'_> {
    fn info(&self) -> Option<serde_json::Value> {
        let text =
            std::fs::read_to_string(self.repo.path().join(".git/gaffer/daemon.json")).ok()?;
        serde_json::from_str(&text).ok()
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.repo.path().join(".git/gaffer/daemon.log")).unwrap_or_default()
    }
}

impl Drop for Daemon<'_> {
    fn drop(&mut self) {
        let pid = self.info().and_then(|i| i["pid"].as_i64());
        let _ = gaffer(self.repo, &self.env).arg("down").output();
        if let Some(pid) = pid.and_then(|p| i32::try_from(p).ok()) {
            let group = nix::unistd::Pid::from_raw(pid);
            let _ = nix::sys::signal::killpg(group, nix::sys::signal::Signal::SIGKILL);
        }
    }
}

/// Starts the daemon; its port and the dashboard's link `gaffer up` printed.
fn start_daemon<'a>(repo: &'a TestRepo, env: &[(String, String)]) -> (Daemon<'a>, u16, String) {
    let daemon = Daemon {
        repo,
        env: env.to_vec(),
    };
    let out = gaffer(repo, env)
        .args(["up", "--detach", "--port", "0"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "gaffer up --detach failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let port = daemon
        .info()
        .and_then(|i| i["port"].as_u64())
        .and_then(|p| u16::try_from(p).ok())
        .expect("daemon.json names the port");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let link = stdout
        .lines()
        .find_map(|l| l.strip_prefix("dashboard: "))
        .unwrap_or_else(|| panic!("`gaffer up` printed no dashboard link: {stdout}"))
        .to_string();
    assert!(
        link.starts_with(&format!("http://127.0.0.1:{port}/?token=")),
        "{link}"
    );
    (daemon, port, link)
}

/// Runs `cmd` to completion, killing it after `timeout`.
fn run_with_timeout(mut cmd: Command, timeout: Duration) -> (Output, bool) {
    use std::os::unix::process::CommandExt;
    let mut child = cmd
        .process_group(0)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Read the pipes on threads so that a chatty script cannot block on a full pipe.
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let out = std::thread::spawn(move || {
        let mut buf = Vec::new();
        std::io::Read::read_to_end(&mut stdout, &mut buf).ok();
        buf
    });
    let err = std::thread::spawn(move || {
        let mut buf = Vec::new();
        std::io::Read::read_to_end(&mut stderr, &mut buf).ok();
        buf
    });
    let deadline = Instant::now() + timeout;
    let mut timed_out = false;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            timed_out = true;
            let group = nix::unistd::Pid::from_raw(child.id() as i32);
            let _ = nix::sys::signal::killpg(group, nix::sys::signal::Signal::SIGKILL);
            break child.wait().unwrap();
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let output = Output {
        status,
        stdout: out.join().unwrap_or_default(),
        stderr: err.join().unwrap_or_default(),
    };
    (output, timed_out)
}

#[test]
fn the_dashboard_drives_a_scripted_pipeline_in_chromium() {
    let Some(tools) = tools() else {
        return;
    };
    let repo = project();
    let env = environment(&repo);
    let (daemon, port, link) = start_daemon(&repo, &env);
    let shots = screenshots_dir();
    // Only this run's pictures (a failure.png from an earlier run would mislead).
    let _ = std::fs::remove_dir_all(&shots);
    std::fs::create_dir_all(&shots).unwrap();

    let script = workspace().join("crates/server/tests/browser/dashboard.test.mjs");
    let mut node = Command::new(&tools.node);
    node.arg(&script)
        .env_clear()
        .envs(env.iter().map(|(k, v)| (k, v)))
        .env("GAFFER_URL", format!("http://127.0.0.1:{port}"))
        .env("GAFFER_PORT", port.to_string())
        .env("GAFFER_DASHBOARD_LINK", &link)
        .env("GAFFER_BIN", env!("CARGO_BIN_EXE_gaffer"))
        .env("GAFFER_REPO", repo.path())
        .env("GAFFER_SCREENSHOTS", &shots)
        .env("GAFFER_CHROMIUM", &tools.chromium)
        .env("GAFFER_NODE_MODULES", &tools.modules)
        .current_dir(repo.path())
        .stdin(Stdio::null());
    let (out, timed_out) = run_with_timeout(node, SCRIPT_TIMEOUT);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    // The script's own account of each step, also when it passes.
    println!("{stdout}");
    assert!(
        !timed_out && out.status.success(),
        "the browser script {} ({}):\n--- stdout\n{stdout}\n--- stderr\n{stderr}\n--- daemon log\n{}\nscreenshots: {}",
        if timed_out { "timed out" } else { "failed" },
        out.status,
        daemon.log(),
        shots.display()
    );
    for page in [
        "board",
        "feed",
        "task",
        "people",
        "people-failed",
        "task-failed",
        "usage",
        "queue",
        "board-phone",
        "task-phone",
        "people-phone",
        "token",
    ] {
        let shot = shots.join(format!("{page}.png"));
        assert!(
            std::fs::metadata(&shot).is_ok_and(|m| m.len() > 1000),
            "no screenshot {}",
            shot.display()
        );
    }
}
