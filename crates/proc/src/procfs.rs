//! Minimal reader for `/proc/<pid>/stat`.
//!
//! Only the handful of fields gaffer needs are parsed: state, parent pid,
//! process group and start time. Everything here is best effort: a process
//! can vanish between listing `/proc` and reading its `stat` file, so every
//! read may return `None`.

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

/// Every process currently listed in `/proc` (threads are not listed at the
/// top level, so each entry is a process).
pub(crate) fn all_processes() -> Vec<ProcStat> {
    let Ok(dir) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(|entry| entry.ok())
        .filter_map(|entry| entry.file_name().to_str()?.parse::<i32>().ok())
        .filter_map(read_stat)
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
    fn reads_own_stat() {
        let me = std::process::id() as i32;
        let stat = read_stat(me).unwrap();
        assert_eq!(stat.pid, me);
        assert!(!stat.is_exited());
    }
}
