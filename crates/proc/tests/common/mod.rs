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

/// Pids of running (non-zombie) processes, other than this one, whose
/// environment holds `name=value`.
pub fn carrying_env(name: &str, value: &str) -> Vec<i32> {
    let needle = format!("{name}={value}");
    let me = std::process::id() as i32;
    processes()
        .into_iter()
        .filter(|&(pid, state, _)| pid != me && state != 'Z' && state != 'X')
        .filter(|&(pid, _, _)| {
            std::fs::read(format!("/proc/{pid}/environ"))
                .is_ok_and(|env| env.split(|b| *b == 0).any(|v| v == needle.as_bytes()))
        })
        .map(|(pid, _, _)| pid)
        .collect()
}

/// Process group of `pid`, if it exists.
pub fn pgid_of(pid: i32) -> Option<i32> {
    processes()
        .into_iter()
        .find(|&(p, _, _)| p == pid)
        .map(|(_, _, pgrp)| pgrp)
}

/// The command name (`/proc/<pid>/comm`) of `pid`, if it exists.
pub fn comm_of(pid: i32) -> Option<String> {
    std::fs::read_to_string(format!("/proc/{pid}/comm"))
        .ok()
        .map(|s| s.trim().to_owned())
}

/// A value no other test run uses, for marking processes.
pub fn unique(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{prefix}-{}-{nanos}", std::process::id())
}

/// SIGKILLs, when dropped, every process still carrying `MARK=value`
/// (whatever a failing test left behind).
pub struct KillMarked {
    pub name: &'static str,
    pub value: String,
}

impl Drop for KillMarked {
    fn drop(&mut self) {
        for pid in carrying_env(self.name, &self.value) {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
    }
}

/// Whether gaffer-proc can make private networks here (they need user namespaces, which a
/// host may disable or, like Ubuntu's AppArmor, allow only to some programs). When not, says
/// so loudly and returns false, or panics when `CI` is set: there the tests must run. Unlike
/// the helpers above, this asks the crate under test.
pub fn private_net_usable() -> bool {
    let probe = std::thread::spawn(|| {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let spec = gaffer_proc::CommandSpec::new("true", "/")
            .private_net(gaffer_proc::PrivateNet::default());
        let cancel = tokio_util::sync::CancellationToken::new();
        rt.block_on(gaffer_proc::run(&spec, &cancel, |_| {}))
            .map(|_| ())
            .map_err(|err| err.to_string())
    });
    match probe.join().unwrap() {
        Ok(()) => true,
        Err(err) if std::env::var_os("CI").is_some_and(|v| !v.is_empty()) => {
            panic!("CI is set, so the private network tests may not be skipped, but: {err}")
        }
        Err(err) => {
            eprintln!(
                "\n!!!!!!!! SKIPPED: {err}. The private network test did NOT run. !!!!!!!!\n"
            );
            false
        }
    }
}
