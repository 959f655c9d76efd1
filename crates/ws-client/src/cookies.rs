//! The cookie jar: `Set-Cookie` from handshakes and redirects, sent back on later handshakes
//! (Python's module-wide jar in `_cookiejar.py`, done per `Config`).

use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};

use cookie_store::CookieStore;
use ws_transport::WsUrl;

/// Cookies remembered across connections, with the matching rules of RFC 6265 (domain, path,
/// expiry, `Secure`; from the `cookie_store` crate, which ureq uses).
///
/// A [`Config`](crate::Config) carries one by default: every `Set-Cookie` of a 101 or a
/// redirect is stored, and every handshake (each redirect hop included) sends the cookies that
/// match its URL, before the `cookie` option's value (`server_cookie; client_cookie`, as
/// Python does). Clones share the cookies: pass one jar to several configs to share it.
/// `ws://` counts as `http://` and `wss://` as `https://`, so a `Secure` cookie goes only
/// over TLS.
///
/// ```
/// use ws_client::CookieJar;
/// let jar = CookieJar::new();
/// jar.store("wss://example.com/chat", ["session=abc; Path=/; Secure"]);
/// assert_eq!(jar.header_for("wss://example.com/chat").as_deref(), Some("session=abc"));
/// assert_eq!(jar.header_for("ws://example.com/chat"), None); // Secure: TLS only
/// assert_eq!(jar.header_for("wss://other.example/"), None);
/// ```
#[derive(Clone, Default)]
pub struct CookieJar(Arc<Mutex<CookieStore>>);

/// One cookie in a [`CookieJar`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Cookie {
    /// The name.
    pub name: String,
    /// The value.
    pub value: String,
    /// The domain it is sent to (and its subdomains, unless it was set without a `Domain`).
    pub domain: String,
    /// The path it is sent under.
    pub path: String,
    /// Sent over TLS only.
    pub secure: bool,
}

impl fmt::Debug for CookieJar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Values are credentials: only how many there are is shown.
        f.debug_struct("CookieJar")
            .field("cookies", &self.lock().iter_unexpired().count())
            .finish()
    }
}

/// The URL the cookie rules see for a WebSocket URL: `http(s)://host:port/resource`.
fn http_url(url: &WsUrl) -> Option<url::Url> {
    let scheme = if url.is_secure() { "https" } else { "http" };
    let host = if url.host().contains(':') {
        format!("[{}]", url.host())
    } else {
        url.host().to_string()
    };
    url::Url::parse(&format!(
        "{scheme}://{host}:{}{}",
        url.port(),
        url.resource()
    ))
    .ok()
}

impl CookieJar {
    /// An empty jar.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, CookieStore> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Stores `Set-Cookie` values received from `url` (a `ws://` or `wss://` URL). Values that
    /// do not parse or that the rules refuse (a `Domain` the URL is not in) are skipped.
    pub fn store<'a>(&self, url: &str, set_cookie: impl IntoIterator<Item = &'a str>) {
        if let Ok(url) = WsUrl::parse(url) {
            self.store_for(&url, set_cookie);
        }
    }

    pub(crate) fn store_for<'a>(&self, url: &WsUrl, set_cookie: impl IntoIterator<Item = &'a str>) {
        let Some(url) = http_url(url) else { return };
        let mut store = self.lock();
        for value in set_cookie {
            if let Err(e) = store.parse(value, &url) {
                log::debug!("Set-Cookie from {url} not stored: {e}");
            }
        }
    }

    /// The `Cookie` header value for `url`: every unexpired cookie that matches it, or `None`.
    #[must_use]
    pub fn header_for(&self, url: &str) -> Option<String> {
        self.header_for_url(&WsUrl::parse(url).ok()?)
    }

    pub(crate) fn header_for_url(&self, url: &WsUrl) -> Option<String> {
        let url = http_url(url)?;
        let store = self.lock();
        let pairs: Vec<String> = store
            .get_request_values(&url)
            .map(|(name, value)| format!("{name}={value}"))
            .collect();
        (!pairs.is_empty()).then(|| pairs.join("; "))
    }

    /// Every unexpired cookie held.
    #[must_use]
    pub fn cookies(&self) -> Vec<Cookie> {
        self.lock()
            .iter_unexpired()
            .map(|c| Cookie {
                name: c.name().to_string(),
                value: c.value().to_string(),
                domain: String::from(&c.domain),
                path: String::from(&c.path),
                secure: c.secure().unwrap_or(false),
            })
            .collect()
    }

    /// Forgets every cookie.
    pub fn clear(&self) {
        self.lock().clear();
    }
}
