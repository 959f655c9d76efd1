//! Opening connections: DNS, TCP, Unix, proxies, TLS.

use std::io;
use std::net::{IpAddr, SocketAddr, TcpStream, ToSocketAddrs};
use std::path::PathBuf;
#[cfg(feature = "tls")]
use std::sync::Arc;
use std::sync::mpsc;
use std::time::Duration;

#[cfg(feature = "tls")]
use rustls::ClientConnection;
#[cfg(feature = "tls")]
use rustls::pki_types::ServerName;
use socket2::{Domain, Protocol, SockAddr, Socket, Type};

use crate::deadline::Deadline;
use crate::error::ShowDuration;
use crate::socks::{self, Progress, Socks4Reply, Socks5Method, Socks5Reply, Target};
#[cfg(feature = "tls")]
use crate::stream::Raw;
use crate::url::HostPort;
use crate::{
    Error, NoProxy, Proxy, ProxyConfig, ProxyError, ProxyKind, ProxyStream, SocketOptions, Stream,
    WsUrl,
};
#[cfg(feature = "tls")]
use crate::{TlsConfig, TlsError};

/// How to reach the server: everything Python's `create_connection` takes about the
/// connection itself.
///
/// Defaults: no connect timeout (the operating system's), proxies from the environment,
/// [`SocketOptions::default`], [`TlsConfig::default`], TCP to the URL's host.
///
/// ```no_run
/// use std::time::Duration;
/// use ws_transport::{connect, Proxy, ProxyConfig, ProxyKind, TransportConfig, WsUrl};
/// let config = TransportConfig::default()
///     .connect_timeout(Some(Duration::from_secs(5)))
///     .proxy(ProxyConfig::Explicit(Proxy::new(ProxyKind::Socks5h, "127.0.0.1", None)));
/// let stream = connect(&WsUrl::parse("wss://example.org/chat")?, &config)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct TransportConfig {
    connect_timeout: Option<Duration>,
    proxy_timeout: Option<Duration>,
    socket: SocketOptions,
    proxy: ProxyConfig,
    no_proxy: Option<NoProxy>,
    #[cfg(feature = "tls")]
    tls: TlsConfig,
    unix_socket: Option<PathBuf>,
}

impl TransportConfig {
    /// Time limit for opening the connection, all of it: resolving the host name, every TCP
    /// connect attempt (or the wait for room at a busy Unix socket), the exchange with a
    /// proxy and the TLS handshake together. Default `None`: the operating system's limits.
    ///
    /// When the name has several addresses, each attempt gets an equal share of the time
    /// left for the addresses not yet tried, but at least 2 s (or all that is left, if
    /// less): an address that does not answer cannot take the whole limit from the others,
    /// and a long list does not cut every attempt short. The system resolver takes no time
    /// limit, so with one the lookup runs on a thread of its own and is given up on (left to
    /// finish there) when the time runs out.
    #[must_use]
    pub fn connect_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Time limit for the exchange with the proxy (Python's `proxy_timeout`), including the
    /// local lookup of the target's address that plain SOCKS4 and SOCKS5 need. The exchange
    /// stays within the connect timeout as well: it ends at whichever limit comes first.
    /// Default `None`: the connect timeout alone.
    #[must_use]
    pub fn proxy_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.proxy_timeout = timeout;
        self
    }

    /// TCP socket options. Default [`SocketOptions::default`].
    #[must_use]
    pub fn socket_options(mut self, options: SocketOptions) -> Self {
        self.socket = options;
        self
    }

    /// Where the proxy comes from. Default [`ProxyConfig::FromEnv`].
    #[must_use]
    pub fn proxy(mut self, proxy: ProxyConfig) -> Self {
        self.proxy = proxy;
        self
    }

    /// Hosts reached without a proxy, replacing the environment's `no_proxy` (Python's
    /// `http_no_proxy`). Default `None`: the environment's.
    #[must_use]
    pub fn no_proxy(mut self, list: Option<NoProxy>) -> Self {
        self.no_proxy = list;
        self
    }

    /// TLS options for `wss://`. Default [`TlsConfig::default`].
    #[cfg(feature = "tls")]
    #[must_use]
    pub fn tls(mut self, tls: TlsConfig) -> Self {
        self.tls = tls;
        self
    }

    /// Connects to this Unix socket path instead of the URL's host (the URL still gives the
    /// `Host` header and, for `wss://`, the TLS name). Proxies are not used. Unix only.
    #[must_use]
    pub fn unix_socket(mut self, path: Option<PathBuf>) -> Self {
        self.unix_socket = path;
        self
    }

    /// The TLS options.
    #[cfg(feature = "tls")]
    #[must_use]
    pub fn tls_config(&self) -> &TlsConfig {
        &self.tls
    }

