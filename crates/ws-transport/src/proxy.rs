//! Proxy settings: explicit ones, the environment's (`http_proxy`, `https_proxy`,
//! `all_proxy`, `no_proxy`), and the no-proxy rules. Choosing a proxy is pure: the environment
//! is read through a lookup function so the rules are testable without touching the process
//! environment.

use std::fmt;
use std::io::{self, Read, Write};
use std::net::{IpAddr, TcpStream};
use std::time::Duration;

use crate::url::{HostPort, shown_credentials, split_host_port, split_userinfo};
use crate::{Error, ProxyError, WsUrl};

/// The proxy protocol.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ProxyKind {
    /// HTTP `CONNECT` (default port 80).
    Http,
    /// SOCKS4: the name is resolved here, IPv4 only (default port 1080).
    Socks4,
    /// SOCKS4a: the proxy resolves the name.
    Socks4a,
    /// SOCKS5: the name is resolved here.
    Socks5,
    /// SOCKS5h: the proxy resolves the name.
    Socks5h,
}

impl ProxyKind {
    /// The URL scheme for this kind (`http`, `socks4`, `socks4a`, `socks5`, `socks5h`).
    #[must_use]
    pub fn scheme(self) -> &'static str {
        match self {
            Self::Http => "http",
            Self::Socks4 => "socks4",
            Self::Socks4a => "socks4a",
            Self::Socks5 => "socks5",
            Self::Socks5h => "socks5h",
        }
    }

    /// The port used when none is given: 80 for HTTP, 1080 for SOCKS.
    #[must_use]
    pub fn default_port(self) -> u16 {
        if self == Self::Http { 80 } else { 1080 }
    }

    /// Parses a scheme name, case-insensitively (Python's `proxy_type` values).
    ///
    /// # Errors
    /// [`ProxyError::InvalidProxy`] for any other name, listing the valid ones.
    pub fn from_scheme(scheme: &str) -> Result<Self, ProxyError> {
        Ok(match scheme.to_ascii_lowercase().as_str() {
            "http" => Self::Http,
            "socks4" => Self::Socks4,
            "socks4a" => Self::Socks4a,
            "socks5" => Self::Socks5,
            "socks5h" => Self::Socks5h,
            "https" => {
                return Err(ProxyError::InvalidProxy(
                    "TLS to the proxy (https://) is not supported; use http://".to_string(),
                ));
            }
            other => {
                return Err(ProxyError::InvalidProxy(format!(
                    "proxy type {other:?} is not one of http, socks4, socks4a, socks5, socks5h"
                )));
            }
        })
    }
}

/// One proxy: kind, address and optional credentials.
///
/// ```
/// use ws_transport::{Proxy, ProxyKind};
/// let proxy = Proxy::parse("socks5h://me:s%3Acret@Proxy.example:9050")?;
/// assert_eq!((proxy.kind(), proxy.host(), proxy.port()), (ProxyKind::Socks5h, "proxy.example", 9050));
/// assert_eq!(proxy.credentials(), Some(("me", "s:cret")));
/// assert_eq!(proxy.to_string(), "socks5h://proxy.example:9050"); // never the password
/// assert_eq!(Proxy::parse("10.0.0.1")?.to_string(), "http://10.0.0.1:80");
/// # Ok::<(), ws_transport::ProxyError>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Proxy {
    kind: ProxyKind,
    host: String,
    port: u16,
    credentials: Option<(String, String)>,
}

impl Proxy {
    /// A proxy at `host`; `port` `None` means the kind's default (80 or 1080). An IPv6 host
    /// may be given with or without brackets.
    #[must_use]
    pub fn new(kind: ProxyKind, host: &str, port: Option<u16>) -> Self {
        let host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_ascii_lowercase();
        Self {
            kind,
            host,
            port: port.unwrap_or(kind.default_port()),
            credentials: None,
        }
    }

    /// Sets the credentials: Basic auth for HTTP, RFC 1929 for SOCKS5, the user id for SOCKS4
    /// (which has no password).
    #[must_use]
    pub fn with_credentials(mut self, user: &str, password: &str) -> Self {
        self.credentials = Some((user.to_string(), password.to_string()));
        self
    }

