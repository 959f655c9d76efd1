//! The crate's only `unsafe`: two system calls that neither std nor socket2 offers.
//!
//! - `setsockopt(2)` with a caller-chosen level and name, which is what Python's
//!   `sockopt=((level, name, value), ...)` does (socket2 has one typed method per known
//!   option).
//! - `poll(2)` on one descriptor, which lets a blocked reader also wait for the socket to take
//!   queued control frames, and bounds a write by a deadline instead of a per-call timeout.

use std::io;
use std::os::fd::{AsFd, AsRawFd, RawFd};
use std::time::Duration;

/// Sets a raw socket option; `value` is passed to the kernel as is.
#[allow(unsafe_code)]
pub(crate) fn setsockopt(
    socket: &impl AsFd,
    level: i32,
    name: i32,
    value: &[u8],
) -> io::Result<()> {
    let len = libc::socklen_t::try_from(value.len())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "option value too long"))?;
    let fd = socket.as_fd().as_raw_fd();
    // SAFETY: `fd` is borrowed from a live socket for the duration of the call; the pointer
    // and length describe `value`, which outlives the call, and setsockopt only reads from it.
    // An unknown level or name is reported by the kernel as an error, not undefined behaviour.
    let rc = unsafe { libc::setsockopt(fd, level, name, value.as_ptr().cast(), len) };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// What [`poll`] waits for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Interest {
    Read,
    Write,
    ReadWrite,
}

/// What [`poll`] found. An error or hang-up condition counts as both readable and writable:
/// the read or write that follows reports it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Ready {
    pub(crate) readable: bool,
    pub(crate) writable: bool,
}

/// Waits until `fd` is ready for `interest` or `timeout` passes (`None`: no limit). A timeout
/// returns `Ready::default()`; an interrupted wait returns early the same way, and the
/// callers, which loop on a deadline, simply wait again.
#[allow(unsafe_code)]
pub(crate) fn poll(fd: RawFd, interest: Interest, timeout: Option<Duration>) -> io::Result<Ready> {
    let events = match interest {
        Interest::Read => libc::POLLIN,
        Interest::Write => libc::POLLOUT,
        Interest::ReadWrite => libc::POLLIN | libc::POLLOUT,
    };
    let mut pfd = libc::pollfd {
        fd,
        events,
        revents: 0,
    };
    // Round up, so a wait of 0.3 ms is not a busy loop of zero-millisecond polls.
    let millis = timeout.map_or(-1, |t| {
        let ms = t.as_nanos().div_ceil(1_000_000);
        i32::try_from(ms).unwrap_or(i32::MAX)
    });
    // SAFETY: `pfd` is a valid, initialised pollfd that lives for the whole call, and the
    // count 1 matches it. `fd` belongs to a socket the caller keeps open during the call; a
    // closed descriptor is reported through `revents` (POLLNVAL), not undefined behaviour.
    let rc = unsafe { libc::poll(&mut pfd, 1, millis) };
    if rc < 0 {
        let e = io::Error::last_os_error();
        return if e.kind() == io::ErrorKind::Interrupted {
            Ok(Ready::default())
        } else {
            Err(e)
        };
    }
    let trouble = pfd.revents & (libc::POLLERR | libc::POLLHUP | libc::POLLNVAL) != 0;
    Ok(Ready {
        readable: trouble || pfd.revents & libc::POLLIN != 0,
        writable: trouble || pfd.revents & libc::POLLOUT != 0,
    })
}
