//! The client's error: one variant per Python exception, causes kept.

use std::borrow::Cow;
use std::fmt;
use std::io;

use ws_frame::CloseCode;

/// Everything that can go wrong with a WebSocket connection. The variants map one-to-one onto
/// Python's websocket-client exceptions (see `docs/python-mapping.md`).
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
    /// Connecting failed otherwise: refused, TLS, socket options (`ConnectionRefusedError`,
    /// `ssl.SSLError`, ...).
    Connect(ws_transport::Error),
    /// The server answered the upgrade with another status (`WebSocketBadStatusException`).
    BadStatus(Box<ws_handshake::BadStatus>),
    /// The server's 101 response is invalid, or a request header is (`WebSocketException`
    /// from `_handshake`).
    Handshake(ws_handshake::Error),
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

impl Error {
    /// `true` for [`Error::Timeout`] and [`Error::SendTimeout`] (Python's
    /// `WebSocketTimeoutException`).
    #[must_use]
    pub fn is_timeout(&self) -> bool {
        matches!(self, Self::Timeout { .. } | Self::SendTimeout { .. })
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

    /// Maps an I/O error of an established connection.
    pub(crate) fn from_io(e: io::Error, operation: &str) -> Self {
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

impl From<ws_transport::Error> for Error {
    fn from(e: ws_transport::Error) -> Self {
        match e {
            ws_transport::Error::Resolve { .. } => Self::Address(e),
            ws_transport::Error::Proxy(_) => Self::Proxy(e),
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
            Self::BadStatus(b) => write!(f, "handshake status {} {}", b.status, b.reason),
            Self::Handshake(e) => write!(f, "handshake failed: {e}"),
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
            Self::Handshake(e) => Some(e),
            Self::Url(e) => Some(e),
            Self::Io(e) => Some(e),
            Self::ConnectionClosed {
                source: Some(e), ..
            } => Some(e),
            _ => None,
        }
    }
}
