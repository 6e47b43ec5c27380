#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Several machines, one board: hosts are network namespaces on a bridge of their own
//! (`gaffer_test_support::netns`). Host 1 holds PostgreSQL, the bare remote (served by
//! `git daemon`) and a daemon that also serves remote workers; hosts 2 and 3 run daemons; every
//! host runs a remote worker (`gaffer worker`, with a worker token of its own and different
//! labels: none, gpu, gpu and big) that reaches the board only through host 1's daemon. Each
//! daemon and worker has its own directories and its own clone, and code moves only through the
//! remote. Twelve tasks run with a scripted agent, some needing labels only workers have;
//! meanwhile host 2's worker and daemon are killed with SIGKILL, and host 3 (its worker
//! included) is cut off the network for longer than a lease. Every task merges exactly once,
//! labelled tasks ran only on workers with the labels, the target is green at every
//! first-parent commit, and nothing is left running.

use gaffer_core::{RunStatus, Seq, Status, event_kind};
use gaffer_store::{EventFilter, Store, TaskFilter};
use gaffer_store_postgres::PgStore;
use gaffer_test_support::netns::{Host, Network};
use gaffer_test_support::{TestRepo, hermetic_git_env, postgres};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const PG_PORT: u16 = 5432;

const GAFFER_TOML: &str = r#"
[project]
name = "multihost"
target = "main"
remote = "origin"
[verify]
command = "sleep 1 && sh tests/run.sh"
timeout = "60s"
[engine]
concurrency = 2
lease = "4s"
heartbeat = "1s"
worktree_pool = 0
[agents.coder]
backend = "scripted"
script = "script.toml"
[roles]
coder = ["coder"]
"#;

const RUN_TESTS: &str = "#!/bin/sh\ntest ! -e BROKEN && test -f README.md\n";

const TASKS: usize = 12;
/// These need the `gpu` label, which only the workers of hosts 2 and 3 have.
const GPU_TASKS: [usize; 3] = [4, 8, 11];
/// This one needs `big`, which only host 3's worker has.
const BIG_TASK: usize = 6;
/// Host 1's daemon listens here, on its own address, for the workers.
const API_PORT: u16 = 7420;
/// The daemons' API token (configured, as a daemon reached beyond loopback needs).
const API_TOKEN: &str = "multihost-api-token";

/// The labels of each host's worker (daemons have none).
fn worker_labels(i: usize) -> &'static [&'static str] {
    match i {
        0 => &[],
        1 => &["gpu"],
        _ => &["gpu", "big"],
    }
}
/// Its first attempt breaks the tests (verify fails, it must never land); the second fixes it.
const BREAKER: usize = 12;

fn script() -> String {
    let mut out = String::new();
    for i in 1..=TASKS {
        let write = format!("{{ write = \"f{i:02}.txt\", content = \"{i}\\n\" }}");
        out.push_str(&format!("[[task]]\nmatch = \"task {i:02}\"\n"));
        if i == BREAKER {
            out.push_str(&format!(
                "[[task.attempt]]\ndelay_ms = 1500\n\
                 actions = [{write}, {{ write = \"BROKEN\", content = \"x\\n\" }}]\n\
                 [[task.attempt]]\nactions = [{{ delete = \"BROKEN\" }}]\n"
            ));
        } else {
            out.push_str(&format!(
                "[[task.attempt]]\ndelay_ms = 1500\nactions = [{write}]\n"
            ));
        }
    }
    out.push_str(
        "[[task]]\nmatch = \"needs gtk\"\n[[task.attempt]]\nactions = [{ write = \"gtk.txt\", content = \"x\\n\" }]\n",
    );
    out
}

/// One machine of the test: its namespace and its own directory.
struct Machine<'n> {
    host: &'n Host,
    dir: PathBuf,
}

