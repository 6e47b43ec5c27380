//! The child's half: entering the private network between fork and exec.
//!
//! This runs in a forked copy of a multi-threaded process, so it must be async-signal-safe:
//! raw system calls on data prepared before the fork, stack buffers, no allocation, no lock.
//! (Building an `io::Error` from an errno allocates nothing.)
//!
//! What it tells the parent over the channel is one message of two bytes, `[step, index]`:
//! [`DONE`] with the listeners attached, or the step that failed and, for a port, its index.
#![allow(unsafe_code)]

use std::ffi::CStr;
use std::io;
use std::mem::{size_of, zeroed};
use std::os::fd::{AsRawFd, OwnedFd, RawFd};

use libc::{c_int, c_uint, c_void};

use super::MAX_PRIVATE_PORTS;

/// Steps as sent over the channel.
pub(super) const DONE: u8 = 0;
pub(super) const UNSHARE: u8 = 1;
pub(super) const ID_MAP: u8 = 2;
pub(super) const LOOPBACK: u8 = 3;
pub(super) const LISTEN: u8 = 4;
pub(super) const HANDOFF: u8 = 5;

/// Room for one `SCM_RIGHTS` message carrying every listener.
// SAFETY: `CMSG_SPACE` is pure arithmetic on its argument.
const CONTROL_LEN: usize =
    unsafe { libc::CMSG_SPACE((MAX_PRIVATE_PORTS * size_of::<c_int>()) as c_uint) } as usize;

/// A control-message buffer aligned as `cmsghdr` requires.
#[repr(C)]
union Control {
    _align: libc::cmsghdr,
    bytes: [u8; CONTROL_LEN],
}

/// Everything the child needs, computed before the fork.
#[derive(Debug)]
pub(super) struct Setup {
    /// `/proc/self/uid_map`'s line: the effective uid mapped to itself.
    pub uid_map: Vec<u8>,
    /// `/proc/self/gid_map`'s line.
    pub gid_map: Vec<u8>,
    /// At most [`MAX_PRIVATE_PORTS`], checked by the parent.
    pub ports: Vec<u16>,
    /// The child's end of the socketpair.
    pub channel: OwnedFd,
}

/// A step that failed: its code, the port's index, the error.
type Failed = (u8, u8, io::Error);

impl Setup {
    /// Enters the private network and hands the listeners over; on failure tells the parent
    /// which step failed and returns its error, which fails the spawn.
    pub(super) fn enter(&self) -> io::Result<()> {
        self.try_enter().map_err(|(step, index, err)| {
            // Best effort: the errno reaches the parent through the spawn anyway.
            let _ = send(self.channel.as_raw_fd(), [step, index], &[]);
            err
        })
    }

    fn try_enter(&self) -> Result<(), Failed> {
        let at = |step: u8| move |err| (step, 0, err);
        // SAFETY: a plain system call. The child has a single thread, as CLONE_NEWUSER needs.
        check(unsafe { libc::unshare(libc::CLONE_NEWUSER | libc::CLONE_NEWNET) })
            .map_err(at(UNSHARE))?;
        // Without a mapping the process would be the overflow id; gid_map may only be written
        // by an unprivileged process once setgroups is denied.
        write_file(c"/proc/self/setgroups", b"deny").map_err(at(ID_MAP))?;
        write_file(c"/proc/self/uid_map", &self.uid_map).map_err(at(ID_MAP))?;
        write_file(c"/proc/self/gid_map", &self.gid_map).map_err(at(ID_MAP))?;
        loopback_up().map_err(at(LOOPBACK))?;
        let mut fds: [c_int; MAX_PRIVATE_PORTS] = [-1; MAX_PRIVATE_PORTS];
        let count = self.ports.len().min(MAX_PRIVATE_PORTS);
        for (index, (&port, fd)) in self.ports.iter().zip(fds.iter_mut()).enumerate() {
            *fd = listen(port).map_err(|err| (LISTEN, index as u8, err))?;
        }
        // The listeners are close-on-exec: after this the parent holds the only copies.
        send(self.channel.as_raw_fd(), [DONE, 0], &fds[..count]).map_err(at(HANDOFF))
    }
}

