//! SOCKS4, SOCKS4a (Ying-Da Lee's protocol notes) and SOCKS5 (RFC 1928, user/password auth
//! RFC 1929) as sans-I/O codecs: each request is built as bytes and each reply is parsed from
//! bytes, so the blocking driver in this crate and the fuzzer share exactly the same code.
//!
//! Reply parsers return [`Progress::NeedAtLeast`] with the total length they need, so a
//! driver can read exactly that much and never consumes a byte that belongs to the tunnel.
//!
//! ```
//! use ws_transport::socks::{self, Progress, Socks5Reply, Target};
//! let request = socks::socks5_connect_request(&Target::Domain("example.org"), 443)?;
//! assert_eq!(&request[..5], &[5, 1, 0, 3, 11]);
//! let reply = [5, 0, 0, 1, 127, 0, 0, 1, 0x1f, 0x90];
//! assert_eq!(socks::parse_socks5_reply(&reply[..4])?, Progress::NeedAtLeast(10));
//! assert_eq!(socks::parse_socks5_reply(&reply)?, Progress::Done(Socks5Reply::Succeeded, 10));
//! # Ok::<(), ws_transport::ProxyError>(())
//! ```

use std::fmt;
use std::net::IpAddr;

use crate::ProxyError;

/// Where the proxy should connect: an address resolved here, or a name the proxy resolves
/// (SOCKS4a, SOCKS5h).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target<'a> {
    /// An IP address.
    Ip(IpAddr),
    /// A host name, sent as is.
    Domain(&'a str),
}

/// The outcome of parsing a reply that may not have fully arrived.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Progress<T> {
    /// The reply is complete: its value and its length in bytes.
    Done(T, usize),
    /// Not enough bytes yet: the reply is at least this long in total.
    NeedAtLeast(usize),
}

/// A SOCKS4 reply code (the `CD` byte).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Socks4Reply {
    /// 90: request granted.
    Granted,
    /// 91: request rejected or failed.
    Rejected,
    /// 92: rejected because the proxy cannot reach the client's identd.
    IdentRequired,
    /// 93: rejected because identd reported a different user id.
    IdentMismatch,
    /// Any other code.
    Other(u8),
}

impl Socks4Reply {
    /// The code as sent on the wire.
    #[must_use]
    pub fn code(self) -> u8 {
        match self {
            Self::Granted => 90,
            Self::Rejected => 91,
            Self::IdentRequired => 92,
            Self::IdentMismatch => 93,
            Self::Other(code) => code,
        }
    }

    fn from_code(code: u8) -> Self {
        match code {
            90 => Self::Granted,
            91 => Self::Rejected,
            92 => Self::IdentRequired,
            93 => Self::IdentMismatch,
            other => Self::Other(other),
        }
    }
}

impl fmt::Display for Socks4Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            Self::Granted => "request granted",
            Self::Rejected => "request rejected or failed",
            Self::IdentRequired => "rejected: the proxy cannot reach identd on the client",
            Self::IdentMismatch => "rejected: identd and the request report different user ids",
            Self::Other(_) => "unknown reply code",
        };
        write!(f, "{name} (code {})", self.code())
    }
}

/// A SOCKS5 reply code (the `REP` byte, RFC 1928 §6).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Socks5Reply {
    /// 0: succeeded.
    Succeeded,
    /// 1: general SOCKS server failure.
    GeneralFailure,
    /// 2: connection not allowed by ruleset.
    NotAllowed,
    /// 3: network unreachable.
    NetworkUnreachable,
    /// 4: host unreachable.
    HostUnreachable,
    /// 5: connection refused.
    ConnectionRefused,
    /// 6: TTL expired.
    TtlExpired,
    /// 7: command not supported.
    CommandNotSupported,
    /// 8: address type not supported.
    AddressTypeNotSupported,
    /// 9–255: unassigned.
    Unassigned(u8),
}

impl Socks5Reply {
    /// The code as sent on the wire.
    #[must_use]
    pub fn code(self) -> u8 {
        match self {
            Self::Succeeded => 0,
            Self::GeneralFailure => 1,
            Self::NotAllowed => 2,
            Self::NetworkUnreachable => 3,
            Self::HostUnreachable => 4,
            Self::ConnectionRefused => 5,
            Self::TtlExpired => 6,
            Self::CommandNotSupported => 7,
            Self::AddressTypeNotSupported => 8,
            Self::Unassigned(code) => code,
        }
    }

