//! The seccomp filter every confined process runs under: making a hard link fails with `EXDEV`,
//! and io_uring is not there (`ENOSYS`).
//!
//! A hard link is a second name of a file. Made in the worktree and removed before gaffer reads
//! the kernel's events, it would let a process write a tracked file with no event naming it:
//! gaffer's tree watch would miss the write, and only a pass over every file would catch it.
//! (A name outside the worktree is already refused by the kernel: every writable place of a
//! confined process is a mount of its own, and links do not cross mounts.) With links refused,
//! every write to a worktree's file goes through a name the watch reports; that is what lets the
//! engine skip those passes (see `gaffer_git::Worktrees::set_links_refused`). io_uring makes
//! links (and everything else) without the system calls a filter sees, so it is refused as a
//! kernel without it would, and programs fall back to plain system calls (as under Docker's
//! default profile).
//!
//! `EXDEV` ("cross-device link") is what `link` returns across file systems, so the tools that
//! link when they can (cargo, git's local clone, pnpm, ccache) copy instead, as they do between
//! two disks. Other system calls are untouched.
//!
//! Written by hand (some twenty instructions) rather than with a filter compiler: the one
//! well-kept Rust compiler, seccompiler, kills any process of another architecture than the
//! host's, and a 32-bit program (i386 on x86-64, arm on aarch64) must run as before, with its
//! own numbers of the same calls refused.

use gaffer_proc::SyscallFilter;

/// What the filter does, for `gaffer doctor` and logs.
pub(crate) const WHAT: &str = "hard links refused (EXDEV), io_uring absent (ENOSYS)";

/// `AUDIT_ARCH_*` of `<linux/audit.h>`: how `seccomp_data.arch` names each system call table.
const AUDIT_ARCH_X86_64: u32 = 0xC000_003E;
const AUDIT_ARCH_I386: u32 = 0x4000_0003;
const AUDIT_ARCH_AARCH64: u32 = 0xC000_00B7;
const AUDIT_ARCH_ARM: u32 = 0x4000_0028;
const AUDIT_ARCH_RISCV64: u32 = 0xC000_00F3;
const AUDIT_ARCH_RISCV32: u32 = 0x4000_00F3;

/// Added to a system call's number by the x32 ABI, which shares x86-64's audit architecture.
const X32: u32 = 0x4000_0000;

/// `io_uring_setup`, `io_uring_enter`, `io_uring_register`: the same numbers in every table.
const IO_URING: [u32; 3] = [425, 426, 427];

/// Offsets in `struct seccomp_data`.
const NR_OFFSET: u32 = 0;
const ARCH_OFFSET: u32 = 4;

/// How a refused call ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// A hard link: as across file systems.
    Link,
    /// io_uring: as on a kernel without it.
    Absent,
}

impl Refusal {
    fn ret(self) -> u32 {
        let errno = match self {
            Refusal::Link => libc::EXDEV,
            Refusal::Absent => libc::ENOSYS,
        };
        libc::SECCOMP_RET_ERRNO | (errno as u32 & libc::SECCOMP_RET_DATA)
    }
}

/// The calls refused in each system call table this machine's kernel may run: its own, and the
/// 32-bit one it runs too. A call from a table not listed is allowed; the sandbox's probe
/// proves that a link fails before it relies on the filter.
fn tables() -> Vec<(u32, Vec<(u32, Refusal)>)> {
    let table = |links: &[u32]| -> Vec<(u32, Refusal)> {
        links
            .iter()
            .map(|&nr| (nr, Refusal::Link))
            .chain(IO_URING.iter().map(|&nr| (nr, Refusal::Absent)))
            .collect()
    };
    if cfg!(target_arch = "x86_64") {
        let mut native = table(&[86, 265]);
        // x32: the same calls with the x32 bit set.
        native.extend(table(&[86, 265]).into_iter().map(|(nr, r)| (X32 | nr, r)));
        vec![
            (AUDIT_ARCH_X86_64, native),
            (AUDIT_ARCH_I386, table(&[9, 303])),
        ]
    } else if cfg!(all(target_arch = "aarch64", target_endian = "little")) {
        vec![
            (AUDIT_ARCH_AARCH64, table(&[37])),
            (AUDIT_ARCH_ARM, table(&[9, 330])),
        ]
    } else if cfg!(target_arch = "riscv64") {
        vec![
            (AUDIT_ARCH_RISCV64, table(&[37])),
            (AUDIT_ARCH_RISCV32, table(&[37])),
        ]
    } else {
        Vec::new()
    }
}

fn stmt(code: u32, k: u32) -> libc::sock_filter {
    libc::sock_filter {
        code: code as u16,
        jt: 0,
        jf: 0,
        k,
    }
}

