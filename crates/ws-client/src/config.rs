//! Everything `connect()` / `create_connection()` accept in Python, as one `Config`.

use std::fmt;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ws_frame::{Delivery, Limits};
use ws_handshake::{ClientRequest, HttpLimits, Origin};
#[cfg(feature = "tls")]
use ws_transport::TlsConfig;
use ws_transport::{NoProxy, ProxyConfig, SocketOptions, TransportConfig};

use crate::{CookieJar, Error};

/// The connect timeout and the handshake timeout when neither they nor
/// [`timeout`](ConfigBuilder::timeout) are set: 10 s each, so that a server that accepts the
/// TCP connection and then says nothing cannot hold `connect` for ever (Python's
/// websocket-client waits without limit; python-websockets' `open_timeout` is 10 s too).
pub const DEFAULT_OPEN_TIMEOUT: Duration = Duration::from_secs(10);

/// A caller's mask key function (Python's `get_mask_key` / `set_mask_key`).
pub(crate) type MaskFn = Arc<Mutex<dyn FnMut() -> [u8; 4] + Send>>;

/// Connection options, built with [`Config::builder`]. `Config::default()` is what
/// `ws_client::connect(url)` uses.
///
/// Cloning is cheap enough to do per connection; the TLS configuration inside is shared.
#[derive(Clone)]
pub struct Config {
    pub(crate) transport: TransportConfig,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) header_lines: Vec<String>,
    pub(crate) cookie: Option<String>,
    pub(crate) cookie_jar: Option<CookieJar>,
    pub(crate) origin: Origin,
    pub(crate) host: Option<String>,
    pub(crate) suppress_host: bool,
    pub(crate) subprotocols: Vec<String>,
    pub(crate) timeout: Option<Duration>,
    pub(crate) handshake_timeout: Option<Duration>,
    /// Whether the connect and the handshake timeout were set on their own (then `timeout`
    /// no longer sets them).
    chosen: Chosen,
    pub(crate) close_timeout: Duration,
    pub(crate) redirect_limit: u32,
    pub(crate) frame: ws_frame::Config,
    pub(crate) mask_key: Option<MaskFn>,
    pub(crate) http_limits: HttpLimits,
    #[cfg(feature = "deflate")]
    pub(crate) compression: Option<ws_deflate::DeflateConfig>,
}

/// Which of the opening timeouts the caller set on their own.
#[derive(Clone, Copy, Debug, Default)]
struct Chosen {
    connect: bool,
    handshake: bool,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            transport: TransportConfig::default().connect_timeout(Some(DEFAULT_OPEN_TIMEOUT)),
            headers: Vec::new(),
            header_lines: Vec::new(),
            cookie: None,
            cookie_jar: Some(CookieJar::new()),
            origin: Origin::Default,
            host: None,
            suppress_host: false,
            subprotocols: Vec::new(),
            timeout: None,
            handshake_timeout: Some(DEFAULT_OPEN_TIMEOUT),
            chosen: Chosen::default(),
            close_timeout: Duration::from_secs(3),
            redirect_limit: 3,
            frame: ws_frame::Config::default(),
            mask_key: None,
            http_limits: HttpLimits::default(),
            #[cfg(feature = "deflate")]
            compression: None,
        }
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Header values may hold credentials; only their names are shown.
        let names: Vec<&str> = self.headers.iter().map(|(n, _)| n.as_str()).collect();
        f.debug_struct("Config")
            .field("transport", &self.transport)
            .field("headers", &names)
            .field("header_lines", &self.header_lines.len())
            .field("cookie", &self.cookie.as_ref().map(|_| "<redacted>"))
            .field("cookie_jar", &self.cookie_jar)
            .field("origin", &self.origin)
            .field("host", &self.host)
            .field("suppress_host", &self.suppress_host)
            .field("subprotocols", &self.subprotocols)
            .field("timeout", &self.timeout)
            .field("handshake_timeout", &self.handshake_timeout)
            .field("close_timeout", &self.close_timeout)
            .field("redirect_limit", &self.redirect_limit)
            .field("frame", &self.frame)
            .field("mask_key", &self.mask_key.is_some())
            .field("compression", &self.compression_offer())
            .finish_non_exhaustive()
    }
}

impl Config {
    /// A builder starting from the defaults.
    #[must_use]
    pub fn builder() -> ConfigBuilder {
        ConfigBuilder {
            config: Self::default(),
            problems: Vec::new(),
        }
    }

    /// A builder starting from this configuration (to add headers for one connection, say).
    /// The cookie jar stays shared with this configuration.
    #[must_use]
    pub fn to_builder(&self) -> ConfigBuilder {
        ConfigBuilder {
            config: self.clone(),
            problems: Vec::new(),
        }
    }

