//! Header helpers shared by the client, server and proxy codecs.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::error::Error;

/// The GUID of RFC 6455 §1.3, appended to the key before hashing.
const GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// The `Sec-WebSocket-Accept` value for a `Sec-WebSocket-Key`: base64(SHA-1(key + GUID)).
///
/// ```
/// // RFC 6455 §1.3.
/// assert_eq!(ws_handshake::accept_key("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
/// ```
#[must_use]
pub fn accept_key(key: &str) -> String {
    let mut sha1 = sha1_smol::Sha1::new();
    sha1.update(key.as_bytes());
    sha1.update(GUID.as_bytes());
    STANDARD.encode(sha1.digest().bytes())
}

/// Base64 of a 16-byte nonce: the `Sec-WebSocket-Key` value (§4.1).
#[must_use]
pub fn encode_key(nonce: [u8; 16]) -> String {
    STANDARD.encode(nonce)
}

/// `Basic` credentials: base64 of `user:password` (RFC 7617).
#[must_use]
pub fn basic_credentials(user: &str, password: &str) -> String {
    format!("Basic {}", STANDARD.encode(format!("{user}:{password}")))
}

/// Decodes `%XX` escapes (URL user-info); a `%` not followed by two hex digits stays as is.
/// Invalid UTF-8 after decoding is replaced with U+FFFD.
#[must_use]
pub fn percent_decode(input: &str) -> String {
    let bytes = input.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| char::from(b).to_digit(16);
        match (
            bytes[i],
            bytes.get(i + 1).copied().and_then(hex),
            bytes.get(i + 2).copied().and_then(hex),
        ) {
            (b'%', Some(hi), Some(lo)) => {
                out.push((hi * 16 + lo) as u8);
                i += 3;
            }
            (byte, _, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Refuses a header that could split or smuggle a request: CR, LF or NUL anywhere, or a
/// name that is not an HTTP token (RFC 9110 §5.1, §5.5).
pub(crate) fn check_header(name: &str, value: &str) -> Result<(), Error> {
    let invalid = |problem| {
        Err(Error::InvalidHeader {
            name: name.to_string(),
            problem,
        })
    };
    if name.is_empty() {
        return invalid("empty name");
    }
    if !name.bytes().all(is_token_byte) {
        return invalid("name is not an HTTP token");
    }
    if value.bytes().any(|b| matches!(b, b'\r' | b'\n' | 0)) {
        return invalid("value contains CR, LF or NUL");
    }
    Ok(())
}

const fn is_token_byte(b: u8) -> bool {
    matches!(
        b,
        b'!' | b'#'
            | b'$'
            | b'%'
            | b'&'
            | b'\''
            | b'*'
            | b'+'
            | b'-'
            | b'.'
            | b'^'
            | b'_'
            | b'`'
            | b'|'
            | b'~'
    ) || b.is_ascii_alphanumeric()
}

/// `true` when the comma-separated `value` contains `token`, ignoring case and spaces.
pub(crate) fn has_token(value: &str, token: &str) -> bool {
    value
        .split(',')
        .any(|t| t.trim().eq_ignore_ascii_case(token))
}

/// The `Upgrade: websocket` and `Connection: upgrade` checks that both a client (§4.1) and a
/// server (§4.2.1) make.
pub(crate) fn check_upgrade(headers: &[(String, String)]) -> Result<(), Error> {
    let upgrade = first(headers, "Upgrade");
    if !upgrade.is_some_and(|v| has_token(v, "websocket")) {
        return Err(Error::InvalidUpgrade(upgrade.map(str::to_string)));
    }
    let connection = first(headers, "Connection");
    if !connection.is_some_and(|v| has_token(v, "upgrade")) {
        return Err(Error::InvalidConnection(connection.map(str::to_string)));
    }
    Ok(())
}

/// The values of every header named `name` (case-insensitive), in order.
pub(crate) fn values<'a>(
    headers: &'a [(String, String)],
    name: &'a str,
) -> impl Iterator<Item = &'a str> {
    headers
        .iter()
        .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// The first value of the header `name`.
pub(crate) fn first<'a>(headers: &'a [(String, String)], name: &'a str) -> Option<&'a str> {
    values(headers, name).next()
}

/// The comma-separated items of every `name` header, trimmed, empty items dropped.
pub(crate) fn list_items(headers: &[(String, String)], name: &str) -> Vec<String> {
    values(headers, name)
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// Limits on an HTTP message received during a handshake.
///
/// ```
/// let limits = ws_handshake::HttpLimits::default().max_headers(32);
/// assert_eq!((limits.max_headers, limits.max_header_bytes), (32, 64 * 1024));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct HttpLimits {
    /// The most bytes the status line and headers may take. Default 64 KiB.
    pub max_header_bytes: usize,
    /// The most header lines. Default 128.
    pub max_headers: usize,
    /// The largest body of a bad-status response that is kept. Default 64 KiB.
    pub max_body_bytes: usize,
}

impl Default for HttpLimits {
    fn default() -> Self {
        Self {
            max_header_bytes: 64 << 10,
            max_headers: 128,
            max_body_bytes: 64 << 10,
        }
    }
}

impl HttpLimits {
    /// Sets [`HttpLimits::max_header_bytes`].
    #[must_use]
    pub const fn max_header_bytes(mut self, bytes: usize) -> Self {
        self.max_header_bytes = bytes;
        self
    }
    /// Sets [`HttpLimits::max_headers`].
    #[must_use]
    pub const fn max_headers(mut self, count: usize) -> Self {
        self.max_headers = count;
        self
    }
    /// Sets [`HttpLimits::max_body_bytes`].
    #[must_use]
    pub const fn max_body_bytes(mut self, bytes: usize) -> Self {
        self.max_body_bytes = bytes;
        self
    }
}

/// A parsed HTTP head: status or request line fields plus headers in order, original case.
pub(crate) struct Head {
    pub(crate) code: u16,
    pub(crate) reason: String,
    pub(crate) method: String,
    pub(crate) path: String,
    pub(crate) version: u8,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) len: usize,
}

/// Which kind of head to parse.
#[derive(Clone, Copy)]
pub(crate) enum Kind {
    Response,
    Request,
}

/// Parses an HTTP/1.x head incrementally under `limits`: `Ok(None)` for "need more".
pub(crate) fn parse_head(
    buf: &[u8],
    kind: Kind,
    limits: &HttpLimits,
) -> Result<Option<Head>, Error> {
    let mut storage = vec![httparse::EMPTY_HEADER; limits.max_headers];
    let convert = |e: httparse::Error| match e {
        httparse::Error::TooManyHeaders => Error::TooManyHeaders {
            limit: limits.max_headers,
        },
        other => Error::MalformedHttp(other.description_str()),
    };
    let to_owned = |headers: &[httparse::Header<'_>]| -> Vec<(String, String)> {
        headers
            .iter()
            .map(|h| {
                (
                    h.name.to_string(),
                    String::from_utf8_lossy(h.value).into_owned(),
                )
            })
            .collect()
    };
    let head = match kind {
        Kind::Response => {
            let mut response = httparse::Response::new(&mut storage);
            match response.parse(buf).map_err(convert)? {
                httparse::Status::Partial => None,
                httparse::Status::Complete(len) => Some(Head {
                    code: response.code.unwrap_or(0),
                    reason: response.reason.unwrap_or("").to_string(),
                    method: String::new(),
                    path: String::new(),
                    version: response.version.unwrap_or(1),
                    headers: to_owned(response.headers),
                    len,
                }),
            }
        }
        Kind::Request => {
            let mut request = httparse::Request::new(&mut storage);
            match request.parse(buf).map_err(convert)? {
                httparse::Status::Partial => None,
                httparse::Status::Complete(len) => Some(Head {
                    code: 0,
                    reason: String::new(),
                    method: request.method.unwrap_or("").to_string(),
                    path: request.path.unwrap_or("").to_string(),
                    version: request.version.unwrap_or(1),
                    headers: to_owned(request.headers),
                    len,
                }),
            }
        }
    };
    match head {
        Some(head) if head.len > limits.max_header_bytes => Err(Error::HeadersTooLarge {
            limit: limits.max_header_bytes,
        }),
        None if buf.len() > limits.max_header_bytes => Err(Error::HeadersTooLarge {
            limit: limits.max_header_bytes,
        }),
        other => Ok(other),
    }
}

/// The description of an httparse error as a `'static` string.
trait Describe {
    fn description_str(&self) -> &'static str;
}

impl Describe for httparse::Error {
    fn description_str(&self) -> &'static str {
        match self {
            Self::HeaderName => "invalid header name",
            Self::HeaderValue => "invalid header value",
            Self::NewLine => "invalid new line",
            Self::Status => "invalid status line",
            Self::Token => "invalid token",
            Self::TooManyHeaders => "too many headers",
            Self::Version => "invalid HTTP version",
        }
    }
}