    /// The connect timeout.
    #[must_use]
    pub fn timeout(&self) -> Option<Duration> {
        self.connect_timeout
    }
}

/// Opens the connection `url` needs: through the chosen proxy if any, then TLS for `wss://`.
/// The returned stream has no read or write timeout set.
///
/// # Errors
/// [`Error`] saying which step failed: resolution, each connect attempt, the proxy, TLS, a
/// timeout.
pub fn connect(url: &WsUrl, config: &TransportConfig) -> Result<Stream, Error> {
    if url.is_secure() {
        // A broken TLS setting (a missing CA file) fails before anything is dialled.
        #[cfg(feature = "tls")]
        config.tls.rustls_config()?;
        #[cfg(not(feature = "tls"))]
        return Err(no_tls());
    }
    // One deadline for all of it: the lookup, every connect attempt, the proxy's exchange
    // and the TLS handshake.
    let mut deadline = Deadline::started(config.connect_timeout);
    let stream = if let Some(path) = &config.unix_socket {
        if matches!(config.proxy, ProxyConfig::Explicit(_)) {
            return Err(Error::InvalidConfig(
                "a Unix socket path and a proxy cannot be combined".into(),
            ));
        }
        connect_unix(path, &mut deadline)?
    } else {
        match config.proxy.select(url, config.no_proxy.as_ref())? {
            Some(proxy) => {
                let tcp = through_proxy(&proxy, url.host(), url.port(), config, &mut deadline)?;
                stream_io(Stream::from_tcp(tcp), "set up the proxied socket")?
            }
            None => {
                let tcp = connect_tcp_within(url.host(), url.port(), config, &mut deadline)?;
                stream_io(Stream::from_tcp(tcp), "set up the socket")?
            }
        }
    };
    if url.is_secure() {
        wrap_tls(stream, url.host(), config, &mut deadline)
    } else {
        Ok(stream)
    }
}

/// Uses a stream the caller connected (Python's `socket=`): nothing is dialled, and for
/// `wss://` TLS is laid over it with `config`'s TLS options, within the connect timeout.
///
/// # Errors
/// TLS failures, when `url` is `wss://`.
pub fn connect_over(
    url: &WsUrl,
    stream: Stream,
    config: &TransportConfig,
) -> Result<Stream, Error> {
    if url.is_secure() {
        let mut deadline = Deadline::started(config.connect_timeout);
        wrap_tls(stream, url.host(), config, &mut deadline)
    } else {
        Ok(stream)
    }
}

/// The error for `wss://` in a build without TLS.
#[cfg(not(feature = "tls"))]
fn no_tls() -> Error {
    Error::InvalidConfig(
        "wss:// needs TLS, and this build has none: enable the `tls` feature of ws-client (or \
         ws-transport), which its defaults include"
            .into(),
    )
}

/// Without TLS built in, `wss://` is refused.
#[cfg(not(feature = "tls"))]
fn wrap_tls(_: Stream, _: &str, _: &TransportConfig, _: &mut Deadline) -> Result<Stream, Error> {
    Err(no_tls())
}

fn stream_io(result: io::Result<Stream>, operation: &str) -> Result<Stream, Error> {
    result.map_err(|source| Error::Io {
        operation: format!("cannot {operation}"),
        source,
    })
}

/// Connects to the Unix socket at `path` within `deadline`. A listener whose queue is full
/// makes `connect(2)` wait for room, for as long as the socket's send timeout allows: that
/// timeout is the time left while connecting, and none afterwards.
#[cfg(unix)]
fn connect_unix(path: &std::path::Path, deadline: &mut Deadline) -> Result<Stream, Error> {
    let operation = format!("connect to Unix socket {}", path.display());
    let limit = deadline.timeout();
    let fail = |source: io::Error| match source.kind() {
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => {
            Error::io(operation.clone(), source, limit)
        }
        _ => Error::Io {
            operation: format!("cannot {operation}"),
            source,
        },
    };
    let left = deadline.remaining().map_err(fail)?;
    let socket = Socket::new(Domain::UNIX, Type::STREAM, None).map_err(fail)?;
    socket.set_write_timeout(left).map_err(fail)?;
    socket
        .connect(&SockAddr::unix(path).map_err(fail)?)
        .map_err(fail)?;
    socket.set_write_timeout(None).map_err(fail)?;
    log::debug!("connected to Unix socket {}", path.display());
    stream_io(Stream::from_unix(socket.into()), "set up the Unix socket")
}

#[cfg(not(unix))]
fn connect_unix(path: &std::path::Path, _: &mut Deadline) -> Result<Stream, Error> {
    Err(Error::InvalidConfig(format!(
        "Unix socket {} needs a Unix platform",
        path.display()
    )))
}

