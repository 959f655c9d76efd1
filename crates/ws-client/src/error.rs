//! The client's error: one variant per Python exception, causes kept, and a flat
//! [`ErrorKind`] for callers who only need to know what sort of failure it was.

use std::borrow::Cow;
use std::fmt;
use std::io;

use ws_frame::CloseCode;
use ws_transport::{ProxyError, TlsError};

/// Everything that can go wrong with a WebSocket connection. The variants map one-to-one onto
/// Python's websocket-client exceptions (see `docs/python-mapping.md`); [`Error::kind`] gives
/// a flat classification without matching through the lower crates' errors.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The peer broke RFC 6455 or sent invalid UTF-8 (`WebSocketProtocolException`,
    /// `WebSocketPayloadException`); a close frame with [`ws_frame::Error::close_code`] was
    /// sent. Also local misuse the codec refuses (a control payload over 125 bytes).
    Protocol(ws_frame::Error),
    /// The connection is closed: by the close handshake, by [`crate::WebSocket::shutdown`],
    /// an abort, or because the peer went away (`WebSocketConnectionClosedException`).
    ConnectionClosed {
        /// Why, in words ("the peer went away without a close frame", "the connection had
        /// already failed: ...").
        reason: Cow<'static, str>,
        /// The socket error that ended the connection, when one did.
        source: Option<io::Error>,
    },
    /// An operation did not finish in time (`WebSocketTimeoutException`).
    Timeout {
        /// What was being done.
        operation: String,
    },
    /// A send ran out of time (`WebSocketTimeoutException`); the connection stays usable
    /// unless `connection_closed` says otherwise.
    SendTimeout {
        /// What became of the message. `false`: none of it was sent and none of it will be;
        /// send it again if it matters. `true`: part of it is on the wire, and the rest goes
        /// out first with the next send or `flush`; it counts as sent, never send it again.
        partly_sent: bool,
        /// The message was a fragment of a message being sent frame by frame: the message
        /// cannot go on without it, so the connection was closed.
        connection_closed: bool,
    },
    /// The host name could not be resolved (`WebSocketAddressException`).
    Address(ws_transport::Error),
    /// The proxy could not be reached or refused the tunnel (`WebSocketProxyException`).
    Proxy(ws_transport::Error),
    /// TLS failed (`ssl.SSLError`): an untrusted certificate, a host name mismatch, a bad
    /// TLS option, or an alert from the server, whether it came during the handshake or
    /// after it.
    Tls(TlsError),
    /// Connecting failed otherwise: refused, unreachable, socket options
    /// (`ConnectionRefusedError`, ...).
    Connect(ws_transport::Error),
    /// The server answered the upgrade with another status (`WebSocketBadStatusException`).
    BadStatus(Box<ws_handshake::BadStatus>),
    /// The server's 101 response is invalid, or a request header is (`WebSocketException`
    /// from `_handshake`).
    Handshake(ws_handshake::Error),
    /// The server's answer to the permessage-deflate offer breaks RFC 7692 (an unknown or
    /// repeated parameter, a bad window size, ...).
    #[cfg(feature = "deflate")]
    Compression(ws_deflate::NegotiationError),
    /// More redirects than `redirect_limit`.
    TooManyRedirects {
        /// The limit.
        limit: u32,
    },
    /// A redirect from `wss://` to `ws://`, refused.
    InsecureRedirect {
        /// Where the redirect pointed.
        location: String,
    },
    /// The URL is not a WebSocket URL.
    Url(ws_transport::UrlError),
    /// The options contradict each other; returned by `build()`.
    InvalidConfig(String),
    /// A socket error outside the cases above.
    Io(io::Error),
}

/// What sort of failure an [`Error`] is, flat: for matching without reaching into
/// `ws-transport` or `ws-handshake`.
///
/// ```
/// use ws_client::{Config, ErrorKind, ProxyConfig};
/// let refused = Config::builder()
///     .proxy(ProxyConfig::Direct)
///     .build()?
///     .connect("ws://127.0.0.1:9/")
///     .unwrap_err();
/// assert_eq!(refused.kind(), ErrorKind::Refused);
/// # Ok::<(), ws_client::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// A time limit passed, wherever it happened: connecting (every address), the proxy, TLS,
    /// the handshake, a send, a receive, the close.
    Timeout,
    /// The server (or the proxy) refused the TCP connection.
    Refused,
    /// The host name could not be resolved.
    Resolve,
    /// The server's certificate is not trusted ("certificate verify failed").
    TlsUntrusted,
    /// The server's certificate is not for the host ("host name mismatch").
    TlsNameMismatch,
    /// Any other TLS failure: a TLS option, an alert from the server.
    Tls,
    /// The proxy wants credentials, or refused the ones given (407, SOCKS5 authentication).
    ProxyAuth,
    /// Any other proxy failure.
    Proxy,
    /// The server answered the upgrade with a status other than 101.
    BadStatus,
    /// The server's 101 is invalid, or a request header is; a refused redirect target.
    Handshake,
    /// Too many redirects, or one from `wss://` to `ws://`.
    Redirect,
    /// The peer broke the WebSocket protocol (or the codec refused a local call).
    Protocol,
    /// The connection is closed, or was lost.
    Closed,
    /// The URL is not a WebSocket URL.
    Url,
    /// The options contradict each other.
    InvalidConfig,
    /// Another I/O error.
    Io,
}

