//! `run`: exit status, output tail, timeout, cancel, environment, identity.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{running_in_group, tmp};
use gaffer_proc::{
    CommandSpec, ProcError, ProcessIdentity, SUPERVISOR_VAR, Termination, is_alive, run,
    start_time_of,
};
use tokio_util::sync::CancellationToken;

async fn run_shell(spec: CommandSpec) -> (gaffer_proc::ProcessOutcome, ProcessIdentity) {
    let seen = Arc::new(Mutex::new(None));
    let seen2 = seen.clone();
    let outcome = run(&spec, &CancellationToken::new(), move |id| {
        *seen2.lock().unwrap() = Some(id.clone());
    })
    .await
    .unwrap();
    let id = seen.lock().unwrap().clone().unwrap();
    (outcome, id)
}

#[tokio::test]
async fn captures_exit_code_and_interleaved_output() {
    let dir = tmp();
    let spec = CommandSpec::shell("echo a; echo b >&2; echo c; exit 3", dir.path());
    let (outcome, _) = run_shell(spec).await;
    assert_eq!(outcome.termination, Termination::Exited(3));
    assert_eq!(outcome.exit_code(), Some(3));
    assert!(!outcome.success());
    assert_eq!(outcome.tail, "a\nb\nc\n");
    assert_eq!(outcome.total_bytes, 6);
}

#[tokio::test]
async fn success_runs_in_cwd() {
    let dir = tmp();
    std::fs::write(dir.path().join("marker"), "here").unwrap();
    let (outcome, _) = run_shell(CommandSpec::shell("cat marker", dir.path())).await;
    assert!(outcome.success());
    assert_eq!(outcome.tail, "here");
}

#[tokio::test]
async fn tail_is_limited_and_starts_on_a_line() {
    let dir = tmp();
    let script = "i=0; while [ $i -lt 1000 ]; do printf 'line-%04d\\n' $i; i=$((i+1)); done";
    let (outcome, _) = run_shell(CommandSpec::shell(script, dir.path()).tail_bytes(105)).await;
    assert!(outcome.success());
    assert_eq!(outcome.total_bytes, 10_000);
    assert!(outcome.tail.len() <= 105);
    let expected: String = (990..1000).map(|i| format!("line-{i:04}\n")).collect();
    assert_eq!(outcome.tail, expected);
}

#[tokio::test]
async fn reports_signal_death() {
    let dir = tmp();
    let (outcome, _) = run_shell(CommandSpec::shell("kill -9 $$", dir.path())).await;
    assert_eq!(outcome.termination, Termination::Signaled(9));
    assert_eq!(outcome.exit_code(), None);
}

/// Through the guard that leads the group: the program's own status, and no word of the guard's.
#[tokio::test]
async fn reports_exit_codes_and_signals_through_the_guard() {
    let dir = tmp();
    let cases = [
        ("echo out; exit 0", Termination::Exited(0)),
        ("echo out; exit 3", Termination::Exited(3)),
        ("echo out; kill -KILL $$", Termination::Signaled(9)),
        ("echo out; kill -TERM $$", Termination::Signaled(15)),
        // The documented ambiguity: an exit status of 128 + n reads as death by signal n.
        ("echo out; exit 130", Termination::Signaled(2)),
    ];
    for (script, expected) in cases {
        let (outcome, _) = run_shell(CommandSpec::shell(script, dir.path())).await;
        assert_eq!(outcome.termination, expected, "{script}");
        assert_eq!(outcome.tail, "out\n", "{script}");
    }
}

/// The recorded identity is the guard's: it leads the group, and the program runs under it.
#[tokio::test]
async fn the_identity_is_the_guard_leading_the_group() {
    let dir = tmp();
    let spec = CommandSpec::shell("echo $PPID; cat /proc/$PPID/cmdline", dir.path());
    let (outcome, id) = run_shell(spec).await;
    assert!(outcome.success());
    let (parent, cmdline) = outcome.tail.split_once('\n').unwrap();
    assert_eq!(parent.parse::<i32>().unwrap(), id.pid);
    let args: Vec<&str> = cmdline.split('\0').collect();
    assert_eq!(args[0], "/bin/sh");
    assert!(args.contains(&"gaffer-guard"), "{args:?}");
    assert_eq!(id.pid, id.pgid);
}