/// Resolves `host` and tries each address in turn, all within the connect timeout (see
/// [`TransportConfig::connect_timeout`] for how it is shared among the addresses).
///
/// # Errors
/// [`Error::Resolve`] when the name has no address; [`Error::Timeout`] when the connect
/// timeout runs out; [`Error::Connect`], with every attempt's error, when every address
/// failed.
pub fn connect_tcp(host: &str, port: u16, config: &TransportConfig) -> Result<TcpStream, Error> {
    let mut deadline = Deadline::started(config.connect_timeout);
    connect_tcp_within(host, port, config, &mut deadline)
}

/// The shortest time an attempt is given while that much is left: a long list of addresses
/// that do not answer must not cut the attempt at one that would into slivers.
const MIN_ATTEMPT: Duration = Duration::from_secs(2);

/// [`connect_tcp`] within `deadline`.
fn connect_tcp_within(
    host: &str,
    port: u16,
    config: &TransportConfig,
    deadline: &mut Deadline,
) -> Result<TcpStream, Error> {
    let addrs = resolve(host, port, deadline)?;
    connect_addrs(HostPort(host, port).to_string(), &addrs, config, deadline)
}

/// Tries each of `addrs` (the addresses of `target`) in turn within `deadline`, each
/// attempt with its share of the time left ([`attempt_limit`]).
fn connect_addrs(
    target: String,
    addrs: &[SocketAddr],
    config: &TransportConfig,
    deadline: &mut Deadline,
) -> Result<TcpStream, Error> {
    let mut attempts = Vec::new();
    for (tried, &addr) in addrs.iter().enumerate() {
        // An attempt waits in poll(2), which counts whole milliseconds (the limit is rounded
        // down to them): with less than one left there is no time for another attempt.
        let left = match deadline.remaining() {
            Ok(Some(left)) if left < Duration::from_millis(1) => break,
            Ok(left) => left,
            Err(_) => break,
        };
        let limit = left.map(|left| attempt_limit(left, addrs.len() - tried));
        log::debug!("connecting to {target} at {addr}");
        let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))
            .map_err(|source| Error::Io {
                operation: "cannot create a TCP socket".into(),
                source,
            })?;
        config.socket.apply(&socket)?;
        let result = match limit {
            Some(limit) => socket.connect_timeout(&SockAddr::from(addr), limit),
            None => socket.connect(&SockAddr::from(addr)),
        };
        match result {
            Ok(()) => return Ok(socket.into()),
            Err(e) => {
                let e = match (e.kind(), limit) {
                    (io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock, Some(limit)) => {
                        io::Error::new(
                            io::ErrorKind::TimedOut,
                            format!("timed out after {}", ShowDuration(limit)),
                        )
                    }
                    _ => e,
                };
                log::debug!("connecting to {addr} failed: {e}");
                attempts.push((addr, e));
            }
        }
    }
    Err(attempts_failed(
        target,
        attempts,
        addrs.len(),
        deadline.timeout(),
    ))
}

/// The time the next attempt may take when `left` remains for `untried` addresses: an
/// equal share, but at least [`MIN_ATTEMPT`] (or all that is left, if less).
fn attempt_limit(left: Duration, untried: usize) -> Duration {
    let share = left / u32::try_from(untried.max(1)).unwrap_or(u32::MAX);
    share.max(MIN_ATTEMPT.min(left))
}

/// The error after the attempts at `total` addresses ended without a connection: a timeout
/// when the time ran out before every address was tried or every attempt timed out, else
/// the list of attempts.
fn attempts_failed(
    target: String,
    attempts: Vec<(SocketAddr, io::Error)>,
    total: usize,
    limit: Option<Duration>,
) -> Error {
    let timed_out = attempts.len() < total
        || attempts
            .iter()
            .all(|(_, e)| e.kind() == io::ErrorKind::TimedOut);
    match limit {
        Some(limit) if timed_out => {
            let tried = match (attempts.len(), total) {
                (1, 1) => String::new(),
                (n, total) if n == total => format!(" ({n} addresses tried)"),
                (n, total) => format!(" ({n} of {total} addresses tried)"),
            };
            Error::Timeout {
                operation: format!("TCP connect to {target}{tried}"),
                limit,
            }
        }
        _ => Error::Connect { target, attempts },
    }
}

/// The addresses of `host`, looked up within `deadline`.
fn resolve(host: &str, port: u16, deadline: &mut Deadline) -> Result<Vec<SocketAddr>, Error> {
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(vec![SocketAddr::new(ip, port)]);
    }
    let addrs = resolve_within(host, port, deadline, system_lookup)?;
    if addrs.is_empty() {
        return Err(no_addresses(host));
    }
    Ok(addrs)
}