    /// Parses a proxy URL as found in `http_proxy` and friends: `[scheme://][user:pass@]host[:port][/]`.
    /// No scheme means `http`; user-info is percent-decoded.
    ///
    /// # Errors
    /// [`ProxyError::InvalidProxy`] naming the problem (the password is never shown).
    pub fn parse(url: &str) -> Result<Self, ProxyError> {
        let url = url.trim();
        let (kind, rest) = match url.split_once("://") {
            Some((scheme, rest)) => (ProxyKind::from_scheme(scheme)?, rest),
            None => (ProxyKind::Http, url),
        };
        let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
        let (credentials, hostport) = split_userinfo(authority);
        let shown = format!("{}://{hostport}", kind.scheme());
        let (host, port) = split_host_port(hostport)
            .map_err(|e| ProxyError::InvalidProxy(format!("{shown}: {e}")))?;
        if host.is_empty() {
            return Err(ProxyError::InvalidProxy(format!("{shown}: no host")));
        }
        let mut proxy = Self::new(kind, &host, port);
        if let Some((user, password)) = credentials {
            proxy = proxy.with_credentials(&user, &password);
        }
        Ok(proxy)
    }

    /// The protocol.
    #[must_use]
    pub fn kind(&self) -> ProxyKind {
        self.kind
    }

    /// The proxy's host (an IPv6 address without brackets).
    #[must_use]
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The proxy's port.
    #[must_use]
    pub fn port(&self) -> u16 {
        self.port
    }

    /// User name and password, if any.
    #[must_use]
    pub fn credentials(&self) -> Option<(&str, &str)> {
        self.credentials
            .as_ref()
            .map(|(u, p)| (u.as_str(), p.as_str()))
    }

    pub(crate) fn address(&self) -> String {
        HostPort(&self.host, self.port).to_string()
    }

    /// Asks this proxy for a tunnel to `host:port` over `stream`, which is already connected
    /// to the proxy: HTTP `CONNECT` (with Basic auth from the credentials) or the SOCKS
    /// exchange of the proxy's kind. `limit` bounds the whole exchange, not each read. Only
    /// the reply's own bytes are consumed: whatever the server sends through the tunnel
    /// right away stays in the stream. [`connect`](crate::connect) does this for you; this is
    /// for streams you connected yourself.
    ///
    /// # Errors
    /// [`Error::Proxy`] for a refusal (with the proxy's status or reply code) or a malformed
    /// reply; [`Error::Timeout`] when `limit` runs out; I/O errors.
    pub fn negotiate<S: ProxyStream>(
        &self,
        stream: &mut S,
        host: &str,
        port: u16,
        limit: Option<Duration>,
    ) -> Result<(), Error> {
        crate::connect::negotiate(
            self,
            stream,
            host,
            port,
            crate::deadline::Deadline::started(limit),
        )
    }
}

/// A stream a proxy exchange runs over ([`Proxy::negotiate`]): reads and writes, a look at
/// what arrived without consuming it (so no byte of the tunnel is taken with the reply), and
/// a time limit for the next call.
pub trait ProxyStream: Read + Write {
    /// Copies what has arrived into `buf` without consuming it, waiting for at least one byte
    /// (TCP's `peek`); 0 at the end of the stream.
    ///
    /// # Errors
    /// The stream's, `WouldBlock`/`TimedOut` when the time limit passes.
    fn peek(&mut self, buf: &mut [u8]) -> io::Result<usize>;

    /// Limits how long the next read, write or peek may wait (`None`: no limit).
    ///
    /// # Errors
    /// When the limit cannot be set.
    fn set_timeout(&mut self, timeout: Option<Duration>) -> io::Result<()>;
}

impl ProxyStream for TcpStream {
    fn peek(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        TcpStream::peek(self, buf)
    }

    fn set_timeout(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        self.set_read_timeout(timeout)?;
        self.set_write_timeout(timeout)
    }
}

impl fmt::Display for Proxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}://{}",
            self.kind.scheme(),
            HostPort(&self.host, self.port)
        )
    }
}

impl fmt::Debug for Proxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Proxy")
            .field("kind", &self.kind)
            .field("host", &self.host)
            .field("port", &self.port)
            .field("credentials", &shown_credentials(&self.credentials))
            .finish()
    }
}

