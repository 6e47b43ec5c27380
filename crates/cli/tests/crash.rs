#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Crash test: the daemon is killed with SIGKILL while an agent runs and again while verify runs;
//! each time it is started again. Every task still merges exactly once, and nothing is left
//! behind: no worktree, no task branch, no process.

use gaffer_core::{RunStatus, Seq, Status, event_kind};
use gaffer_store::{EventFilter, SqliteStore, Store, TaskFilter};
use gaffer_test_support::TestRepo;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const GAFFER_TOML: &str = r#"
[project]
name = "crash"
[verify]
# Slow enough to be killed in the middle.
command = "sleep 2 && sh tests/run.sh"
timeout = "60s"
[engine]
concurrency = 2
lease = "4s"
heartbeat = "1s"
worktree_pool = 0
[agents.slow]
backend = "scripted"
script = "script.toml"
[roles]
coder = ["slow"]
[sandbox]
# How the test finds every process gaffer started.
pass_env = ["GAFFER_CRASH_MARKER"]
"#;

const SCRIPT: &str = r#"
[[task]]
match = "one"
[[task.attempt]]
delay_ms = 2500
actions = [{ write = "one.txt", content = "1\n" }]
[[task]]
match = "two"
[[task.attempt]]
delay_ms = 2500
actions = [{ write = "two.txt", content = "2\n" }]
[[task]]
match = "three"
[[task.attempt]]
delay_ms = 2500
actions = [{ write = "three.txt", content = "3\n" }]
"#;

const RUN_TESTS: &str = "#!/bin/sh\ntest -f README.md\n";

struct Daemon {
    child: Child,
}

/// One crash test at a time: a restarted daemon's recovery kills every process whose gaffer is
/// gone, machine-wide, which would include what another test's killed daemon left on purpose.
fn serial() -> std::sync::MutexGuard<'static, ()> {
    static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());
    SERIAL
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The gaffer binary in the repository, with the test's hermetic git environment and a marker
/// variable that every process it starts inherits (so survivors can be found).
fn gaffer(repo: &TestRepo, marker: &str) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_gaffer"));
    cmd.current_dir(repo.path())
        .envs(repo.env())
        .env("GAFFER_CRASH_MARKER", marker)
        .env("GAFFER_LOG", "info");
    cmd
}

/// `gaffer task add TITLE`, which must succeed.
fn add_task(repo: &TestRepo, marker: &str, title: &str) {
    let out = gaffer(repo, marker)
        .args(["task", "add", title])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn start(repo: &TestRepo, marker: &str, log: &Path) -> Daemon {
    let log = std::fs::File::options()
        .create(true)
        .append(true)
        .open(log)
        .unwrap();
    let child = gaffer(repo, marker)
        .args(["up", "--port", "0"])
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .unwrap();
    Daemon { child }
}

impl Daemon {
    fn kill9(mut self) {
        nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(self.child.id() as i32),
            nix::sys::signal::Signal::SIGKILL,
        )
        .unwrap();
        self.child.wait().unwrap();
    }
}

fn store(repo: &TestRepo) -> SqliteStore {
    SqliteStore::open_default(&repo.path().join(".git/gaffer/gaffer.db")).unwrap()
}

/// Polls until `f` returns true, or fails with `what` after `secs`.
fn wait_for(secs: u64, what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < deadline {
        if f() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("timed out waiting for {what}");
}

fn has_event_after(store: &SqliteStore, after: Seq, kind: &str) -> bool {
    store
        .events_after(after, 100_000, &EventFilter::default())
        .unwrap()
        .iter()
        .any(|e| e.kind == kind)
}

/// Live processes (other than this test) whose environment carries the marker.
fn marked_processes(marker: &str) -> Vec<i32> {
    let needle = format!("GAFFER_CRASH_MARKER={marker}");
    let me = std::process::id() as i32;
    let mut out = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        if pid == me {
            continue;
        }
        let Ok(environ) = std::fs::read(entry.path().join("environ")) else {
            continue;
        };
        let stat = std::fs::read_to_string(entry.path().join("stat")).unwrap_or_default();
        let zombie = stat
            .rsplit_once(')')
            .is_some_and(|(_, r)| r.trim_start().starts_with('Z'));
        if !zombie && environ.split(|b| *b == 0).any(|v| v == needle.as_bytes()) {
            out.push(pid);
        }
    }
    out
}

fn runs_with(db: &SqliteStore, status: RunStatus) -> usize {
    db.tasks(&TaskFilter::default())
        .unwrap()
        .into_iter()
        .flat_map(|t| db.runs(t.id).unwrap())
        .filter(|r| r.status == status)
        .count()
}