#[tokio::test]
async fn on_start_gets_a_live_identity_that_dies_after_reaping() {
    let dir = tmp();
    let checked = Arc::new(Mutex::new(None));
    let checked2 = checked.clone();
    let spec = CommandSpec::shell("sleep 0.2", dir.path());
    let outcome = run(&spec, &CancellationToken::new(), move |id| {
        let live = is_alive(id);
        let same_start = start_time_of(id.pid) == Some(id.start_time);
        *checked2.lock().unwrap() = Some((id.clone(), live, same_start));
    })
    .await
    .unwrap();
    assert!(outcome.success());
    let (id, live, same_start) = checked.lock().unwrap().clone().unwrap();
    assert!(live, "identity not alive in on_start");
    assert!(same_start);
    assert_eq!(id.pid, id.pgid, "child must lead its own group");
    assert_ne!(id.pgid, nix::unistd::getpgrp().as_raw());
    assert!(!is_alive(&id), "still alive after run returned");
}

#[tokio::test]
async fn timeout_kills_the_whole_group() {
    let dir = tmp();
    let spec = CommandSpec::shell("echo started; sleep 100 & sleep 100; wait", dir.path())
        .timeout(Duration::from_millis(500));
    let begin = Instant::now();
    let (outcome, id) = run_shell(spec).await;
    assert_eq!(outcome.termination, Termination::TimedOut);
    assert!(!outcome.success());
    assert_eq!(outcome.tail, "started\n");
    assert!(
        begin.elapsed() < Duration::from_secs(5),
        "took {:?}",
        begin.elapsed()
    );
    assert!(outcome.duration >= Duration::from_millis(500));
    assert_eq!(running_in_group(id.pgid), Vec::<i32>::new());
    assert!(!is_alive(&id));
}

#[tokio::test]
async fn sigkill_follows_ignored_sigterm_after_grace() {
    let dir = tmp();
    // SIG_IGN survives exec, so both the shell and sleeps ignore SIGTERM.
    let spec = CommandSpec::shell("trap '' TERM; sleep 100 & sleep 100; wait", dir.path())
        .timeout(Duration::from_millis(200))
        .kill_grace(Duration::from_millis(300));
    let begin = Instant::now();
    let (outcome, id) = run_shell(spec).await;
    assert_eq!(outcome.termination, Termination::TimedOut);
    let took = begin.elapsed();
    assert!(
        took >= Duration::from_millis(500),
        "SIGKILL came too early: {took:?}"
    );
    assert!(took < Duration::from_secs(5), "took {took:?}");
    assert_eq!(running_in_group(id.pgid), Vec::<i32>::new());
}

#[tokio::test]
async fn cancel_kills_the_whole_group() {
    let dir = tmp();
    let spec = CommandSpec::shell("sleep 100 & sleep 100; wait", dir.path());
    let cancel = CancellationToken::new();
    let trigger = cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        trigger.cancel();
    });
    let seen = Arc::new(Mutex::new(None));
    let seen2 = seen.clone();
    let begin = Instant::now();
    let outcome = run(&spec, &cancel, move |id| {
        *seen2.lock().unwrap() = Some(id.clone())
    })
    .await
    .unwrap();
    assert_eq!(outcome.termination, Termination::Cancelled);
    assert!(begin.elapsed() < Duration::from_secs(5));
    let id = seen.lock().unwrap().clone().unwrap();
    assert_eq!(running_in_group(id.pgid), Vec::<i32>::new());
}

#[tokio::test]
async fn already_cancelled_token_still_reports_cancelled() {
    let dir = tmp();
    let cancel = CancellationToken::new();
    cancel.cancel();
    let spec = CommandSpec::shell("sleep 100", dir.path());
    let outcome = run(&spec, &cancel, |_| {}).await.unwrap();
    assert_eq!(outcome.termination, Termination::Cancelled);
}

#[tokio::test]
async fn leftover_members_are_killed_when_the_leader_exits() {
    let dir = tmp();
    // The leader exits at once, leaving a background sleep in its group.
    let spec = CommandSpec::shell("sleep 100 >/dev/null 2>&1 & echo done", dir.path())
        .kill_grace(Duration::from_millis(500));
    let begin = Instant::now();
    let (outcome, id) = run_shell(spec).await;
    assert!(outcome.success());
    assert_eq!(outcome.tail, "done\n");
    assert!(begin.elapsed() < Duration::from_secs(3));
    assert_eq!(running_in_group(id.pgid), Vec::<i32>::new());
}

