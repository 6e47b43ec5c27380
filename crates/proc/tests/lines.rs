//! `spawn_lines`: streamed stdout, stderr tail, limits and cleanup.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use common::{eventually_async, running_in_group, tmp};
use gaffer_proc::{
    CommandSpec, DEFAULT_MAX_LINE_BYTES, LineProcess, Termination, is_alive, spawn_lines,
};
use tokio_util::sync::CancellationToken;

async fn collect(process: &mut LineProcess) -> Vec<String> {
    let mut lines = Vec::new();
    while let Some(line) = process.lines.recv().await {
        lines.push(line);
    }
    lines
}

#[tokio::test]
async fn streams_lines_in_order_and_keeps_stderr_tail() {
    let dir = tmp();
    let script = "for i in 1 2 3 4 5; do echo \"out $i\"; done; echo oops >&2; printf last; exit 4";
    let mut process = spawn_lines(
        &CommandSpec::shell(script, dir.path()),
        CancellationToken::new(),
    )
    .unwrap();
    assert_eq!(process.identity.pid, process.identity.pgid);
    let lines = collect(&mut process).await;
    assert_eq!(lines, ["out 1", "out 2", "out 3", "out 4", "out 5", "last"]);
    let id = process.identity.clone();
    let outcome = process.wait().await.unwrap();
    assert_eq!(outcome.termination, Termination::Exited(4));
    assert_eq!(outcome.tail, "oops\n");
    assert_eq!(outcome.total_bytes, 5);
    assert!(!is_alive(&id));
}

#[tokio::test]
async fn many_lines_arrive_complete_and_in_order() {
    let dir = tmp();
    let script = "i=0; while [ $i -lt 3000 ]; do echo $i; i=$((i+1)); done";
    let mut process = spawn_lines(
        &CommandSpec::shell(script, dir.path()),
        CancellationToken::new(),
    )
    .unwrap();
    // Read slowly at first to exercise backpressure.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let lines = collect(&mut process).await;
    let expected: Vec<String> = (0..3000).map(|i| i.to_string()).collect();
    assert_eq!(lines, expected);
    assert!(process.wait().await.unwrap().success());
}

#[tokio::test]
async fn huge_line_is_truncated_not_fatal() {
    let dir = tmp();
    let script = "head -c 10485760 /dev/zero | tr '\\000' x; echo; echo after";
    let mut process = spawn_lines(
        &CommandSpec::shell(script, dir.path()),
        CancellationToken::new(),
    )
    .unwrap();
    let lines = collect(&mut process).await;
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0].len(), DEFAULT_MAX_LINE_BYTES);
    assert!(lines[0].bytes().all(|b| b == b'x'));
    assert_eq!(lines[1], "after");
    assert!(process.wait().await.unwrap().success());
}

#[tokio::test]
async fn custom_line_cap() {
    let dir = tmp();
    let spec = CommandSpec::shell("echo abcdefghij; echo ok", dir.path()).max_line_bytes(4);
    let mut process = spawn_lines(&spec, CancellationToken::new()).unwrap();
    assert_eq!(collect(&mut process).await, ["abcd", "ok"]);
    process.wait().await.unwrap();
}

#[tokio::test]
async fn invalid_utf8_is_replaced() {
    let dir = tmp();
    let script = "printf 'ok \\377\\376 bad\\n'; printf '\\377\\377\\377' >&2";
    let mut process = spawn_lines(
        &CommandSpec::shell(script, dir.path()),
        CancellationToken::new(),
    )
    .unwrap();
    let lines = collect(&mut process).await;
    assert_eq!(lines, ["ok \u{fffd}\u{fffd} bad"]);
    let outcome = process.wait().await.unwrap();
    assert!(outcome.success());
    assert_eq!(outcome.tail, "\u{fffd}\u{fffd}\u{fffd}");
}

#[tokio::test]
async fn timeout_kills_the_group_and_ends_the_stream() {
    let dir = tmp();
    let spec = CommandSpec::shell("echo hi; sleep 100 & sleep 100; wait", dir.path())
        .timeout(Duration::from_millis(300));
    let begin = Instant::now();
    let mut process = spawn_lines(&spec, CancellationToken::new()).unwrap();
    let pgid = process.identity.pgid;
    assert_eq!(collect(&mut process).await, ["hi"]);
    let outcome = process.wait().await.unwrap();
    assert_eq!(outcome.termination, Termination::TimedOut);
    assert!(begin.elapsed() < Duration::from_secs(5));
    assert_eq!(running_in_group(pgid), Vec::<i32>::new());
}

#[tokio::test]
async fn cancel_kills_the_group() {
    let dir = tmp();
    let cancel = CancellationToken::new();
    let spec = CommandSpec::shell("sleep 100 & sleep 100; wait", dir.path());
    let process = spawn_lines(&spec, cancel.clone()).unwrap();
    let pgid = process.identity.pgid;
    tokio::time::sleep(Duration::from_millis(200)).await;
    cancel.cancel();
    let outcome = process.wait().await.unwrap();
    assert_eq!(outcome.termination, Termination::Cancelled);
    assert_eq!(running_in_group(pgid), Vec::<i32>::new());
}

#[tokio::test]
async fn wait_without_reading_lines_does_not_block() {
    let dir = tmp();
    // Far more output than the pipe and channel can hold.
    let script = "i=0; while [ $i -lt 20000 ]; do echo line $i; i=$((i+1)); done";
    let process = spawn_lines(
        &CommandSpec::shell(script, dir.path()),
        CancellationToken::new(),
    )
    .unwrap();
    let outcome = tokio::time::timeout(Duration::from_secs(20), process.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(outcome.success());
}

#[tokio::test]
async fn dropping_the_process_kills_the_group() {
    let dir = tmp();
    let spec = CommandSpec::shell("sleep 100 & sleep 100; wait", dir.path());
    let process = spawn_lines(&spec, CancellationToken::new()).unwrap();
    let pgid = process.identity.pgid;
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(!running_in_group(pgid).is_empty());
    drop(process);
    let gone = eventually_async(Duration::from_secs(5), || running_in_group(pgid).is_empty());
    assert!(gone.await);
}

#[test]
fn outside_a_runtime_is_an_error() {
    let spec = CommandSpec::shell("true", ".");
    let err = spawn_lines(&spec, CancellationToken::new()).unwrap_err();
    assert!(matches!(err, gaffer_proc::ProcError::NoRuntime), "{err:?}");
}
