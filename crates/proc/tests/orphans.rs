//! `kill_orphans`: what a dead gaffer started is found by its supervisor marker alone, even if
//! gaffer died before recording anything, and even if it left its process group.
//!
//! The test re-runs this test binary as a helper process (a "gaffer") that starts a command
//! whose child escapes the group (`setsid sleep 300`), records nothing, and is SIGKILLed.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::process::{Command, Stdio};
use std::time::Duration;

use common::{KillMarked, carrying_env, comm_of, eventually, pgid_of, unique};
use gaffer_proc::{CommandSpec, SUPERVISOR_VAR, kill_orphans, spawn_lines};
use tokio_util::sync::CancellationToken;

const HELPER_ENV: &str = "GAFFER_PROC_ORPHANS_HELPER";
const MARK: &str = "GAFFER_PROC_TEST_MARK";

/// Not a real test: the body of the helper process, a no-op unless [`HELPER_ENV`] is set (to
/// the mark to put in the spec).
#[test]
fn orphans_helper_process() {
    let Some(mark) = std::env::var_os(HELPER_ENV) else {
        return;
    };
    let mark = mark.into_string().unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let spec = CommandSpec::new("setsid", "/")
            .args(["sleep", "300"])
            .env(MARK, &mark);
        let process = spawn_lines(&spec, CancellationToken::new()).unwrap();
        // Nothing is recorded; the process waits to be killed.
        let _ = process.wait().await;
    });
}

/// The pid of the one `sleep` carrying `mark`, once it has escaped to a session of its own.
fn escaped_sleep(mark: &str) -> Option<i32> {
    let found: Vec<i32> = carrying_env(MARK, mark)
        .into_iter()
        .filter(|&pid| comm_of(pid).as_deref() == Some("sleep"))
        .filter(|&pid| pgid_of(pid) == Some(pid))
        .collect();
    match found[..] {
        [pid] => Some(pid),
        _ => None,
    }
}

#[test]
fn kill_orphans_kills_what_a_dead_gaffer_left_and_spares_what_a_live_one_runs() {
    // A live supervisor's escaped child: this test process's own.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let live_mark = unique("live");
    let dead_mark = unique("dead");
    let _cleanup = [&live_mark, &dead_mark].map(|mark| KillMarked {
        name: MARK,
        value: mark.clone(),
    });
    let live_spec = CommandSpec::new("setsid", "/")
        .args(["sleep", "300"])
        .env(MARK, &live_mark);
    let cancel = CancellationToken::new();
    let live = rt.block_on(async { spawn_lines(&live_spec, cancel.clone()).unwrap() });
    assert!(eventually(Duration::from_secs(5), || escaped_sleep(
        &live_mark
    )
    .is_some()));
    let spared = escaped_sleep(&live_mark).unwrap();

    // A dead supervisor's: the helper's, killed before recording anything.
    let mut helper = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "orphans_helper_process",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(HELPER_ENV, &dead_mark)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    assert!(eventually(Duration::from_secs(5), || escaped_sleep(
        &dead_mark
    )
    .is_some()));
    let orphan = escaped_sleep(&dead_mark).unwrap();
    let marker = std::fs::read(format!("/proc/{orphan}/environ")).unwrap();
    let expected = format!("{SUPERVISOR_VAR}={}:", helper.id());
    assert!(
        marker
            .split(|b| *b == 0)
            .any(|v| v.starts_with(expected.as_bytes())),
        "the orphan names the helper as its supervisor"
    );
    helper.kill().unwrap(); // SIGKILL
    helper.wait().unwrap();

    // The guard took its own group down; the escaped sleep is out of its reach.
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        escaped_sleep(&dead_mark),
        Some(orphan),
        "nothing but kill_orphans should have killed it"
    );

    let killed = kill_orphans();
    assert!(killed >= 1, "{killed}");
    assert!(eventually(Duration::from_secs(5), || carrying_env(
        MARK, &dead_mark
    )
    .is_empty()));
    assert_eq!(
        escaped_sleep(&live_mark),
        Some(spared),
        "a live supervisor's process was killed"
    );

    // Ours: cancelled, the group and whatever carries its token are killed.
    cancel.cancel();
    rt.block_on(async { live.wait().await.unwrap() });
    assert!(carrying_env(MARK, &live_mark).is_empty());
}
