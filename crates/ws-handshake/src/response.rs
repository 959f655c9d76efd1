//! The server's response to the upgrade request: parsing and validation (RFC 6455 §4.1, §4.2.2).

use crate::error::Error;
use crate::headers::{HttpLimits, Kind, accept_key, check_upgrade, first, parse_head, values};
use crate::request::ClientRequest;

/// An extension as negotiated: its name and parameters in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Extension {
    /// The extension token, such as `permessage-deflate`.
    pub name: String,
    /// Parameters: `name` or `name=value` (quotes removed).
    pub params: Vec<(String, Option<String>)>,
}

impl Extension {
    /// Every extension in the `Sec-WebSocket-Extensions` headers of a message, in order.
    pub(crate) fn from_headers(headers: &[(String, String)]) -> Vec<Self> {
        values(headers, "Sec-WebSocket-Extensions")
            .flat_map(Self::parse_list)
            .collect()
    }

    /// Parses every extension of a `Sec-WebSocket-Extensions` value (`a; p=1, b`).
    #[must_use]
    pub fn parse_list(value: &str) -> Vec<Self> {
        value
            .split(',')
            .filter_map(|item| {
                let mut parts = item.split(';').map(str::trim);
                let name = parts.next().filter(|n| !n.is_empty())?.to_string();
                let params = parts
                    .filter(|p| !p.is_empty())
                    .map(|p| match p.split_once('=') {
                        Some((k, v)) => (
                            k.trim().to_string(),
                            Some(v.trim().trim_matches('"').to_string()),
                        ),
                        None => (p.to_string(), None),
                    })
                    .collect();
                Some(Self { name, params })
            })
            .collect()
    }
}

/// A valid 101 response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Accepted {
    /// The reason phrase (usually `Switching Protocols`).
    pub reason: String,
    /// Every response header in order, names in their original case.
    pub headers: Vec<(String, String)>,
    /// The subprotocol the server chose, if any.
    pub subprotocol: Option<String>,
    /// The extensions the server accepted, with their parameters.
    pub extensions: Vec<Extension>,
}

/// A response with a status other than 101 or a redirect: what Python's
/// `WebSocketBadStatusException` carries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BadStatus {
    /// The status code.
    pub status: u16,
    /// The reason phrase.
    pub reason: String,
    /// The response headers in order.
    pub headers: Vec<(String, String)>,
    /// The body, when `Content-Length` announced one, cut to `max_body_bytes`.
    pub body: Vec<u8>,
    /// `true` when the body was longer than `max_body_bytes` and was cut.
    pub body_truncated: bool,
}

/// What the server answered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// 101 and every check passed: the connection speaks WebSocket from the next byte on.
    Accepted(Accepted),
    /// 301, 302, 303, 307 or 308 with a `Location`, resolved against the request URL.
    Redirect {
        /// The status code.
        status: u16,
        /// The absolute `ws://` or `wss://` URL to connect to next (`http`/`https` Locations
        /// are mapped to `ws`/`wss`).
        location: String,
        /// The response headers, in order (a login redirect's `Set-Cookie`, say).
        headers: Vec<(String, String)>,
    },
    /// Any other status.
    BadStatus(BadStatus),
}

/// Parses the server's response to `request` from the start of `buf`.
///
/// Returns `Ok(None)` until the whole response (and, for a bad status, its announced body up
/// to the limit) is in `buf`; then the outcome and the number of bytes it took. Bytes after
/// that — the first WebSocket frames, which may arrive in the same read — belong to the caller.
///
/// ```
/// use ws_handshake::{parse_response, ClientRequest, HttpLimits, Outcome};
/// let request = ClientRequest::new("example.com", 80, false, "/", *b"the sample nonce");
/// let response = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\
///                  Connection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n\x81\x00";
/// let (outcome, used) = parse_response(response, &request, &HttpLimits::default())?.unwrap();
/// assert!(matches!(outcome, Outcome::Accepted(_)));
/// assert_eq!(&response[used..], b"\x81\x00"); // the first frame, kept for the caller
/// # Ok::<(), ws_handshake::Error>(())
/// ```
pub fn parse_response(
    buf: &[u8],
    request: &ClientRequest,
    limits: &HttpLimits,
) -> Result<Option<(Outcome, usize)>, Error> {
    let Some(head) = parse_head(buf, Kind::Response, limits)? else {
        return Ok(None);
    };
    let headers = head.headers;
    match head.code {
        101 => {
            let accepted = validate_101(head.reason, headers, request)?;
            Ok(Some((Outcome::Accepted(accepted), head.len)))
        }
        status @ (301 | 302 | 303 | 307 | 308) => {
            let location = first(&headers, "Location").ok_or(Error::MissingLocation(status))?;
            let location = resolve_location(&request.url(), location)?;
            let redirect = Outcome::Redirect {
                status,
                location,
                headers,
            };
            Ok(Some((redirect, head.len)))
        }
        status => {
            let announced = match first(&headers, "Content-Length") {
                Some(v) => v
                    .trim()
                    .parse::<u64>()
                    .map_err(|_| Error::InvalidContentLength(v.to_string()))?,
                None => 0,
            };
            let keep = usize::try_from(announced)
                .unwrap_or(usize::MAX)
                .min(limits.max_body_bytes);
            // `keep` may be near `usize::MAX` with a limit of `usize::MAX`.
            let end = head.len.saturating_add(keep);
            let Some(body) = buf.get(head.len..end) else {
                return Ok(None);
            };
            let bad = BadStatus {
                status,
                reason: head.reason,
                headers,
                body: body.to_vec(),
                body_truncated: (keep as u64) < announced,
            };
            Ok(Some((Outcome::BadStatus(bad), end)))
        }
    }
}

