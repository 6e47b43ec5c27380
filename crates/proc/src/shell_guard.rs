//! The guard: a tiny `/bin/sh` that leads every process group and kills it when gaffer dies.
//!
//! `PR_SET_PDEATHSIG` reaches only the process gaffer forked, the group leader. If that is a
//! shell that does not exec its last command (`sh -c 'agent ...; true'`), the leader dies with
//! gaffer and the agent under it lives on, unsupervised. So the leader is always this guard:
//! it gets `PR_SET_PDEATHSIG(SIGHUP)`, runs the real program in the background, waits for it,
//! and on SIGHUP kills its whole process group (`kill -KILL 0`). Program and arguments are the
//! guard's positional parameters (`"$@"`), never interpolated into the script.
//!
//! Otherwise it is meant to be invisible:
//!
//! * the program's exit status is the guard's; a program killed by a signal makes the guard
//!   re-raise that signal on itself (core dumps off), so gaffer still sees
//!   [`crate::Termination::Signaled`]. The one ambiguity: a shell reports death by signal `n`
//!   as status `128 + n`, so a program that *exits* with such a status on purpose (say 130) is
//!   reported as killed by that signal. Statuses that name no signal, or a signal that would
//!   stop rather than end the guard (STOP, TSTP, TTIN, TTOU, CHLD, CONT, URG, WINCH), are
//!   returned as they are;
//! * on cancel or timeout gaffer SIGTERMs the group: the guard catches SIGTERM and keeps
//!   waiting, so it still leads (and protects) the group while the program uses its grace;
//!   SIGKILL after the grace takes it with the rest;
//! * stdin, stdout and stderr are the program's (stdin too, though a shell would give a
//!   background command `/dev/null`); the guard prints nothing;
//! * it exits when the program does. Members the program left in the group get their grace
//!   from gaffer as before; should gaffer die during it, `kill_orphans` finds them by their
//!   supervisor marker.
//!
//! What the program sees differently: its parent is the guard, not gaffer; SIGINT and SIGQUIT
//! start ignored (POSIX, for a background command of a non-interactive shell; gaffer sends
//! neither, and a program that handles them resets this when it installs its handler, as
//! Node does); `argv[0]` is the resolved path (see `resolve`); and a shell exports `PWD`
//! (the working directory; bash as `/bin/sh` also `SHLVL` and `_`).
//!
//! Why a shell and not something else: a subreaper does not help once gaffer is dead (the
//! orphans go to it, and it is gone); a PID namespace (whose init's death kills everything in
//! it) needs user namespaces, which a host may disable; gaffer-proc has no helper binary of
//! its own to exec. `/bin/sh` exists on every Linux, and costs one fork and exec per spawn
//! (see the `guard_cost` test for a figure).

use std::ffi::OsStr;
use std::path::Path;

/// The guard's script. `$1...` are the program and its arguments.
///
/// The HUP trap is set before the program is forked, so there is no moment in which the
/// program runs and the guard would die of SIGHUP alone. The TERM trap only sets a flag
/// (a caught signal, unlike an ignored one, is reset to the default by exec, so the program
/// gets SIGTERM as usual); `wait` returns early when a trapped signal arrives, hence the loop,
/// which relies on `wait` returning a finished child's status again when asked twice. `wait`
/// speaks only to `/dev/null`: dash reports a job killed by a signal ("Terminated") on stderr,
/// which is the program's output. A shell gives a background command `/dev/null` as its
/// standard input; the program gets the guard's own back through descriptor 3 (a pipe gaffer
/// writes to, for an agent that takes messages while it runs).
pub(crate) const SCRIPT: &str = r#"trap 'kill -KILL 0' HUP
trap 'i=1' TERM
exec 3<&0
"$@" 0<&3 3<&- &
exec 3<&-
p=$!
i=1
while [ "$i" ]; do i=; wait "$p" 2>/dev/null; s=$?; done
if [ "$s" -gt 128 ] && n=$(kill -l "$s" 2>/dev/null); then
  case $n in
    STOP|TSTP|TTIN|TTOU|CHLD|CONT|URG|WINCH) ;;
    *) trap - "$n" 2>/dev/null; ulimit -c 0 2>/dev/null; kill -s "$n" $$ ;;
  esac
fi
exit "$s"
"#;

/// `$0` of the guard, which is what `ps` and the shell's own messages show.
const NAME: &str = "gaffer-guard";

/// The shell that runs the guard. Absolute, so a cleared environment does not matter.
pub(crate) const SHELL: &str = "/bin/sh";

