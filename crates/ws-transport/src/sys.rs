//! The crate's only `unsafe`: `setsockopt(2)` with a caller-chosen level and name, which is
//! what Python's `sockopt=((level, name, value), ...)` does and what neither std nor socket2
//! offers (socket2 has one typed method per known option).

use std::io;
use std::os::fd::{AsFd, AsRawFd};

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
