//! A seccomp filter a child runs under, with everything it starts: installed in the forked child
//! just before `exec`, after `PR_SET_NO_NEW_PRIVS`, and inherited by every descendant, which can
//! add filters of their own but never remove this one. gaffer-sandbox builds the program (see
//! `gaffer_sandbox::Sandbox`); this crate only installs it.

use std::fmt;
use std::io;
use std::os::unix::process::CommandExt;
use std::process::Command;
use std::sync::Arc;

/// A compiled seccomp program (classic BPF over `struct seccomp_data`, as
/// `seccomp(SECCOMP_SET_MODE_FILTER)` takes it).
#[derive(Clone)]
pub struct SyscallFilter {
    program: Arc<Vec<libc::sock_filter>>,
    /// What it does, for logs and errors.
    what: &'static str,
}

impl SyscallFilter {
    /// The filter `program`, described by `what` ("hard links refused", say). The kernel
    /// checks the program when it is installed: an invalid one makes spawning fail.
    pub fn new(program: Vec<libc::sock_filter>, what: &'static str) -> SyscallFilter {
        SyscallFilter {
            program: Arc::new(program),
            what,
        }
    }

    /// What the filter does.
    pub fn what(&self) -> &'static str {
        self.what
    }

    /// The program's instructions.
    pub fn program(&self) -> &[libc::sock_filter] {
        &self.program
    }

    /// Makes the child of `cmd` install the filter just before it executes its program. Call it
    /// after any other `pre_exec` step (entering a network namespace, the parent-death signal),
    /// so that those run unfiltered. Spawning fails if the kernel refuses the filter.
    pub fn install(&self, cmd: &mut Command) {
        let program = Arc::clone(&self.program);
        #[allow(unsafe_code)]
        // SAFETY: `pre_exec` runs the closure in the forked child before exec, where only
        // async-signal-safe operations are allowed. The closure makes the `prctl` and `seccomp`
        // system calls on a program built before the fork (it owns an `Arc` of it; the kernel
        // only reads the instructions, through the pointer it is given, during the call), and
        // builds errors from the raw errno: nothing allocates or locks.
        unsafe {
            cmd.pre_exec(move || {
                let len = u16::try_from(program.len())
                    .map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
                if libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 {
                    return Err(io::Error::last_os_error());
                }
                let fprog = libc::sock_fprog {
                    len,
                    filter: program.as_ptr().cast_mut(),
                };
                let set = libc::syscall(
                    libc::SYS_seccomp,
                    libc::SECCOMP_SET_MODE_FILTER,
                    0,
                    &fprog as *const libc::sock_fprog,
                );
                if set != 0 {
                    return Err(io::Error::last_os_error());
                }
                Ok(())
            });
        }
    }
}

impl fmt::Debug for SyscallFilter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "SyscallFilter({}, {} instructions)",
            self.what,
            self.program.len()
        )
    }
}

/// Two filters are the same when they are one program (specs are compared in tests).
impl PartialEq for SyscallFilter {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.program, &other.program)
    }
}

impl Eq for SyscallFilter {}
