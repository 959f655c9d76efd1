//! WebSocket URLs: `ws://` and `wss://` (Python's `_url.parse_url`).

use std::fmt;
use std::net::{IpAddr, Ipv6Addr};

/// Why a URL was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum UrlError {
    /// There is no `scheme://` part.
    MissingScheme(String),
    /// The scheme is not `ws`, `wss`, `http` or `https`.
    UnsupportedScheme(String),
    /// The authority has no host (`ws:///path`, `ws://:80`).
    MissingHost(String),
    /// The host contains a character no host name may contain.
    InvalidHost(String),
    /// A bracketed host that is not an IPv6 address.
    InvalidIpv6(String),
    /// The port is not a number from 1 to 65535.
    InvalidPort(String),
}

/// `input` with the password of its user-info replaced by `***`: URLs are shown in errors and
/// logs, passwords never are.
pub(crate) fn redact(input: &str) -> String {
    let (prefix, rest) = match input.find("://") {
        Some(i) => input.split_at(i + 3),
        None => ("", input),
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    match authority.rsplit_once('@') {
        Some((info, hostport)) => {
            let user = info.split(':').next().unwrap_or("");
            let shown = if info.contains(':') {
                format!("{user}:***")
            } else {
                user.to_string()
            };
            format!("{prefix}{shown}@{hostport}{tail}")
        }
        None => input.to_string(),
    }
}

impl fmt::Display for UrlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MissingScheme(url) => write!(f, "URL {url:?} has no scheme; use ws:// or wss://"),
            Self::UnsupportedScheme(s) => {
                write!(f, "URL scheme {s:?} is not supported; use ws:// or wss://")
            }
            Self::MissingHost(url) => write!(f, "URL {url:?} has no host"),
            Self::InvalidHost(host) if host.matches(':').count() > 1 => {
                write!(
                    f,
                    "invalid host {host:?} in URL: write IPv6 addresses in brackets"
                )
            }
            Self::InvalidHost(host) => write!(f, "invalid host {host:?} in URL"),
            Self::InvalidIpv6(host) => write!(f, "invalid IPv6 address [{host}] in URL"),
            Self::InvalidPort(port) => {
                write!(
                    f,
                    "invalid port {port:?} in URL: expected a number from 1 to 65535"
                )
            }
        }
    }
}

impl std::error::Error for UrlError {}

/// A parsed `ws://` or `wss://` URL.
///
/// The scheme is case-insensitive and `http`/`https` are accepted as `ws`/`wss` (redirects
/// name them); the host is lowercased and an IPv6 literal is kept without its brackets; the
/// port defaults to 80 or 443; the resource is the path (default `/`) plus `?query`, with
/// white space, controls and non-ASCII percent-encoded, and the fragment is dropped. User-info is kept, percent-decoded, for Basic auth; it never appears in
/// [`Display`](fmt::Display) output.
///
/// ```
/// use ws_transport::WsUrl;
/// let url = WsUrl::parse("WSS://user:p%40ss@[::1]:8443/chat?room=1#top")?;
/// assert!(url.is_secure());
/// assert_eq!((url.host(), url.port(), url.resource()), ("::1", 8443, "/chat?room=1"));
/// assert_eq!(url.credentials(), Some(("user", "p@ss")));
/// assert_eq!(url.to_string(), "wss://[::1]:8443/chat?room=1");
/// # Ok::<(), ws_transport::UrlError>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct WsUrl {
    secure: bool,
    host: String,
    port: u16,
    resource: String,
    credentials: Option<(String, String)>,
}

impl WsUrl {
    /// Parses a URL; see the type's documentation for the rules.
    ///
    /// # Errors
    /// A [`UrlError`] naming what is wrong.
    pub fn parse(input: &str) -> Result<Self, UrlError> {
        let trimmed = input.trim();
        let (scheme, rest) = trimmed
            .split_once("://")
            .ok_or_else(|| UrlError::MissingScheme(redact(trimmed)))?;
        let secure = match scheme.to_ascii_lowercase().as_str() {
            "ws" | "http" => false,
            "wss" | "https" => true,
            _ => return Err(UrlError::UnsupportedScheme(redact(scheme))),
        };
        let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let (authority, tail) = rest.split_at(authority_end);
        let (credentials, hostport) = split_userinfo(authority);
        let (host, port) = split_host_port(hostport)?;
        if host.is_empty() {
            return Err(UrlError::MissingHost(redact(trimmed)));
        }
        let port = port.unwrap_or(if secure { 443 } else { 80 });
        let without_fragment = tail.split('#').next().unwrap_or("");
        let mut resource = String::with_capacity(without_fragment.len() + 1);
        if !without_fragment.starts_with('/') {
            resource.push('/');
        }
        encode_resource(without_fragment, &mut resource);
        Ok(Self {
            secure,
            host,
            port,
            resource,
            credentials,
        })
    }

    /// `true` for `wss://` (and `https://`).
    #[must_use]
    pub fn is_secure(&self) -> bool {
        self.secure
    }

