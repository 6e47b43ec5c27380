//! The supervisor marker, and the sweep that kills whatever a dead supervisor left.
//!
//! The engine records a child's [`crate::ProcessIdentity`] right *after* spawning it; a daemon
//! killed in between leaves a child nothing knows about. So every child is marked *before* it
//! is spawned: its environment names the gaffer process that started it ([`SUPERVISOR_VAR`]),
//! and everything it starts inherits the mark. After a crash, [`kill_orphans`] finds every
//! process whose supervisor is gone by that mark alone, whether or not anything was recorded.
//! A nested gaffer (an agent running gaffer) marks its own children with itself, which is
//! right: they are its to supervise.
//!
//! The marker is `<pid>:<start time>[:<boot id>[:<pid namespace>]]`. The start time tells a
//! reused pid from the supervisor; the boot id tells a start time of another boot; the pid
//! namespace (e.g. `pid:[4026531836]`) says in which namespace the pid means something, so a
//! gaffer on the host never judges the pids of a gaffer in a container.

use std::sync::OnceLock;

use crate::identity::{boot_id, start_time_of};
use crate::{procfs, sweep};

/// The environment variable naming the gaffer process that spawned a child.
pub const SUPERVISOR_VAR: &str = "GAFFER_SUPERVISOR";

/// A supervisor as named by a marker.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Supervisor {
    pid: i32,
    /// 0 if it could not be read: then only the pid is checked.
    start_time: u64,
    boot_id: Option<String>,
    pid_ns: Option<String>,
}

/// Where the sweeping process runs: what a marker's boot and namespace are compared with.
#[derive(Debug, Clone)]
struct Here {
    boot_id: Option<String>,
    pid_ns: Option<String>,
}

impl Here {
    fn current() -> Self {
        Self {
            boot_id: boot_id(),
            pid_ns: own_pid_ns(),
        }
    }
}

impl Supervisor {
    fn current() -> Self {
        let pid = std::process::id() as i32;
        let here = Here::current();
        Self {
            pid,
            start_time: start_time_of(pid).unwrap_or(0),
            boot_id: here.boot_id,
            pid_ns: here.pid_ns,
        }
    }

    fn to_marker(&self) -> String {
        let mut marker = format!("{}:{}", self.pid, self.start_time);
        if let Some(boot) = &self.boot_id {
            marker.push(':');
            marker.push_str(boot);
            if let Some(ns) = &self.pid_ns {
                marker.push(':');
                marker.push_str(ns);
            }
        }
        marker
    }

    /// `None` for anything malformed: a marker we do not understand is never acted on.
    fn parse(marker: &str) -> Option<Self> {
        // The namespace (`pid:[n]`) contains a colon itself, so it takes the rest.
        let mut parts = marker.splitn(4, ':');
        let pid = parts.next()?.parse().ok().filter(|&pid: &i32| pid > 1)?;
        let start_time = parts.next()?.parse().ok()?;
        let boot_id = parts.next().map(str::to_owned).filter(|s| !s.is_empty());
        let pid_ns = parts.next().map(str::to_owned).filter(|s| !s.is_empty());
        Some(Self {
            pid,
            start_time,
            boot_id,
            pid_ns,
        })
    }

    /// True only if this supervisor is certainly gone: another boot, or (in our pid namespace)
    /// no such process, a zombie, or a pid reused by a process that started at another time.
    /// A marker from another pid namespace is never judged.
    fn is_known_dead(&self, here: &Here) -> bool {
        if let (Some(theirs), Some(ours)) = (&self.boot_id, &here.boot_id)
            && theirs != ours
        {
            return true;
        }
        if let (Some(theirs), Some(ours)) = (&self.pid_ns, &here.pid_ns)
            && theirs != ours
        {
            return false;
        }
        match procfs::read_stat(self.pid) {
            None => true,
            Some(stat) => {
                stat.is_exited() || (self.start_time != 0 && stat.start_time != self.start_time)
            }
        }
    }
}

/// `pid:[inode]` of this process's pid namespace, if `/proc` shows it.
fn own_pid_ns() -> Option<String> {
    std::fs::read_link("/proc/self/ns/pid")
        .ok()?
        .to_str()
        .map(str::to_owned)
}