#[test]
fn killed_twice_every_task_merges_once_and_nothing_is_left() {
    let _serial = serial();
    let repo = TestRepo::new();
    let marker = format!("crash-{}", std::process::id());
    repo.write("gaffer.toml", GAFFER_TOML);
    repo.write("script.toml", SCRIPT);
    repo.write("tests/run.sh", RUN_TESTS);
    repo.commit_all("project");
    let log = repo.scratch("daemon.log");

    for title in ["task one", "task two", "task three"] {
        add_task(&repo, &marker, title);
    }
    let db = store(&repo);

    // 1. Kill while agents run.
    let seq0 = db.last_seq().unwrap();
    let daemon = start(&repo, &marker, &log);
    wait_for(30, "an agent run to start", || {
        has_event_after(&db, seq0, event_kind::RUN_STARTED)
    });
    std::thread::sleep(Duration::from_millis(300));
    daemon.kill9();
    assert!(
        runs_with(&db, RunStatus::Running) >= 1,
        "an agent was running when the daemon died"
    );

    // 2. Start again; kill while verify runs (its `sleep` is in flight).
    let seq1 = db.last_seq().unwrap();
    let daemon = start(&repo, &marker, &log);
    wait_for(60, "verify to start", || {
        has_event_after(&db, seq1, event_kind::VERIFY_STARTED)
    });
    wait_for(10, "verify's process", || {
        !marked_processes(&marker)
            .iter()
            .all(|p| *p as u32 == daemon.child.id())
    });
    std::thread::sleep(Duration::from_millis(200));
    daemon.kill9();
    assert!(
        runs_with(&db, RunStatus::Lost) >= 1,
        "the runs cut off by the first crash are marked lost"
    );
    // Verify's `sleep` dies with the daemon: its group's guard kills the whole group when the
    // daemon dies, whatever the shell under it does.
    wait_for(2, "verify's processes to die with the daemon", || {
        marked_processes(&marker).is_empty()
    });

    // 3. Start again and let everything finish.
    let mut daemon = start(&repo, &marker, &log);
    wait_for(120, "every task to merge", || {
        db.tasks(&TaskFilter::default())
            .unwrap()
            .iter()
            .all(|t| t.status() == Status::Merged)
    });
    let out = gaffer(&repo, &marker).arg("down").output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    daemon.child.wait().unwrap();

    // Exactly once: one landing per task, and each task's change is on the landing branch.
    let events = db
        .events_after(Seq(0), 1_000_000, &EventFilter::default())
        .unwrap();
    for task in db.tasks(&TaskFilter::default()).unwrap() {
        let landings = events
            .iter()
            .filter(|e| e.kind == event_kind::QUEUE_LANDED && e.task == Some(task.id))
            .count();
        assert_eq!(landings, 1, "task {} landed {landings} times", task.id);
    }
    for file in ["one.txt", "two.txt", "three.txt"] {
        repo.git(&["cat-file", "-e", &format!("gaffer/landed/main:{file}")]);
    }
    let recoveries = events
        .iter()
        .filter(|e| e.kind == event_kind::RECOVERY)
        .count();
    assert_eq!(recoveries, 3);

    // Nothing left behind.
    let worktrees = repo.git(&["worktree", "list", "--porcelain"]);
    assert_eq!(
        worktrees
            .lines()
            .filter(|l| l.starts_with("worktree "))
            .count(),
        1,
        "only the user's checkout remains:\n{worktrees}"
    );
    let branches = repo.git(&["branch", "--list", "gaffer/*", "--format=%(refname:short)"]);
    assert_eq!(branches.trim(), "gaffer/landed/main");
    let left = marked_processes(&marker);
    assert!(
        left.is_empty(),
        "processes left behind: {left:?}\n{}",
        std::fs::read_to_string(&log).unwrap_or_default()
    );
}

/// A `command` agent that escapes its process group (`setsid`, as Claude Code runs its tools) and
/// keeps a log outside the worktree: `start`/`end` per run, and `OVERLAP` when it starts while an
/// earlier run of the same task still lives.
const ESCAPING_AGENT: &str = r#"#!/bin/sh
log="$1"
task="$GAFFER_TASK"
pidfile="$log.$task.pid"
# Alive and not a zombie (`kill -0` succeeds on a zombie nobody reaped yet).
alive() { [ -r "/proc/$1/stat" ] && ! grep -q ') [ZX]' "/proc/$1/stat"; }
if [ -f "$pidfile" ] && alive "$(cat "$pidfile")"; then
  echo "OVERLAP task $task: run $$ started while $(cat "$pidfile") still runs" >> "$log"
