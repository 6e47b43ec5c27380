//! What a confined process may see and touch.

use std::fmt;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use crate::error::SandboxError;
use crate::hosts;
use crate::mounts::{self, Access, Mount};

/// Whether the process gets the host's network.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Network {
    /// Its own empty network namespace (loopback only): no connections to
    /// the host or the internet.
    #[default]
    None,
    /// The host's network, including every service listening on its
    /// loopback.
    Host,
    /// The network namespace gaffer-proc made for the process
    /// ([`gaffer_proc::PrivateNet`]): only a loopback on which gaffer listens
    /// at the spec's ports, to relay them (see [`crate::relay`]). bwrap keeps
    /// it rather than making another; [`crate::Sandbox::wrap`] gives a spec
    /// without one an empty one, so this never means the host's network.
    Private,
}

/// What a process started for a task may see and touch. Build one with
/// [`Policy::builder`].
///
/// Everything not listed stays visible read-only; the paths given to
/// [`PolicyBuilder::hide`] are replaced by an empty read-only directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    pub(crate) mounts: Vec<Mount>,
    pub(crate) worktree: PathBuf,
    pub(crate) home: Option<PathBuf>,
    pub(crate) network: Network,
    /// A file to bind read-only over `/etc/hosts`, canonical.
    pub(crate) hosts: Option<PathBuf>,
    /// Files bound read-only over other files: `(source, target)`, both canonical.
    pub(crate) files_over: Vec<(PathBuf, PathBuf)>,
}

impl Policy {
    /// Starts a policy whose process may write to `worktree` (which must
    /// exist when [`PolicyBuilder::build`] runs).
    pub fn builder(worktree: impl Into<PathBuf>) -> PolicyBuilder {
        PolicyBuilder {
            worktree: worktree.into(),
            worktree_access: Access::Writable,
            home: None,
            network: Network::default(),
            paths: Vec::new(),
            hosts: None,
            files_over: Vec::new(),
        }
    }

    /// The worktree, canonical.
    pub fn worktree(&self) -> &Path {
        &self.worktree
    }

    /// The process's home directory, canonical, if one was set.
    pub fn home(&self) -> Option<&Path> {
        self.home.as_deref()
    }

    /// The network the process gets.
    pub fn network(&self) -> Network {
        self.network
    }

    /// The file bound over `/etc/hosts`, if any.
    pub fn hosts(&self) -> Option<&Path> {
        self.hosts.as_deref()
    }

    /// Whether `path` (canonical) would be visible inside the sandbox.
    pub fn is_visible(&self, path: &Path) -> bool {
        mounts::visible(&self.mounts, path)
    }

    fn list(&self, access: Access) -> Vec<String> {
        self.mounts
            .iter()
            .filter(|m| m.access == access)
            .map(|m| m.path.display().to_string())
            .collect()
    }
}

impl fmt::Display for Policy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let none = |v: Vec<String>| {
            if v.is_empty() {
                "-".to_owned()
            } else {
                v.join(", ")
            }
        };
        write!(
            f,
            "writable: {}; extra read-only: {}; hidden: {}; network: {}",
            none(self.list(Access::Writable)),
            none(self.list(Access::ReadOnly)),
            none(self.list(Access::Hidden)),
            match self.network {
                Network::None => "none",
                Network::Host => "host",
                Network::Private => "private",
            }
        )?;
        match &self.hosts {
            Some(hosts) => write!(f, "; /etc/hosts: {}", hosts.display()),
            None => Ok(()),
        }
    }
}

/// Builds a [`Policy`]. Optional paths that do not exist are skipped (with
/// a debug log), so a run never fails for a missing cache directory.
#[derive(Debug, Clone)]
pub struct PolicyBuilder {
    worktree: PathBuf,
    worktree_access: Access,
    home: Option<PathBuf>,
    network: Network,
    paths: Vec<(PathBuf, Access)>,
    hosts: Option<(PathBuf, Vec<(String, IpAddr)>)>,
    files_over: Vec<(PathBuf, PathBuf)>,
}

