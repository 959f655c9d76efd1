//! Socket options: `TCP_NODELAY`, TCP keepalive and raw options (Python's `sockopt`).

use std::time::Duration;

use socket2::{Socket, TcpKeepalive};

use crate::Error;

/// TCP keepalive timing; the default is what Python's websocket-client sets: first probe after
/// 30 s idle, then every 10 s, giving up after 3 unanswered probes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Keepalive {
    /// Idle time before the first probe (`TCP_KEEPIDLE`). Default 30 s.
    pub idle: Duration,
    /// Time between probes (`TCP_KEEPINTVL`). Default 10 s.
    pub interval: Duration,
    /// Unanswered probes before the connection is dropped (`TCP_KEEPCNT`), where the platform
    /// has it. Default 3.
    pub count: u32,
}

impl Default for Keepalive {
    fn default() -> Self {
        Self {
            idle: Duration::from_secs(30),
            interval: Duration::from_secs(10),
            count: 3,
        }
    }
}

/// The value of a raw socket option.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OptionValue {
    /// A C `int`, the common case (`1` to enable a flag).
    Int(i32),
    /// Raw bytes passed as they are (a `struct linger`, an interface name, ...).
    Bytes(Vec<u8>),
}

/// A raw socket option: `setsockopt(level, name, value)`, as in Python's
/// `sockopt=((socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 20),)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawOption {
    /// The protocol level (`libc::SOL_SOCKET`, `libc::IPPROTO_TCP`, ...).
    pub level: i32,
    /// The option name at that level (`libc::SO_SNDBUF`, ...).
    pub name: i32,
    /// The value.
    pub value: OptionValue,
}

/// Options applied to every TCP socket this crate opens, before it connects.
///
/// Defaults: `TCP_NODELAY` on (WebSocket frames are small and latency matters), keepalive
/// 30 s / 10 s / 3 (see [`Keepalive`]), no raw options.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SocketOptions {
    nodelay: bool,
    keepalive: Option<Keepalive>,
    raw: Vec<RawOption>,
}

impl Default for SocketOptions {
    fn default() -> Self {
        Self {
            nodelay: true,
            keepalive: Some(Keepalive::default()),
            raw: Vec::new(),
        }
    }
}

impl SocketOptions {
    /// Turns `TCP_NODELAY` on or off. Default on.
    #[must_use]
    pub fn nodelay(mut self, on: bool) -> Self {
        self.nodelay = on;
        self
    }

    /// Sets TCP keepalive timing, or `None` to leave keepalive off. Default
    /// `Some(Keepalive::default())`.
    #[must_use]
    pub fn keepalive(mut self, keepalive: Option<Keepalive>) -> Self {
        self.keepalive = keepalive;
        self
    }

    /// Adds a raw option, applied after the ones above (so it can override them). Unix only.
    #[must_use]
    pub fn raw(mut self, level: i32, name: i32, value: OptionValue) -> Self {
        self.raw.push(RawOption { level, name, value });
        self
    }

    /// The raw options added so far.
    #[must_use]
    pub fn raw_options(&self) -> &[RawOption] {
        &self.raw
    }

    pub(crate) fn apply(&self, socket: &Socket) -> Result<(), Error> {
        let fail = |option: String| move |source| Error::SocketOption { option, source };
        socket
            .set_tcp_nodelay(self.nodelay)
            .map_err(fail("TCP_NODELAY".into()))?;
        if let Some(k) = self.keepalive {
            let params = TcpKeepalive::new()
                .with_time(k.idle)
                .with_interval(k.interval);
            #[cfg(any(
                target_os = "linux",
                target_os = "android",
                target_os = "macos",
                target_os = "ios",
                target_os = "freebsd",
                target_os = "netbsd"
            ))]
            let params = params.with_retries(k.count);
            socket
                .set_tcp_keepalive(&params)
                .map_err(fail("TCP keepalive".into()))?;
        }
        for option in &self.raw {
            let bytes = match &option.value {
                OptionValue::Int(v) => v.to_ne_bytes().to_vec(),
                OptionValue::Bytes(b) => b.clone(),
            };
            let name = format!(
                "level {} name {} = {:?}",
                option.level, option.name, option.value
            );
            set_raw(socket, option.level, option.name, &bytes).map_err(fail(name))?;
        }
        Ok(())
    }
}

#[cfg(unix)]
fn set_raw(socket: &Socket, level: i32, name: i32, value: &[u8]) -> std::io::Result<()> {
    crate::sys::setsockopt(socket, level, name, value)
}

#[cfg(not(unix))]
fn set_raw(_: &Socket, _: i32, _: i32, _: &[u8]) -> std::io::Result<()> {
    Err(std::io::Error::new(
        std::io::ErrorKind::Unsupported,
        "raw socket options need Unix",
    ))
}