impl Machine<'_> {
    fn home(&self) -> PathBuf {
        self.dir.join("home")
    }

    fn clone_dir(&self) -> PathBuf {
        self.dir.join("clone")
    }

    /// `program` on this machine, in the hermetic environment.
    fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut cmd = self.host.command(program);
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .envs(hermetic_git_env(&self.home()))
            .env("TMPDIR", self.dir.join("tmp"));
        cmd
    }

    fn gaffer(&self, store: &str) -> Command {
        let mut cmd = self.command(env!("CARGO_BIN_EXE_gaffer"));
        cmd.current_dir(self.clone_dir())
            .env("GAFFER_STORE__URL", store)
            .env("GAFFER_TOKEN", API_TOKEN)
            .env("GAFFER_LOG", "info");
        cmd
    }

    fn log_file(&self, name: &str) -> std::fs::File {
        std::fs::File::options()
            .create(true)
            .append(true)
            .open(self.dir.join(name))
            .unwrap()
    }

    /// The daemon; `serve_workers`: listening on the host's address for remote workers.
    fn start_daemon(&self, store: &str, serve_workers: bool) -> Child {
        let log = self.log_file("daemon.log");
        let mut cmd = self.gaffer(store);
        if serve_workers {
            cmd.env("GAFFER_SERVER__HOST", self.host.addr.to_string())
                .args(["up", "--port", &API_PORT.to_string()]);
        } else {
            cmd.args(["up", "--port", "0"]);
        }
        cmd.stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap()
    }

    /// The remote worker: its own directory, no database, host 1's daemon at `server`.
    fn start_worker(&self, server: &str, token: &str) -> Child {
        let log = self.log_file("worker.log");
        let mut cmd = self.command(env!("CARGO_BIN_EXE_gaffer"));
        cmd.current_dir(&self.dir)
            .env("GAFFER_WORKER_TOKEN", token)
            .env("GAFFER_LOG", "info")
            .args(["worker", "--server", server, "--dir"])
            .arg(self.worker_dir())
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap()
    }

    fn worker_dir(&self) -> PathBuf {
        self.dir.join("worker")
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("daemon.log")).unwrap_or_default()
    }

    fn worker_log(&self) -> String {
        std::fs::read_to_string(self.dir.join("worker.log")).unwrap_or_default()
    }
}