impl PolicyBuilder {
    /// `source` (a file or a directory) is what the process sees at `target` (e.g. a
    /// worktree's `.git`), read-only: a bind mount point cannot be replaced or removed from
    /// inside. `source` and the directory holding `target` must exist when the policy is
    /// built; `target` is taken as named, even when it is a symbolic link (its directory is
    /// resolved, not it), so a link's own path can show what it points to.
    pub fn read_only_over(
        mut self,
        source: impl Into<PathBuf>,
        target: impl Into<PathBuf>,
    ) -> Self {
        self.files_over.push((source.into(), target.into()));
        self
    }

    /// The worktree stays visible but read-only: for runs that must not change it (reviewers,
    /// planners).
    pub fn worktree_read_only(mut self) -> Self {
        self.worktree_access = Access::ReadOnly;
        self
    }

    /// Another writable path: the run's scratch directory, the agent's data
    /// directory.
    pub fn writable(mut self, path: impl Into<PathBuf>) -> Self {
        self.paths.push((path.into(), Access::Writable));
        self
    }

    /// A path to keep visible read-only, typically inside a hidden one
    /// (the agent's CLI installed under the user's home).
    pub fn read_only(mut self, path: impl Into<PathBuf>) -> Self {
        self.paths.push((path.into(), Access::ReadOnly));
        self
    }

    /// A path to hide: the user's home, gaffer's state directory, the
    /// user's checkout. Listed writable or read-only paths inside it stay
    /// visible. A hidden file (a socket, say) is replaced by `/dev/null`.
    pub fn hide(mut self, path: impl Into<PathBuf>) -> Self {
        self.paths.push((path.into(), Access::Hidden));
        self
    }

    /// The process's home: `HOME` is set to it and it is writable. Must
    /// exist when the policy is built.
    pub fn home(mut self, path: impl Into<PathBuf>) -> Self {
        self.home = Some(path.into());
        self
    }

    /// Which network the process gets (default: [`Network::None`]).
    pub fn network(mut self, network: Network) -> Self {
        self.network = network;
        self
    }

    /// The process's `/etc/hosts`: [`PolicyBuilder::build`] writes a hosts
    /// file at `file` mapping each name to its address (after the usual
    /// `localhost` lines), and the sandbox binds it read-only over
    /// `/etc/hosts`. With [`Network::Private`], map the names of relayed
    /// services to `127.0.0.1`. Put `file` where the process cannot write
    /// (in a hidden directory is fine: bwrap binds from the host's view).
    pub fn hosts(mut self, file: impl Into<PathBuf>, entries: Vec<(String, IpAddr)>) -> Self {
        self.hosts = Some((file.into(), entries));
        self
    }

    /// Resolves every path (symlinks followed) and orders the mounts; writes
    /// the hosts file, if any.
    ///
    /// Errors if the worktree or the home does not exist, a path is not
    /// UTF-8, a name for the hosts file is not a host name or the file
    /// cannot be written; other missing paths are skipped.
    pub fn build(self) -> Result<Policy, SandboxError> {
        let worktree = required("worktree", &self.worktree)?;
        let home = self
            .home
            .as_deref()
            .map(|h| required("home", h))
            .transpose()?;
        let mut resolved = vec![resolved_mount(worktree.clone(), self.worktree_access)];
        resolved.extend(home.clone().map(|h| resolved_mount(h, Access::Writable)));
        for (path, access) in self.paths {
            match path.canonicalize() {
                Ok(canonical) => {
                    utf8(&canonical)?;
                    resolved.push(resolved_mount(canonical, access));
                }
                Err(err) => {
                    tracing::debug!(path = %path.display(), ?access, %err, "sandbox: skipping missing path");
                }
            }
        }
        let hosts = match &self.hosts {
            Some((file, entries)) => {
                let written = hosts::write(file, entries)?;
                utf8(&written)?;
                Some(written)
            }
            None => None,
        };
        let mut files_over = Vec::new();
        for (source, target) in &self.files_over {
            let (source, target) = (required("file", source)?, required_place(target)?);
            files_over.push((source, target));
        }
        Ok(Policy {
            mounts: mounts::order(resolved),
            worktree,
            home,
            network: self.network,
            hosts,
            files_over,
        })
    }
}

