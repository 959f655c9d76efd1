//! The crate's error types: one enum for the connection, with TLS and proxy failures in their
//! own enums so a caller can match on exactly what the peer did.

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use crate::UrlError;
use crate::socks::{Socks4Reply, Socks5Reply};

/// Everything that can go wrong while opening a connection.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The URL (or a proxy URL) could not be parsed.
    Url(UrlError),
    /// Name resolution failed or found no address (Python's `WebSocketAddressException`).
    Resolve {
        /// The host that was looked up.
        host: String,
        /// The resolver's error.
        source: io::Error,
    },
    /// Every resolved address was tried and none accepted the connection.
    Connect {
        /// `host:port` as asked for.
        target: String,
        /// Each address tried, in order, with its error.
        attempts: Vec<(SocketAddr, io::Error)>,
    },
    /// An operation did not finish within its time limit.
    Timeout {
        /// What was being done ("TCP connect to 10.0.0.1:80", "TLS handshake", ...).
        operation: String,
        /// The limit that ran out.
        limit: Duration,
    },
    /// Setting a socket option failed.
    SocketOption {
        /// The option, as the caller would name it.
        option: String,
        /// The operating system's error.
        source: io::Error,
    },
    /// Any other I/O failure, with what was being done.
    Io {
        /// What was being done.
        operation: String,
        /// The underlying error.
        source: io::Error,
    },
    /// TLS configuration or handshake failure.
    Tls(TlsError),
    /// Proxy configuration, connection or negotiation failure (Python's
    /// `WebSocketProxyException`).
    Proxy(ProxyError),
    /// The options contradict each other (for example a Unix socket path and a proxy).
    InvalidConfig(String),
}

impl Error {
    /// `true` when the error is a timeout, including a TLS or proxy step that timed out.
    #[must_use]
    pub fn is_timeout(&self) -> bool {
        match self {
            Self::Timeout { .. } => true,
            Self::Proxy(ProxyError::Connect { source, .. }) => source.is_timeout(),
            _ => false,
        }
    }

