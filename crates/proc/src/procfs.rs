//! Minimal reader for `/proc`: `/proc/<pid>/stat` and `/proc/<pid>/environ`.
//!
//! Only the handful of `stat` fields gaffer needs are parsed: state, process
//! group and start time. Everything here is best effort: a process can
//! vanish between listing `/proc` and reading its files, so every read may
//! return `None`.

use std::fs;

/// The fields of `/proc/<pid>/stat` that gaffer uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ProcStat {
    /// Process id (field 1).
    pub pid: i32,
    /// One-letter state (field 3), e.g. `R`, `S`, `Z`.
    pub state: char,
    /// Process group id (field 5).
    pub pgrp: i32,
    /// Start time in clock ticks after boot (field 22).
    pub start_time: u64,
}

impl ProcStat {
    /// Zombies (`Z`) and dead tasks (`X`, `x`) have exited: they cannot be
    /// signalled into doing anything and are only waiting to be reaped.
    pub fn is_exited(&self) -> bool {
        matches!(self.state, 'Z' | 'X' | 'x')
    }
}

/// Reads and parses `/proc/<pid>/stat`; `None` if the process is gone or
/// the file cannot be parsed.
pub(crate) fn read_stat(pid: i32) -> Option<ProcStat> {
    if pid <= 0 {
        return None;
    }
    let text = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    parse_stat(&text)
}

/// Parses the content of a `stat` file.
///
/// The second field (`comm`) is in parentheses and may itself contain
/// spaces and parentheses, so parsing resumes after the *last* `)`.
pub(crate) fn parse_stat(text: &str) -> Option<ProcStat> {
    let open = text.find('(')?;
    let pid = text[..open].trim().parse().ok()?;
    let close = text.rfind(')')?;
    // Fields from 3 (state) onwards.
    let rest: Vec<&str> = text.get(close + 1..)?.split_whitespace().collect();
    let field = |n: usize| rest.get(n - 3).copied();
    Some(ProcStat {
        pid,
        state: field(3)?.chars().next()?,
        pgrp: field(5)?.parse().ok()?,
        start_time: field(22)?.parse().ok()?,
    })
}

/// The pid of every process currently listed in `/proc` (threads are not
/// listed at the top level, so each entry is a process).
fn all_pids() -> Vec<i32> {
    let Ok(dir) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(|entry| entry.ok())
        .filter_map(|entry| entry.file_name().to_str()?.parse::<i32>().ok())
        .collect()
}

/// Every process currently listed in `/proc`.
pub(crate) fn all_processes() -> Vec<ProcStat> {
    all_pids().into_iter().filter_map(read_stat).collect()
}

/// The value of the first `name=` entry in `environ` (NUL-separated, as in
/// `/proc/<pid>/environ`), like `getenv` would find it.
pub(crate) fn env_value<'a>(environ: &'a [u8], name: &str) -> Option<&'a [u8]> {
    environ
        .split(|b| *b == 0)
        .find_map(|entry| entry.strip_prefix(name.as_bytes())?.strip_prefix(b"="))
}

/// Running processes (not zombies, not this one) whose environment has
/// `name` set, with its value. The environment is the one the process was
/// started with. Processes whose `environ` cannot be read (other users') are
/// skipped, and so is a process in the middle of an exec (its new
/// environment is not in place yet): callers look more than once.
pub(crate) fn processes_with_env(name: &str) -> Vec<(i32, Vec<u8>)> {
    let me = std::process::id() as i32;
    all_pids()
        .into_iter()
        .filter(|&pid| pid != me)
        .filter_map(|pid| {
            let environ = fs::read(format!("/proc/{pid}/environ")).ok()?;
            let value = env_value(&environ, name)?.to_vec();
            // Checked after the environment: a zombie's environ reads empty,
            // but a process may exit in between.
            let running = read_stat(pid).is_some_and(|stat| !stat.is_exited());
            running.then_some((pid, value))
        })
        .collect()
}

/// Processes of group `pgid` that have not exited (zombies excluded) and
/// started no earlier than `min_start_time`.
pub(crate) fn live_members(pgid: i32, min_start_time: u64) -> Vec<ProcStat> {
    all_processes()
        .into_iter()
        .filter(|p| p.pgrp == pgid && !p.is_exited() && p.start_time >= min_start_time)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_plain_stat_line() {
        let line =
            "1234 (sleep) S 1 1234 1234 0 -1 4194304 100 0 0 0 0 0 0 0 20 0 1 0 98765 8192 100";
        let stat = parse_stat(line).unwrap();
        assert_eq!(
            stat,
            ProcStat {
                pid: 1234,
                state: 'S',
                pgrp: 1234,
                start_time: 98765
            }
        );
    }

    #[test]
    fn parses_comm_with_spaces_and_parens() {
        let line = "42 (we ird) (name) Z 1 7 7 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 555 0 0";
        let stat = parse_stat(line).unwrap();
        assert_eq!(stat.pid, 42);
        assert_eq!(stat.state, 'Z');
        assert_eq!(stat.pgrp, 7);
        assert_eq!(stat.start_time, 555);
        assert!(stat.is_exited());
    }

    #[test]
    fn rejects_truncated_line() {
        assert!(parse_stat("42 (x) S 1 7").is_none());
        assert!(parse_stat("").is_none());
    }

    #[test]
    fn finds_the_first_value_of_a_variable() {
        let environ = b"A=1\0GAFFER_X=one\0GAFFER_XY=two\0GAFFER_X=three\0";
        assert_eq!(env_value(environ, "GAFFER_X"), Some(&b"one"[..]));
        assert_eq!(env_value(environ, "GAFFER_XY"), Some(&b"two"[..]));
        assert_eq!(env_value(environ, "GAFFER"), None);
        assert_eq!(env_value(b"", "A"), None);
    }

    #[test]
    fn finds_a_child_by_its_environment_but_not_itself() {
        let value = format!("probe-{}", std::process::id());
        let mut child = std::process::Command::new("sleep")
            .arg("30")
            .env("GAFFER_PROCFS_PROBE", &value)
            .spawn()
            .unwrap();
        // Right after exec the new environment may not be in place yet.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        let mut found = processes_with_env("GAFFER_PROCFS_PROBE");
        while found.is_empty() && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(10));
            found = processes_with_env("GAFFER_PROCFS_PROBE");
        }
        child.kill().unwrap();
        child.wait().unwrap();
        let pid = child.id() as i32;
        assert!(
            found.contains(&(pid, value.clone().into_bytes())),
            "{found:?}"
        );
        assert!(found.iter().all(|(p, _)| *p != std::process::id() as i32));
        // Reaped: gone from the scan.
        assert!(
            !processes_with_env("GAFFER_PROCFS_PROBE")
                .iter()
                .any(|(p, _)| *p == pid)
        );
    }

    #[test]
    fn reads_own_stat() {
        let me = std::process::id() as i32;
        let stat = read_stat(me).unwrap();
        assert_eq!(stat.pid, me);
        assert!(!stat.is_exited());
    }
}
