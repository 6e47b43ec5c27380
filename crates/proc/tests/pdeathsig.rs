//! Children die with gaffer, process group and all.
//!
//! The tests re-run this test binary as a helper process (selected by an
//! environment variable) that starts children with gaffer-proc; the helper
//! is then SIGKILLed, like a daemon killed with `kill -9`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{
    KillMarked, carrying_env, eventually, eventually_async, pgid_of, private_net_usable,
    running_in_group, unique,
};
use gaffer_proc::{CommandSpec, PrivateNet, is_alive, run, spawn_lines};
use tokio_util::sync::CancellationToken;

const HELPER_ENV: &str = "GAFFER_PROC_PDEATHSIG_HELPER";
/// The helper puts this variable, with the value the test chose, in every spec.
const MARK: &str = "GAFFER_PROC_TEST_MARK";
const MARK_VALUE_ENV: &str = "GAFFER_PROC_TEST_MARK_VALUE";
/// Set when the helper should also start a child in a private network.
const PRIVATE_ENV: &str = "GAFFER_PROC_TEST_PRIVATE";

/// Not a real test: the body of the helper process, a no-op unless
/// [`HELPER_ENV`] is set. It starts, marked, a shell that does not exec its
/// last command (`sleep 300; true`) with `run`, and a program directly with
/// `spawn_lines`, once with the host's network and once in a private one (which the child
/// enters before setting its parent-death signal), says so, and waits forever.
#[test]
fn pdeathsig_helper_process() {
    if std::env::var_os(HELPER_ENV).is_none() {
        return;
    }
    let mark = std::env::var(MARK_VALUE_ENV).unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let direct = CommandSpec::new("sleep", "/").arg("300").env(MARK, &mark);
        let _lines = spawn_lines(&direct, CancellationToken::new()).unwrap();
        let private = direct.clone().private_net(PrivateNet::ports([80]));
        let _private = std::env::var_os(PRIVATE_ENV)
            .map(|_| spawn_lines(&private, CancellationToken::new()).unwrap());
        let shell = CommandSpec::shell("sleep 300; true", "/").env(MARK, &mark);
        let _ = run(&shell, &CancellationToken::new(), |_| println!("STARTED")).await;
    });
}

/// Starts the helper, under `nohup` (so it ignores SIGHUP, as a daemon
/// started that way does), and waits until it has started its children.
fn start_helper(mark: &str, private: bool) -> std::process::Child {
    let mut helper = Command::new("nohup");
    if private {
        helper.env(PRIVATE_ENV, "1");
    }
    let mut helper = helper
        .arg(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "pdeathsig_helper_process",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(HELPER_ENV, "1")
        .env(MARK_VALUE_ENV, mark)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = helper.stdout.take().unwrap();
    let started = BufReader::new(stdout)
        .lines()
        .map_while(Result::ok)
        .any(|line| line.contains("STARTED"));
    assert!(started, "the helper started nothing");
    helper
}

#[test]
fn the_whole_group_dies_with_gaffer_even_under_a_shell_that_does_not_exec() {
    let mark = unique("group");
    let _cleanup = KillMarked {
        name: MARK,
        value: mark.clone(),
    };
    let private = private_net_usable();
    let mut helper = start_helper(&mark, private);
    // Two or three guards, the shell with its sleep, and the sleeps started directly.
    let (expected_processes, expected_groups) = if private { (7, 3) } else { (5, 2) };
    assert!(
        eventually(Duration::from_secs(5), || carrying_env(MARK, &mark).len()
            == expected_processes),
        "{:?}",
        carrying_env(MARK, &mark)
    );
    let mut groups: Vec<i32> = carrying_env(MARK, &mark)
        .into_iter()
        .filter_map(pgid_of)
        .collect();
    groups.sort();
    groups.dedup();
    assert_eq!(groups.len(), expected_groups, "process groups: {groups:?}");

    helper.kill().unwrap(); // SIGKILL
    helper.wait().unwrap();
    let killed = Instant::now();

    let all_gone = eventually(Duration::from_secs(1), || {
        carrying_env(MARK, &mark).is_empty()
            && groups.iter().all(|&g| running_in_group(g).is_empty())
    });
    println!("groups gone {:?} after gaffer died", killed.elapsed());
    assert!(
        all_gone,
        "left running after gaffer died: {:?}",
        carrying_env(MARK, &mark)
    );
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