/// A name lookup: the system's resolver in [`resolve`], a stand-in in tests.
type Lookup = fn(&str, u16) -> io::Result<Vec<SocketAddr>>;

/// The system's resolver (`getaddrinfo` on Unix).
fn system_lookup(host: &str, port: u16) -> io::Result<Vec<SocketAddr>> {
    Ok((host, port).to_socket_addrs()?.collect())
}

/// Runs `lookup` within `deadline`. The system resolver cannot be given a time limit, so
/// with one the lookup runs on a thread of its own and the caller waits for it only as long
/// as is left; a lookup that overruns finishes on its thread and its answer is dropped.
fn resolve_within(
    host: &str,
    port: u16,
    deadline: &mut Deadline,
    lookup: Lookup,
) -> Result<Vec<SocketAddr>, Error> {
    let fail = |source| Error::Resolve {
        host: host.to_string(),
        source,
    };
    let operation = || format!("resolving {host}");
    let left = deadline
        .remaining()
        .map_err(|e| Error::io(operation(), e, deadline.timeout()))?;
    let Some(left) = left else {
        return lookup(host, port).map_err(fail);
    };
    let (answer, answered) = mpsc::sync_channel(1);
    let name = host.to_string();
    std::thread::Builder::new()
        .name("ws-transport resolver".into())
        .spawn(move || {
            // The caller may have stopped waiting: then nobody wants the answer.
            let _ = answer.send(lookup(&name, port));
        })
        .map_err(|source| Error::Io {
            operation: "cannot start a thread to resolve the host name".into(),
            source,
        })?;
    match answered.recv_timeout(left) {
        Ok(result) => result.map_err(fail),
        Err(mpsc::RecvTimeoutError::Timeout) => Err(Error::Timeout {
            operation: operation(),
            limit: deadline.timeout().unwrap_or(left),
        }),
        Err(mpsc::RecvTimeoutError::Disconnected) => Err(fail(io::Error::other(
            "the resolver thread ended without an answer",
        ))),
    }
}

/// Connects to `proxy` and asks it for a tunnel to `host:port`, within `deadline`; the
/// exchange also within the proxy timeout when there is one.
fn through_proxy(
    proxy: &Proxy,
    host: &str,
    port: u16,
    config: &TransportConfig,
    deadline: &mut Deadline,
) -> Result<TcpStream, Error> {
    log::debug!(
        "connecting to {} through proxy {proxy}",
        HostPort(host, port)
    );
    let mut tcp =
        connect_tcp_within(proxy.host(), proxy.port(), config, deadline).map_err(|e| {
            ProxyError::Connect {
                proxy: proxy.address(),
                source: Box::new(e),
            }
        })?;
    let exchange = match config.proxy_timeout {
        Some(limit) => Deadline::started(Some(limit)).sooner(*deadline),
        None => *deadline,
    };
    negotiate(proxy, &mut tcp, host, port, exchange)?;
    Ok(tcp)
}

/// Asks `proxy` for a tunnel to `host:port` over `stream`, the whole exchange within
/// `deadline`; see [`Proxy::negotiate`].
pub(crate) fn negotiate<S: ProxyStream>(
    proxy: &Proxy,
    stream: &mut S,
    host: &str,
    port: u16,
    deadline: Deadline,
) -> Result<(), Error> {
    let mut talk = Exchange {
        stream,
        deadline,
        proxy,
    };
    match proxy.kind() {
        ProxyKind::Http => talk.http_connect(host, port)?,
        ProxyKind::Socks4 | ProxyKind::Socks4a => talk.socks4(host, port)?,
        ProxyKind::Socks5 | ProxyKind::Socks5h => talk.socks5(host, port)?,
    }
    talk.stream.set_timeout(None).map_err(|source| Error::Io {
        operation: "cannot clear the proxy timeout".into(),
        source,
    })?;
    log::debug!("proxy {proxy} opened a tunnel to {}", HostPort(host, port));
    Ok(())
}

/// One negotiation with a proxy over blocking reads and writes, within one time limit for
/// the whole exchange (Python's `proxy_timeout`): each call on the stream gets the time that
/// is left.
struct Exchange<'a, S> {
    stream: &'a mut S,
    deadline: Deadline,
    proxy: &'a Proxy,
}