/// The checks of §4.1 on a 101 response.
fn validate_101(
    reason: String,
    headers: Vec<(String, String)>,
    request: &ClientRequest,
) -> Result<Accepted, Error> {
    check_upgrade(&headers)?;
    let expected = accept_key(request.key());
    match first(&headers, "Sec-WebSocket-Accept") {
        None => return Err(Error::MissingAccept),
        Some(got) if got.trim() != expected => {
            return Err(Error::AcceptMismatch {
                expected,
                got: got.trim().to_string(),
            });
        }
        Some(_) => {}
    }
    let subprotocol = first(&headers, "Sec-WebSocket-Protocol").map(|p| p.trim().to_string());
    if let Some(chosen) = &subprotocol {
        if !request.offered_subprotocols().iter().any(|o| o == chosen) {
            return Err(Error::UnexpectedSubprotocol(chosen.clone()));
        }
    }
    let extensions = Extension::from_headers(&headers);
    for extension in &extensions {
        if !request
            .offered_extensions()
            .any(|name| name.eq_ignore_ascii_case(&extension.name))
        {
            return Err(Error::UnexpectedExtension(extension.name.clone()));
        }
    }
    Ok(Accepted {
        reason,
        headers,
        subprotocol,
        extensions,
    })
}

/// The scheme of an absolute URI reference (RFC 3986 §3.1: a letter, then letters, digits,
/// `+`, `-`, `.`, up to a `:` that comes before any `/`, `?` or `#`), or `None` for a
/// relative reference.
fn uri_scheme(reference: &str) -> Option<&str> {
    let end = reference.find([':', '/', '?', '#'])?;
    let scheme = &reference[..end];
    let valid = reference[end..].starts_with(':')
        && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b));
    valid.then_some(scheme)
}

/// Resolves a `Location` against the URL of the request that got it (RFC 3986 §5.2, without
/// dot-segment removal), giving a `ws://` or `wss://` URL.
///
/// ```
/// use ws_handshake::resolve_location;
/// let base = "wss://example.com/a/b?x=1";
/// assert_eq!(resolve_location(base, "/c").unwrap(), "wss://example.com/c");
/// assert_eq!(resolve_location(base, "c?y").unwrap(), "wss://example.com/a/c?y");
/// assert_eq!(resolve_location(base, "//other.org/").unwrap(), "wss://other.org/");
/// assert_eq!(resolve_location(base, "https://other.org/z").unwrap(), "wss://other.org/z");
/// // Other schemes are never taken for relative paths.
/// assert!(resolve_location(base, "file:/etc/passwd").is_err());
/// assert!(resolve_location(base, "javascript:alert(1)").is_err());
/// ```
pub fn resolve_location(base: &str, location: &str) -> Result<String, Error> {
    let invalid = || Error::InvalidLocation(location.to_string());
    let location = location.trim();
    if location.is_empty() || location.bytes().any(|b| b.is_ascii_control() || b == b' ') {
        return Err(invalid());
    }
    let (base_scheme, base_rest) = base.split_once("://").ok_or_else(invalid)?;
    if let Some(scheme) = uri_scheme(location) {
        let scheme = match scheme.to_ascii_lowercase().as_str() {
            "ws" | "http" => "ws",
            "wss" | "https" => "wss",
            _ => return Err(Error::UnsupportedRedirectScheme(scheme.to_string())),
        };
        let rest = location
            .split_once("://")
            .map(|(_, rest)| rest)
            .ok_or_else(invalid)?;
        if rest.is_empty() || rest.starts_with('/') {
            return Err(invalid());
        }
        return Ok(format!("{scheme}://{rest}"));
    }
    if let Some(rest) = location.strip_prefix("//") {
        return Ok(format!("{base_scheme}://{rest}"));
    }
    let split = base_rest.find('/').unwrap_or(base_rest.len());
    let (authority, path) = base_rest.split_at(split);
    if location.starts_with('/') {
        return Ok(format!("{base_scheme}://{authority}{location}"));
    }
    let path = path.split(['?', '#']).next().unwrap_or("");
    let dir = &path[..path.rfind('/').map_or(0, |i| i + 1)];
    let dir = if dir.is_empty() { "/" } else { dir };
    Ok(format!("{base_scheme}://{authority}{dir}{location}"))
}