/// Where the proxy comes from.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum ProxyConfig {
    /// From the environment (the default): `http_proxy` for `ws://`, `https_proxy` for
    /// `wss://`, then `all_proxy`; see [`ProxyConfig::select`].
    #[default]
    FromEnv,
    /// Never use a proxy, whatever the environment says.
    Direct,
    /// This proxy (Python's `http_proxy_host` / `http_proxy_port` / `proxy_type` /
    /// `http_proxy_auth`).
    Explicit(Proxy),
}

impl ProxyConfig {
    /// Chooses the proxy for `url`, reading the process environment.
    ///
    /// # Errors
    /// [`ProxyError::InvalidProxy`] when the environment's proxy URL is unusable.
    pub fn select(
        &self,
        url: &WsUrl,
        no_proxy: Option<&NoProxy>,
    ) -> Result<Option<Proxy>, ProxyError> {
        self.select_with(url, no_proxy, |name| std::env::var(name).ok())
    }

    /// Chooses the proxy for `url`, reading variables through `env`.
    ///
    /// The rules:
    /// - `Direct` gives none; `Explicit` gives its proxy; `FromEnv` reads `http_proxy` (for
    ///   `ws://`) or `https_proxy` (for `wss://`), then `all_proxy`. For each name the
    ///   lowercase variable wins over the uppercase one, and a lowercase variable that is set
    ///   but empty disables proxying for the URL. Uppercase `HTTP_PROXY` is ignored when
    ///   `REQUEST_METHOD` is set (a CGI environment, where a client's `Proxy:` header would
    ///   appear as that variable — "httpoxy").
    /// - The no-proxy list (`no_proxy`, or the environment's `no_proxy` / `NO_PROXY` when
    ///   `None`) then applies to whichever proxy was chosen, explicit ones included, as in
    ///   Python's websocket-client.
    ///
    /// # Errors
    /// [`ProxyError::InvalidProxy`] when the environment's proxy URL is unusable.
    pub fn select_with(
        &self,
        url: &WsUrl,
        no_proxy: Option<&NoProxy>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Option<Proxy>, ProxyError> {
        let proxy = match self {
            Self::Direct => return Ok(None),
            Self::Explicit(proxy) => proxy.clone(),
            Self::FromEnv => {
                let primary = if url.is_secure() {
                    "https_proxy"
                } else {
                    "http_proxy"
                };
                match env_proxy_value(&env, primary).or_else(|| env_proxy_value(&env, "all_proxy"))
                {
                    Some(value) if !value.is_empty() => Proxy::parse(&value)?,
                    _ => return Ok(None),
                }
            }
        };
        let env_list;
        let no_proxy = match no_proxy {
            Some(list) => list,
            None => {
                env_list = NoProxy::parse(&lookup(&env, "no_proxy", false).unwrap_or_default());
                &env_list
            }
        };
        if no_proxy.matches(url.host(), url.port()) {
            log::debug!(
                "{} bypasses proxy {proxy}: matched by the no-proxy list",
                url.host()
            );
            return Ok(None);
        }
        Ok(Some(proxy))
    }
}

/// The value for one proxy variable: `Some("")` when the lowercase one disables proxying.
fn env_proxy_value(env: &impl Fn(&str) -> Option<String>, name: &str) -> Option<String> {
    let cgi = name == "http_proxy" && env("REQUEST_METHOD").is_some();
    lookup(env, name, cgi)
}

fn lookup(env: &impl Fn(&str) -> Option<String>, name: &str, skip_upper: bool) -> Option<String> {
    match env(name) {
        Some(value) => Some(value.trim().to_string()),
        None if skip_upper => None,
        None => env(&name.to_ascii_uppercase()).map(|v| v.trim().to_string()),
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Rule {
    Any,
    Domain { name: String, port: Option<u16> },
    Ip { addr: IpAddr, port: Option<u16> },
    Cidr { network: IpAddr, prefix: u8 },
}

/// Hosts that are reached directly, never through a proxy (`no_proxy`, Python's
/// `http_no_proxy`).
///
/// Entries: `*` matches every host; a domain matches itself and its subdomains on a label
/// boundary (`example.org` and `.example.org` match `a.example.org`, never
/// `notexample.org`); an IP address matches itself; an IPv4 or IPv6 CIDR block matches the IP
/// hosts inside it; `host:port` or `[v6]:port` matches that port only. Matching is
/// case-insensitive; entries that are none of these are ignored with a warning in the log.
///
/// ```
/// use ws_transport::NoProxy;
/// let list = NoProxy::parse("example.org, 10.0.0.0/8, [::1], internal:8080");
/// assert!(list.matches("a.example.org", 443) && list.matches("EXAMPLE.org", 80));
/// assert!(!list.matches("notexample.org", 80));
/// assert!(list.matches("10.1.2.3", 80) && list.matches("::1", 80));
/// assert!(list.matches("internal", 8080) && !list.matches("internal", 80));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NoProxy {
    rules: Vec<Rule>,
}

impl NoProxy {
    /// Parses a comma-separated list (whitespace around entries is ignored).
    #[must_use]
    pub fn parse(list: &str) -> Self {
        Self::from_entries(list.split(','))
    }

    /// Builds the list from separate entries (Python's `http_no_proxy` list).
    #[must_use]
    pub fn from_entries<I, S>(entries: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let rules = entries
            .into_iter()
            .filter_map(|entry| {
                let entry = entry.as_ref().trim();
                let rule = parse_rule(entry);
                if rule.is_none() && !entry.is_empty() {
                    log::warn!("ignoring no-proxy entry {entry:?}: not a host, IP or CIDR block");
                }
                rule
            })
            .collect();
        Self { rules }
    }

    /// `true` when there are no entries.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// `true` when `host:port` must be reached directly.
    #[must_use]
    pub fn matches(&self, host: &str, port: u16) -> bool {
        let host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .trim_end_matches('.');
        let host = host.to_ascii_lowercase();
        let ip: Option<IpAddr> = host.parse().ok();
        let port_ok = |p: &Option<u16>| p.is_none_or(|p| p == port);
        self.rules.iter().any(|rule| match rule {
            Rule::Any => true,
            Rule::Domain { name, port: p } => {
                port_ok(p)
                    && (host == *name
                        || host
                            .strip_suffix(name.as_str())
                            .is_some_and(|head| head.ends_with('.')))
            }
            Rule::Ip { addr, port: p } => port_ok(p) && ip == Some(*addr),
            Rule::Cidr { network, prefix } => ip.is_some_and(|ip| in_block(ip, *network, *prefix)),
        })
    }
}

fn parse_rule(entry: &str) -> Option<Rule> {
    let entry = entry.to_ascii_lowercase();
    if entry.is_empty() {
        return None;
    }
    if entry == "*" {
        return Some(Rule::Any);
    }
    if let Some((addr, prefix)) = entry.split_once('/') {
        let network: IpAddr = addr
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse()
            .ok()?;
        let prefix: u8 = prefix.parse().ok()?;
        let max = if network.is_ipv4() { 32 } else { 128 };
        return (prefix <= max).then_some(Rule::Cidr { network, prefix });
    }
    let (host, port) = if let Some(inner) = entry.strip_prefix('[') {
        let (v6, after) = inner.split_once(']')?;
        let port = match after {
            "" => None,
            _ => Some(after.strip_prefix(':')?.parse().ok()?),
        };
        (v6.to_string(), port)
    } else if entry.matches(':').count() == 1 {
        let (host, port) = entry.split_once(':')?;
        (host.to_string(), Some(port.parse().ok()?))
    } else {
        (entry.clone(), None)
    };
    if let Ok(addr) = host.parse::<IpAddr>() {
        return Some(Rule::Ip { addr, port });
    }
    let name = host
        .trim_start_matches("*.")
        .trim_start_matches('.')
        .trim_end_matches('.');
    if name.is_empty() || name.contains(['/', ' ', '@', '[', ']', ':']) {
        return None;
    }
    Some(Rule::Domain {
        name: name.to_string(),
        port,
    })
}

fn in_block(ip: IpAddr, network: IpAddr, prefix: u8) -> bool {
    match (ip, network) {
        (IpAddr::V4(ip), IpAddr::V4(net)) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
            u32::from(ip) & mask == u32::from(net) & mask
        }
        (IpAddr::V6(ip), IpAddr::V6(net)) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0);
            u128::from(ip) & mask == u128::from(net) & mask
        }
        _ => false,
    }
}
