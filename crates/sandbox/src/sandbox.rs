//! The sandbox a daemon found, and wrapping commands in it.

use std::fmt;
use std::path::Path;

use gaffer_proc::{CommandSpec, PrivateNet, SyscallFilter};

use crate::detect;
use crate::error::{BWRAP_HINT, SandboxError};
use crate::flags;
use crate::links;
use crate::mode::SandboxMode;
use crate::policy::{Network, Policy};
use crate::program;

/// How this host confines task processes. Find it once per daemon with
/// [`Sandbox::detect`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sandbox {
    kind: Kind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Kind {
    Bwrap {
        path: String,
        version: String,
        /// The filter that refuses hard links (see [`links`]); `None` where it cannot be built.
        links: Option<SyscallFilter>,
    },
    None {
        reason: Option<String>,
    },
}

impl Sandbox {
    /// The sandbox `mode` asks for, proven to work by running a trivial
    /// command in it.
    ///
    /// [`SandboxMode::Auto`] falls back to no sandbox when bwrap is missing
    /// or unusable, keeping the reason ([`Sandbox::degraded`]);
    /// [`SandboxMode::Bwrap`] returns the error instead.
    pub fn detect(mode: SandboxMode) -> Result<Self, SandboxError> {
        match mode {
            SandboxMode::None => Ok(Self::none()),
            SandboxMode::Bwrap => Self::bwrap(),
            SandboxMode::Auto => Ok(Self::bwrap().unwrap_or_else(|err| {
                tracing::debug!(%err, "sandbox: falling back to none");
                Self {
                    kind: Kind::None {
                        reason: Some(format!("{err}; {BWRAP_HINT}")),
                    },
                }
            })),
        }
    }

    /// No sandbox, because none was asked for.
    pub fn none() -> Self {
        Self {
            kind: Kind::None { reason: None },
        }
    }

    fn bwrap() -> Result<Self, SandboxError> {
        let path = detect::find_bwrap().ok_or(SandboxError::NotFound)?;
        let (version, links) = detect::probe_filtered(&path, links::filter())?;
        Ok(Self {
            kind: Kind::Bwrap {
                path: path.display().to_string(),
                version,
                links,
            },
        })
    }

    /// Whether [`Sandbox::wrap`] confines anything.
    pub fn is_confined(&self) -> bool {
        matches!(self.kind, Kind::Bwrap { .. })
    }

    /// Whether no confined process can make a hard link (see [`links`]): every write to a
    /// file of a worktree then goes through a name inside it.
    pub fn refuses_hard_links(&self) -> bool {
        matches!(&self.kind, Kind::Bwrap { links: Some(_), .. })
    }

    /// The bwrap in use, if any.
    pub fn bwrap_path(&self) -> Option<&Path> {
        match &self.kind {
            Kind::Bwrap { path, .. } => Some(Path::new(path)),
            Kind::None { .. } => None,
        }
    }

    /// Why [`SandboxMode::Auto`] ended up with no sandbox: print it loudly.
    pub fn degraded(&self) -> Option<&str> {
        match &self.kind {
            Kind::None { reason } => reason.as_deref(),
            Kind::Bwrap { .. } => None,
        }
    }

    /// `spec` confined by `policy`: bwrap runs it, with the same arguments,
    /// working directory (which must be visible under the policy) and
    /// environment, plus `HOME` when the policy sets a home. With
    /// [`Network::Private`], a spec without a private network gets one with
    /// no ports. Without a sandbox, `spec` unchanged.
    pub fn wrap(&self, mut spec: CommandSpec, policy: &Policy) -> CommandSpec {
        let Kind::Bwrap {
            path: bwrap, links, ..
        } = &self.kind
        else {
            return spec;
        };
        // bwrap will not unshare the network: it must not be the host's.
        if policy.network == Network::Private && spec.private_net.is_none() {
            spec.private_net = Some(PrivateNet::default());
        }
        let program = program::resolve(&spec, &policy.mounts);
        // Explicit, so bwrap fails loudly instead of silently starting in
        // `/` when the directory is hidden.
        let cwd = spec.cwd.canonicalize().ok();
        if let Some(cwd) = cwd.as_deref().filter(|c| !policy.is_visible(c)) {
            tracing::warn!(cwd = %cwd.display(), "sandbox: the working directory is hidden by the policy");
        }
        let hosts = policy
            .hosts
            .as_deref()
            .and_then(Path::to_str)
            .map(|h| (h, "/etc/hosts"));
        let overs: Vec<(&str, &str)> = hosts
            .into_iter()
            .chain(
                policy
                    .files_over
                    .iter()
                    .filter_map(|(s, t)| Some((s.to_str()?, t.to_str()?))),
            )
            .collect();
        let mut args = flags::options(
            &policy.mounts,
            policy.network,
            &overs,
            cwd.as_deref().and_then(Path::to_str),
        );
        args.push("--".into());
        args.push(program);
        args.extend(spec.args);
        let mut env = spec.env;
        if let Some(home) = policy.home.as_deref().and_then(Path::to_str) {
            env.push(("HOME".into(), home.into()));
        }
        CommandSpec {
            program: bwrap.clone(),
            args,
            env,
            syscall_filter: links.clone(),
            ..spec
        }
    }