    /// The deadline of [`WebSocket::close`](crate::WebSocket::close).
    #[must_use]
    pub fn close_timeout(&self) -> Duration {
        self.close_timeout
    }

    /// The socket timeout set after the handshake (`None`: block).
    #[must_use]
    pub fn timeout(&self) -> Option<Duration> {
        self.timeout
    }

    /// The time limit for opening the connection (`None`: the operating system's).
    #[must_use]
    pub fn connect_timeout(&self) -> Option<Duration> {
        self.transport.timeout()
    }

    /// The time limit for the HTTP upgrade exchange (`None`: none).
    #[must_use]
    pub fn handshake_timeout(&self) -> Option<Duration> {
        self.handshake_timeout
    }

    /// The transport options (proxy, TLS, socket options).
    #[must_use]
    pub fn transport(&self) -> &TransportConfig {
        &self.transport
    }

    /// The `Sec-WebSocket-Extensions` offer, when compression is on.
    pub(crate) fn compression_offer(&self) -> Option<String> {
        #[cfg(feature = "deflate")]
        return self
            .compression
            .as_ref()
            .map(ws_deflate::DeflateConfig::offer);
        #[cfg(not(feature = "deflate"))]
        None
    }

    /// The cookie jar connections made with this configuration fill and send from (`None`
    /// when turned off with [`ConfigBuilder::no_cookie_jar`]).
    #[must_use]
    pub fn cookie_jar(&self) -> Option<&CookieJar> {
        self.cookie_jar.as_ref()
    }

    /// The opening request for `host:port/resource`, with this configuration's headers.
    /// `same_origin` is `false` after a redirect to another origin (scheme, host or port):
    /// credentials are then left out — URL user-info, the `cookie` option, and custom
    /// `Authorization`, `Cookie` and `Proxy-Authorization` headers. Other custom headers
    /// follow every redirect.
    pub(crate) fn request(
        &self,
        url: &ws_transport::WsUrl,
        nonce: [u8; 16],
        same_origin: bool,
    ) -> ClientRequest {
        let mut request = ClientRequest::new(
            url.host(),
            url.port(),
            url.is_secure(),
            url.resource(),
            nonce,
        )
        .origin(self.origin.clone())
        .subprotocols(self.subprotocols.iter().cloned());
        if let Some(host) = &self.host {
            request = request.host_header(host);
        }
        if let Some(offer) = self.compression_offer() {
            request = request.extensions([offer]);
        }
        if self.suppress_host {
            request = request.suppress_host();
        }
        if let Some((user, password)) = url.credentials() {
            request = request.basic_auth(user, password);
        }
        let secret = |name: &str| {
            ["authorization", "cookie", "proxy-authorization"]
                .iter()
                .any(|s| name.eq_ignore_ascii_case(s))
        };
        // The jar's cookies follow its own rules (RFC 6265 domains); the `cookie` option is
        // for the first origin only. Python sends them as `server_cookie; client_cookie`.
        let jar = self
            .cookie_jar
            .as_ref()
            .and_then(|jar| jar.header_for_url(url));
        let option = self.cookie.as_ref().filter(|_| same_origin);
        let cookie = match (jar, option) {
            (Some(jar), Some(option)) => Some(format!("{jar}; {option}")),
            (jar, option) => jar.or_else(|| option.cloned()),
        };
        if let Some(cookie) = &cookie {
            request = request.cookie(cookie);
        }
        for (name, value) in &self.headers {
            if same_origin || !secret(name) {
                request = request.header(name, value);
            }
        }
        for line in &self.header_lines {
            let name = line.split(':').next().unwrap_or("").trim();
            if same_origin || !secret(name) {
                request = request.header_line(line);
            }
        }
        request
    }
}

/// Why a zero timeout is refused, in every place one can be given.
pub(crate) const ZERO_TIMEOUT: &str = "Python's settimeout(0) is non-blocking mode, which this \
    blocking client does not offer; give a positive duration, or None to wait without limit";

/// Builds a [`Config`]; invalid combinations are reported by [`build`](Self::build), never by
/// a panic.
///
/// ```
/// use std::time::Duration;
/// let config = ws_client::Config::builder()
///     .header("X-Token", "abc")
///     .subprotocols(["chat"])
///     .timeout(Some(Duration::from_secs(5)))
///     .build()?;
/// assert_eq!(config.timeout(), Some(Duration::from_secs(5)));
/// assert!(ws_client::Config::builder().header("Bad", "a\r\nb").build().is_err());
/// # Ok::<(), ws_client::Error>(())
/// ```
#[derive(Debug)]
pub struct ConfigBuilder {
    config: Config,
    problems: Vec<String>,
}

