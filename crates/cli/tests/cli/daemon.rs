//! `gaffer up --detach` / `down`, and the commands that go through a running daemon.

use crate::common::{
    ChildGuard, Project, pid_alive, stderr_of, stdout_of, wait_for_exit, wait_until,
};
use serde_json::{Value, json};
use std::io::{Read, Write};
use std::net::TcpListener;
use std::time::{Duration, Instant};

#[test]
fn a_task_added_through_the_daemon_runs_to_merged_and_is_reported() {
    let project = Project::new();
    let main_before = project.repo.rev_parse("main");
    let daemon = project.start_daemon();
    let added = project.json(&[
        "task",
        "add",
        "Write the notes",
        "--scope",
        "notes.txt",
        "--json",
    ]);
    let id = added["id"].as_i64().unwrap();
    let shown = project.wait_for_status(id, "merged");
    // The daemon answers with the same document `task add` prints without one.
    let keys = |v: &Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    assert_eq!(keys(&added), keys(&shown["task"]), "{added:#}");
    assert_eq!(added["write_scope"], json!(["notes.txt"]));
    assert_eq!(
        shown["task"]["state"]["code_runs"], 1,
        "{:#}",
        shown["task"]
    );
    let landed = shown["task"]["state"]["landed"]["commit"].as_str().unwrap();

    // main is checked out here, so the work lands beside it and the checkout is untouched.
    assert_eq!(project.repo.rev_parse("gaffer/landed/main"), landed);
    assert_eq!(
        project.repo.git(&["show", "gaffer/landed/main:notes.txt"]),
        "landed notes"
    );
    assert_eq!(project.repo.rev_parse("main"), main_before);
    assert!(!project.path().join("notes.txt").exists());

    let status = project.json(&["status", "--json"]);
    assert_eq!(
        status["daemon"],
        format!("http://127.0.0.1:{}", daemon.port),
        "{status:#}"
    );
    assert_eq!(
        status["status"]["counts"],
        json!([["merged", 1]]),
        "{status:#}"
    );
    assert_eq!(status["status"]["landing"]["branch"], "gaffer/landed/main");

    let out = project.gaffer().args(["feed", "--json"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let events: Vec<Value> = stdout_of(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not a JSON line ({e}): {l}")))
        .collect();
    let seqs: Vec<i64> = events.iter().map(|e| e["seq"].as_i64().unwrap()).collect();
    assert!(
        seqs.windows(2).all(|w| w[0] < w[1]),
        "feed out of order: {seqs:?}"
    );
    let of_task = |kind: &str| events.iter().any(|e| e["kind"] == kind && e["task"] == id);
    for kind in [
        "task.created",
        "run.started",
        "verify.finished",
        "queue.landed",
    ] {
        assert!(of_task(kind), "no {kind} event for task {id} in the feed");
    }
    let out = project
        .gaffer()
        .args(["feed", "--task", &id.to_string(), "--after", "0"])
        .output()
        .unwrap();
    assert!(
        stdout_of(&out).contains("merging → merged"),
        "{}",
        stdout_of(&out)
    );

    let out = project
        .gaffer()
        .args(["log", &id.to_string()])
        .output()
        .unwrap();
    let log = stdout_of(&out);
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert!(
        log.contains("coder") && log.contains("scripted-agent"),
        "{log}"
    );
    assert!(log.contains("succeeded"), "{log}");
    assert!(
        log.contains("writing notes.txt"),
        "the agent's status line is missing: {log}"
    );
    assert!(log.contains("outcome: Wrote notes.txt."), "{log}");
    let runs = project.json(&["log", &id.to_string(), "--json"]);
    assert_eq!(runs.as_array().unwrap().len(), 1, "{runs:#}");

    let out = project
        .gaffer()
        .args(["diff", &id.to_string()])
        .output()
        .unwrap();
    let diff = stdout_of(&out);
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert!(diff.contains("+++ b/notes.txt"), "{diff}");
    assert!(diff.contains("+landed notes"), "{diff}");
    drop(daemon);
}

#[test]
fn a_second_up_fails_with_6_and_down_stops_the_daemon() {
    let project = Project::new();
    let daemon = project.start_daemon();
    let info_before = std::fs::read_to_string(project.daemon_file()).unwrap();

    let out = project
        .gaffer()
        .args(["up", "--detach", "--port", "0"])
        .output()
        .unwrap();
    let stderr = stderr_of(&out);
    assert_eq!(out.status.code(), Some(6), "{stderr}");
    assert!(
        stderr.contains("already running") && stderr.contains(&daemon.pid.to_string()),
        "{stderr}"
    );
    assert!(stderr.contains("hint:"), "{stderr}");

    // In the foreground too: the state directory is locked.
    let out = project
        .gaffer()
        .args(["up", "--port", "0"])
        .timeout(Duration::from_secs(30))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(6), "{}", stderr_of(&out));

    assert!(
        pid_alive(daemon.pid),
        "a failed `up` stopped the running daemon"
    );
    let checks = project.json(&["doctor", "--json"]);
    let port = checks
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "port")
        .unwrap();
    let running = format!(
        "daemon running on port {} (pid {})",
        daemon.port, daemon.pid
    );
    assert_eq!(port["detail"], running, "{checks:#}");
    assert_eq!(
        std::fs::read_to_string(project.daemon_file()).unwrap(),
        info_before
    );

    let out = project.gaffer().arg("down").output().unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert!(
        stdout_of(&out).contains("gaffer is down"),
        "{}",
        stdout_of(&out)
    );
    assert!(
        !pid_alive(daemon.pid),
        "the daemon (pid {}) still runs after `down`",
        daemon.pid
    );
    assert!(
        !project.daemon_file().exists(),
        "daemon.json was left behind"
    );

    let out = project.gaffer().arg("down").output().unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert!(
        stdout_of(&out).contains("not running"),
        "{}",
        stdout_of(&out)
    );
    let status = project.json(&["status", "--json"]);
    assert_eq!(status["daemon"], Value::Null, "{status:#}");
}

#[test]
fn down_when_not_running_exits_0() {
    let project = Project::new();
    let out = project.gaffer().arg("down").output().unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert!(
        stdout_of(&out).contains("not running"),
        "{}",
        stdout_of(&out)
    );
}

#[test]
fn down_stops_the_daemon_even_when_gaffer_toml_broke_since_it_started() {
    let project = Project::new();
    let daemon = project.start_daemon();
    let pid: u32 =
        serde_json::from_str::<Value>(&std::fs::read_to_string(project.daemon_file()).unwrap())
            .unwrap()["pid"]
            .as_u64()
            .unwrap() as u32;
    project.repo.write("gaffer.toml", "[engine\nconcurrency = ");
    let out = project.gaffer().arg("down").output().unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert!(
        stderr_of(&out).contains("stopping the daemon all the same"),
        "the broken file is said: {}",
        stderr_of(&out)
    );
    assert!(!pid_alive(pid), "the daemon (pid {pid}) still runs");
    drop(daemon);
    // With no daemon, the broken file is the error it is.
    let out = project.gaffer().arg("down").output().unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", stderr_of(&out));
}

/// The pid of a process that has exited (and been reaped).
fn dead_pid() -> u32 {
    let mut child = std::process::Command::new("true").spawn().unwrap();
    let pid = child.id();
    child.wait().unwrap();
    pid
}

#[test]
fn a_stale_daemon_json_is_ignored_and_cleared() {
    let project = Project::new();
    std::fs::create_dir_all(project.state_dir()).unwrap();
    let stale = json!({ "pid": dead_pid(), "port": 9, "started_ms": 0 });
    std::fs::write(project.daemon_file(), stale.to_string()).unwrap();

    // Nothing answers on port 9: commands must not try, they work on the board directly.
    let id = project.add_task("Write the notes", &[]);
    assert_eq!(project.status_of(id), "backlog");
    assert_eq!(project.json(&["status", "--json"])["daemon"], Value::Null);

    let out = project.gaffer().arg("down").output().unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert!(
        !project.daemon_file().exists(),
        "the stale daemon.json was not removed"
    );
}

/// A stand-in daemon on a free port that records the requests it gets and answers each with a
/// 409 and an error document.
struct FakeDaemon {
    port: u16,
    requests: std::thread::JoinHandle<Vec<String>>,
}

fn fake_daemon(expected: usize) -> FakeDaemon {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    listener.set_nonblocking(true).unwrap();
    let requests = std::thread::spawn(move || {
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut seen = Vec::new();
        while seen.len() < expected && Instant::now() < deadline {
            let (mut stream, _) = match listener.accept() {
                Ok(conn) => conn,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    std::thread::sleep(Duration::from_millis(20));
                    continue;
                }
                Err(e) => panic!("accept: {e}"),
            };
            stream.set_nonblocking(false).unwrap();
            stream
                .set_read_timeout(Some(Duration::from_secs(10)))
                .unwrap();
            let mut request = Vec::new();
            let mut buf = [0u8; 4096];
            loop {
                let n = stream.read(&mut buf).unwrap();
                if n == 0 {
                    break;
                }
                request.extend_from_slice(&buf[..n]);
                let text = String::from_utf8_lossy(&request).to_string();
                if let Some(end) = text.find("\r\n\r\n") {
                    let length = text[..end]
                        .lines()
                        .find_map(|l| {
                            let (name, value) = l.split_once(':')?;
                            name.eq_ignore_ascii_case("content-length")
                                .then(|| value.trim().parse::<usize>().ok())?
                        })
                        .unwrap_or(0);
                    if request.len() >= end + 4 + length {
                        break;
                    }
                }
            }
            let body = json!({ "error": {
                "code": "conflict",
                "message": "the fake daemon says no",
                "hint": "this hint came over HTTP",
            }})
            .to_string();
            let response = format!(
                "HTTP/1.1 409 Conflict\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            stream.write_all(response.as_bytes()).unwrap();
            seen.push(String::from_utf8_lossy(&request).to_string());
        }
        seen
    });
    FakeDaemon { port, requests }
}

/// When daemon.json names a live process, `task add` and `task cancel` go to it over HTTP (so
/// that the engine acts at once) and report its errors with their meaning and hint.
#[test]
fn task_commands_go_through_a_running_daemon() {
    let project = Project::new();
    let fake = fake_daemon(2);
    std::fs::create_dir_all(project.state_dir()).unwrap();
    let info = json!({
        "pid": std::process::id(),
        "port": fake.port,
        "started_ms": 0,
        "token": "fake-daemon-token",
    });
    std::fs::write(project.daemon_file(), info.to_string()).unwrap();

    let add = project
        .gaffer()
        .args(["task", "add", "Write the notes", "--label", "docs"])
        .output()
        .unwrap();
    let cancel = project
        .gaffer()
        .args(["task", "cancel", "7"])
        .output()
        .unwrap();
    let requests = fake.requests.join().unwrap();
    std::fs::remove_file(project.daemon_file()).unwrap();

    for out in [&add, &cancel] {
        let stderr = stderr_of(out);
        assert_eq!(out.status.code(), Some(5), "{stderr}");
        assert!(stderr.contains("the fake daemon says no"), "{stderr}");
        assert!(
            stderr.contains("hint: this hint came over HTTP"),
            "{stderr}"
        );
    }
    assert_eq!(requests.len(), 2, "{requests:#?}");
    assert!(
        requests[0].starts_with("POST /api/tasks HTTP/1.1\r\n"),
        "{}",
        requests[0]
    );
    // Each with the token daemon.json names.
    for request in &requests {
        assert!(
            request
                .to_ascii_lowercase()
                .contains("\r\nauthorization: bearer fake-daemon-token\r\n"),
            "{request}"
        );
    }
    let body: Value = serde_json::from_str(requests[0].split("\r\n\r\n").nth(1).unwrap()).unwrap();
    assert_eq!(body["title"], "Write the notes", "{body:#}");
    assert_eq!(body["labels"], json!(["docs"]), "{body:#}");
    assert!(
        requests[1].starts_with("POST /api/tasks/7/cancel HTTP/1.1\r\n"),
        "{}",
        requests[1]
    );
    // Nothing went to the board behind the daemon's back.
    assert_eq!(project.json(&["task", "list", "--json"]), json!([]));
}

#[test]
fn cancel_through_the_daemon_stops_a_running_task_and_cleans_up() {
    let project = Project::new();
    let _daemon = project.start_daemon();
    let id = project.add_task("A slow change", &[]);
    project.wait_for_status(id, "coding");
    let out = project
        .gaffer()
        .args(["task", "cancel", &id.to_string()])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert_eq!(stdout_of(&out).trim(), format!("task {id}: cancelled"));
    assert_eq!(project.status_of(id), "cancelled");

    // The daemon answers the second cancel with a conflict.
    let out = project
        .gaffer()
        .args(["task", "cancel", &id.to_string()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(5), "{}", stderr_of(&out));

    // The run stops and its worktree and branch go.
    wait_until("the cancelled run to end", Duration::from_secs(60), || {
        let runs = project.show(id)["runs"].clone();
        runs.as_array()
            .unwrap()
            .iter()
            .all(|r| r["status"] != "running")
            .then_some(())
    });
    wait_until(
        "the task's worktree and branch to go",
        Duration::from_secs(60),
        || {
            let worktrees = project.repo.git(&["worktree", "list", "--porcelain"]);
            let count = worktrees
                .lines()
                .filter(|l| l.starts_with("worktree "))
                .count();
            let branches = project.repo.git(&["branch", "--list", "gaffer/*"]);
            (count == 1 && branches.is_empty()).then_some(())
        },
    );
}

#[test]
fn a_failed_task_can_be_retried() {
    let project = Project::new();
    let _daemon = project.start_daemon();
    let id = project.add_task("A broken change", &[]);
    let failed = project.wait_for_status(id, "failed");
    let verify_failed = failed["events"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["kind"] == "verify.finished" && e["data"]["passed"] == false);
    assert!(
        verify_failed,
        "the task failed without a failing verify: {failed:#}"
    );
    let runs_before = failed["task"]["state"]["code_runs"].as_i64().unwrap();

    let out = project
        .gaffer()
        .args(["task", "retry", &id.to_string()])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let said = stdout_of(&out);
    assert!(
        said.starts_with(&format!("task {id}: ")) && !said.contains("failed"),
        "{said}"
    );
    wait_until(
        "the retried task to code again",
        Duration::from_secs(60),
        || {
            let runs = project.show(id)["task"]["state"]["code_runs"]
                .as_i64()
                .unwrap();
            (runs > runs_before).then_some(())
        },
    );
}

#[test]
fn a_failed_task_retry_fresh_moves_it_to_a_new_branch() {
    let project = Project::new();
    let _daemon = project.start_daemon();
    let id = project.add_task("A broken change", &[]);
    let failed = project.wait_for_status(id, "failed");
    let old_branch = failed["task"]["branch"].as_str().unwrap().to_string();
    let runs_before = failed["task"]["state"]["code_runs"].as_i64().unwrap();

    let out = project
        .gaffer()
        .args(["task", "retry", &id.to_string(), "--fresh"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let shown = project.show(id);
    assert_eq!(
        shown["task"]["branch"],
        format!("{old_branch}-attempt-2"),
        "{shown:#}"
    );
    assert_eq!(shown["task"]["state"]["restarts"], 1, "{shown:#}");
    // The old branch stays, with the broken attempt on it.
    let listed = project.repo.git(&["branch", "--list", &old_branch]);
    assert!(listed.contains(&old_branch), "{listed}");
    wait_until(
        "the task to code again on its new branch",
        Duration::from_secs(60),
        || {
            let shown = project.show(id);
            let runs = shown["task"]["state"]["code_runs"].as_i64().unwrap();
            (runs > runs_before).then_some(())
        },
    );
}

/// The detached daemon runs with the `--config` it was started with.
#[test]
fn up_detach_passes_the_configuration_on() {
    let project = Project::new();
    project.repo.git(&["mv", "gaffer.toml", "alt.toml"]);
    project.repo.commit_all("move the configuration");
    let _daemon = project.start_daemon_with(&["--config", "alt.toml"]);
    let id = project.add_task("Write the notes", &["--config", "alt.toml"]);
    let log = project.daemon_log();
    assert!(
        !log.contains("no verify command"),
        "the daemon ignored --config:\n{log}"
    );
    project.wait_for_status(id, "merged");
}

#[test]
fn feed_follow_streams_events_live_and_ends_with_the_daemon() {
    let project = Project::new();
    let _daemon = project.start_daemon();
    let mut feed = project.std_gaffer();
    feed.args(["feed", "--follow", "--json"])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = ChildGuard(feed.spawn().unwrap());
    let stdout = child.0.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stdout).lines() {
            if tx.send(line.unwrap()).is_err() {
                break;
            }
        }
    });

    // Added after the feed started: only the live stream can show it.
    let id = project.add_task("Write the notes", &[]);
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut kinds = Vec::new();
    while !kinds.contains(&"queue.landed".to_string()) {
        let left = deadline.saturating_duration_since(Instant::now());
        let line = rx
            .recv_timeout(left)
            .unwrap_or_else(|e| panic!("no queue.landed in the live feed ({e}); saw {kinds:?}"));
        let event: Value =
            serde_json::from_str(&line).unwrap_or_else(|e| panic!("not a JSON line ({e}): {line}"));
        if event["task"] == id {
            kinds.push(event["kind"].as_str().unwrap().to_string());
        }
    }
    assert_eq!(
        kinds.first().map(String::as_str),
        Some("task.created"),
        "{kinds:?}"
    );

    let out = project.gaffer().arg("down").output().unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let status = wait_for_exit(&mut child.0, Duration::from_secs(30));
    assert!(status.success(), "feed --follow ended with {status}");
}

#[test]
fn foreground_up_stops_on_sigterm_and_removes_daemon_json() {
    let project = Project::new();
    let mut up = project.std_gaffer();
    up.args(["up", "--port", "0"])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = ChildGuard(up.spawn().unwrap());
    let pid = child.0.id();
    let port = wait_until(
        "daemon.json of the foreground daemon",
        Duration::from_secs(30),
        || {
            let info: Value =
                serde_json::from_str(&std::fs::read_to_string(project.daemon_file()).ok()?).ok()?;
            (info["pid"] == pid).then(|| {
                let token = info["token"].as_str().unwrap().to_string();
                (info["port"].as_u64().unwrap(), token)
            })
        },
    );
    let (port, token) = port;
    assert_ne!(port, 0);
    let status = project.json(&["status", "--json"]);
    assert_eq!(status["daemon"], format!("http://127.0.0.1:{port}"));

    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(i32::try_from(pid).unwrap()),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    let exit = wait_for_exit(&mut child.0, Duration::from_secs(60));
    let mut stdout = String::new();
    child
        .0
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut stdout)
        .unwrap();
    assert!(exit.success(), "up ended with {exit}: {stdout}");
    assert!(
        stdout.contains(&format!("http://127.0.0.1:{port}")),
        "{stdout}"
    );
    // The person who started it in the foreground sees the dashboard's link with its token.
    assert!(
        stdout.contains(&format!(
            "dashboard: http://127.0.0.1:{port}/?token={token}"
        )),
        "{stdout}"
    );
    assert!(stdout.contains("gaffer is down"), "{stdout}");
    assert!(
        !project.daemon_file().exists(),
        "daemon.json was left behind"
    );
}