#[tokio::test]
async fn env_is_set_and_can_be_cleared() {
    let dir = tmp();
    // PATH is always inherited by the test process, so it shows whether the
    // environment was cleared.
    let script = r#"printf '%s|%s' "${GAFFER_TEST_VAR:-unset}" "${PATH:-unset}""#;
    let (inherited, _) =
        run_shell(CommandSpec::shell(script, dir.path()).env("GAFFER_TEST_VAR", "x")).await;
    assert!(inherited.tail.starts_with("x|"));
    assert_ne!(inherited.tail, "x|unset");

    let cleared_spec = CommandSpec::shell(script, dir.path())
        .env_clear(true)
        .env("GAFFER_TEST_VAR", "y");
    let (cleared, _) = run_shell(cleared_spec).await;
    // dash/bash give PATH a default value when it is unset; it must not be
    // the inherited one.
    let inherited_path = std::env::var("PATH").unwrap();
    let (var, path) = cleared.tail.split_once('|').unwrap();
    assert_eq!(var, "y");
    assert_ne!(path, inherited_path);

    let (env_listing, _) = run_shell(
        CommandSpec::new("/usr/bin/env", dir.path())
            .env_clear(true)
            .env("ONLY", "1"),
    )
    .await;
    // Only what was given, plus the marks of gaffer's processes and what the guard shell
    // exports (PWD, the working directory; SHLVL and _ if /bin/sh is bash).
    let listed: Vec<&str> = env_listing
        .tail
        .lines()
        .filter(|l| !l.starts_with("SHLVL=") && !l.starts_with("_="))
        .collect();
    let (marks, rest): (Vec<&str>, Vec<&str>) =
        listed.iter().partition(|l| l.starts_with("GAFFER_"));
    let mut marks = marks;
    marks.sort();
    assert_eq!(marks.len(), 2, "{listed:?}");
    assert!(marks[0].starts_with("GAFFER_PROCESS_TOKEN="), "{listed:?}");
    let supervisor = format!("{SUPERVISOR_VAR}={}:", std::process::id());
    assert!(marks[1].starts_with(&supervisor), "{listed:?}");
    let pwd = format!("PWD={}", dir.path().canonicalize().unwrap().display());
    let mut rest = rest;
    rest.sort();
    assert_eq!(rest, ["ONLY=1", pwd.as_str()], "{listed:?}");

    // With a cleared environment a bare program name is still found
    // through gaffer's own PATH.
    let (bare, _) = run_shell(
        CommandSpec::new("env", dir.path())
            .env_clear(true)
            .env("ONLY", "2"),
    )
    .await;
    assert!(bare.tail.lines().any(|l| l == "ONLY=2"), "{}", bare.tail);
    assert!(
        !bare.tail.lines().any(|l| l.starts_with("PATH=")),
        "{}",
        bare.tail
    );
}

/// A descendant that leaves the process group (a new session, as agent CLIs do for their tools)
/// still carries the token, and is killed once the command ends.
#[tokio::test]
async fn processes_that_leave_the_group_are_killed_too() {
    let dir = tmp();
    let pidfile = dir.path().join("escaped.pid");
    let script = format!(
        "setsid sh -c 'echo $$ > {}; exec sleep 300' & sleep 0.3; exit 0",
        pidfile.display()
    );
    let (outcome, _) = run_shell(CommandSpec::shell(&script, dir.path())).await;
    assert!(outcome.success());
    let pid: i32 = std::fs::read_to_string(&pidfile)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let gone = stat.is_empty()
        || stat
            .rsplit_once(')')
            .is_some_and(|(_, r)| r.trim_start().starts_with(['Z', 'X']));
    assert!(gone, "the escaped process {pid} survived: {stat}");
}

#[tokio::test]
async fn stdin_is_null() {
    let dir = tmp();
    let (outcome, _) = run_shell(CommandSpec::shell("cat; echo end", dir.path())).await;
    assert_eq!(outcome.tail, "end\n");
}

#[tokio::test]
async fn missing_program_is_a_spawn_error() {
    let dir = tmp();
    let spec = CommandSpec::new("/nonexistent/gaffer-no-such-program", dir.path());
    let err = run(&spec, &CancellationToken::new(), |_| {
        panic!("must not start")
    })
    .await
    .unwrap_err();
    match err {
        ProcError::Spawn { program, source } => {
            assert_eq!(program, "/nonexistent/gaffer-no-such-program");
            assert_eq!(source.kind(), std::io::ErrorKind::NotFound);
        }
        other => panic!("unexpected error {other:?}"),
    }
}

#[tokio::test]
async fn dropping_the_future_kills_the_group() {
    let dir = tmp();
    let spec = CommandSpec::shell("sleep 100 & sleep 100; wait", dir.path());
    let seen = Arc::new(Mutex::new(None));
    let seen2 = seen.clone();
    let cancel = CancellationToken::new();
    let fut = run(&spec, &cancel, move |id| {
        *seen2.lock().unwrap() = Some(id.clone())
    });
    let result = tokio::time::timeout(Duration::from_millis(300), fut).await;
    assert!(result.is_err(), "should still be running");
    let id = seen.lock().unwrap().clone().unwrap();
    // The guard kills synchronously on drop; no runtime help needed.
    assert!(common::eventually(Duration::from_secs(5), || {
        running_in_group(id.pgid).is_empty()
    }));
}
