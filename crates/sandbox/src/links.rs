//! The seccomp filter every confined process runs under: making a hard link fails with `EXDEV`.
//!
//! A hard link is a second name of a file. Made outside the worktree (in the agent's home, its
//! data directory, `[sandbox] write`), it would let a process write a worktree's file without any
//! event naming it, and keep doing so from a later run, after the worktree went to another task.
//! gaffer's tree watch would then miss the write, and only a pass over every file would catch it.
//! With links refused, every write to a worktree's file goes through a name inside the worktree,
//! which the watch sees; that is what lets the engine skip those passes (see
//! `gaffer_git::Worktrees::set_links_refused`).
//!
//! `EXDEV` ("cross-device link") is what `link` returns across file systems, so the tools that
//! link when they can (cargo, git's local clone, pnpm, ccache) copy instead, as they do between
//! two disks. Other system calls are untouched. On x86-64, a process of another architecture
//! (a 32-bit i386 program) is killed at its first system call: the filter cannot vouch for
//! system call numbers of another table. The x32 numbers of `link` and `linkat` are refused too.

use gaffer_proc::SyscallFilter;
use seccompiler::{SeccompAction, SeccompFilter, TargetArch};
use std::collections::BTreeMap;

/// What the filter does, for `gaffer doctor` and logs.
pub(crate) const WHAT: &str = "hard links refused (EXDEV)";

/// The filter for this machine's architecture; `None` where seccompiler cannot build one (an
/// architecture other than x86-64, aarch64, riscv64), or where it fails.
pub(crate) fn filter() -> Option<SyscallFilter> {
    let arch = TargetArch::try_from(std::env::consts::ARCH).ok()?;
    let rules = link_calls().into_iter().map(|nr| (nr, Vec::new()));
    let built = SeccompFilter::new(
        rules.collect::<BTreeMap<_, _>>(),
        SeccompAction::Allow,
        SeccompAction::Errno(libc::EXDEV as u32),
        arch,
    )
    .and_then(seccompiler::BpfProgram::try_from);
    match built {
        Ok(program) => Some(SyscallFilter::new(program, WHAT)),
        Err(err) => {
            tracing::warn!(%err, "sandbox: cannot build the filter that refuses hard links");
            None
        }
    }
}

/// The system calls that make a hard link on this architecture.
fn link_calls() -> Vec<i64> {
    let mut calls = vec![libc::SYS_linkat];
    #[cfg(target_arch = "x86_64")]
    {
        /// Added to a system call's number by the x32 ABI (same audit architecture as x86-64).
        const X32: i64 = 0x4000_0000;
        calls.extend([libc::SYS_link, X32 + libc::SYS_link, X32 + libc::SYS_linkat]);
    }
    calls
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_filter_builds_here_and_names_every_link_call() {
        let filter = filter().expect("a filter on this architecture");
        assert_eq!(filter.what(), WHAT);
        let calls = link_calls();
        assert!(calls.contains(&libc::SYS_linkat));
        #[cfg(target_arch = "x86_64")]
        assert_eq!(calls.len(), 4);
    }
}