    fn from_code(code: u8) -> Self {
        match code {
            0 => Self::Succeeded,
            1 => Self::GeneralFailure,
            2 => Self::NotAllowed,
            3 => Self::NetworkUnreachable,
            4 => Self::HostUnreachable,
            5 => Self::ConnectionRefused,
            6 => Self::TtlExpired,
            7 => Self::CommandNotSupported,
            8 => Self::AddressTypeNotSupported,
            other => Self::Unassigned(other),
        }
    }
}

impl fmt::Display for Socks5Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            Self::Succeeded => "succeeded",
            Self::GeneralFailure => "general SOCKS server failure",
            Self::NotAllowed => "connection not allowed by ruleset",
            Self::NetworkUnreachable => "network unreachable",
            Self::HostUnreachable => "host unreachable",
            Self::ConnectionRefused => "connection refused",
            Self::TtlExpired => "TTL expired",
            Self::CommandNotSupported => "command not supported",
            Self::AddressTypeNotSupported => "address type not supported",
            Self::Unassigned(_) => "unassigned reply code",
        };
        write!(f, "{name} (code {})", self.code())
    }
}

/// A SOCKS5 authentication method (RFC 1928 §3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Socks5Method {
    /// 0x00: no authentication.
    NoAuth,
    /// 0x02: user name and password (RFC 1929).
    UserPassword,
    /// 0xFF: none of the offered methods is acceptable.
    NoAcceptable,
    /// Any other method (this client never offers one).
    Other(u8),
}

fn unsupported(why: String) -> ProxyError {
    ProxyError::Unsupported(why)
}

fn malformed(protocol: &'static str, problem: String) -> ProxyError {
    ProxyError::Malformed { protocol, problem }
}

/// Builds a SOCKS4 `CONNECT` request; a [`Target::Domain`] makes it SOCKS4a (the proxy
/// resolves the name).
///
/// # Errors
/// [`ProxyError::Unsupported`] for an IPv6 target (SOCKS4 carries IPv4 only) or a user id or
/// name containing NUL.
pub fn socks4_request(
    target: &Target<'_>,
    port: u16,
    user_id: &str,
) -> Result<Vec<u8>, ProxyError> {
    if user_id.contains('\0') {
        return Err(unsupported(
            "a SOCKS4 user id cannot contain NUL".to_string(),
        ));
    }
    let mut out = vec![4, 1];
    out.extend_from_slice(&port.to_be_bytes());
    match target {
        Target::Ip(IpAddr::V4(ip)) => out.extend_from_slice(&ip.octets()),
        Target::Ip(IpAddr::V6(ip)) => {
            return Err(unsupported(format!(
                "SOCKS4 cannot reach the IPv6 address {ip}"
            )));
        }
        // SOCKS4a: 0.0.0.x with x != 0 says "the name follows the user id".
        Target::Domain(_) => out.extend_from_slice(&[0, 0, 0, 1]),
    }
    out.extend_from_slice(user_id.as_bytes());
    out.push(0);
    if let Target::Domain(name) = target {
        if name.is_empty() || name.contains('\0') {
            return Err(unsupported(format!(
                "SOCKS4a cannot send the host name {name:?}"
            )));
        }
        out.extend_from_slice(name.as_bytes());
        out.push(0);
    }
    Ok(out)
}

/// Parses the 8-byte SOCKS4 reply: `VN` must be 0; the reply code is returned whatever it
/// is (the caller decides that only [`Socks4Reply::Granted`] opens the tunnel).
///
/// # Errors
/// [`ProxyError::Malformed`] when `VN` is not 0.
pub fn parse_socks4_reply(buf: &[u8]) -> Result<Progress<Socks4Reply>, ProxyError> {
    if let Some(&version) = buf.first() {
        if version != 0 {
            return Err(malformed(
                "SOCKS4",
                format!("reply version {version}, expected 0"),
            ));
        }
    }
    match buf.get(1) {
        Some(&code) if buf.len() >= 8 => Ok(Progress::Done(Socks4Reply::from_code(code), 8)),
        _ => Ok(Progress::NeedAtLeast(8)),
    }
}

/// The SOCKS5 greeting: offers "no authentication", plus user/password when credentials
/// will be sent.
#[must_use]
pub fn socks5_greeting(with_password: bool) -> Vec<u8> {
    if with_password {
        vec![5, 2, 0x00, 0x02]
    } else {
        vec![5, 1, 0x00]
    }
}