/// `Ok` unless a system call returned -1.
fn check(ret: c_int) -> io::Result<c_int> {
    if ret == -1 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

/// Writes `data` to `path` in one `write`, as the id map files require.
fn write_file(path: &CStr, data: &[u8]) -> io::Result<()> {
    // SAFETY: `path` is a NUL-terminated string that outlives the call.
    let fd = check(unsafe { libc::open(path.as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC) })?;
    // SAFETY: `data` is valid for `data.len()` bytes; `fd` is ours.
    let written = unsafe { libc::write(fd, data.as_ptr().cast(), data.len()) };
    let result = if written < 0 {
        Err(io::Error::last_os_error())
    } else if written as usize != data.len() {
        Err(io::Error::from_raw_os_error(libc::EIO))
    } else {
        Ok(())
    };
    // SAFETY: closes the descriptor opened above, once.
    unsafe { libc::close(fd) };
    result
}

/// Sets `IFF_UP` on `lo`, the namespace's only interface.
fn loopback_up() -> io::Result<()> {
    // SAFETY: a plain system call.
    let fd =
        check(unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) })?;
    // SAFETY: `ifreq` is plain data (arrays, integers and a union of them): zero is valid.
    let mut req: libc::ifreq = unsafe { zeroed() };
    for (dst, src) in req.ifr_name.iter_mut().zip(b"lo") {
        *dst = *src as libc::c_char;
    }
    // SAFETY: `req` is a valid `ifreq` naming `lo`; the kernel fills in its flags.
    let result =
        check(unsafe { libc::ioctl(fd, libc::SIOCGIFFLAGS as _, &raw mut req) }).and_then(|_| {
            // SAFETY: the flags member of the union, which SIOCGIFFLAGS just set.
            unsafe { req.ifr_ifru.ifru_flags |= libc::IFF_UP as libc::c_short };
            // SAFETY: `req` is a valid `ifreq` naming `lo`, with the flags to set.
            check(unsafe { libc::ioctl(fd, libc::SIOCSIFFLAGS as _, &raw const req) })
        });
    // SAFETY: closes the descriptor opened above, once.
    unsafe { libc::close(fd) };
    result.map(drop)
}

/// A close-on-exec TCP socket listening on `127.0.0.1:port`.
fn listen(port: u16) -> io::Result<RawFd> {
    // SAFETY: a plain system call.
    let fd =
        check(unsafe { libc::socket(libc::AF_INET, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0) })?;
    let result = bind_and_listen(fd, port);
    if result.is_err() {
        // SAFETY: closes the descriptor opened above, once.
        unsafe { libc::close(fd) };
    }
    result.map(|()| fd)
}

fn bind_and_listen(fd: RawFd, port: u16) -> io::Result<()> {
    // As std's `TcpListener::bind` does on Unix.
    let one: c_int = 1;
    // SAFETY: the option value points to a live `c_int` of the length given.
    check(unsafe {
        libc::setsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_REUSEADDR,
            (&raw const one).cast::<c_void>(),
            size_of::<c_int>() as libc::socklen_t,
        )
    })?;
    // SAFETY: `sockaddr_in` is plain data: zero is valid.
    let mut addr: libc::sockaddr_in = unsafe { zeroed() };
    addr.sin_family = libc::AF_INET as libc::sa_family_t;
    addr.sin_port = port.to_be();
    // Network byte order is the order of the bytes in memory.
    addr.sin_addr.s_addr = u32::from_ne_bytes([127, 0, 0, 1]);
    // SAFETY: `addr` is a valid `sockaddr_in` of the length given.
    check(unsafe {
        libc::bind(
            fd,
            (&raw const addr).cast::<libc::sockaddr>(),
            size_of::<libc::sockaddr_in>() as libc::socklen_t,
        )
    })?;
    // SAFETY: a plain system call.
    check(unsafe { libc::listen(fd, libc::SOMAXCONN) }).map(drop)
}

/// Sends the two-byte `message` over `channel`, with `fds` attached when there are any.
fn send(channel: RawFd, message: [u8; 2], fds: &[c_int]) -> io::Result<()> {
    let mut iov = libc::iovec {
        iov_base: message.as_ptr().cast_mut().cast(),
        iov_len: message.len(),
    };
    let mut control = Control {
        bytes: [0; CONTROL_LEN],
    };
    // SAFETY: `msghdr` is plain data (pointers and integers): zero is valid.
    let mut msg: libc::msghdr = unsafe { zeroed() };
    msg.msg_iov = &raw mut iov;
    msg.msg_iovlen = 1;
    let fds = &fds[..fds.len().min(MAX_PRIVATE_PORTS)];
    if !fds.is_empty() {
        let data_len = std::mem::size_of_val(fds) as c_uint;
        msg.msg_control = (&raw mut control).cast();
        // SAFETY (this block): `CMSG_*` are arithmetic on `msg`, whose control buffer holds
        // `CMSG_SPACE(data_len)` bytes (at most `CONTROL_LEN`, as `fds` is capped), so the
        // first header exists and its data has room for `data_len` bytes from `fds`.
        unsafe {
            msg.msg_controllen = libc::CMSG_SPACE(data_len) as _;
            let cmsg = libc::CMSG_FIRSTHDR(&raw const msg);
            if cmsg.is_null() {
                return Err(io::Error::from_raw_os_error(libc::EINVAL));
            }
            (*cmsg).cmsg_level = libc::SOL_SOCKET;
            (*cmsg).cmsg_type = libc::SCM_RIGHTS;
            (*cmsg).cmsg_len = libc::CMSG_LEN(data_len) as _;
            std::ptr::copy_nonoverlapping(
                fds.as_ptr().cast::<u8>(),
                libc::CMSG_DATA(cmsg),
                data_len as usize,
            );
        }
    }
    // SAFETY: `msg` points to `iov` and `control`, both alive for the call.
    let sent = unsafe { libc::sendmsg(channel, &raw const msg, libc::MSG_NOSIGNAL) };
    if sent < 0 {
        Err(io::Error::last_os_error())
    } else if sent as usize != message.len() {
        Err(io::Error::from_raw_os_error(libc::EIO))
    } else {
        Ok(())
    }
}