impl Error {
    /// What sort of failure this is.
    #[must_use]
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Timeout { .. } | Self::SendTimeout { .. } => ErrorKind::Timeout,
            Self::Protocol(_) => ErrorKind::Protocol,
            Self::ConnectionClosed { .. } => ErrorKind::Closed,
            Self::Address(_) => ErrorKind::Resolve,
            Self::Tls(TlsError::UntrustedCertificate { .. }) => ErrorKind::TlsUntrusted,
            Self::Tls(TlsError::NameMismatch { .. }) => ErrorKind::TlsNameMismatch,
            Self::Tls(_) => ErrorKind::Tls,
            Self::Proxy(e) if e.is_timeout() => ErrorKind::Timeout,
            Self::Proxy(e) => match proxy_error(e) {
                Some(p) if p.is_auth_required() => ErrorKind::ProxyAuth,
                Some(ProxyError::Socks5AuthFailed(_) | ProxyError::Socks5NoAcceptableMethod) => {
                    ErrorKind::ProxyAuth
                }
                _ => ErrorKind::Proxy,
            },
            Self::Connect(e) if e.is_timeout() => ErrorKind::Timeout,
            Self::Connect(ws_transport::Error::Connect { attempts, .. })
                if attempts
                    .iter()
                    .any(|(_, e)| e.kind() == io::ErrorKind::ConnectionRefused) =>
            {
                ErrorKind::Refused
            }
            Self::Connect(ws_transport::Error::Tls(_)) => ErrorKind::Tls,
            Self::Connect(_) | Self::Io(_) => ErrorKind::Io,
            Self::BadStatus(_) => ErrorKind::BadStatus,
            Self::Handshake(_) => ErrorKind::Handshake,
            #[cfg(feature = "deflate")]
            Self::Compression(_) => ErrorKind::Handshake,
            Self::TooManyRedirects { .. } | Self::InsecureRedirect { .. } => ErrorKind::Redirect,
            Self::Url(_) => ErrorKind::Url,
            Self::InvalidConfig(_) => ErrorKind::InvalidConfig,
        }
    }

    /// `true` for every timeout, wherever it happened (Python's
    /// `WebSocketTimeoutException`): `kind() == ErrorKind::Timeout`.
    #[must_use]
    pub fn is_timeout(&self) -> bool {
        self.kind() == ErrorKind::Timeout
    }

    /// `true` for [`Error::ConnectionClosed`].
    #[must_use]
    pub fn is_closed(&self) -> bool {
        matches!(self, Self::ConnectionClosed { .. })
    }

    /// The close code this error sent to the peer, for protocol errors.
    #[must_use]
    pub fn close_code(&self) -> Option<CloseCode> {
        match self {
            Self::Protocol(e) => e.close_code(),
            _ => None,
        }
    }

    /// The HTTP status an HTTP proxy answered `CONNECT` with, when it refused (407, 403, ...).
    #[must_use]
    pub fn proxy_status(&self) -> Option<u16> {
        match self {
            Self::Proxy(e) => match proxy_error(e) {
                Some(ProxyError::HttpStatus { status, .. }) => Some(*status),
                _ => None,
            },
            _ => None,
        }
    }

    /// The HTTP status the server answered the upgrade with, when it was not 101.
    #[must_use]
    pub fn http_status(&self) -> Option<u16> {
        match self {
            Self::BadStatus(bad) => Some(bad.status),
            _ => None,
        }
    }

    /// The TLS failure, if this is one.
    #[must_use]
    pub fn tls_error(&self) -> Option<&TlsError> {
        match self {
            Self::Tls(e) => Some(e),
            _ => None,
        }
    }

    pub(crate) fn closed(reason: impl Into<Cow<'static, str>>) -> Self {
        Self::ConnectionClosed {
            reason: reason.into(),
            source: None,
        }
    }

    /// The connection ended with a socket error while `operation` ran; the error is kept as
    /// the source.
    pub(crate) fn lost(operation: &str, e: io::Error) -> Self {
        Self::ConnectionClosed {
            reason: format!("the connection was lost while {operation}: {e}").into(),
            source: Some(e),
        }
    }

    /// Maps an I/O error of an established connection. A TLS failure carried inside it (an
    /// alert after the handshake) comes out as [`Error::Tls`].
    pub(crate) fn from_io(e: io::Error, operation: &str) -> Self {
        if e.get_ref().is_some_and(|inner| inner.is::<TlsError>()) {
            if let Some(Ok(tls)) = e.into_inner().map(|inner| inner.downcast::<TlsError>()) {
                return Self::Tls(*tls);
            }
            return Self::closed("a TLS error ended the connection");
        }
        match e.kind() {
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => Self::Timeout {
                operation: operation.to_string(),
            },
            io::ErrorKind::UnexpectedEof
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::BrokenPipe
            | io::ErrorKind::NotConnected => Self::lost(operation, e),
            _ => Self::Io(e),
        }
    }
}