impl<S: ProxyStream> Exchange<'_, S> {
    fn fail(&self, step: &'static str, e: io::Error) -> Error {
        match e.kind() {
            io::ErrorKind::UnexpectedEof => ProxyError::Closed(step).into(),
            _ => Error::io(
                format!("{step} with proxy {}", self.proxy.address()),
                e,
                self.deadline.timeout(),
            ),
        }
    }

    /// The time left of the exchange's limit (`None`: no limit).
    fn time_left(&mut self, step: &'static str) -> Result<Option<Duration>, Error> {
        self.deadline.remaining().map_err(|e| self.fail(step, e))
    }

    /// The target's addresses, looked up here for plain SOCKS4 and SOCKS5 (which take an
    /// address, not a name) within the time left of the exchange. A lookup that runs out of
    /// time names the exchange's own limit, as every other step of it does.
    fn resolve_target(&mut self, host: &str, port: u16) -> Result<Vec<SocketAddr>, Error> {
        match resolve(host, port, &mut self.deadline) {
            Err(Error::Timeout { operation, limit }) => Err(Error::Timeout {
                operation: format!("{operation} for proxy {}", self.proxy.address()),
                limit,
            }),
            other => other,
        }
    }

    /// Gives the stream the time left for its next call.
    fn arm(&mut self, step: &'static str) -> Result<(), Error> {
        let left = self.time_left(step)?;
        self.stream.set_timeout(left).map_err(|source| Error::Io {
            operation: "cannot set the proxy timeout".into(),
            source,
        })
    }

    fn send(&mut self, step: &'static str, mut bytes: &[u8]) -> Result<(), Error> {
        while !bytes.is_empty() {
            self.arm(step)?;
            match self.stream.write(bytes) {
                Ok(0) => return Err(self.fail(step, io::ErrorKind::WriteZero.into())),
                Ok(n) => bytes = bytes.get(n..).unwrap_or_default(),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(self.fail(step, e)),
            }
        }
        Ok(())
    }

    /// Fills `buf` exactly, within the deadline.
    fn read_exact(&mut self, step: &'static str, mut buf: &mut [u8]) -> Result<(), Error> {
        while !buf.is_empty() {
            self.arm(step)?;
            match self.stream.read(buf) {
                Ok(0) => return Err(ProxyError::Closed(step).into()),
                Ok(n) => {
                    let n = n.min(buf.len());
                    buf = &mut buf[n..];
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(self.fail(step, e)),
            }
        }
        Ok(())
    }

    /// Reads one reply, exactly as long as the parser says, so no tunnel byte is consumed.
    fn reply<T>(
        &mut self,
        step: &'static str,
        parse: impl Fn(&[u8]) -> Result<Progress<T>, ProxyError>,
    ) -> Result<T, Error> {
        let mut buf = Vec::with_capacity(32);
        loop {
            match parse(&buf)? {
                Progress::Done(value, _) => return Ok(value),
                Progress::NeedAtLeast(total) => {
                    let have = buf.len();
                    buf.resize(total.max(have + 1), 0);
                    self.read_exact(step, &mut buf[have..])?;
                }
            }
        }
    }

    fn http_connect(&mut self, host: &str, port: u16) -> Result<(), Error> {
        let request = ws_handshake::connect_request(host, port, self.proxy.credentials())
            .map_err(|e| ProxyError::InvalidProxy(e.to_string()))?;
        self.send("CONNECT", &request)?;
        let limits = ws_handshake::HttpLimits::default();
        let mut buf = Vec::new();
        let mut chunk = [0u8; 1024];
        loop {
            // Peek, then consume only what belongs to the reply: the tunnel's first bytes
            // must stay in the socket for TLS or the WebSocket handshake.
            self.arm("CONNECT")?;
            let seen = match self.stream.peek(&mut chunk) {
                Ok(n) => n.min(chunk.len()),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(self.fail("CONNECT", e)),
            };
            if seen == 0 {
                return Err(ProxyError::Closed("CONNECT").into());
            }
            let before = buf.len();
            buf.extend_from_slice(&chunk[..seen]);
            let done = match ws_handshake::parse_connect_response(&buf, &limits) {
                Ok(done) => done,
                Err(ws_handshake::Error::ProxyStatus { status, reason }) => {
                    return Err(ProxyError::HttpStatus { status, reason }.into());
                }
                Err(e) => return Err(ProxyError::HttpResponse(e).into()),
            };
            // The reply ends within what was just peeked (the parser is consistent on
            // prefixes: it found no end before); consume up to that end and no further.
            let take = match done {
                Some(end) => end.saturating_sub(before).min(seen),
                None => seen,
            };
            self.read_exact("CONNECT", &mut chunk[..take])?;
            if done.is_some() {
                return Ok(());
            }
        }
    }

    fn socks4(&mut self, host: &str, port: u16) -> Result<(), Error> {
        let resolved;
        let target = match (host.parse::<IpAddr>(), self.proxy.kind()) {
            (Ok(ip), _) => Target::Ip(ip),
            (Err(_), ProxyKind::Socks4a) => Target::Domain(host),
            (Err(_), _) => {
                resolved = self
                    .resolve_target(host, port)?
                    .into_iter()
                    .find(SocketAddr::is_ipv4)
                    .ok_or_else(|| {
                        ProxyError::Unsupported(format!(
                            "SOCKS4 needs an IPv4 address and {host} has none"
                        ))
                    })?;
                Target::Ip(resolved.ip())
            }
        };
        let user = self.proxy.credentials().map_or("", |(user, _)| user);
        self.send(
            "SOCKS4 request",
            &socks::socks4_request(&target, port, user)?,
        )?;
        match self.reply("SOCKS4 request", socks::parse_socks4_reply)? {
            Socks4Reply::Granted => Ok(()),
            refused => Err(ProxyError::Socks4(refused).into()),
        }
    }

    fn socks5(&mut self, host: &str, port: u16) -> Result<(), Error> {
        let credentials = self.proxy.credentials();
        self.send(
            "SOCKS5 greeting",
            &socks::socks5_greeting(credentials.is_some()),
        )?;
        match self.reply("SOCKS5 greeting", socks::parse_socks5_method)? {
            Socks5Method::NoAuth => {}
            Socks5Method::UserPassword => {
                let Some((user, password)) = credentials else {
                    return Err(ProxyError::Malformed {
                        protocol: "SOCKS5",
                        problem:
                            "the proxy chose user/password authentication, which was not offered"
                                .into(),
                    }
                    .into());
                };
                self.send(
                    "SOCKS5 authentication",
                    &socks::socks5_auth_request(user, password)?,
                )?;
                let status = self.reply("SOCKS5 authentication", socks::parse_socks5_auth_reply)?;
                if status != 0 {
                    return Err(ProxyError::Socks5AuthFailed(status).into());
                }
            }
            Socks5Method::NoAcceptable => return Err(ProxyError::Socks5NoAcceptableMethod.into()),
            Socks5Method::Other(method) => {
                return Err(ProxyError::Malformed {
                    protocol: "SOCKS5",
                    problem: format!("the proxy chose method {method}, which was not offered"),
                }
                .into());
            }
        }
        let target = match (host.parse::<IpAddr>(), self.proxy.kind()) {
            (Ok(ip), _) => Target::Ip(ip),
            (Err(_), ProxyKind::Socks5h) => Target::Domain(host),
            (Err(_), _) => {
                let first = self.resolve_target(host, port)?.into_iter().next();
                Target::Ip(first.ok_or_else(|| no_addresses(host))?.ip())
            }
        };
        self.send(
            "SOCKS5 connect",
            &socks::socks5_connect_request(&target, port)?,
        )?;
        match self.reply("SOCKS5 connect", socks::parse_socks5_reply)? {
            Socks5Reply::Succeeded => Ok(()),
            refused => Err(ProxyError::Socks5(refused).into()),
        }
    }
}