fi
echo $$ > "$pidfile"
echo "start $task $$" >> "$log"
# The first run is the one the crash orphans: it outlives the daemon by far however slow the
# machine is, so only recovery can end it; the run after the restart is quick.
if [ -f "$log.first" ]; then sleep 1; else : > "$log.first"; sleep 60; fi
echo "done by $$" > "out-$task.txt"
echo "end $task $$" >> "$log"
"#;

fn escaping_config(agent: &Path, log: &Path) -> String {
    format!(
        r#"
[project]
name = "orphans"
[verify]
command = "test -f README.md"
timeout = "60s"
[engine]
concurrency = 1
lease = "4s"
heartbeat = "1s"
worktree_pool = 0
[agents.escaper]
backend = "command"
command = "setsid -w sh {agent} {log} {{prompt_file}}"
[roles]
coder = ["escaper"]
# Without a sandbox, as on a host without user namespaces: there the agent can leave its
# process group and only the supervisor mark finds it. (Inside the sandbox the pid namespace
# takes it down with its bwrap.)
[sandbox]
mode = "none"
pass_env = ["GAFFER_CRASH_MARKER"]
"#,
        agent = agent.display(),
        log = log.display()
    )
}

fn pid_alive(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| {
            let (_, rest) = stat.rsplit_once(')')?;
            Some(!rest.trim_start().starts_with(['Z', 'X']))
        })
        .unwrap_or(false)
}

/// The spawn window: the daemon is killed after it started an agent and before it recorded the
/// agent's process (a fail point holds it there). The agent left its process group, so it
/// outlives the daemon; the restarted daemon's recovery finds it by the mark it carries and kills
/// it before the task's run starts again, so no two runs of the task ever overlap.
#[test]
fn an_agent_started_but_never_recorded_is_killed_by_recovery_before_the_run_starts_again() {
    let _serial = serial();
    let repo = TestRepo::new();
    let marker = format!("orphan-{}", std::process::id());
    let agent = repo.scratch("agent.sh");
    std::fs::write(&agent, ESCAPING_AGENT).unwrap();
    let agents_log = repo.scratch("agents.log");
    repo.write("gaffer.toml", escaping_config(&agent, &agents_log));
    repo.commit_all("project");
    add_task(&repo, &marker, "write the output");
    let db = store(&repo);
    let log = repo.scratch("daemon.log");

    // The daemon stops right after spawning, before recording anything.
    let mut held = gaffer(&repo, &marker);
    held.env("FAILPOINTS", "run-spawned=sleep(600000)");
    let daemon = Daemon {
        child: held
            .args(["up", "--port", "0"])
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&log).unwrap())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    };
    let first_pid = {
        let mut pid = None;
        wait_for(30, "the agent to start", || {
            pid = std::fs::read_to_string(&agents_log)
                .unwrap_or_default()
                .lines()
                .find_map(|l| l.strip_prefix("start 1 ")?.trim().parse::<i32>().ok());
            pid.is_some()
        });
        pid.unwrap()
    };
    let jobs = db
        .jobs(&gaffer_store::JobFilter {
            task: Some(gaffer_core::TaskId(1)),
            ..Default::default()
        })
        .unwrap();
    assert!(
        jobs.iter().all(|j| j.process.is_none()),
        "the fail point holds the daemon before it records the agent's process: {jobs:?}"
    );
    daemon.kill9();
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        pid_alive(first_pid),
        "the escaped agent outlives the daemon (otherwise this test proves nothing)"
    );

    // Restarted, recovery kills it; the task runs again and merges.
    let mut daemon = start(&repo, &marker, &log);
    wait_for(60, "the task to merge", || {
        db.task(gaffer_core::TaskId(1)).unwrap().status() == Status::Merged
    });
    assert!(
        !pid_alive(first_pid),
        "recovery killed the unrecorded agent"
    );
    let out = gaffer(&repo, &marker).arg("down").output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    daemon.child.wait().unwrap();

    let agents = std::fs::read_to_string(&agents_log).unwrap();
    assert!(
        !agents.contains("OVERLAP"),
        "two runs of one task overlapped:\n{agents}"
    );
    assert_eq!(
        agents.lines().filter(|l| l.starts_with("start 1 ")).count(),
        2,
        "{agents}"
    );
    let recovery = db
        .events_after(Seq(0), 1_000_000, &EventFilter::default())
        .unwrap()
        .into_iter()
        .rfind(|e| e.kind == event_kind::RECOVERY)
        .unwrap();
    assert!(
        recovery.data["processes_killed"].as_u64().unwrap_or(0) >= 1,
        "{:#}",
        recovery.data
    );
    assert!(
        marked_processes(&marker).is_empty(),
        "processes left behind"
    );
}