    /// Maps an I/O error from a step with a deadline: timeouts become [`Error::Timeout`].
    pub(crate) fn io(
        operation: impl Into<String>,
        source: io::Error,
        limit: Option<Duration>,
    ) -> Self {
        match (source.kind(), limit) {
            (io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut, Some(limit)) => Self::Timeout {
                operation: operation.into(),
                limit,
            },
            _ => Self::Io {
                operation: operation.into(),
                source,
            },
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Url(e) => e.fmt(f),
            Self::Resolve { host, source } => write!(f, "cannot resolve host {host:?}: {source}"),
            Self::Connect { target, attempts } => {
                write!(f, "cannot connect to {target}: ")?;
                for (i, (addr, err)) in attempts.iter().enumerate() {
                    let sep = if i == 0 { "" } else { "; " };
                    write!(f, "{sep}{addr}: {err}")?;
                }
                Ok(())
            }
            Self::Timeout { operation, limit } => {
                write!(f, "{operation} timed out after {}", ShowDuration(*limit))
            }
            Self::SocketOption { option, source } => {
                write!(f, "cannot set socket option {option}: {source}")
            }
            Self::Io { operation, source } => write!(f, "{operation}: {source}"),
            Self::Tls(e) => write!(f, "TLS: {e}"),
            Self::Proxy(e) => write!(f, "proxy: {e}"),
            Self::InvalidConfig(why) => write!(f, "invalid connection options: {why}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Url(e) => Some(e),
            Self::Resolve { source, .. }
            | Self::SocketOption { source, .. }
            | Self::Io { source, .. } => Some(source),
            Self::Connect { attempts, .. } => attempts
                .last()
                .map(|(_, e)| e as &(dyn std::error::Error + 'static)),
            Self::Tls(e) => Some(e),
            Self::Proxy(e) => Some(e),
            Self::Timeout { .. } | Self::InvalidConfig(_) => None,
        }
    }
}

impl From<UrlError> for Error {
    fn from(e: UrlError) -> Self {
        Self::Url(e)
    }
}

impl From<TlsError> for Error {
    fn from(e: TlsError) -> Self {
        Self::Tls(e)
    }
}

impl From<ProxyError> for Error {
    fn from(e: ProxyError) -> Self {
        Self::Proxy(e)
    }
}

/// Shows a duration as people write it: `3s`, `250ms`, `1.5s`.
pub(crate) struct ShowDuration(pub(crate) Duration);

impl fmt::Display for ShowDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = self.0.as_millis();
        if ms % 1000 == 0 {
            write!(f, "{}s", ms / 1000)
        } else if ms < 1000 {
            write!(f, "{ms}ms")
        } else {
            write!(f, "{}s", self.0.as_secs_f64())
        }
    }
}

/// TLS configuration and handshake failures.
#[derive(Debug)]
#[non_exhaustive]
pub enum TlsError {
    /// A certificate, key or CA file (or directory) could not be read.
    Read {
        /// The file or directory.
        path: PathBuf,
        /// The I/O error.
        source: io::Error,
    },
    /// A file held no usable PEM item of the kind needed.
    InvalidPem {
        /// The file.
        path: PathBuf,
        /// What was expected and what was wrong.
        problem: String,
    },
    /// The private key is encrypted with a password; rustls needs it decrypted.
    EncryptedKey(PathBuf),
    /// No trust anchors at all: the platform store is empty and no CA file was given.
    NoRoots(String),
    /// The name to verify (the host or `server_hostname`) is not a valid DNS name or IP.
    InvalidServerName(String),
    /// rustls refused the configuration (for example a key that does not match its
    /// certificate).
    Config(String),
    /// The server's certificate chain is not trusted ("certificate verify failed").
    UntrustedCertificate {
        /// The name that was verified.
        name: String,
        /// Why.
        reason: CertificateProblem,
    },
    /// The certificate is trusted but not for the name that was verified ("host name
    /// mismatch").
    NameMismatch {
        /// The name that was verified.
        name: String,
        /// The names the certificate is valid for (empty when rustls did not say).
        valid_for: Vec<String>,
    },
    /// The server sent a fatal alert, during the handshake or after it (a TLS 1.3 server
    /// that wants a client certificate says so only after the client's handshake is over).
    /// The value is the alert's name, for example `CertificateRequired`.
    Alert(String),
    /// Any other handshake failure.
    Handshake(String),
}

impl fmt::Display for TlsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Read { path, source } => write!(f, "cannot read {}: {source}", path.display()),
            Self::InvalidPem { path, problem } => write!(f, "{}: {problem}", path.display()),
            Self::EncryptedKey(path) => write!(
                f,
                "{}: the private key is encrypted; password-protected keys are not supported, \
                 decrypt it first (openssl pkcs8 -in key.pem -out plain.pem)",
                path.display()
            ),
            Self::NoRoots(why) => write!(f, "no trusted root certificates: {why}"),
            Self::InvalidServerName(name) => write!(f, "invalid server name {name:?}"),
            Self::Config(why) => write!(f, "invalid TLS configuration: {why}"),
            Self::UntrustedCertificate { name, reason } => {
                write!(f, "certificate verify failed for {name}: {reason}")
            }
            Self::NameMismatch { name, valid_for } if valid_for.is_empty() => {
                write!(
                    f,
                    "host name mismatch: the certificate is not valid for {name}"
                )
            }
            Self::NameMismatch { name, valid_for } => write!(
                f,
                "host name mismatch: the certificate is valid for {}, not {name}",
                valid_for.join(", ")
            ),
            Self::Alert(alert) => {
                let what = match alert.as_str() {
                    "CertificateRequired" => {
                        "the server requires a client certificate (see TlsConfig::client_cert)"
                    }
                    "BadCertificate"
                    | "UnsupportedCertificate"
                    | "CertificateUnknown"
                    | "UnknownCA"
                    | "CertificateExpired"
                    | "CertificateRevoked" => "the server rejected the client certificate",
                    "HandshakeFailure" => {
                        "the server refused the handshake (no cipher suite or parameters in common)"
                    }
                    "ProtocolVersion" => "the server supports no TLS version this client offers",
                    "AccessDenied" => "the server denied access",
                    "UnrecognisedName" => "the server does not serve the requested name (SNI)",
                    "DecryptError" | "BadRecordMac" => {
                        "the server could not decrypt what it received"
                    }
                    _ => "the server ended the connection",
                };
                write!(f, "{what} (TLS alert {alert})")
            }
            Self::Handshake(why) => write!(f, "handshake failed: {why}"),
        }
    }
}

impl std::error::Error for TlsError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Read { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// Why a server certificate is not trusted, in words people search for.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CertificateProblem {
    /// The chain does not lead to a trusted root.
    UnknownIssuer,
    /// The certificate has expired (when, if known).
    Expired(Option<SystemTime>),
    /// The certificate is not valid yet (from when, if known).
    NotYetValid(Option<SystemTime>),
    /// The certificate was revoked.
    Revoked,
    /// A certificate in the chain is not signed by its issuer's key.
    BadSignature,
    /// A certificate is malformed.
    BadEncoding,
    /// The certificate is not for a TLS server.
    WrongPurpose,
    /// The revocation status could not be determined.
    UnknownRevocationStatus,
    /// A signature uses an algorithm this client does not support.
    UnsupportedSignatureAlgorithm,
    /// Anything else, as rustls put it.
    Other(String),
}

