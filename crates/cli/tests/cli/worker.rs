//! `gaffer worker` with the real binary, on one machine: a worker with its own clone and token
//! takes the job only it can take, through the daemon's HTTP API, and the task lands; revoking
//! its token stops it at once; a worker's mistakes are refused with a hint.

use crate::common::{Project, stderr_of, stdout_of, wait_until};
use crate::store::with_remote;
use gaffer_test_support::postgres;
use std::process::{Child, Stdio};
use std::time::Duration;

/// `gaffer worker --server …` in `dir`, with `token` in its environment.
fn start_worker(project: &Project, port: u16, token: &str, dir: &std::path::Path) -> Child {
    let log = std::fs::File::create(dir.with_extension("log")).unwrap();
    project
        .std_gaffer()
        .env("GAFFER_WORKER_TOKEN", token)
        .args([
            "worker",
            "--server",
            &format!("http://127.0.0.1:{port}"),
            "--dir",
        ])
        .arg(dir)
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .unwrap()
}

fn log_of(dir: &std::path::Path) -> String {
    std::fs::read_to_string(dir.with_extension("log")).unwrap_or_default()
}

/// Stops a worker that is still running when the test ends.
struct Worker(Child);

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn a_worker_takes_the_job_only_it_can_take_and_stops_when_its_token_is_revoked() {
    let Some(server) = postgres::server() else {
        return;
    };
    let mut project = Project::new();
    let _remote = with_remote(&project);
    project
        .env
        .push(("GAFFER_STORE__URL".into(), server.fresh_database()));
    let daemon = project.start_daemon();
    let made = project.json(&["worker", "token", "create", "--label", "gpu", "--json"]);
    let secret = made["secret"].as_str().unwrap().to_string();
    let id = made["token"]["id"].as_i64().unwrap();
    // Only a machine with a GPU may code it: the daemon has none.
    let notes = project.add_task("notes", &["--needs", "gpu"]);

    let place = tempfile::tempdir().unwrap();
    let dir = place.path().join("worker");
    // A label the token does not grant: refused before anything is cloned.
    let out = project
        .gaffer()
        .env("GAFFER_WORKER_TOKEN", &secret)
        .args([
            "worker",
            "--server",
            &format!("http://127.0.0.1:{}", daemon.port),
        ])
        .args(["--label", "big", "--dir"])
        .arg(&dir)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr_of(&out));
    assert!(
        stderr_of(&out).contains("does not grant"),
        "{}",
        stderr_of(&out)
    );
    assert!(!dir.exists());
    let mut worker = Worker(start_worker(&project, daemon.port, &secret, &dir));
    project.wait_for_status(notes, "merged");
    let runs = project.show(notes)["runs"].as_array().unwrap().clone();
    assert!(!runs.is_empty());
    for run in &runs {
        let worktree = run["worktree"].as_str().unwrap();
        assert!(
            worktree.starts_with(dir.to_str().unwrap()),
            "run in {worktree}, not in the worker's clone"
        );
    }
    let workers = project.json(&["workers", "--json"]);
    assert!(
        workers.as_array().unwrap().iter().any(|w| w["name"]
            .as_str()
            .unwrap()
            .starts_with("worker:")
            && w["labels"] == serde_json::json!(["gpu"])),
        "{workers}"
    );

    // Revoked: refused from its next call, and it stops.
    let out = project
        .gaffer()
        .args(["worker", "token", "revoke", &id.to_string()])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let status = wait_until("the worker to stop", Duration::from_secs(30), || {
        worker.0.try_wait().unwrap()
    });
    assert_eq!(status.code(), Some(6), "{}", log_of(&dir));
    assert!(log_of(&dir).contains("revoked"), "{}", log_of(&dir));
    drop(daemon);
}

#[test]
fn a_worker_is_refused_with_a_hint_without_a_token_a_granted_label_or_a_shared_board() {
    let project = Project::new();
    let daemon = project.start_daemon();
    let place = tempfile::tempdir().unwrap();
    let dir = place.path().join("w");
    let server = format!("http://127.0.0.1:{}", daemon.port);

    let out = project
        .gaffer()
        .env_remove("GAFFER_WORKER_TOKEN")
        .args(["worker", "--server", &server])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr_of(&out));
    assert!(
        stderr_of(&out).contains("worker token"),
        "{}",
        stderr_of(&out)
    );

    let out = project.gaffer().args(["worker"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr_of(&out));
    assert!(stderr_of(&out).contains("--server"), "{}", stderr_of(&out));

    let made = project.json(&["worker", "token", "create", "--json"]);
    let secret = made["secret"].as_str().unwrap();
    // The board is the daemon's own SQLite file: no worker can share its work.
    let out = project
        .gaffer()
        .env("GAFFER_WORKER_TOKEN", secret)
        .args(["worker", "--server", &server, "--dir"])
        .arg(&dir)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(6), "{}", stderr_of(&out));
    assert!(
        stderr_of(&out).contains("not shared") && stderr_of(&out).contains("PostgreSQL"),
        "{}",
        stderr_of(&out)
    );
    // A token that does not exist.
    let out = project
        .gaffer()
        .env("GAFFER_WORKER_TOKEN", format!("gfw_{}", "0".repeat(64)))
        .args(["worker", "--server", &server, "--dir"])
        .arg(&dir)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(6), "{}", stderr_of(&out));
    assert!(stderr_of(&out).contains("token"), "{}", stderr_of(&out));
    let _ = stdout_of(&out);
}
