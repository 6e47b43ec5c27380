//! Children die with gaffer: `PR_SET_PDEATHSIG(SIGKILL)`.
//!
//! The test re-runs this test binary as a helper process (selected by an
//! environment variable) that starts a child with `run`; the helper is then
//! SIGKILLed, like a daemon killed with `kill -9`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use common::{eventually, eventually_async, running_in_group};
use gaffer_proc::{CommandSpec, ProcessIdentity, is_alive, kill_group, run, spawn_lines};
use tokio_util::sync::CancellationToken;

const HELPER_ENV: &str = "GAFFER_PROC_PDEATHSIG_HELPER";

/// Not a real test: the body of the helper process, a no-op unless
/// [`HELPER_ENV`] is set. It runs `sh -c 'sleep 100 & exec sleep 100'`:
/// the leader (the exec'd sleep) keeps the parent-death signal, while the
/// background sleep, forked by the shell, does not.
#[test]
fn pdeathsig_helper_process() {
    if std::env::var_os(HELPER_ENV).is_none() {
        return;
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let spec = CommandSpec::shell("sleep 100 >/dev/null 2>&1 & exec sleep 100", "/");
        let _ = run(&spec, &CancellationToken::new(), |id| {
            println!("IDENTITY {} {} {}", id.pid, id.pgid, id.start_time);
        })
        .await;
    });
}

#[test]
fn leader_dies_when_gaffer_is_killed_and_kill_group_cleans_up() {
    let mut helper = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "pdeathsig_helper_process",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(HELPER_ENV, "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut id = None;
    for line in BufReader::new(helper.stdout.take().unwrap()).lines() {
        let line = line.unwrap();
        // libtest prints "test name ... " before the helper's own output.
        if let Some((_, rest)) = line.split_once("IDENTITY ") {
            let f: Vec<&str> = rest.split_whitespace().collect();
            id = Some(ProcessIdentity {
                pid: f[0].parse().unwrap(),
                pgid: f[1].parse().unwrap(),
                start_time: f[2].parse().unwrap(),
                token: None,
            });
            break;
        }
    }
    let id = id.expect("helper printed no identity");
    assert!(is_alive(&id));
    // Wait for the shell to fork the background sleep and exec.
    assert!(eventually(Duration::from_secs(5), || running_in_group(
        id.pgid
    )
    .len()
        == 2));

    helper.kill().unwrap(); // SIGKILL
    helper.wait().unwrap();

    assert!(
        eventually(Duration::from_secs(5), || !is_alive(&id)),
        "leader survived the death of its parent"
    );
    // What a restarted daemon does with the persisted identity.
    assert_eq!(running_in_group(id.pgid).len(), 1);
    assert_eq!(kill_group(&id), 1);
    assert!(eventually(Duration::from_secs(5), || running_in_group(
        id.pgid
    )
    .is_empty()));
}

/// The parent-death signal is tied to the forking *thread*: a child started
/// from a thread that then exits must keep running.
#[test]
fn child_survives_exit_of_the_calling_thread() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let handle = rt.handle().clone();
    let process = std::thread::spawn(move || {
        let _entered = handle.enter();
        let spec = CommandSpec::new("sleep", "/").arg("100");
        spawn_lines(&spec, CancellationToken::new()).unwrap()
    })
    .join()
    .unwrap();
    let id = process.identity.clone();
    std::thread::sleep(Duration::from_millis(300));
    assert!(is_alive(&id), "child died with the thread that started it");
    rt.block_on(async {
        drop(process);
        assert!(eventually_async(Duration::from_secs(5), || !is_alive(&id)).await);
    });
}
