//! bwrap's command line for a policy.

use crate::mounts::{Access, Mount, PRIVATE_DIRS};
use crate::policy::Network;

/// Namespaces and process hygiene, the same for every policy.
const ISOLATION: &[&str] = &[
    // Killed (SIGKILL) when the bwrap gaffer started dies.
    "--die-with-parent",
    // setsid(): no controlling terminal, so no TIOCSTI keystroke injection.
    "--new-session",
    // Explicit so a root daemon gets one too; with it, dropping every
    // capability below leaves root inside unable to remount anything.
    "--unshare-user",
    // Its own process tree: /proc shows no host process, so no
    // /proc/<daemon>/environ to read and no host process to signal.
    "--unshare-pid",
    "--unshare-ipc",
    "--unshare-uts",
    // bwrap keeps every capability when started by root, and CAP_SYS_ADMIN
    // can remount `/` read-write.
    "--cap-drop",
    "ALL",
];

/// The base filesystem: everything read-only, fresh /dev, /proc and /tmp.
const BASE: &[&str] = &["--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc"];

/// bwrap's options (everything before `--`) for `mounts`, `network`, the
/// file to bind over `/etc/hosts` and the directory to start in.
pub(crate) fn options(
    mounts: &[Mount],
    network: Network,
    files_over: &[(&str, &str)],
    chdir: Option<&str>,
) -> Vec<String> {
    let mut args: Vec<String> = ISOLATION.iter().map(|s| (*s).to_owned()).collect();
    // `Private`: the process is in gaffer-proc's network namespace already,
    // whose listeners another `--unshare-net` would leave outside.
    if network == Network::None {
        args.push("--unshare-net".into());
    }
    args.extend(BASE.iter().map(|s| (*s).to_owned()));
    for dir in PRIVATE_DIRS {
        args.extend(["--tmpfs".to_owned(), (*dir).to_owned()]);
    }
    for mount in mounts {
        let path = mount.path.display().to_string();
        let op: [&str; 3] = match (mount.access, mount.is_dir) {
            (Access::Hidden, true) => {
                args.extend(["--tmpfs".to_owned(), path]);
                continue;
            }
            (Access::Hidden, false) => ["--ro-bind", "/dev/null", &path],
            (Access::ReadOnly, _) => ["--ro-bind", &path, &path],
            (Access::Writable, _) => ["--bind", &path, &path],
        };
        args.extend(op.map(str::to_owned));
    }
    // Files bound read-only over others (the hosts file, a run's gitfile), after every
    // directory mount so they land on top of them.
    for (source, target) in files_over {
        args.extend(["--ro-bind", source, target].map(str::to_owned));
    }
    // Last, so the mount points bwrap made inside the tmpfs already exist;
    // not recursive, so writable paths inside stay writable.
    for mount in mounts
        .iter()
        .filter(|m| m.access == Access::Hidden && m.is_dir)
    {
        args.extend(["--remount-ro".to_owned(), mount.path.display().to_string()]);
    }
    if let Some(dir) = chdir {
        args.extend(["--chdir".to_owned(), dir.to_owned()]);
    }
    args
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    fn mount(path: &str, access: Access, is_dir: bool) -> Mount {
        Mount {
            path: PathBuf::from(path),
            access,
            is_dir,
        }
    }

    fn position(args: &[String], window: &[&str]) -> usize {
        args.windows(window.len())
            .position(|w| w == window)
            .unwrap_or_else(|| panic!("{window:?} not in {args:?}"))
    }

    #[test]
    fn a_writable_path_inside_a_hidden_one_is_mounted_after_the_tmpfs() {
        let mounts = crate::mounts::order(vec![
            mount("/state/worktrees/t1", Access::Writable, true),
            mount("/state", Access::Hidden, true),
        ]);
        let args = options(&mounts, Network::None, &[], Some("/state/worktrees/t1"));
        let root = position(&args, &["--ro-bind", "/", "/"]);
        let tmpfs = position(&args, &["--tmpfs", "/state"]);
        let bind = position(
            &args,
            &["--bind", "/state/worktrees/t1", "/state/worktrees/t1"],
        );
        let ro = position(&args, &["--remount-ro", "/state"]);
        assert!(root < tmpfs && tmpfs < bind && bind < ro, "{args:?}");
        assert_eq!(args[args.len() - 2..], ["--chdir", "/state/worktrees/t1"]);
    }

    #[test]
    fn network_none_unshares_the_network_and_host_and_private_do_not() {
        let none = options(&[], Network::None, &[], None);
        let host = options(&[], Network::Host, &[], None);
        let private = options(&[], Network::Private, &[], None);
        assert!(none.iter().any(|a| a == "--unshare-net"));
        assert!(!host.iter().any(|a| a == "--unshare-net"));
        assert!(!private.iter().any(|a| a == "--unshare-net"));
        for args in [none, host, private] {
            for flag in ["--unshare-pid", "--die-with-parent", "--new-session"] {
                assert!(args.iter().any(|a| a == flag), "{flag} missing");
            }
            position(&args, &["--cap-drop", "ALL"]);
            position(&args, &["--tmpfs", "/tmp"]);
        }
    }

    #[test]
    fn a_hidden_file_becomes_dev_null() {
        let mounts = [mount("/run/docker.sock", Access::Hidden, false)];
        let args = options(&mounts, Network::Host, &[], None);
        position(&args, &["--ro-bind", "/dev/null", "/run/docker.sock"]);
        assert!(!args.iter().any(|a| a == "--remount-ro"));
    }

    #[test]
    fn the_hosts_file_is_bound_after_the_mounts_and_before_remounting() {
        let mounts = [mount("/etc", Access::Hidden, true)];
        let args = options(
            &mounts,
            Network::Private,
            &[("/s/hosts", "/etc/hosts")],
            None,
        );
        let tmpfs = position(&args, &["--tmpfs", "/etc"]);
        let hosts = position(&args, &["--ro-bind", "/s/hosts", "/etc/hosts"]);
        let ro = position(&args, &["--remount-ro", "/etc"]);
        assert!(tmpfs < hosts && hosts < ro, "{args:?}");
    }
}
