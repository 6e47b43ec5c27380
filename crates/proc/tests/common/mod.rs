//! Helpers shared by the integration tests. They inspect `/proc` directly,
//! independently of the crate under test.

#![allow(dead_code)]

use std::time::{Duration, Instant};

/// `(pid, state, pgrp)` of every process, from `/proc/*/stat`.
fn processes() -> Vec<(i32, char, i32)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        let after = &stat[stat.rfind(')').unwrap() + 1..];
        let fields: Vec<&str> = after.split_whitespace().collect();
        out.push((
            pid,
            fields[0].chars().next().unwrap(),
            fields[2].parse().unwrap(),
        ));
    }
    out
}

/// Pids of running (non-zombie) processes in process group `pgid`.
pub fn running_in_group(pgid: i32) -> Vec<i32> {
    processes()
        .into_iter()
        .filter(|&(_, state, pgrp)| pgrp == pgid && state != 'Z' && state != 'X')
        .map(|(pid, _, _)| pid)
        .collect()
}

/// True if `pid` exists and is not a zombie.
pub fn pid_running(pid: i32) -> bool {
    processes()
        .into_iter()
        .any(|(p, state, _)| p == pid && state != 'Z' && state != 'X')
}

/// Polls `cond` every 20 ms for up to `limit`; returns whether it held.
pub fn eventually(limit: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + limit;
    loop {
        if cond() {
            return true;
        }
        if Instant::now() >= end {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Like [`eventually`] but yields to the Tokio runtime while polling, so
/// tasks on a current-thread runtime keep running.
pub async fn eventually_async(limit: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + limit;
    loop {
        if cond() {
            return true;
        }
        if Instant::now() >= end {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

pub fn tmp() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}
