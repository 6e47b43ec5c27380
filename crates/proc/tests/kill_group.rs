//! `kill_group`: cleaning up a group whose supervisor is gone.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::{eventually, pid_running, running_in_group};
use gaffer_proc::{ProcessIdentity, is_alive, kill_group, start_time_of};

/// Starts `sh -c script` as a new group with plain std (as a previous
/// daemon would have), returning the child and its identity.
fn start_group(script: &str) -> (std::process::Child, ProcessIdentity) {
    let child = Command::new("/bin/sh")
        .args(["-c", script])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .process_group(0)
        .spawn()
        .unwrap();
    let pid = child.id() as i32;
    let start_time = start_time_of(pid).unwrap();
    (
        child,
        ProcessIdentity {
            pid,
            pgid: pid,
            start_time,
            token: None,
        },
    )
}

fn first_line(child: &mut std::process::Child) -> String {
    let mut line = String::new();
    BufReader::new(child.stdout.as_mut().unwrap())
        .read_line(&mut line)
        .unwrap();
    line.trim().to_owned()
}

#[test]
fn kills_children_left_behind_by_a_dead_leader() {
    let (mut leader, id) = start_group("sleep 100 >/dev/null 2>&1 & echo $!");
    let orphan: i32 = first_line(&mut leader).parse().unwrap();
    assert!(leader.wait().unwrap().success());
    // The leader is gone (reaped) but its child still holds the group.
    assert!(!is_alive(&id));
    assert_eq!(start_time_of(id.pid), None);
    assert!(pid_running(orphan));
    assert_eq!(running_in_group(id.pgid), vec![orphan]);

    assert_eq!(kill_group(&id), 1);
    assert!(eventually(Duration::from_secs(5), || !pid_running(orphan)));
    assert_eq!(running_in_group(id.pgid), Vec::<i32>::new());
    // Nothing left to kill.
    assert_eq!(kill_group(&id), 0);
}

#[test]
fn kills_a_live_leader_and_its_group() {
    let (mut leader, id) = start_group("sleep 100 & sleep 100 & echo ready; wait");
    assert_eq!(first_line(&mut leader), "ready");
    assert!(is_alive(&id));
    assert_eq!(running_in_group(id.pgid).len(), 3);

    assert_eq!(kill_group(&id), 3);
    leader.wait().unwrap();
    assert!(eventually(Duration::from_secs(5), || running_in_group(
        id.pgid
    )
    .is_empty()));
    assert!(!is_alive(&id));
}

#[test]
fn does_not_kill_when_start_time_does_not_match() {
    let (mut leader, real) = start_group("sleep 100 & echo ready; wait");
    assert_eq!(first_line(&mut leader), "ready");
    // An identity from "later" (think: a recycled pid): neither the leader
    // nor its children started at or after that time.
    let stale = ProcessIdentity {
        start_time: real.start_time + 100_000,
        ..real.clone()
    };
    assert!(!is_alive(&stale));
    assert_eq!(kill_group(&stale), 0);
    assert_eq!(running_in_group(real.pgid).len(), 2);

    assert_eq!(kill_group(&real), 2);
    leader.wait().unwrap();
    assert!(eventually(Duration::from_secs(5), || running_in_group(
        real.pgid
    )
    .is_empty()));
}
