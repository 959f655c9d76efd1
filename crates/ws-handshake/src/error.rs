//! The crate's error type.

use std::fmt;

/// Everything that can go wrong building or parsing a handshake.
///
/// Each validation failure is its own variant and says what was expected and what came.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// A header name or value to send contains CR, LF or NUL (or the name is not an HTTP
    /// token); it was refused, never sent.
    InvalidHeader {
        /// The header's name as given.
        name: String,
        /// What is wrong with it.
        problem: &'static str,
    },
    /// A custom header line (`"Name: value"`) has no colon.
    InvalidHeaderLine(String),
    /// The peer's HTTP message is not valid HTTP/1.1 (httparse's reason).
    MalformedHttp(&'static str),
    /// The header block grew past the byte limit before it ended.
    HeadersTooLarge {
        /// The configured `max_header_bytes`.
        limit: usize,
    },
    /// The message has more header lines than the limit.
    TooManyHeaders {
        /// The configured `max_headers`.
        limit: usize,
    },
    /// A bad-status response announced a body larger than the limit.
    BodyTooLarge {
        /// The announced `Content-Length`.
        size: u64,
        /// The configured `max_body_bytes`.
        limit: usize,
    },
    /// `Content-Length` is not a number.
    InvalidContentLength(String),
    /// The `Upgrade` header does not contain the token `websocket`.
    InvalidUpgrade(Option<String>),
    /// The `Connection` header does not contain the token `upgrade`.
    InvalidConnection(Option<String>),
    /// The 101 response has no `Sec-WebSocket-Accept`.
    MissingAccept,
    /// `Sec-WebSocket-Accept` is not base64(SHA-1(key + GUID)).
    AcceptMismatch {
        /// The value the key requires.
        expected: String,
        /// The value that came.
        got: String,
    },
    /// The server chose a subprotocol the client did not offer.
    UnexpectedSubprotocol(String),
    /// The server accepted an extension the client did not offer.
    UnexpectedExtension(String),
    /// A redirect status came without a `Location` header.
    MissingLocation(u16),
    /// A `Location` header that cannot be resolved to a ws/wss/http/https URL.
    InvalidLocation(String),
    /// A redirect's `Location` names a scheme other than `ws`, `wss`, `http` or `https`
    /// (`file:`, `javascript:`, ...); it is never followed.
    UnsupportedRedirectScheme(String),
    /// The proxy answered `CONNECT` with a non-2xx status (407: authentication required).
    ProxyStatus {
        /// The status code.
        status: u16,
        /// The reason phrase.
        reason: String,
    },
    /// Server side: the client's request is not a valid WebSocket upgrade. Answer it with
    /// [`reject_response`](crate::reject_response), which uses `status` (400, or 426 for an
    /// unsupported version).
    BadRequest {
        /// The HTTP status to answer with.
        status: u16,
        /// What is wrong, sent as the response body.
        reason: String,
    },
}

impl Error {
    /// `true` for a proxy's 407 Proxy Authentication Required.
    #[must_use]
    pub fn is_proxy_auth_required(&self) -> bool {
        matches!(self, Self::ProxyStatus { status: 407, .. })
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown = |v: &Option<String>| v.clone().unwrap_or_else(|| "nothing".to_string());
        match self {
            Self::InvalidHeader { name, problem } => {
                write!(f, "invalid header {name:?}: {problem}; not sent")
            }
            Self::InvalidHeaderLine(line) => {
                write!(f, "invalid header line {line:?}: expected \"Name: value\"")
            }
            Self::MalformedHttp(why) => write!(f, "malformed HTTP message: {why}"),
            Self::HeadersTooLarge { limit } => {
                write!(f, "HTTP headers too large: more than {limit} bytes")
            }
            Self::TooManyHeaders { limit } => {
                write!(f, "too many HTTP headers: more than {limit}")
            }
            Self::BodyTooLarge { size, limit } => {
                write!(f, "response body too large: {size} > {limit} bytes")
            }
            Self::InvalidContentLength(v) => write!(f, "invalid Content-Length {v:?}"),
            Self::InvalidUpgrade(v) => {
                write!(f, "expected Upgrade: websocket, got {}", shown(v))
            }
            Self::InvalidConnection(v) => {
                write!(f, "expected Connection: upgrade, got {}", shown(v))
            }
            Self::MissingAccept => f.write_str("response has no Sec-WebSocket-Accept header"),
            Self::AcceptMismatch { expected, got } => {
                write!(
                    f,
                    "Sec-WebSocket-Accept mismatch: expected {expected}, got {got}"
                )
            }
            Self::UnexpectedSubprotocol(p) => {
                write!(
                    f,
                    "server chose subprotocol {p:?}, which the client did not offer"
                )
            }
            Self::UnexpectedExtension(e) => {
                write!(
                    f,
                    "server accepted extension {e:?}, which the client did not offer"
                )
            }
            Self::MissingLocation(status) => {
                write!(f, "redirect status {status} without a Location header")
            }
            Self::InvalidLocation(l) => write!(f, "cannot follow redirect to {l:?}"),
            Self::UnsupportedRedirectScheme(scheme) => write!(
                f,
                "refused redirect to a {scheme}: URL: only ws, wss, http and https are followed"
            ),
            Self::ProxyStatus { status, reason } => {
                write!(f, "proxy refused CONNECT: {status} {reason}")
            }
            Self::BadRequest { status, reason } => {
                write!(f, "invalid WebSocket upgrade request ({status}): {reason}")
            }
        }
    }
}

impl std::error::Error for Error {}