/// Parses the proxy's method selection (`VER`, `METHOD`).
///
/// # Errors
/// [`ProxyError::Malformed`] when `VER` is not 5.
pub fn parse_socks5_method(buf: &[u8]) -> Result<Progress<Socks5Method>, ProxyError> {
    let [version, method, ..] = *buf else {
        return match buf.first() {
            Some(&v) if v != 5 => Err(bad_version(v)),
            _ => Ok(Progress::NeedAtLeast(2)),
        };
    };
    if version != 5 {
        return Err(bad_version(version));
    }
    let method = match method {
        0x00 => Socks5Method::NoAuth,
        0x02 => Socks5Method::UserPassword,
        0xFF => Socks5Method::NoAcceptable,
        other => Socks5Method::Other(other),
    };
    Ok(Progress::Done(method, 2))
}

fn bad_version(version: u8) -> ProxyError {
    malformed("SOCKS5", format!("reply version {version}, expected 5"))
}

/// Builds the RFC 1929 user/password request.
///
/// # Errors
/// [`ProxyError::Unsupported`] when the user name or password is longer than 255 bytes.
pub fn socks5_auth_request(user: &str, password: &str) -> Result<Vec<u8>, ProxyError> {
    let len = |what: &str, v: &str| {
        u8::try_from(v.len()).map_err(|_| {
            unsupported(format!(
                "SOCKS5 {what} is {} bytes; the limit is 255",
                v.len()
            ))
        })
    };
    let mut out = vec![1, len("user name", user)?];
    out.extend_from_slice(user.as_bytes());
    out.push(len("password", password)?);
    out.extend_from_slice(password.as_bytes());
    Ok(out)
}

/// Parses the RFC 1929 reply and returns its status (0 = success). Like curl, the version
/// byte is not checked: servers send 1 (as the RFC says) or 5.
///
/// # Errors
/// Never for a complete reply; the `Result` keeps the shape of the other parsers.
pub fn parse_socks5_auth_reply(buf: &[u8]) -> Result<Progress<u8>, ProxyError> {
    match buf.get(1) {
        Some(&status) => Ok(Progress::Done(status, 2)),
        None => Ok(Progress::NeedAtLeast(2)),
    }
}

/// Builds the SOCKS5 `CONNECT` request (RFC 1928 §4); a [`Target::Domain`] is resolved by
/// the proxy (SOCKS5h).
///
/// # Errors
/// [`ProxyError::Unsupported`] for an empty host name or one longer than 255 bytes.
pub fn socks5_connect_request(target: &Target<'_>, port: u16) -> Result<Vec<u8>, ProxyError> {
    let mut out = vec![5, 1, 0];
    match target {
        Target::Ip(IpAddr::V4(ip)) => {
            out.push(1);
            out.extend_from_slice(&ip.octets());
        }
        Target::Ip(IpAddr::V6(ip)) => {
            out.push(4);
            out.extend_from_slice(&ip.octets());
        }
        Target::Domain(name) => {
            let len = u8::try_from(name.len())
                .ok()
                .filter(|&n| n > 0)
                .ok_or_else(|| {
                    unsupported(format!(
                        "SOCKS5 cannot send the host name {name:?}: 1 to 255 bytes allowed"
                    ))
                })?;
            out.push(3);
            out.push(len);
            out.extend_from_slice(name.as_bytes());
        }
    }
    out.extend_from_slice(&port.to_be_bytes());
    Ok(out)
}

/// Parses the SOCKS5 reply to `CONNECT`: `VER REP RSV ATYP BND.ADDR BND.PORT`, whose length
/// depends on the address type.
///
/// # Errors
/// [`ProxyError::Malformed`] when `VER` is not 5 or `ATYP` is unknown.
pub fn parse_socks5_reply(buf: &[u8]) -> Result<Progress<Socks5Reply>, ProxyError> {
    if let Some(&version) = buf.first() {
        if version != 5 {
            return Err(bad_version(version));
        }
    }
    let (Some(&code), Some(&atyp)) = (buf.get(1), buf.get(3)) else {
        return Ok(Progress::NeedAtLeast(5));
    };
    let needed = match atyp {
        1 => 4 + 4 + 2,
        4 => 4 + 16 + 2,
        3 => match buf.get(4) {
            Some(&len) => 4 + 1 + usize::from(len) + 2,
            None => return Ok(Progress::NeedAtLeast(5)),
        },
        other => {
            return Err(malformed(
                "SOCKS5",
                format!("unknown address type {other} in reply"),
            ));
        }
    };
    if buf.len() < needed {
        return Ok(Progress::NeedAtLeast(needed));
    }
    Ok(Progress::Done(Socks5Reply::from_code(code), needed))
}