impl fmt::Display for CertificateProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnknownIssuer => {
                f.write_str("unknown issuer (is the CA in the trust store? see TlsConfig::ca_file)")
            }
            Self::Expired(Some(at)) => write!(f, "the certificate expired on {}", ShowTime(*at)),
            Self::Expired(None) => f.write_str("the certificate has expired"),
            Self::NotYetValid(Some(from)) => write!(
                f,
                "the certificate is not valid before {} (is the clock right?)",
                ShowTime(*from)
            ),
            Self::NotYetValid(None) => {
                f.write_str("the certificate is not valid yet (is the clock right?)")
            }
            Self::Revoked => f.write_str("the certificate was revoked"),
            Self::BadSignature => {
                f.write_str("bad signature: a certificate is not signed by its issuer's key")
            }
            Self::BadEncoding => f.write_str("the certificate is malformed"),
            Self::WrongPurpose => f.write_str("the certificate is not meant for a TLS server"),
            Self::UnknownRevocationStatus => {
                f.write_str("the certificate's revocation status is unknown")
            }
            Self::UnsupportedSignatureAlgorithm => {
                f.write_str("a signature uses an algorithm this client does not support")
            }
            Self::Other(why) => f.write_str(why),
        }
    }
}

/// A time as `2024-05-01 12:00:00 UTC`.
struct ShowTime(SystemTime);

impl fmt::Display for ShowTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self
            .0
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        // Days to a civil date (Howard Hinnant's algorithm, proleptic Gregorian).
        let days = secs / 86_400;
        let z = days + 719_468;
        let era = z / 146_097;
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = doy - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        let year = yoe + era * 400 + u64::from(month <= 2);
        let rest = secs % 86_400;
        write!(
            f,
            "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC",
            rest / 3600,
            rest / 60 % 60,
            rest % 60
        )
    }
}

/// Proxy failures: configuration, reaching the proxy, and what the proxy answered.
#[derive(Debug)]
#[non_exhaustive]
pub enum ProxyError {
    /// A proxy URL or setting is not usable (the URL is shown without its password).
    InvalidProxy(String),
    /// The proxy itself could not be reached.
    Connect {
        /// The proxy's `host:port`.
        proxy: String,
        /// Why.
        source: Box<Error>,
    },
    /// The HTTP proxy answered `CONNECT` with a non-2xx status.
    HttpStatus {
        /// The status code (407: authentication required; see
        /// [`is_auth_required`](Self::is_auth_required)).
        status: u16,
        /// The reason phrase.
        reason: String,
    },
    /// The HTTP proxy's reply is not valid HTTP.
    HttpResponse(ws_handshake::Error),
    /// The SOCKS4 proxy refused the request.
    Socks4(Socks4Reply),
    /// The SOCKS5 proxy refused the request.
    Socks5(Socks5Reply),
    /// The SOCKS5 proxy accepts none of the offered authentication methods (it wants
    /// user/password and none was given, or the reverse).
    Socks5NoAcceptableMethod,
    /// The SOCKS5 proxy rejected the user name and password (RFC 1929 status).
    Socks5AuthFailed(u8),
    /// The proxy's reply breaks its protocol.
    Malformed {
        /// `"SOCKS4"`, `"SOCKS5"`.
        protocol: &'static str,
        /// What was wrong.
        problem: String,
    },
    /// A value does not fit the protocol (a user name over 255 bytes for SOCKS5, an IPv6
    /// target for SOCKS4, ...).
    Unsupported(String),
    /// The proxy closed the connection during negotiation.
    Closed(&'static str),
}

impl ProxyError {
    /// `true` when the proxy asked for (other) credentials: HTTP 407 (or 401, which tinyproxy
    /// sends for a wrong password), SOCKS5 auth failure or no acceptable method, SOCKS4 user-id
    /// rejection.
    #[must_use]
    pub fn is_auth_required(&self) -> bool {
        match self {
            Self::HttpStatus { status, .. } => matches!(status, 401 | 407),
            Self::Socks5AuthFailed(_) | Self::Socks5NoAcceptableMethod => true,
            Self::Socks4(reply) => matches!(
                reply,
                Socks4Reply::IdentRequired | Socks4Reply::IdentMismatch
            ),
            _ => false,
        }
    }
}

impl fmt::Display for ProxyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidProxy(why) => write!(f, "invalid proxy setting: {why}"),
            Self::Connect { proxy, source } => write!(f, "cannot reach proxy {proxy}: {source}"),
            Self::HttpStatus { status, reason } => {
                write!(f, "CONNECT refused with status {status} {reason}")
            }
            Self::HttpResponse(e) => write!(f, "bad CONNECT reply: {e}"),
            Self::Socks4(reply) => write!(f, "SOCKS4 request refused: {reply}"),
            Self::Socks5(reply) => write!(f, "SOCKS5 request refused: {reply}"),
            Self::Socks5NoAcceptableMethod => {
                f.write_str("SOCKS5 proxy accepts none of the offered authentication methods")
            }
            Self::Socks5AuthFailed(status) => {
                write!(
                    f,
                    "SOCKS5 proxy rejected the user name or password (status {status})"
                )
            }
            Self::Malformed { protocol, problem } => {
                write!(f, "malformed {protocol} reply: {problem}")
            }
            Self::Unsupported(why) => f.write_str(why),
            Self::Closed(step) => write!(f, "the proxy closed the connection during {step}"),
        }
    }
}

impl std::error::Error for ProxyError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Connect { source, .. } => Some(source.as_ref()),
            Self::HttpResponse(e) => Some(e),
            _ => None,
        }
    }
}