fn jeq(k: u32, jt: u8, jf: u8) -> libc::sock_filter {
    libc::sock_filter {
        code: (libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K) as u16,
        jt,
        jf,
        k,
    }
}

/// The program: for each table, if the call comes from it, the refused numbers answered;
/// everything else allowed.
pub(crate) fn program() -> Option<Vec<libc::sock_filter>> {
    let tables = tables();
    if tables.is_empty() {
        return None;
    }
    let load = |offset| stmt(libc::BPF_LD | libc::BPF_W | libc::BPF_ABS, offset);
    let allow = stmt(libc::BPF_RET | libc::BPF_K, libc::SECCOMP_RET_ALLOW);
    let mut out = vec![load(ARCH_OFFSET)];
    for (arch, refused) in tables {
        let mut block = vec![load(NR_OFFSET)];
        for (nr, refusal) in refused {
            block.push(jeq(nr, 0, 1));
            block.push(stmt(libc::BPF_RET | libc::BPF_K, refusal.ret()));
        }
        block.push(allow);
        // Another table: skip the block (the accumulator still holds the architecture).
        out.push(jeq(arch, 0, u8::try_from(block.len()).ok()?));
        out.extend(block);
    }
    out.push(allow);
    Some(out)
}

/// The filter for this machine's architecture; `None` on one it has no numbers for.
pub(crate) fn filter() -> Option<SyscallFilter> {
    match program() {
        Some(program) => Some(SyscallFilter::new(program, WHAT)),
        None => {
            tracing::warn!(
                arch = std::env::consts::ARCH,
                "sandbox: no filter refusing hard links on this architecture"
            );
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs `program` on a call, as the kernel does for the subset it uses.
    fn run(program: &[libc::sock_filter], arch: u32, nr: u32) -> u32 {
        let (mut pc, mut acc) = (0usize, 0u32);
        loop {
            let ins = program[pc];
            let code = u32::from(ins.code);
            pc += 1;
            if code == libc::BPF_LD | libc::BPF_W | libc::BPF_ABS {
                acc = match ins.k {
                    NR_OFFSET => nr,
                    ARCH_OFFSET => arch,
                    k => panic!("loads offset {k}"),
                };
            } else if code == libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K {
                pc += usize::from(if acc == ins.k { ins.jt } else { ins.jf });
            } else if code == libc::BPF_RET | libc::BPF_K {
                return ins.k;
            } else {
                panic!("unexpected instruction {code:#x}");
            }
        }
    }

    #[test]
    fn links_and_io_uring_are_refused_in_every_table_and_the_rest_allowed() {
        let program = program().expect("a program on this architecture");
        assert!(program.len() < 64);
        let exdev = Refusal::Link.ret();
        let enosys = Refusal::Absent.ret();
        let allow = libc::SECCOMP_RET_ALLOW;
        for (arch, refused) in tables() {
            for (nr, refusal) in &refused {
                assert_eq!(run(&program, arch, *nr), refusal.ret(), "{arch:#x} {nr}");
            }
            for nr in [0, 1, 2, 59, 257, 424, 428, 1000] {
                if !refused.iter().any(|(n, _)| *n == nr) {
                    assert_eq!(run(&program, arch, nr), allow, "{arch:#x} {nr}");
                }
            }
        }
        // The host's own numbers, from libc rather than the table above.
        let native = tables()[0].0;
        assert_eq!(run(&program, native, libc::SYS_linkat as u32), exdev);
        assert_eq!(
            run(&program, native, libc::SYS_io_uring_setup as u32),
            enosys
        );
        assert_eq!(run(&program, native, libc::SYS_getpid as u32), allow);
        if cfg!(target_arch = "x86_64") {
            assert_eq!(native, AUDIT_ARCH_X86_64);
            assert_eq!(
                run(&program, AUDIT_ARCH_X86_64, libc::SYS_linkat as u32),
                exdev
            );
            assert_eq!(
                run(&program, AUDIT_ARCH_X86_64, libc::SYS_link as u32),
                exdev
            );
            assert_eq!(run(&program, AUDIT_ARCH_X86_64, X32 | 265), exdev);
            assert_eq!(run(&program, AUDIT_ARCH_I386, 303), exdev);
            // i386's 86 is `uselib`, not `link`: allowed there.
            assert_eq!(run(&program, AUDIT_ARCH_I386, 86), allow);
            assert_eq!(run(&program, AUDIT_ARCH_X86_64, 9), allow);
            assert_eq!(
                run(&program, AUDIT_ARCH_X86_64, libc::SYS_io_uring_setup as u32),
                enosys
            );
        }
        // A table it does not know is left alone.
        assert_eq!(run(&program, 0x1234, 86), allow);
    }
}