    /// The host, lowercased; an IPv6 literal without brackets.
    #[must_use]
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The port, explicit or the scheme's default (80, 443).
    #[must_use]
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Path and query: what goes on the request line.
    #[must_use]
    pub fn resource(&self) -> &str {
        &self.resource
    }

    /// User name and password from the user-info, percent-decoded.
    #[must_use]
    pub fn credentials(&self) -> Option<(&str, &str)> {
        self.credentials
            .as_ref()
            .map(|(u, p)| (u.as_str(), p.as_str()))
    }

    /// Scheme security, host and port: what decides whether credentials may follow a
    /// redirect (RFC 6454 §4; `http`/`ws` and `https`/`wss` count as the same scheme).
    #[must_use]
    pub fn origin(&self) -> (bool, &str, u16) {
        (self.secure, &self.host, self.port)
    }

    /// The host as an IP address, when it is one.
    #[must_use]
    pub fn ip(&self) -> Option<IpAddr> {
        self.host.parse().ok()
    }
}

impl fmt::Debug for WsUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WsUrl")
            .field("secure", &self.secure)
            .field("host", &self.host)
            .field("port", &self.port)
            .field("resource", &self.resource)
            .field("credentials", &shown_credentials(&self.credentials))
            .finish()
    }
}

impl fmt::Display for WsUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = if self.secure { "wss" } else { "ws" };
        write!(f, "{scheme}://{}", HostPort(&self.host, self.port))?;
        f.write_str(&self.resource)
    }
}

/// Copies a path and query, percent-encoding what may not appear in an HTTP request target
/// (white space, controls, `"<>\\^`{|}` and non-ASCII, as browsers do); `%` is kept as is.
fn encode_resource(raw: &str, out: &mut String) {
    for &b in raw.as_bytes() {
        if b <= b' ' || b >= 0x7f || b"\"<>\\^`{|}".contains(&b) {
            out.push_str(&format!("%{b:02X}"));
        } else {
            out.push(char::from(b));
        }
    }
}

/// Splits `user:password@hostport` into percent-decoded credentials and the rest; the last
/// `@` separates them. Shared by WebSocket URLs and proxy URLs.
pub(crate) fn split_userinfo(authority: &str) -> (Option<(String, String)>, &str) {
    match authority.rsplit_once('@') {
        Some((info, hostport)) => {
            let (user, password) = info.split_once(':').unwrap_or((info, ""));
            let decoded = (
                ws_handshake::percent_decode(user),
                ws_handshake::percent_decode(password),
            );
            (Some(decoded), hostport)
        }
        None => (None, authority),
    }
}

/// Credentials as `Debug` shows them: the user, never the password.
pub(crate) fn shown_credentials(credentials: &Option<(String, String)>) -> Option<(&str, &str)> {
    credentials
        .as_ref()
        .map(|(user, _)| (user.as_str(), "<redacted>"))
}

/// Formats `host:port` with IPv6 hosts in brackets.
pub(crate) struct HostPort<'a>(pub(crate) &'a str, pub(crate) u16);

impl fmt::Display for HostPort<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.contains(':') {
            write!(f, "[{}]:{}", self.0, self.1)
        } else {
            write!(f, "{}:{}", self.0, self.1)
        }
    }
}

/// Splits `host[:port]` or `[v6][:port]`; the host comes back lowercased and unbracketed.
/// Shared by WebSocket URLs and proxy URLs.
pub(crate) fn split_host_port(hostport: &str) -> Result<(String, Option<u16>), UrlError> {
    let (host, port) = if let Some(inner) = hostport.strip_prefix('[') {
        let (v6, after) = inner
            .split_once(']')
            .ok_or_else(|| UrlError::InvalidIpv6(inner.to_string()))?;
        v6.parse::<Ipv6Addr>()
            .map_err(|_| UrlError::InvalidIpv6(v6.to_string()))?;
        let port = match after {
            "" => None,
            _ => Some(
                after
                    .strip_prefix(':')
                    .ok_or_else(|| UrlError::InvalidHost(hostport.to_string()))?,
            ),
        };
        (v6, port)
    } else if hostport.matches(':').count() > 1 {
        // An IPv6 address without brackets: its port cannot be told apart.
        return Err(UrlError::InvalidHost(hostport.to_string()));
    } else {
        match hostport.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (hostport, None),
        }
    };
    let bracketed = hostport.starts_with('[');
    if !bracketed
        && host
            .bytes()
            .any(|b| b.is_ascii_control() || b == b' ' || b":\\/<>^`{|}[]%\"".contains(&b))
    {
        return Err(UrlError::InvalidHost(host.to_string()));
    }
    let port = match port {
        None | Some("") => None,
        Some(p) => match p.parse::<u16>() {
            Ok(n) if n > 0 && p.bytes().all(|b| b.is_ascii_digit()) => Some(n),
            _ => return Err(UrlError::InvalidPort(p.to_string())),
        },
    };
    Ok((host.to_ascii_lowercase(), port))
}