/// The proxy failure inside a transport error, if it is one.
fn proxy_error(e: &ws_transport::Error) -> Option<&ProxyError> {
    match e {
        ws_transport::Error::Proxy(p) => Some(p),
        _ => None,
    }
}

impl From<ws_transport::Error> for Error {
    fn from(e: ws_transport::Error) -> Self {
        match e {
            ws_transport::Error::Resolve { .. } => Self::Address(e),
            ws_transport::Error::Proxy(_) => Self::Proxy(e),
            ws_transport::Error::Tls(tls) => Self::Tls(tls),
            ws_transport::Error::Timeout { operation, limit } => Self::Timeout {
                operation: format!("{operation} (limit {limit:?})"),
            },
            ws_transport::Error::Url(u) => Self::Url(u),
            ws_transport::Error::InvalidConfig(why) => Self::InvalidConfig(why),
            other => Self::Connect(other),
        }
    }
}

impl From<ws_frame::Error> for Error {
    fn from(e: ws_frame::Error) -> Self {
        match e {
            ws_frame::Error::Closed => Self::closed("the WebSocket is closed"),
            ws_frame::Error::UnexpectedEof => {
                Self::closed("the peer went away without a close frame")
            }
            other => Self::Protocol(other),
        }
    }
}

impl From<ws_transport::UrlError> for Error {
    fn from(e: ws_transport::UrlError) -> Self {
        Self::Url(e)
    }
}

/// The most of a refused handshake's body shown in the error's text.
const BODY_EXCERPT: usize = 200;

/// A body as one line of text: at most [`BODY_EXCERPT`] bytes, control characters and line
/// breaks as spaces, cut on a character boundary, `…` when cut.
fn excerpt(body: &[u8], truncated: bool) -> String {
    let text = String::from_utf8_lossy(body);
    let mut out = String::new();
    for c in text.chars() {
        if out.len() + c.len_utf8() > BODY_EXCERPT {
            out.push('…');
            return out;
        }
        out.push(if c.is_control() { ' ' } else { c });
    }
    let trimmed = out.trim().to_string();
    if truncated { trimmed + "…" } else { trimmed }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Protocol(e) => write!(f, "WebSocket protocol error: {e}"),
            Self::ConnectionClosed { reason, .. } => write!(f, "connection closed: {reason}"),
            Self::Timeout { operation } => write!(f, "timed out: {operation}"),
            Self::SendTimeout {
                partly_sent: true, ..
            } => f.write_str(
                "timed out sending: part of the data is on the wire; the rest goes out first \
                 with the next send or flush",
            ),
            Self::SendTimeout {
                connection_closed: true,
                ..
            } => f.write_str(
                "timed out sending a fragment: nothing was sent, and the fragmented message \
                 cannot go on without it, so the connection was closed",
            ),
            Self::SendTimeout { .. } => {
                f.write_str("timed out sending: nothing was sent (the peer is not reading)")
            }
            Self::Address(e) | Self::Proxy(e) | Self::Connect(e) => e.fmt(f),
            Self::Tls(e) => write!(f, "TLS: {e}"),
            Self::BadStatus(b) => {
                write!(f, "handshake status {} {}", b.status, b.reason)?;
                let body = excerpt(&b.body, b.body_truncated);
                if body.is_empty() {
                    Ok(())
                } else {
                    write!(f, ": {body}")
                }
            }
            Self::Handshake(e) => write!(f, "handshake failed: {e}"),
            #[cfg(feature = "deflate")]
            Self::Compression(e) => write!(f, "handshake failed: {e}"),
            Self::TooManyRedirects { limit } => write!(f, "too many redirects: more than {limit}"),
            Self::InsecureRedirect { location } => {
                write!(f, "refused redirect from wss:// to insecure {location}")
            }
            Self::Url(e) => e.fmt(f),
            Self::InvalidConfig(why) => write!(f, "invalid options: {why}"),
            Self::Io(e) => write!(f, "I/O error: {e}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Protocol(e) => Some(e),
            Self::Address(e) | Self::Proxy(e) | Self::Connect(e) => Some(e),
            Self::Tls(e) => Some(e),
            Self::Handshake(e) => Some(e),
            #[cfg(feature = "deflate")]
            Self::Compression(e) => Some(e),
            Self::Url(e) => Some(e),
            Self::Io(e) => Some(e),
            Self::ConnectionClosed {
                source: Some(e), ..
            } => Some(e),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::excerpt;

    #[test]
    fn body_excerpts_are_one_bounded_line() {
        assert_eq!(excerpt(b"bad token\r\n", false), "bad token");
        assert_eq!(excerpt(b"a\nb\x00c", true), "a b c…");
        let long = "é".repeat(300);
        let shown = excerpt(long.as_bytes(), false);
        assert!(shown.len() <= 200 + '…'.len_utf8() && shown.ends_with('…'));
        assert_eq!(excerpt(b"\xff\xfeok", false), "\u{fffd}\u{fffd}ok");
    }
}