#[test]
fn up_on_a_port_in_use_fails_with_6_and_a_hint() {
    let project = Project::new();
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    for detach in [true, false] {
        let mut cmd = project.gaffer();
        cmd.args(["up", "--port", &port]);
        if detach {
            cmd.arg("--detach");
        }
        let out = cmd.output().unwrap();
        let stderr = stderr_of(&out);
        assert_eq!(out.status.code(), Some(6), "detach {detach}: {stderr}");
        assert!(
            stderr.contains(&format!("cannot listen on 127.0.0.1:{port}")),
            "{stderr}"
        );
        assert!(
            stderr.contains("--port"),
            "no hint to choose another port: {stderr}"
        );
        assert!(
            !project.daemon_file().exists(),
            "daemon.json written by a daemon that never ran"
        );
    }
}

/// A daemon whose HTTP API does not answer is stopped with SIGTERM.
#[test]
fn down_falls_back_to_sigterm_when_the_daemon_does_not_answer() {
    let project = Project::new();
    let mut child = ChildGuard(
        std::process::Command::new("sleep")
            .arg("120")
            .spawn()
            .unwrap(),
    );
    // Port 1: privileged, so no other test's daemon (all on ephemeral ports) can be there and
    // be told to shut down; nothing answers on it.
    let closed = 1;
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", closed)).is_err(),
        "something listens on 127.0.0.1:{closed}; this test needs it closed"
    );
    std::fs::create_dir_all(project.state_dir()).unwrap();
    let info = json!({ "pid": child.0.id(), "port": closed, "started_ms": 0 });
    std::fs::write(project.daemon_file(), info.to_string()).unwrap();

    let out = project.gaffer().arg("down").output().unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert!(
        stdout_of(&out).contains("gaffer is down"),
        "{}",
        stdout_of(&out)
    );
    let status = wait_for_exit(&mut child.0, Duration::from_secs(10));
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(status.signal(), Some(15), "{status}");
    assert!(
        !project.daemon_file().exists(),
        "the stopped daemon's daemon.json was left behind"
    );
}