/// Runs the TLS handshake over `stream`, within `deadline`.
#[cfg(feature = "tls")]
fn wrap_tls(
    stream: Stream,
    host: &str,
    config: &TransportConfig,
    deadline: &mut Deadline,
) -> Result<Stream, Error> {
    let tls = config.tls_config();
    let rustls_config = tls.rustls_config()?;
    let name = tls.verify_name(host).to_string();
    let server_name = ServerName::try_from(name.clone())
        .map_err(|_| TlsError::InvalidServerName(name.clone()))?;
    let mut conn = ClientConnection::new(Arc::clone(&rustls_config), server_name)
        .map_err(|e| TlsError::Config(e.to_string()))?;
    // Writes are pushed to the socket right after they are encrypted, so rustls may buffer
    // a whole message; without this a write over 64 KiB would stop short.
    conn.set_buffer_limit(None);
    let mut raw = stream.into_raw();
    if let Err(e) = tls_handshake(&mut conn, &mut raw, deadline) {
        let error = match e
            .get_ref()
            .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        {
            Some(rustls_error) => Error::Tls(crate::tls::classify(rustls_error, &name)),
            None if e.kind() == io::ErrorKind::UnexpectedEof => Error::Tls(TlsError::Handshake(
                "the server closed the connection during the handshake".into(),
            )),
            None => Error::io(format!("TLS handshake with {name}"), e, deadline.timeout()),
        };
        log::debug!("TLS handshake with {name} failed: {error}");
        return Err(error);
    }
    let stream = stream_io(
        Stream::new(raw, Some((conn, name.clone()))),
        "set up the TLS stream",
    )?;
    log::debug!(
        "TLS with {name}: {}",
        stream.tls_description().unwrap_or_default()
    );
    Ok(stream)
}