/// The arguments of [`SHELL`] for guarding `program` with `args`.
pub(crate) fn args<'a>(program: &'a Path, args: &'a [String]) -> Vec<&'a OsStr> {
    let mut all: Vec<&OsStr> = vec!["-c".as_ref(), SCRIPT.as_ref(), NAME.as_ref()];
    all.push(program.as_os_str());
    all.extend(args.iter().map(OsStr::new));
    all
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::process::{CommandExt, ExitStatusExt};
    use std::process::{Command, ExitStatus, Stdio};
    use std::time::{Duration, Instant};

    fn guarded(program: &str, rest: &[&str]) -> Command {
        let rest: Vec<String> = rest.iter().map(|s| s.to_string()).collect();
        let mut cmd = Command::new(SHELL);
        cmd.args(args(Path::new(program), &rest))
            .stdin(Stdio::null());
        cmd
    }

    /// The guard's exit status; it must have printed nothing of its own.
    fn status(program: &str, rest: &[&str]) -> ExitStatus {
        let out = guarded(program, rest).output().unwrap();
        assert!(out.stdout.is_empty(), "{:?}", out.stdout);
        assert!(
            out.stderr.is_empty(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.status
    }

    #[test]
    fn exit_statuses_pass_through() {
        assert_eq!(status("/bin/sh", &["-c", "exit 0"]).code(), Some(0));
        assert_eq!(status("/bin/sh", &["-c", "exit 3"]).code(), Some(3));
        // Above 128 but naming no signal.
        assert_eq!(status("/bin/sh", &["-c", "exit 255"]).code(), Some(255));
        // 128 + SIGSTOP: must not stop the guard.
        assert_eq!(status("/bin/sh", &["-c", "exit 147"]).code(), Some(147));
    }

    #[test]
    fn death_by_signal_is_re_raised() {
        for (signal, name) in [
            (9, "KILL"),
            (15, "TERM"),
            (1, "HUP"),
            (2, "INT"),
            (11, "SEGV"),
        ] {
            // No core file of the program itself in the working directory.
            let script = format!("ulimit -c 0; kill -s {name} $$");
            let status = status("/bin/sh", &["-c", &script]);
            // SIGINT is ignored in the background program itself; it exits normally.
            if name == "INT" {
                assert_eq!(status.code(), Some(0), "{status:?}");
                continue;
            }
            assert_eq!(status.signal(), Some(signal), "{name}: {status:?}");
            assert!(!status.core_dumped(), "{name}");
        }
    }

    #[test]
    fn arguments_are_passed_verbatim() {
        let out = guarded("/bin/echo", &["$HOME", "a  b", "'q'", "`x`", "-n"])
            .output()
            .unwrap();
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            "$HOME a  b 'q' `x` -n\n"
        );
        assert!(out.stderr.is_empty(), "{:?}", out.stderr);
    }

    #[test]
    fn sigterm_reaches_the_program_and_the_guard_waits_for_it() {
        // The program takes its time to exit after SIGTERM; the guard must not go first.
        let script = "trap 'sleep 0.3; exit 7' TERM; echo up; while :; do sleep 0.05; done";
        let mut child = guarded("/bin/sh", &["-c", script])
            .stdout(Stdio::piped())
            .process_group(0)
            .spawn()
            .unwrap();
        let mut first = [0u8; 3];
        std::io::Read::read_exact(child.stdout.as_mut().unwrap(), &mut first).unwrap();
        let pgid = nix::unistd::Pid::from_raw(child.id() as i32);
        nix::sys::signal::killpg(pgid, nix::sys::signal::Signal::SIGTERM).unwrap();
        assert_eq!(child.wait().unwrap().code(), Some(7));
    }

    #[test]
    fn the_program_reads_the_guard_s_standard_input() {
        use std::io::Write;
        let mut child = guarded("/bin/cat", &[])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(b"hello\n").unwrap();
        drop(stdin);
        let out = child.wait_with_output().unwrap();
        assert_eq!(out.stdout, b"hello\n");
        assert!(out.status.success());
    }

    /// Prints what the guard costs per spawn; asserts only that both ways work.
    #[test]
    fn guard_cost() {
        const N: u32 = 40;
        let time = |mut make: Box<dyn FnMut() -> Command>| {
            let begin = Instant::now();
            for _ in 0..N {
                assert!(make().status().unwrap().success());
            }
            begin.elapsed() / N
        };
        let direct = time(Box::new(|| Command::new("/bin/true")));
        let with_guard = time(Box::new(|| guarded("/bin/true", &[])));
        println!(
            "guard cost: /bin/true direct {direct:?}, guarded {with_guard:?} per spawn \
             (+{:?})",
            with_guard.saturating_sub(direct)
        );
        assert!(direct > Duration::ZERO);
    }
}