impl ConfigBuilder {
    /// Adds a request header (Python's `header={...}`); a header named like a built-in one
    /// replaces it. CR, LF or NUL make [`build`](Self::build) fail. Custom headers follow
    /// redirects, except `Authorization`, `Cookie` and `Proxy-Authorization`, which are
    /// dropped when a redirect leads to another origin (scheme, host or port).
    #[must_use]
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.config
            .headers
            .push((name.to_string(), value.to_string()));
        self
    }

    /// Adds a request header as a `"Name: value"` line (Python's `header=[...]`).
    #[must_use]
    pub fn header_line(mut self, line: &str) -> Self {
        self.config.header_lines.push(line.to_string());
        self
    }

    /// Sends this `Cookie` header (Python's `cookie=`). Not sent after a redirect to another
    /// origin (scheme, host or port). Default none.
    #[must_use]
    pub fn cookie(mut self, cookie: &str) -> Self {
        self.config.cookie = Some(cookie.to_string());
        self
    }

    /// Uses `jar` for cookies: `Set-Cookie` from handshakes and redirects is stored in it and
    /// matching cookies are sent. Give the same jar to several configurations to share it.
    /// Default: a fresh jar per `Config`, shared by its clones.
    #[must_use]
    pub fn cookie_jar(mut self, jar: CookieJar) -> Self {
        self.config.cookie_jar = Some(jar);
        self
    }

    /// Keeps no cookies: `Set-Cookie` is ignored and only the `cookie` option is sent.
    #[must_use]
    pub fn no_cookie_jar(mut self) -> Self {
        self.config.cookie_jar = None;
        self
    }

    /// Sends this `Origin` (Python's `origin=`). Default `http[s]://host[:port]`.
    #[must_use]
    pub fn origin(mut self, origin: &str) -> Self {
        self.config.origin = Origin::Custom(origin.to_string());
        self
    }

    /// Sends no `Origin` header (Python's `suppress_origin=True`).
    #[must_use]
    pub fn suppress_origin(mut self) -> Self {
        self.config.origin = Origin::Suppressed;
        self
    }

    /// Sends this `Host` header (Python's `host=`). Default the URL's host and port.
    #[must_use]
    pub fn host(mut self, host: &str) -> Self {
        self.config.host = Some(host.to_string());
        self
    }

    /// Offers permessage-deflate (RFC 7692) with these settings; messages are compressed when
    /// the server accepts. Default off (as Python, which has no compression), so a plain
    /// connection is byte for byte unchanged.
    ///
    /// ```
    /// let config = ws_client::Config::builder()
    ///     .compression(ws_client::DeflateConfig::default())
    ///     .build()?;
    /// # Ok::<(), ws_client::Error>(())
    /// ```
    #[cfg(feature = "deflate")]
    #[must_use]
    pub fn compression(mut self, config: ws_deflate::DeflateConfig) -> Self {
        self.config.compression = Some(config);
        self
    }

    /// Sends no `Host` header (Python's `suppress_host=True`), for servers behind peculiar
    /// proxies. HTTP/1.1 requires the header; most servers refuse a request without it.
    #[must_use]
    pub fn suppress_host(mut self) -> Self {
        self.config.suppress_host = true;
        self
    }

    /// Offers these subprotocols (Python's `subprotocols=`). Default none.
    #[must_use]
    pub fn subprotocols<I, S>(mut self, protocols: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.config.subprotocols = protocols.into_iter().map(Into::into).collect();
        self
    }

    /// Python's `timeout=`: the socket timeout after the handshake, a deadline for each
    /// whole receive call and each whole send (default `None`: block; see
    /// [`WebSocket::set_timeout`](crate::WebSocket::set_timeout)), and the connect and
    /// handshake timeouts unless they are set on their own. `None` leaves those two at [`DEFAULT_OPEN_TIMEOUT`]; to open without
    /// any limit, set them to `None` themselves.
    #[must_use]
    pub fn timeout(mut self, timeout: Option<Duration>) -> Self {
        self.check_duration("timeout", timeout);
        self.config.timeout = timeout;
        let open = timeout.or(Some(DEFAULT_OPEN_TIMEOUT));
        if !self.config.chosen.connect {
            self.config.transport = self.config.transport.connect_timeout(open);
        }
        if !self.config.chosen.handshake {
            self.config.handshake_timeout = open;
        }
        self
    }

    /// Time limit for opening the connection: resolving the host name, every TCP connect
    /// attempt, the exchange with a proxy and the TLS handshake, together (how the attempts
    /// at several addresses share it: [`TransportConfig::connect_timeout`]). Default:
    /// `timeout`, or [`DEFAULT_OPEN_TIMEOUT`] without one. `None`: the operating system's
    /// limits.
    ///
    /// [`TransportConfig::connect_timeout`]: ws_transport::TransportConfig::connect_timeout
    #[must_use]
    pub fn connect_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.check_duration("connect_timeout", timeout);
        self.config.transport = self.config.transport.connect_timeout(timeout);
        self.config.chosen.connect = true;
        self
    }

    /// Time limit for the HTTP upgrade exchange, all of it: sending the request and reading
    /// the whole response. Default: `timeout`, or [`DEFAULT_OPEN_TIMEOUT`] without one.
    /// `None`: no limit.
    #[must_use]
    pub fn handshake_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.check_duration("handshake_timeout", timeout);
        self.config.handshake_timeout = timeout;
        self.config.chosen.handshake = true;
        self
    }

    /// The deadline of [`WebSocket::close`](crate::WebSocket::close): sending the close frame
    /// and waiting for the peer's. Zero sends the close frame and does not wait, as Python's
    /// `close(timeout=0)`. Default 3 s, as in Python.
    #[must_use]
    pub fn close_timeout(mut self, timeout: Duration) -> Self {
        self.config.close_timeout = timeout;
        self
    }

    /// Proxy source (Python's `http_proxy_host`, `proxy_type`, ...). Default: environment.
    #[must_use]
    pub fn proxy(mut self, proxy: ProxyConfig) -> Self {
        self.config.transport = self.config.transport.proxy(proxy);
        self
    }

    /// Hosts reached without a proxy (Python's `http_no_proxy`). Default: `no_proxy`.
    #[must_use]
    pub fn no_proxy(mut self, list: NoProxy) -> Self {
        self.config.transport = self.config.transport.no_proxy(Some(list));
        self
    }

    /// Time limit for the exchange with the proxy (Python's `proxy_timeout`), within the
    /// connect timeout: the exchange ends at whichever comes first. Default `None`: the
    /// connect timeout alone.
    #[must_use]
    pub fn proxy_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.check_duration("proxy_timeout", timeout);
        self.config.transport = self.config.transport.proxy_timeout(timeout);
        self
    }

    /// TLS options (Python's `sslopt`). Default: platform roots, full verification.
    #[cfg(feature = "tls")]
    #[must_use]
    pub fn tls(mut self, tls: TlsConfig) -> Self {
        self.config.transport = self.config.transport.tls(tls);
        self
    }

    /// Socket options (Python's `sockopt`). Default `TCP_NODELAY` and keepalive 30/10/3.
    #[must_use]
    pub fn socket_options(mut self, options: SocketOptions) -> Self {
        self.config.transport = self.config.transport.socket_options(options);
        self
    }

    /// Connects to a Unix socket instead of the URL's host. Default none.
    #[must_use]
    pub fn unix_socket(mut self, path: impl Into<PathBuf>) -> Self {
        self.config.transport = self.config.transport.unix_socket(Some(path.into()));
        self
    }

    /// Redirects (301, 302, 303, 307, 308) followed before giving up. Default 3; 0 turns
    /// following off.
    #[must_use]
    pub fn redirect_limit(mut self, limit: u32) -> Self {
        self.config.redirect_limit = limit;
        self
    }

    /// Hands text messages over without checking their UTF-8 (Python's
    /// `skip_utf8_validation`), as [`Message::UnvalidatedText`](crate::Message). Default
    /// `false`.
    #[must_use]
    pub fn skip_utf8_validation(mut self, skip: bool) -> Self {
        self.config.frame = self.config.frame.skip_utf8_validation(skip);
        self
    }

    /// Delivers each data frame as it arrives (Python's `fire_cont_frame`), as
    /// [`Message::Fragment`](crate::Message). Default `false`.
    #[must_use]
    pub fn fire_cont_frame(mut self, on: bool) -> Self {
        let delivery = if on {
            Delivery::Fragments
        } else {
            Delivery::Messages
        };
        self.config.frame = self.config.frame.delivery(delivery);
        self
    }

    /// Frame and message size limits. Default 16 MiB per frame, 64 MiB per message.
    #[must_use]
    pub fn limits(mut self, limits: Limits) -> Self {
        self.config.frame = self.config.frame.limits(limits);
        self
    }

    /// Accepts masked frames from the server, as Python does. Default `false` (RFC 6455
    /// §5.1: fail with 1002).
    #[must_use]
    pub fn accept_masked_frames(mut self, accept: bool) -> Self {
        self.config.frame = self.config.frame.accept_masked_frames(accept);
        self
    }

    /// The most the receive buffer grows to under load. It starts at 4 KiB, doubles while
    /// reads fill it, and returns to 4 KiB when the traffic thins out, so an idle connection
    /// holds little and a bulk stream gets large reads. Default 128 KiB.
    #[must_use]
    pub fn read_buffer_size(mut self, bytes: usize) -> Self {
        self.config.frame = self.config.frame.read_buffer_size(bytes);
        self
    }

    /// Limits for the server's HTTP response. Default 64 KiB head, 128 headers.
    #[must_use]
    pub fn http_limits(mut self, limits: HttpLimits) -> Self {
        self.config.http_limits = limits;
        self
    }

    /// Draws mask keys from `keys` (Python's `get_mask_key`) instead of the operating
    /// system's random source. Predictable keys defeat the purpose of masking (RFC 6455
    /// §10.3); use this for tests and reproductions.
    #[must_use]
    pub fn mask_key(mut self, keys: impl FnMut() -> [u8; 4] + Send + 'static) -> Self {
        self.config.mask_key = Some(Arc::new(Mutex::new(keys)));
        self
    }

    fn check_duration(&mut self, name: &str, value: Option<Duration>) {
        if value == Some(Duration::ZERO) {
            self.problems
                .push(format!("{name} is zero: {ZERO_TIMEOUT}"));
        }
    }

    /// Checks the options and returns the configuration.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] naming every problem: a header with CR/LF/NUL or a non-token
    /// name, a `Sec-WebSocket-Extensions` header, a zero timeout.
    pub fn build(mut self) -> Result<Config, Error> {
        let config = self.config;
        let probe = ws_transport::WsUrl::parse("ws://example.invalid/")
            .map(|url| config.request(&url, [0; 16], true));
        if let Ok(request) = probe {
            if let Err(e) = request.headers() {
                self.problems.push(e.to_string());
            }
        }
        let custom = config.headers.iter().map(|(n, _)| n.as_str()).chain(
            config
                .header_lines
                .iter()
                .map(|l| l.split(':').next().unwrap_or("").trim()),
        );
        if custom
            .into_iter()
            .any(|n| n.eq_ignore_ascii_case("sec-websocket-extensions"))
        {
            self.problems.push(
                "a Sec-WebSocket-Extensions header cannot be set: extensions are negotiated by \
                 the client; permessage-deflate is turned on with \
                 Config::builder().compression(..), and an extension the client does not \
                 implement would make the server send frames it cannot read"
                    .into(),
            );
        }
        if self.problems.is_empty() {
            Ok(config)
        } else {
            Err(Error::InvalidConfig(self.problems.join("; ")))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: fn(u64) -> Duration = Duration::from_secs;

    fn limits(config: &Config) -> (Option<Duration>, Option<Duration>) {
        (config.connect_timeout(), config.handshake_timeout())
    }

    #[test]
    fn opening_is_bounded_unless_asked_otherwise() {
        let open = Some(DEFAULT_OPEN_TIMEOUT);
        assert_eq!(limits(&Config::default()), (open, open));
        let built = |b: ConfigBuilder| b.build().expect("a valid configuration");
        assert_eq!(limits(&built(Config::builder())), (open, open));
        // `timeout` sets both unless they were set on their own, in either order.
        assert_eq!(
            limits(&built(Config::builder().timeout(Some(S(3))))),
            (Some(S(3)), Some(S(3)))
        );
        assert_eq!(
            limits(&built(
                Config::builder()
                    .connect_timeout(Some(S(1)))
                    .timeout(Some(S(3)))
            )),
            (Some(S(1)), Some(S(3)))
        );
        assert_eq!(
            limits(&built(
                Config::builder()
                    .timeout(Some(S(3)))
                    .handshake_timeout(Some(S(2)))
            )),
            (Some(S(3)), Some(S(2)))
        );
        // `timeout(None)` (block after the handshake) leaves the opening at the default;
        // `None` on the step itself removes its limit.
        let config = built(Config::builder().timeout(None));
        assert_eq!((config.timeout(), limits(&config)), (None, (open, open)));
        let unbounded = built(
            Config::builder()
                .connect_timeout(None)
                .handshake_timeout(None)
                .timeout(Some(S(3))),
        );
        assert_eq!(limits(&unbounded), (None, None));
        assert_eq!(unbounded.timeout(), Some(S(3)));
        // A builder made from a configuration keeps what was chosen.
        let again = built(unbounded.to_builder().timeout(Some(S(4))));
        assert_eq!(limits(&again), (None, None));
    }
}