/// This process's marker, as put in the environment of every child it spawns.
pub(crate) fn own_marker() -> &'static str {
    static MARKER: OnceLock<String> = OnceLock::new();
    MARKER.get_or_init(|| Supervisor::current().to_marker())
}

/// SIGKILLs every process (not a zombie, not this one) whose environment holds a
/// [`SUPERVISOR_VAR`] marker naming a supervisor that is no longer alive (see the module
/// docs), looking again a few times to catch processes forked meanwhile. Returns how many
/// were killed.
///
/// Call it when a gaffer daemon starts, before new work: it cleans up after any earlier
/// gaffer that died, including children spawned just before it died and never recorded, and
/// descendants that left their process group. Processes whose supervisor is alive are never
/// touched, nor those whose environment cannot be read (other users'), nor those whose
/// marker cannot be parsed. Blocks for a few tens of milliseconds per pass that finds
/// something.
pub fn kill_orphans() -> usize {
    let here = Here::current();
    let killed = sweep::kill_in_passes(|| orphans(&here));
    if killed > 0 {
        tracing::info!(killed, "killed processes whose gaffer is gone");
    }
    killed
}

/// Running processes (not this one) whose marked supervisor is known to be dead.
fn orphans(here: &Here) -> Vec<i32> {
    procfs::processes_with_env(SUPERVISOR_VAR)
        .into_iter()
        .filter(|(_, value)| {
            std::str::from_utf8(value)
                .ok()
                .and_then(Supervisor::parse)
                .is_some_and(|supervisor| supervisor.is_known_dead(here))
        })
        .map(|(pid, _)| pid)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn here() -> Here {
        Here::current()
    }

    #[test]
    fn own_marker_round_trips_and_names_a_live_supervisor() {
        let me = Supervisor::parse(own_marker()).unwrap();
        assert_eq!(me, Supervisor::current());
        assert_eq!(me.pid, std::process::id() as i32);
        assert!(me.start_time > 0);
        assert!(me.boot_id.is_some(), "{}", own_marker());
        assert!(
            me.pid_ns
                .as_deref()
                .is_some_and(|ns| ns.starts_with("pid:[")),
            "{}",
            own_marker()
        );
        assert!(!me.is_known_dead(&here()));
    }

    #[test]
    fn short_markers_parse() {
        assert_eq!(
            Supervisor::parse("42:7"),
            Some(Supervisor {
                pid: 42,
                start_time: 7,
                boot_id: None,
                pid_ns: None
            })
        );
        let with_boot = Supervisor::parse("42:7:b00t").unwrap();
        assert_eq!(with_boot.boot_id.as_deref(), Some("b00t"));
        assert_eq!(with_boot.pid_ns, None);
    }

    #[test]
    fn malformed_markers_are_rejected() {
        for marker in ["", "42", "x:7", "42:x", "-5:7", "0:7", "1:7", ":7"] {
            assert_eq!(Supervisor::parse(marker), None, "{marker:?}");
        }
    }

    #[test]
    fn reused_pid_and_other_boot_mean_dead() {
        let me = Supervisor::current();
        let reused = Supervisor {
            start_time: me.start_time + 1,
            ..me.clone()
        };
        assert!(reused.is_known_dead(&here()));
        let other_boot = Supervisor {
            boot_id: Some("another-boot".into()),
            ..me.clone()
        };
        assert!(other_boot.is_known_dead(&here()));
        // An unknown start time checks the pid only.
        let no_start = Supervisor {
            start_time: 0,
            ..me
        };
        assert!(!no_start.is_known_dead(&here()));
    }

    #[test]
    fn a_reaped_supervisor_is_dead_but_other_namespaces_are_not_judged() {
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id() as i32;
        let start_time = start_time_of(pid).unwrap_or(0);
        child.wait().unwrap();
        let gone = Supervisor {
            pid,
            start_time,
            ..Supervisor::current()
        };
        assert!(gone.is_known_dead(&here()));
        let elsewhere = Supervisor {
            pid_ns: Some("pid:[1]".into()),
            ..gone
        };
        assert!(!elsewhere.is_known_dead(&here()));
    }
}