fn required(what: &'static str, path: &Path) -> Result<PathBuf, SandboxError> {
    let canonical = path
        .canonicalize()
        .map_err(|source| SandboxError::MissingPath {
            what,
            path: path.to_path_buf(),
            source,
        })?;
    utf8(&canonical)?;
    Ok(canonical)
}

/// `path` with its directory made canonical and its last component kept as it is.
fn required_place(path: &Path) -> Result<PathBuf, SandboxError> {
    match (path.parent(), path.file_name()) {
        (Some(dir), Some(name)) if !dir.as_os_str().is_empty() => {
            let place = required("directory", dir)?.join(name);
            utf8(&place)?;
            Ok(place)
        }
        _ => required("file", path),
    }
}

fn utf8(path: &Path) -> Result<(), SandboxError> {
    match path.to_str() {
        Some(_) => Ok(()),
        None => Err(SandboxError::NonUtf8Path {
            path: path.to_path_buf(),
        }),
    }
}

fn resolved_mount(path: PathBuf, access: Access) -> Mount {
    let is_dir = path.is_dir();
    Mount {
        path,
        access,
        is_dir,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_worktree_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let err = Policy::builder(dir.path().join("gone"))
            .build()
            .unwrap_err();
        assert!(
            matches!(
                err,
                SandboxError::MissingPath {
                    what: "worktree",
                    ..
                }
            ),
            "{err}"
        );
    }

    #[test]
    fn a_missing_home_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let err = Policy::builder(dir.path())
            .home(dir.path().join("gone"))
            .build()
            .unwrap_err();
        assert!(
            matches!(err, SandboxError::MissingPath { what: "home", .. }),
            "{err}"
        );
    }

    #[test]
    fn missing_optional_paths_are_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let policy = Policy::builder(dir.path())
            .writable(dir.path().join("no-scratch"))
            .read_only(dir.path().join("no-cli"))
            .hide(dir.path().join("no-home"))
            .build()
            .unwrap();
        assert_eq!(policy.mounts.len(), 1);
    }

    #[test]
    fn symlinks_are_resolved() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real");
        std::fs::create_dir(&real).unwrap();
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        let policy = Policy::builder(&link).hide(&link).build().unwrap();
        let canonical = real.canonicalize().unwrap();
        assert_eq!(policy.worktree(), canonical);
        // Hidden and writable at the same path: writable wins.
        assert_eq!(policy.mounts.len(), 1);
        assert_eq!(policy.mounts[0].access, Access::Writable);
    }

    #[test]
    fn hosts_are_written_at_build() {
        let dir = tempfile::tempdir().unwrap();
        let wt = dir.path().canonicalize().unwrap();
        let file = wt.join("hosts");
        let policy = Policy::builder(&wt)
            .network(Network::Private)
            .hosts(&file, vec![("x.test".into(), [127, 0, 0, 1].into())])
            .build()
            .unwrap();
        assert_eq!(policy.hosts(), Some(file.as_path()));
        assert!(std::fs::read_to_string(&file).unwrap().contains("x.test"));
        assert!(
            policy
                .to_string()
                .ends_with(&format!("network: private; /etc/hosts: {}", file.display())),
            "{policy}"
        );
        let bad = Policy::builder(&wt)
            .hosts(&file, vec![("a b".into(), [127, 0, 0, 1].into())])
            .build();
        assert!(matches!(bad, Err(SandboxError::InvalidHostName { .. })));
    }

    #[test]
    fn display_lists_what_is_confined() {
        let dir = tempfile::tempdir().unwrap();
        let wt = dir.path().canonicalize().unwrap();
        let policy = Policy::builder(&wt).network(Network::Host).build().unwrap();
        assert_eq!(
            policy.to_string(),
            format!(
                "writable: {}; extra read-only: -; hidden: -; network: host",
                wt.display()
            )
        );
    }
}
