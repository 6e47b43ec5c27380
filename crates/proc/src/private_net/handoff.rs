//! The parent's half: the socketpair, the child's setup installed before its exec, and what
//! the child sent back (the listeners, or the step that failed) read after the spawn.

use std::io::{self, IoSliceMut};
use std::net::TcpListener;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

use nix::sys::socket::{
    AddressFamily, ControlMessageOwned, MsgFlags, SockFlag, SockType, recvmsg, socketpair,
};
use tokio::process::Command;

use super::child::{self, Setup};
use super::{MAX_PRIVATE_PORTS, NetStep, PrivateNet};

/// The parent's end of a private network being set up.
#[derive(Debug)]
pub(crate) struct Handoff {
    channel: OwnedFd,
    ports: Vec<u16>,
}

/// What the child sent: its two-byte message (`None` if it sent none) and the descriptors.
type Received = (Option<[u8; 2]>, Vec<OwnedFd>);

/// Checks `net` and makes the child of `cmd` enter it, before any `pre_exec` installed later.
pub(crate) fn prepare(
    net: &PrivateNet,
    cmd: &mut Command,
) -> Result<Handoff, (NetStep, io::Error)> {
    validate(&net.ports).map_err(|err| (NetStep::Request, err))?;
    let (channel, child_end) = socketpair(
        AddressFamily::Unix,
        SockType::SeqPacket,
        None,
        SockFlag::SOCK_CLOEXEC,
    )
    .map_err(|errno| (NetStep::Handoff, io::Error::from(errno)))?;
    let (uid, gid) = (nix::unistd::geteuid(), nix::unistd::getegid());
    let setup = Setup {
        uid_map: format!("{uid} {uid} 1").into_bytes(),
        gid_map: format!("{gid} {gid} 1").into_bytes(),
        ports: net.ports.clone(),
        // Owned by the command: our copy closes when it is dropped, right after the spawn.
        channel: child_end,
    };
    #[allow(unsafe_code)]
    // SAFETY: `pre_exec` runs the closure in the forked child before exec, where only
    // async-signal-safe operations are allowed: `Setup::enter` makes raw system calls on data
    // prepared here, with stack buffers, and neither allocates nor locks (see `child`).
    unsafe {
        cmd.pre_exec(move || setup.enter());
    }
    Ok(Handoff {
        channel,
        ports: net.ports.clone(),
    })
}

fn validate(ports: &[u16]) -> io::Result<()> {
    let invalid = |what: String| Err(io::Error::new(io::ErrorKind::InvalidInput, what));
    if ports.len() > MAX_PRIVATE_PORTS {
        return invalid(format!(
            "{} ports asked for, at most {MAX_PRIVATE_PORTS} allowed",
            ports.len()
        ));
    }
    if ports.contains(&0) {
        return invalid("port 0 asked for".into());
    }
    Ok(())
}

impl Handoff {
    /// After a successful spawn: the listeners, in the order of the ports.
    pub(crate) fn receive(self) -> Result<Vec<(u16, TcpListener)>, (NetStep, io::Error)> {
        let handoff_error = |what: String| (NetStep::Handoff, io::Error::other(what));
        let (message, fds) = receive(self.channel.as_raw_fd(), self.ports.len())
            .map_err(|err| (NetStep::Handoff, err))?;
        match message {
            Some([child::DONE, _]) if fds.len() == self.ports.len() => Ok(self
                .ports
                .iter()
                .zip(fds)
                .map(|(&port, fd)| (port, TcpListener::from(fd)))
                .collect()),
            Some([child::DONE, _]) => Err(handoff_error(format!(
                "expected {} listeners, got {}",
                self.ports.len(),
                fds.len()
            ))),
            Some(failed) => Err(handoff_error(format!(
                "the child reported a failed step ({:?}) yet started",
                self.step(failed)
            ))),
            None => Err(handoff_error("the child sent nothing".into())),
        }
    }

    /// After a failed spawn: the step that failed, if the child got as far as saying so.
    pub(crate) fn failed_step(&self) -> Option<NetStep> {
        match receive(self.channel.as_raw_fd(), self.ports.len()) {
            Ok((Some(message), _)) => self.step(message),
            _ => None,
        }
    }

    /// The step a message names; `None` for [`child::DONE`].
    fn step(&self, [code, index]: [u8; 2]) -> Option<NetStep> {
        Some(match code {
            child::DONE => return None,
            child::UNSHARE => NetStep::Unshare,
            child::ID_MAP => NetStep::IdMap,
            child::LOOPBACK => NetStep::Loopback,
            child::LISTEN => NetStep::Listen(self.ports.get(usize::from(index)).copied()?),
            _ => NetStep::Handoff,
        })
    }
}

/// Reads the child's message without waiting: it was sent before the spawn returned.
fn receive(channel: RawFd, expected: usize) -> io::Result<Received> {
    let mut message = [0u8; 2];
    let mut iov = [IoSliceMut::new(&mut message)];
    let mut space = nix::cmsg_space!([RawFd; MAX_PRIVATE_PORTS]);
    let msg = recvmsg::<()>(
        channel,
        &mut iov,
        Some(&mut space),
        MsgFlags::MSG_DONTWAIT | MsgFlags::MSG_CMSG_CLOEXEC,
    )?;
    let bytes = msg.bytes;
    let mut fds = Vec::with_capacity(expected);
    for cmsg in msg.cmsgs()? {
        if let ControlMessageOwned::ScmRights(raw) = cmsg {
            #[allow(unsafe_code)]
            // SAFETY: descriptors received with SCM_RIGHTS are new in this process and owned
            // by nobody else.
            fds.extend(
                raw.into_iter()
                    .map(|fd| unsafe { OwnedFd::from_raw_fd(fd) }),
            );
        }
    }
    Ok(match bytes {
        0 => (None, fds),
        2 => (Some(message), fds),
        _ => {
            return Err(io::Error::other(format!(
                "a {bytes}-byte message from the child"
            )));
        }
    })
}