fn run(cmd: &mut Command, what: &str) -> String {
    let out = cmd.stdin(Stdio::null()).output().unwrap();
    assert!(
        out.status.success(),
        "{what} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// PostgreSQL on host 1: TCP on its address for the daemons, a Unix socket in `dir` for this
/// test (which sits outside every namespace).
fn start_postgres(host: &Host, dir: &Path) -> String {
    let bin = postgres::binaries().expect("PostgreSQL's programs (initdb, pg_ctl)");
    std::fs::create_dir_all(dir).unwrap();
    run(Command::new("chown").arg("postgres:").arg(dir), "chown");
    let data = dir.join("data");
    run(
        Command::new("runuser")
            .args(["-u", "postgres", "--"])
            .arg(bin.join("initdb"))
            .args(["-A", "trust", "-U", "postgres", "--no-sync", "-D"])
            .arg(&data),
        "initdb",
    );
    // The other hosts connect over the test network.
    let hba = data.join("pg_hba.conf");
    let mut rules = std::fs::read_to_string(&hba).unwrap();
    rules.push_str("\nhost all all 10.0.0.0/8 trust\n");
    std::fs::write(&hba, rules).unwrap();
    let options = format!(
        "-p {PG_PORT} -c listen_addresses={} -c unix_socket_directories={} -c fsync=off \
         -c synchronous_commit=off -c full_page_writes=off -c max_connections=200",
        host.addr,
        dir.display()
    );
    run(
        host.command("runuser")
            .args(["-u", "postgres", "--"])
            .arg(bin.join("pg_ctl"))
            .arg("-D")
            .arg(&data)
            .arg("-l")
            .arg(dir.join("server.log"))
            .args(["-w", "-t", "60", "-o", &options, "start"]),
        "pg_ctl start",
    );
    format!(
        "host={} port={PG_PORT} user=postgres dbname=postgres",
        dir.display()
    )
}

fn wait_for(secs: u64, what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < deadline {
        if f() {
            return;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    panic!("timed out waiting for {what}");
}

fn kill9(child: &mut Child) {
    let pid = nix::unistd::Pid::from_raw(child.id() as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGKILL).unwrap();
    child.wait().unwrap();
}

#[test]
fn three_hosts_one_board_every_task_merges_once_through_kills_and_a_cut() {
    // Declared before the network, so dropped after it: the hosts' processes (PostgreSQL
    // among them) are killed before their directories go.
    let root = tempfile::Builder::new()
        .prefix("gaffer-multihost-")
        .tempdir()
        .unwrap();
    let Some(network) = Network::new(3) else {
        return;
    };
    if postgres::binaries().is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "the multi-host test needs PostgreSQL's programs under CI"
        );
        eprintln!("\n!!! SKIPPING the multi-host test: no initdb/pg_ctl\n");
        return;
    }
    let machines: Vec<Machine<'_>> = network
        .hosts()
        .iter()
        .enumerate()
        .map(|(i, host)| {
            let dir = root.path().join(format!("host{}", i + 1));
            std::fs::create_dir_all(dir.join("home")).unwrap();
            std::fs::create_dir_all(dir.join("tmp")).unwrap();
            Machine { host, dir }
        })
        .collect();
    let server = &machines[0];

    // Host 1: the database and the remote.
    let local_db = start_postgres(server.host, &root.path().join("db"));
    let store_url = format!(
        "postgres://postgres@{}:{PG_PORT}/postgres",
        server.host.addr
    );
    let remote_dir = root.path().join("remote");
    std::fs::create_dir_all(&remote_dir).unwrap();
    let bare = remote_dir.join("board.git");
    let seed = TestRepo::new();
    seed.write("gaffer.toml", GAFFER_TOML);
    seed.write("script.toml", script());
    seed.write("tests/run.sh", RUN_TESTS);
    seed.commit_all("the project");
    seed.git(&["init", "-q", "--bare", "-b", "main", bare.to_str().unwrap()]);
    seed.git(&["push", "-q", bare.to_str().unwrap(), "main"]);
    let mut git_daemon = server
        .command("git")
        .args([
            "daemon",
            "--reuseaddr",
            "--export-all",
            "--enable=receive-pack",
        ])
        .arg(format!("--base-path={}", remote_dir.display()))
        .arg(format!("--listen={}", server.host.addr))
        .arg(&remote_dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let remote_url = format!("git://{}/board.git", server.host.addr);
    for m in &machines {
        wait_for(20, "the remote to answer", || {
            m.command("git")
                .args(["ls-remote", &remote_url])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        });
        run(
            m.command("git")
                .args(["clone", "-q", &remote_url])
                .arg(m.clone_dir()),
            "git clone",
        );
    }

    // A daemon on every host; host 1's serves the workers.
    let mut daemons: Vec<Child> = machines
        .iter()
        .enumerate()
        .map(|(i, m)| m.start_daemon(&store_url, i == 0))
        .collect();
    let board = PgStore::open_default(&local_db).unwrap();
    // Each daemon says where it listens once it serves.
    for m in &machines {
        let deadline = Instant::now() + Duration::from_secs(60);
        while !m.log().contains("gaffer is up: http://") {
            assert!(
                Instant::now() < deadline,
                "{} did not start:\n{}",
                m.host.name,
                m.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    // A worker token per host's worker, made on host 1; a worker on every host.
    let tokens: Vec<String> = (0..machines.len())
        .map(|i| {
            let mut create = server.gaffer(&store_url);
            create.args(["worker", "token", "create", "--json", "--name"]);
            create.arg(format!("host{}", i + 1));
            for label in worker_labels(i) {
                create.args(["--label", label]);
            }
            let out = run(&mut create, "gaffer worker token create");
            let made: serde_json::Value = serde_json::from_str(&out).unwrap();
            made["secret"].as_str().unwrap().to_string()
        })
        .collect();
    let api = format!("http://{}:{API_PORT}", server.host.addr);
    let mut workers: Vec<Child> = machines
        .iter()
        .zip(&tokens)
        .map(|(m, token)| m.start_worker(&api, token))
        .collect();
    for m in &machines {
        let deadline = Instant::now() + Duration::from_secs(60);
        while !m.worker_log().contains("works for multihost") {
            assert!(
                Instant::now() < deadline,
                "the worker of {} did not start:\n{}",
                m.host.name,
                m.worker_log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    let titles = (1..=TASKS)
        .map(|i| {
            let needs = if GPU_TASKS.contains(&i) {
                Some("gpu")
            } else {
                (i == BIG_TASK).then_some("big")
            };
            (format!("task {i:02}"), needs)
        })
        .chain([("needs gtk".to_string(), Some("gtk"))]);
    for (title, needs) in titles {
        let mut add = machines[1].gaffer(&store_url);
        add.args(["task", "add", &title]);
        if let Some(label) = needs {
            add.args(["--needs", label]);
        }
        let out = add.stdin(Stdio::null()).output().unwrap();
        assert!(
            out.status.success(),
            "gaffer task add: {}\n{}",
            String::from_utf8_lossy(&out.stderr),
            machines[1].log()
        );
    }
    let describe = |board: &PgStore| -> String {
        let tasks = board.tasks(&TaskFilter::default()).unwrap();
        let mut out: Vec<String> = tasks
            .iter()
            .map(|t| {
                format!(
                    "#{} {} {:?}{}",
                    t.id,
                    t.title,
                    t.status(),
                    t.state
                        .note
                        .as_ref()
                        .map_or(String::new(), |n| format!(": {n}"))
                )
            })
            .collect();
        for m in &machines {
            for (what, log) in [("daemon", m.log()), ("worker", m.worker_log())] {
                out.push(format!("--- {} {what} log tail:", m.host.name));
                let lines: Vec<&str> = log.lines().collect();
                out.extend(
                    lines[lines.len().saturating_sub(30)..]
                        .iter()
                        .map(|l| l.to_string()),
                );
            }
        }
        out.join("\n")
    };
    // Kill host 2's worker, then its daemon, each while it runs an agent; cut host 3 (its
    // daemon and its worker) off for three leases.
    let running_in = |dir: &Path| -> bool {
        board
            .tasks(&TaskFilter::default())
            .unwrap()
            .iter()
            .flat_map(|t| board.runs(t.id).unwrap())
            .any(|r| r.status == RunStatus::Running && Path::new(&r.worktree).starts_with(dir))
    };
    for (what, dir) in [
        ("host 2's worker", machines[1].worker_dir()),
        ("host 2's daemon", machines[1].clone_dir()),
    ] {
        let deadline = Instant::now() + Duration::from_secs(90);
        while !running_in(&dir) {
            assert!(
                Instant::now() < deadline,
                "no agent run by {what}:\n{}",
                describe(&board)
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        if what.ends_with("worker") {
            kill9(&mut workers[1]);
        } else {
            kill9(&mut daemons[1]);
        }
    }
    network.cut(machines[2].host);
    std::thread::sleep(Duration::from_secs(12));
    network.restore(machines[2].host);
    // Host 2 comes back, as an operator would bring it back.
    daemons[1] = machines[1].start_daemon(&store_url, false);
    workers[1] = machines[1].start_worker(&api, &tokens[1]);

    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        let tasks: Vec<_> = board
            .tasks(&TaskFilter::default())
            .unwrap()
            .into_iter()
            .filter(|t| t.title != "needs gtk")
            .collect();
        if tasks.len() == TASKS && tasks.iter().all(|t| t.status() == Status::Merged) {
            break;
        }
        if let Some(t) = tasks
            .iter()
            .find(|t| matches!(t.status(), Status::Failed | Status::Cancelled))
        {
            panic!("task {} ended {:?}\n{}", t.id, t.status(), describe(&board));
        }
        assert!(
            Instant::now() < deadline,
            "not all merged:\n{}",
            describe(&board)
        );
        std::thread::sleep(Duration::from_millis(500));
    }

    // Exactly once each.
    let events = board
        .events_after(Seq(0), 1_000_000, &EventFilter::default())
        .unwrap();
    let all_tasks = board.tasks(&TaskFilter::default()).unwrap();
    let gtk = all_tasks.iter().find(|t| t.title == "needs gtk").unwrap();
    assert_ne!(gtk.status(), Status::Merged);
    assert!(
        events
            .iter()
            .any(|e| e.kind == event_kind::JOB_UNROUTABLE && e.task == Some(gtk.id)),
        "the board never said no machine has gtk"
    );
    // The breaker's broken tree failed verify (and so never landed: checked below).
    let breaker = all_tasks
        .iter()
        .find(|t| t.title == format!("task {BREAKER:02}"))
        .unwrap();
    assert!(
        events.iter().any(|e| e.kind == event_kind::VERIFY_FINISHED
            && e.task == Some(breaker.id)
            && e.data["passed"] == false),
        "the breaker's broken attempt never failed verify"
    );
    // Labelled tasks ran (every agent run) only on workers with the labels: gpu on host 2's
    // or host 3's worker, big on host 3's.
    for task in all_tasks
        .iter()
        .filter(|t| !t.needs().is_empty() && t.title != "needs gtk")
    {
        let able: Vec<PathBuf> = machines
            .iter()
            .enumerate()
            .filter(|(i, _)| {
                task.needs()
                    .iter()
                    .all(|n| worker_labels(*i).contains(&n.as_str()))
            })
            .map(|(_, m)| m.worker_dir())
            .collect();
        let runs = board.runs(task.id).unwrap();
        assert!(!runs.is_empty(), "task {} has no run", task.id);
        for run in runs {
            assert!(
                able.iter().any(|d| Path::new(&run.worktree).starts_with(d)),
                "run {} of task {} (needs {:?}) was in {}",
                run.id,
                task.id,
                task.needs(),
                run.worktree
            );
        }
    }
    // Every worker is on the board.
    let hosts = board.hosts().unwrap();
    assert_eq!(
        hosts
            .iter()
            .filter(|h| h.name.starts_with("worker:"))
            .count(),
        machines.len(),
        "{hosts:?}"
    );
    for task in all_tasks.iter().filter(|t| t.title != "needs gtk") {
        let landings = events
            .iter()
            .filter(|e| e.kind == event_kind::QUEUE_LANDED && e.task == Some(task.id))
            .count();
        assert_eq!(landings, 1, "task {} landed {landings} times", task.id);
    }
    // The killed daemon's runs were taken over: none is left running.
    let running: usize = board
        .tasks(&TaskFilter::default())
        .unwrap()
        .into_iter()
        .flat_map(|t| board.runs(t.id).unwrap())
        .filter(|r| r.status == RunStatus::Running)
        .count();
    assert_eq!(running, 0, "runs still marked running");
    let lost = events
        .iter()
        .filter(|e| e.kind == event_kind::RUN_LOST)
        .count();
    assert!(lost > 0, "the killed daemon's runs were never taken over");

    // The remote's target: one landing per task on the first-parent line, every one green.
    let inspect = TestRepo::new();
    inspect.git(&[
        "fetch",
        "-q",
        bare.to_str().unwrap(),
        "main:refs/remotes/remote/main",
    ]);
    let firsts = inspect.git(&["rev-list", "--first-parent", "refs/remotes/remote/main"]);
    let firsts: Vec<&str> = firsts.lines().collect();
    let seeded: usize = seed
        .git(&["rev-list", "--count", "main"])
        .trim()
        .parse()
        .unwrap();
    // One first-parent commit per landing: per task, or per batch of tasks verified together
    // (`queue.batch = "auto"` batches when more branches wait than there are heavy slots).
    // (A batch's tasks share their candidate; a train lands its candidates stacked.)
    let mut candidates: Vec<String> = events
        .iter()
        .filter(|e| e.kind == event_kind::QUEUE_LANDED)
        .map(|e| e.data["commit"].as_str().unwrap().to_string())
        .collect();
    candidates.sort();
    candidates.dedup();
    let landings = firsts.len() - seeded;
    let mut new_firsts: Vec<String> = firsts[..landings].iter().map(|c| c.to_string()).collect();
    new_firsts.sort();
    assert_eq!(
        new_firsts, candidates,
        "first-parent history: one landing per verified candidate on the seed's history"
    );
    assert!((1..=TASKS).contains(&landings), "{landings} landings");
    for commit in &firsts[..landings] {
        let files = inspect.git(&["ls-tree", "-r", "--name-only", commit]);
        assert!(
            files.lines().any(|f| f == "README.md") && !files.lines().any(|f| f == "BROKEN"),
            "{commit} is red"
        );
    }
    let tip = inspect.git(&["ls-tree", "-r", "--name-only", "refs/remotes/remote/main"]);
    for i in 1..=TASKS {
        assert!(
            tip.lines().any(|f| f == format!("f{i:02}.txt")),
            "f{i:02}.txt missing"
        );
    }

    // Stopped cleanly, nothing of gaffer's is left running on any host.
    for w in workers.iter_mut().chain(daemons.iter_mut()) {
        let pid = nix::unistd::Pid::from_raw(w.id() as i32);
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
    }
    for w in workers.iter_mut().chain(daemons.iter_mut()) {
        let _ = w.wait();
    }
    // `git daemon` serves through a `git-daemon` child: stop both.
    let cmdline =
        |pid: i32| std::fs::read_to_string(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    for pid in server.host.pids() {
        if cmdline(pid).contains("git-daemon") {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
    }
    let _ = git_daemon.kill();
    let _ = git_daemon.wait();
    std::thread::sleep(Duration::from_millis(200));
    // Whatever is left but the database (an empty command line is a process already gone).
    let gaffer_left: Vec<String> = machines
        .iter()
        .flat_map(|m| m.host.pids())
        .map(cmdline)
        .filter(|cmd| !cmd.is_empty() && !cmd.contains("postgres") && !cmd.contains("git-daemon"))
        .collect();
    assert!(gaffer_left.is_empty(), "left running: {gaffer_left:?}");
}
