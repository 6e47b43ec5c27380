//! A network namespace of the child's own, with listeners the parent keeps.
//!
//! A process confined to a private network must still reach a few services on the host (its
//! model's API, gaffer's own HTTP port). bubblewrap has no port forwarding, and a daemon that
//! is not root cannot enter a namespace bwrap made (`setns` needs `CAP_SYS_ADMIN` over its
//! owner). So the namespace is made here instead, by the forked child itself between fork and
//! exec (`child`): it creates a user namespace (mapping its own uid and gid to themselves, so
//! file ownership looks the same) and a network namespace owned by it, brings `lo` up, listens
//! on `127.0.0.1:<port>` for every requested port (ports below 1024 too: it owns the
//! namespace), and sends the listening sockets to gaffer over a socketpair made before the
//! fork (`handoff`). Then it execs as usual; everything it starts (bwrap included, which must
//! then not `--unshare-net`) stays in that namespace.
//!
//! A socket belongs to the namespace it was created in, wherever its descriptor goes: gaffer
//! accepts connections made inside on the listeners and relays each one wherever it likes,
//! from the host's network. Nothing else on the host, its loopback included, is reachable
//! from inside; neither are abstract Unix sockets, which are per network namespace.
//!
//! Any failure in the child fails the spawn ([`crate::ProcError::PrivateNet`]): it never runs
//! with the host's network by accident.
//!
//! Cost: a user and a network namespace per spawn, a few milliseconds on top of the fork and
//! exec, most of it the kernel making the network namespace, which bwrap's `--unshare-net`
//! pays too (the `private_net_cost` test prints a figure). The kernel tears a network
//! namespace down asynchronously, after its last process and socket are gone.
//!
//! Where user namespaces are allowed only to some programs (Ubuntu 23.10+ with
//! `kernel.apparmor_restrict_unprivileged_userns=1`, which has a profile for bwrap but not
//! for gaffer), the namespace is made without capabilities in it, so the setup should fail at
//! the loopback step (not tried here): gaffer then needs an AppArmor profile allowing `userns`,
//! or the sysctl off.

mod child;
mod handoff;

use std::fmt;

pub(crate) use handoff::prepare;

/// At most this many ports per private network: every listener travels in one message.
pub const MAX_PRIVATE_PORTS: usize = 32;

/// A private network namespace for a child: only a loopback interface, with gaffer listening
/// on `127.0.0.1` at each of `ports` (the listeners are handed back with the process; see
/// [`crate::LineProcess::listeners`] and [`crate::run_with_listeners`]).
///
/// Needs unprivileged user namespaces (as bubblewrap does). The child runs in a user namespace
/// of its own in which its uid and gid map to themselves (as root: 0 to 0), with `setgroups`
/// denied; files of other users show as owned by the overflow id (`nobody`). Ports must be
/// nonzero and distinct, at most [`MAX_PRIVATE_PORTS`]; below 1024 is fine.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PrivateNet {
    /// Where gaffer listens inside the namespace, on `127.0.0.1`.
    pub ports: Vec<u16>,
}

impl PrivateNet {
    /// A private network in which gaffer listens on `ports`.
    pub fn ports(ports: impl IntoIterator<Item = u16>) -> Self {
        Self {
            ports: ports.into_iter().collect(),
        }
    }
}

/// Which part of setting up a private network failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NetStep {
    /// The request itself: a port 0, or more than [`MAX_PRIVATE_PORTS`] ports (nothing was
    /// started).
    Request,
    /// Creating the user and network namespaces: user namespaces are disabled or exhausted
    /// (`sysctl user.max_user_namespaces`), or gaffer runs in a chroot or under a seccomp
    /// filter that forbids them.
    Unshare,
    /// Mapping the uid and gid into the new user namespace.
    IdMap,
    /// Bringing the loopback interface up.
    Loopback,
    /// Listening on `127.0.0.1` at this port (a duplicate port fails here).
    Listen(u16),
    /// Handing the listeners to gaffer.
    Handoff,
}

impl fmt::Display for NetStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Request => f.write_str("invalid request"),
            Self::Unshare => f.write_str("creating user and network namespaces"),
            Self::IdMap => f.write_str("mapping uid and gid"),
            Self::Loopback => f.write_str("bringing up the loopback interface"),
            Self::Listen(port) => write!(f, "listening on 127.0.0.1:{port}"),
            Self::Handoff => f.write_str("handing the listeners to gaffer"),
        }
    }
}