/// Runs the TLS handshake to its end within `deadline`: every socket call gets the time that
/// is left, so a server that sends two bytes a second cannot stretch it.
#[cfg(feature = "tls")]
fn tls_handshake(
    conn: &mut ClientConnection,
    raw: &mut Raw,
    deadline: &mut Deadline,
) -> io::Result<()> {
    // A caller-supplied stream has no timeouts; its handshake waits as long as it must.
    let arm = |raw: &Raw, left: Option<Duration>| {
        let _ = raw
            .set_read_timeout(left)
            .and_then(|()| raw.set_write_timeout(left));
    };
    while conn.is_handshaking() || conn.wants_write() {
        while conn.wants_write() {
            arm(raw, deadline.remaining()?);
            conn.write_tls(raw)?;
        }
        if conn.is_handshaking() && conn.wants_read() {
            arm(raw, deadline.remaining()?);
            if conn.read_tls(raw)? == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
            conn.process_new_packets().map_err(|e| {
                // The alert rustls queued for the server goes out before the error does.
                let _ = conn.write_tls(raw);
                io::Error::new(io::ErrorKind::InvalidData, e)
            })?;
        }
    }
    arm(raw, None);
    Ok(())
}

fn no_addresses(host: &str) -> Error {
    Error::Resolve {
        host: host.to_string(),
        source: io::Error::new(io::ErrorKind::NotFound, "no addresses found"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attempt(addr: &str, kind: io::ErrorKind) -> (SocketAddr, io::Error) {
        (addr.parse().expect("an address"), io::Error::from(kind))
    }

    #[test]
    fn every_address_timing_out_is_a_timeout() {
        let limit = Some(Duration::from_secs(2));
        let both = vec![
            attempt("127.0.0.1:80", io::ErrorKind::TimedOut),
            attempt("[::1]:80", io::ErrorKind::TimedOut),
        ];
        let err = attempts_failed("localhost:80".into(), both, 2, limit);
        assert!(err.is_timeout(), "{err:?}");
        assert_eq!(
            err.to_string(),
            "TCP connect to localhost:80 (2 addresses tried) timed out after 2s"
        );
        let mixed = vec![
            attempt("127.0.0.1:80", io::ErrorKind::TimedOut),
            attempt("[::1]:80", io::ErrorKind::ConnectionRefused),
        ];
        let err = attempts_failed("localhost:80".into(), mixed, 2, limit);
        assert!(matches!(err, Error::Connect { .. }), "{err:?}");
        // The time ran out before the second address: a timeout, whatever the first said.
        let first = vec![attempt("[::1]:80", io::ErrorKind::ConnectionRefused)];
        let err = attempts_failed("localhost:80".into(), first, 2, limit);
        assert_eq!(
            err.to_string(),
            "TCP connect to localhost:80 (1 of 2 addresses tried) timed out after 2s"
        );
        let none = attempts_failed("localhost:80".into(), Vec::new(), 1, limit);
        assert_eq!(
            none.to_string(),
            "TCP connect to localhost:80 (0 of 1 addresses tried) timed out after 2s"
        );
        let one = vec![attempt("127.0.0.1:80", io::ErrorKind::TimedOut)];
        let err = attempts_failed("127.0.0.1:80".into(), one, 1, limit);
        assert_eq!(
            err.to_string(),
            "TCP connect to 127.0.0.1:80 timed out after 2s"
        );
    }

    #[test]
    fn each_attempt_gets_a_share_of_the_time_left_but_at_least_two_seconds() {
        let s = Duration::from_secs;
        assert_eq!(attempt_limit(s(10), 1), s(10));
        assert_eq!(attempt_limit(s(10), 2), s(5));
        assert_eq!(attempt_limit(s(10), 10), s(2));
        assert_eq!(attempt_limit(s(3), 2), s(2));
        assert_eq!(
            attempt_limit(Duration::from_millis(800), 4),
            Duration::from_millis(800)
        );
        assert_eq!(attempt_limit(s(10), 0), s(10));
    }

    fn within(limit: Duration) -> Deadline {
        Deadline::started(Some(limit))
    }

    /// [`connect_addrs`] to `addrs` within `limit`, and how long it took.
    fn timed_connect(
        addrs: &[SocketAddr],
        limit: Duration,
    ) -> (Result<TcpStream, Error>, Duration) {
        let started = std::time::Instant::now();
        let config = TransportConfig::default();
        let result = connect_addrs("t:1".into(), addrs, &config, &mut within(limit));
        (result, started.elapsed())
    }

    /// A refusing address: a port that was just free.
    fn refusing() -> SocketAddr {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("an address")
    }

    #[test]
    fn an_address_that_does_not_answer_leaves_time_for_the_next() {
        let Some(silent) = test_support::SilentListener::bind("127.0.0.1") else {
            eprintln!("the kernel accepted every connection; nothing to time out");
            return;
        };
        let good = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let addrs = [silent.addr(), good.local_addr().expect("an address")];
        // 4 s for two addresses: the silent one gets its share, 2 s, and no more.
        let (tcp, took) = timed_connect(&addrs, Duration::from_secs(4));
        let tcp = tcp.expect("the second address answers");
        assert_eq!(tcp.peer_addr().expect("a peer"), addrs[1]);
        assert!(
            took >= Duration::from_millis(1900),
            "gave up early, after {took:?}"
        );
        assert!(took < Duration::from_millis(3500), "took {took:?}");
    }

    #[test]
    fn addresses_that_do_not_answer_share_one_deadline() {
        let (Some(first), Some(second)) = (
            test_support::SilentListener::bind("127.0.0.1"),
            test_support::SilentListener::bind("127.0.0.1"),
        ) else {
            eprintln!("the kernel accepted every connection; nothing to time out");
            return;
        };
        let addrs = [first.addr(), second.addr(), refusing()];
        let (result, took) = timed_connect(&addrs, Duration::from_millis(600));
        let err = result.expect_err("nothing answers");
        assert!(err.is_timeout(), "{err:?}");
        assert_eq!(
            err.to_string(),
            "TCP connect to t:1 (1 of 3 addresses tried) timed out after 600ms"
        );
        assert!(
            took >= Duration::from_millis(550),
            "gave up early, after {took:?}"
        );
        assert!(took < Duration::from_millis(1500), "took {took:?}");
    }

    #[test]
    fn a_refused_address_moves_on_at_once() {
        let good = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let addrs = [refusing(), good.local_addr().expect("an address")];
        let (tcp, took) = timed_connect(&addrs, Duration::from_secs(10));
        let tcp = tcp.expect("the second address answers");
        assert_eq!(tcp.peer_addr().expect("a peer"), addrs[1]);
        assert!(took < Duration::from_secs(2), "took {took:?}");
        let (result, _) = timed_connect(&[refusing()], Duration::from_secs(10));
        let err = result.expect_err("refused");
        assert!(
            matches!(&err, Error::Connect { attempts, .. } if attempts.len() == 1),
            "{err:?}"
        );
    }

    /// A resolver that does not answer for 10 s.
    fn stalled_lookup(_: &str, _: u16) -> io::Result<Vec<SocketAddr>> {
        std::thread::sleep(Duration::from_secs(10));
        Ok(Vec::new())
    }

    fn loopback_lookup(_: &str, port: u16) -> io::Result<Vec<SocketAddr>> {
        Ok(vec![SocketAddr::from(([127, 0, 0, 1], port))])
    }

    fn failing_lookup(_: &str, _: u16) -> io::Result<Vec<SocketAddr>> {
        Err(io::Error::other("no such host"))
    }

    #[test]
    fn a_stalled_resolver_times_out_at_the_limit() {
        let started = std::time::Instant::now();
        let limit = Duration::from_millis(200);
        let err = resolve_within("slow.example", 443, &mut within(limit), stalled_lookup)
            .expect_err("the lookup stalls");
        let took = started.elapsed();
        assert!(err.is_timeout(), "{err:?}");
        assert_eq!(
            err.to_string(),
            "resolving slow.example timed out after 200ms"
        );
        assert!(took >= limit, "gave up early, after {took:?}");
        assert!(took < Duration::from_secs(2), "waited {took:?}");
    }

    #[test]
    fn a_resolver_that_answers_in_time_is_used_with_or_without_a_limit() {
        for limit in [None, Some(Duration::from_secs(5))] {
            let mut deadline = Deadline::started(limit);
            let addrs = resolve_within("here.example", 8080, &mut deadline, loopback_lookup)
                .expect("an answer");
            assert_eq!(addrs, [SocketAddr::from(([127, 0, 0, 1], 8080))]);
            let err = resolve_within("gone.example", 80, &mut deadline, failing_lookup)
                .expect_err("no such host");
            assert!(matches!(&err, Error::Resolve { host, .. } if host == "gone.example"));
        }
    }

    #[test]
    fn an_ip_literal_is_not_looked_up() {
        let mut spent = within(Duration::from_nanos(1));
        std::thread::sleep(Duration::from_millis(1));
        let addrs = resolve("::1", 9, &mut spent).expect("a literal");
        assert_eq!(
            addrs,
            [SocketAddr::from((std::net::Ipv6Addr::LOCALHOST, 9))]
        );
    }
}
