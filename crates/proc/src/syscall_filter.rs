//! A seccomp filter a child runs under, with everything it starts: installed in the forked child
//! just before `exec`, after `PR_SET_NO_NEW_PRIVS`, and inherited by every descendant, which can
//! add filters of their own but never remove this one. gaffer-sandbox builds the program (see
//! `gaffer_sandbox::Sandbox`); this crate only installs it.

use std::fmt;
use std::io;
use std::os::unix::process::CommandExt;
use std::process::Command;
use std::sync::Arc;

/// A compiled seccomp BPF program (classic BPF, as `seccomp(SECCOMP_SET_MODE_FILTER)` takes it).
#[derive(Clone)]
pub struct SyscallFilter {
    program: Arc<seccompiler::BpfProgram>,
    /// What it does, for logs and errors.
    what: &'static str,
}

impl SyscallFilter {
    /// The filter `program`, described by `what` ("hard links refused", say).
    pub fn new(program: seccompiler::BpfProgram, what: &'static str) -> SyscallFilter {
        SyscallFilter {
            program: Arc::new(program),
            what,
        }
    }

    /// What the filter does.
    pub fn what(&self) -> &'static str {
        self.what
    }

    /// Makes the child of `cmd` install the filter just before it executes its program. Call it
    /// after any other `pre_exec` step (entering a network namespace, the parent-death signal),
    /// so that those run unfiltered. Spawning fails if the kernel refuses the filter.
    pub fn install(&self, cmd: &mut Command) {
        let program = Arc::clone(&self.program);
        #[allow(unsafe_code)]
        // SAFETY: `pre_exec` runs the closure in the forked child before exec, where only
        // async-signal-safe operations are allowed. `apply_filter` makes the `prctl` and `seccomp`
        // system calls on a program compiled before the fork (the closure owns an `Arc` of it);
        // its errors carry the raw errno (`io::Error::last_os_error`), and the others are mapped
        // to a raw errno here: nothing allocates or locks.
        unsafe {
            cmd.pre_exec(move || match seccompiler::apply_filter(&program) {
                Ok(()) => Ok(()),
                Err(seccompiler::Error::Prctl(e) | seccompiler::Error::Seccomp(e)) => Err(e),
                Err(_) => Err(io::Error::from_raw_os_error(libc::EINVAL)),
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