/// `down` in the middle of a run, then `up`: the task carries on and merges once.
#[test]
fn a_task_interrupted_by_down_resumes_after_up() {
    let project = Project::new();
    let daemon = project.start_daemon();
    let id = project.add_task("Some leisurely work", &[]);
    wait_until("the coder run to start", Duration::from_secs(60), || {
        let shown = project.show(id);
        (shown["runs"].as_array().unwrap().len() == 1).then_some(())
    });
    let out = project.gaffer().arg("down").output().unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert!(!pid_alive(daemon.pid));
    drop(daemon);
    assert_eq!(
        project.status_of(id),
        "coding",
        "down changed where the task is"
    );

    let _daemon = project.start_daemon();
    let merged = project.wait_for_status(id, "merged");
    assert_eq!(
        project
            .repo
            .git(&["show", "gaffer/landed/main:leisure.txt"]),
        "slowly"
    );
    let runs: Vec<&str> = merged["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["status"].as_str().unwrap())
        .collect();
    assert_eq!(runs, vec!["cancelled", "succeeded"], "{merged:#}");
    let landed = merged["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "queue.landed")
        .count();
    assert_eq!(landed, 1, "landed {landed} times");
}

/// When `main` is not checked out anywhere, work lands on it directly and the user's checkout
/// of another branch is untouched.
#[test]
fn work_lands_on_main_directly_when_it_is_not_checked_out() {
    let project = Project::new();
    project.repo.git(&["switch", "-q", "-c", "feature"]);
    let feature = project.repo.rev_parse("feature");
    let _daemon = project.start_daemon();
    let status = project.json(&["status", "--json"]);
    assert_eq!(status["status"]["landing"]["branch"], "main", "{status:#}");

    let id = project.add_task("Write the notes", &[]);
    let merged = project.wait_for_status(id, "merged");
    let landed = merged["task"]["state"]["landed"]["commit"]
        .as_str()
        .unwrap();
    assert_eq!(project.repo.rev_parse("main"), landed);
    assert_eq!(
        project.repo.git(&["show", "main:notes.txt"]),
        "landed notes"
    );
    assert!(
        project
            .repo
            .git(&["branch", "--list", "gaffer/landed/*"])
            .is_empty()
    );
    assert_eq!(project.repo.rev_parse("HEAD"), feature);
    assert_eq!(
        project.repo.git(&["symbolic-ref", "--short", "HEAD"]),
        "feature"
    );
    assert!(!project.path().join("notes.txt").exists());
    assert_eq!(project.repo.git(&["status", "--porcelain"]), "");

    let out = project.gaffer().arg("pull").output().unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert!(
        stdout_of(&out).contains("nothing to pull"),
        "{}",
        stdout_of(&out)
    );
}