    /// What is confined, in a sentence or two, for `gaffer doctor` and `up`.
    pub fn describe(&self) -> String {
        self.to_string()
    }
}

impl fmt::Display for Sandbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            Kind::Bwrap {
                path,
                version,
                links,
            } => {
                write!(
                    f,
                    "sandboxed with {version} ({path}): task processes see the filesystem \
                     read-only except their worktree, scratch and agent directories, with your \
                     home, gaffer's state and your checkout hidden and a private /tmp; they run \
                     without capabilities in their own user, pid, ipc and uts namespaces (and \
                     network, unless allowed), in a new session, and die with gaffer"
                )?;
                match links {
                    Some(filter) => write!(f, "; {}", filter.what()),
                    None => f.write_str(
                        "; hard links are NOT refused (gaffer's system call filter has no \
                         numbers for this architecture, or bwrap or the kernel would not run \
                         under it: see the log), so every worktree is checked file by file \
                         after each run",
                    ),
                }
            }
            Kind::None { reason } => {
                f.write_str("NOT sandboxed")?;
                if let Some(reason) = reason {
                    write!(f, " ({reason})")?;
                }
                f.write_str(
                    ": task processes run with all your rights: they can read your home and \
                     secrets, write anywhere you can, see and signal your processes and use \
                     the network",
                )
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_a_sandbox_wrap_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let policy = Policy::builder(dir.path())
            .home(dir.path())
            .build()
            .unwrap();
        let spec = CommandSpec::shell("echo hi", dir.path()).env("A", "1");
        let sandbox = Sandbox::detect(SandboxMode::None).unwrap();
        assert!(!sandbox.is_confined());
        assert_eq!(sandbox.degraded(), None);
        assert_eq!(sandbox.wrap(spec.clone(), &policy), spec);
        assert!(sandbox.describe().starts_with("NOT sandboxed:"));
    }

    #[test]
    fn wrap_runs_bwrap_with_the_original_command_last() {
        let dir = tempfile::tempdir().unwrap();
        let wt = dir.path().canonicalize().unwrap();
        let policy = Policy::builder(&wt).home(&wt).build().unwrap();
        let sandbox = Sandbox {
            kind: Kind::Bwrap {
                path: "/usr/bin/bwrap".into(),
                version: "bubblewrap 0.8.0".into(),
                links: links::filter(),
            },
        };
        let spec = CommandSpec::new("/bin/echo", &wt)
            .args(["a", "--", "b"])
            .env("A", "1")
            .env_clear(true);
        let wrapped = sandbox.wrap(spec.clone(), &policy);
        assert_eq!(wrapped.program, "/usr/bin/bwrap");
        let dashes = wrapped.args.iter().position(|a| a == "--").unwrap();
        assert_eq!(wrapped.args[dashes + 1..], ["/bin/echo", "a", "--", "b"]);
        assert_eq!(
            wrapped.args[dashes - 2..dashes],
            ["--chdir", wt.to_str().unwrap()]
        );
        assert_eq!(wrapped.cwd, spec.cwd);
        assert!(wrapped.env_clear);
        assert_eq!(
            wrapped.env,
            [
                ("A".into(), "1".into()),
                ("HOME".into(), wt.to_str().unwrap().into())
            ]
        );
        assert!(sandbox.describe().contains("bubblewrap 0.8.0"));
        assert_eq!(wrapped.private_net, None);
    }

    #[test]
    fn a_private_network_is_never_the_hosts() {
        let dir = tempfile::tempdir().unwrap();
        let wt = dir.path().canonicalize().unwrap();
        let policy = Policy::builder(&wt)
            .network(Network::Private)
            .build()
            .unwrap();
        let sandbox = Sandbox {
            kind: Kind::Bwrap {
                path: "/usr/bin/bwrap".into(),
                version: "bubblewrap 0.8.0".into(),
                links: links::filter(),
            },
        };
        let spec = CommandSpec::new("/bin/true", &wt);
        let wrapped = sandbox.wrap(spec.clone(), &policy);
        assert_eq!(wrapped.private_net, Some(PrivateNet::default()));
        assert!(!wrapped.args.iter().any(|a| a == "--unshare-net"));
        let ports = PrivateNet::ports([443]);
        let wrapped = sandbox.wrap(spec.private_net(ports.clone()), &policy);
        assert_eq!(wrapped.private_net, Some(ports));
    }
}