/// After a SIGKILL with no restart, no `command` agent outlives the daemon by more than a second,
/// even under a shell that does not `exec` its last command.
#[test]
fn no_command_agent_outlives_a_killed_daemon_by_more_than_a_second() {
    let _serial = serial();
    let repo = TestRepo::new();
    let marker = format!("nohup-{}", std::process::id());
    // The agents write their pids in a directory of their own that the sandbox lets them write.
    let out_dir = repo.scratch("agent-out");
    std::fs::create_dir_all(&out_dir).unwrap();
    let pids = out_dir.join("pids");
    repo.write(
        "gaffer.toml",
        format!(
            r#"
[project]
name = "no-orphans"
[verify]
command = "test -f README.md"
[engine]
concurrency = 2
worktree_pool = 0
[agents.sleeper]
backend = "command"
command = "echo $$ >> {pids}; sh -c 'echo $$ >> {pids}; sleep 300; echo done'; echo {{prompt_file}}"
[roles]
coder = ["sleeper"]
[sandbox]
write = ["{scratch}"]
pass_env = ["GAFFER_CRASH_MARKER"]
"#,
            pids = pids.display(),
            scratch = pids.parent().unwrap().display()
        ),
    );
    repo.commit_all("project");
    for title in ["first", "second"] {
        add_task(&repo, &marker, title);
    }
    let log = repo.scratch("daemon.log");
    let daemon = start(&repo, &marker, &log);
    let read_pids = || -> Vec<i32> {
        std::fs::read_to_string(&pids)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| l.trim().parse().ok())
            .collect()
    };
    wait_for(30, "both agents to start", || read_pids().len() >= 4);
    let agents = marked_processes(&marker)
        .into_iter()
        .filter(|p| *p as u32 != daemon.child.id())
        .collect::<Vec<_>>();
    assert!(
        agents.len() >= 4,
        "the agents' shells and sleeps run: {agents:?}"
    );
    daemon.kill9();
    let killed_at = Instant::now();
    wait_for(5, "every agent process to die with the daemon", || {
        marked_processes(&marker).is_empty()
    });
    let took = killed_at.elapsed();
    println!("every agent process was gone {took:?} after the daemon's SIGKILL");
    assert!(
        took <= Duration::from_secs(1),
        "agents outlived the daemon by {took:?}: {:?}",
        marked_processes(&marker)
    );
}

/// A sandboxed agent commits in its own git directory, then the daemon dies mid-run: the
/// restarted daemon's recovery brings that commit back to the task's branch, so the agent's
/// commit (and its message) lands instead of being lost with the run.
#[test]
fn a_commit_made_inside_a_run_cut_off_by_a_crash_is_brought_back() {
    let _serial = serial();
    let repo = TestRepo::new();
    let marker = format!("commits-{}", std::process::id());
    repo.write(
        "gaffer.toml",
        r#"
[project]
name = "crash-commits"
[verify]
command = "test -f one.txt"
[engine]
concurrency = 1
lease = "4s"
heartbeat = "1s"
worktree_pool = 0
[agents.committer]
backend = "command"
command = "sh committer.sh {prompt_file}"
[roles]
coder = ["committer"]
[sandbox]
pass_env = ["GAFFER_CRASH_MARKER"]
"#,
    );
    repo.write(
        "committer.sh",
        "if [ -f started.txt ]; then echo 'carrying on'; exit 0; fi\n\
         echo one > one.txt && git add one.txt && git commit -qm 'the agent commit before the crash'\n\
         touch started.txt\n\
         sleep 60\n",
    );
    repo.commit_all("project");
    add_task(&repo, &marker, "commit then crash");
    let db = store(&repo);
    let log = repo.scratch("daemon.log");
    let daemon = start(&repo, &marker, &log);
    let flag = repo
        .path()
        .join(".git/gaffer/worktrees/1-commit-then-crash/started.txt");
    wait_for(60, "the agent to commit", || flag.exists());
    daemon.kill9();

    let mut daemon = start(&repo, &marker, &log);
    wait_for(60, "the task to merge", || {
        db.task(gaffer_core::TaskId(1)).unwrap().status() == Status::Merged
    });
    let out = gaffer(&repo, &marker).arg("down").output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    daemon.child.wait().unwrap();
    let history = repo.git(&["log", "--format=%s", "gaffer/landed/main"]);
    assert!(
        history.contains("the agent commit before the crash"),
        "{history}\n{}",
        std::fs::read_to_string(&log).unwrap_or_default()
    );
    let recovery = db
        .events_after(Seq(0), 1_000_000, &EventFilter::default())
        .unwrap()
        .into_iter()
        .rfind(|e| e.kind == event_kind::RECOVERY)
        .unwrap();
    assert_eq!(recovery.data["runs_brought_back"], 1, "{:#}", recovery.data);
}
