//! The server side: validating a client's upgrade request and answering it (RFC 6455 §4.2).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::error::Error;
use crate::headers::{
    HttpLimits, Kind, accept_key, check_header, check_upgrade, first, list_items, parse_head,
};
use crate::response::Extension;

/// A valid client upgrade request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UpgradeRequest {
    /// The request target (path and query).
    pub path: String,
    /// The `Sec-WebSocket-Key` value (base64 of 16 bytes).
    pub key: String,
    /// The `Host` header, if sent.
    pub host: Option<String>,
    /// The `Origin` header, if sent.
    pub origin: Option<String>,
    /// The subprotocols offered, in the client's order.
    pub subprotocols: Vec<String>,
    /// The extensions offered.
    pub extensions: Vec<Extension>,
    /// Every request header in order, original case.
    pub headers: Vec<(String, String)>,
}

impl UpgradeRequest {
    /// The 101 response accepting this request, with the chosen subprotocol (which must be one
    /// the client offered) and the accepted extension header value, if any.
    pub fn accept(
        &self,
        subprotocol: Option<&str>,
        extension: Option<&str>,
    ) -> Result<Vec<u8>, Error> {
        let mut out = format!(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Accept: {}\r\n",
            accept_key(&self.key)
        );
        if let Some(protocol) = subprotocol {
            if !self.subprotocols.iter().any(|p| p == protocol) {
                return Err(Error::UnexpectedSubprotocol(protocol.to_string()));
            }
            check_header("Sec-WebSocket-Protocol", protocol)?;
            out.push_str(&format!("Sec-WebSocket-Protocol: {protocol}\r\n"));
        }
        if let Some(extension) = extension {
            check_header("Sec-WebSocket-Extensions", extension)?;
            out.push_str(&format!("Sec-WebSocket-Extensions: {extension}\r\n"));
        }
        out.push_str("\r\n");
        Ok(out.into_bytes())
    }
}

/// Parses and validates a client's upgrade request from the start of `buf`: `Ok(None)` for
/// "need more", else the request and the bytes it took. A request that is not a valid
/// upgrade is [`Error::BadRequest`]; answer it with [`reject_response`].
///
/// ```
/// use ws_handshake::{parse_request, HttpLimits};
/// let request = b"GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\n\
///     Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
///     Sec-WebSocket-Version: 13\r\n\r\n";
/// let (upgrade, used) = parse_request(request, &HttpLimits::default())?.unwrap();
/// assert_eq!(used, request.len());
/// let response = String::from_utf8(upgrade.accept(None, None)?).unwrap();
/// assert!(response.contains("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"));
/// # Ok::<(), ws_handshake::Error>(())
/// ```
pub fn parse_request(
    buf: &[u8],
    limits: &HttpLimits,
) -> Result<Option<(UpgradeRequest, usize)>, Error> {
    let Some(head) = parse_head(buf, Kind::Request, limits)? else {
        return Ok(None);
    };
    let bad = |status: u16, reason: String| Err(Error::BadRequest { status, reason });
    if head.method != "GET" {
        return bad(400, format!("method must be GET, got {}", head.method));
    }
    if head.version != 1 {
        return bad(400, "HTTP/1.1 or later is required".to_string());
    }
    let headers = head.headers;
    if let Err(error) = check_upgrade(&headers) {
        return bad(400, error.to_string());
    }
    let version = first(&headers, "Sec-WebSocket-Version").map(str::trim);
    if version != Some("13") {
        return bad(
            426,
            format!(
                "expected Sec-WebSocket-Version: 13, got {}",
                version.unwrap_or("nothing")
            ),
        );
    }
    let key = first(&headers, "Sec-WebSocket-Key")
        .map(str::trim)
        .unwrap_or("");
    if STANDARD.decode(key).map_or(true, |k| k.len() != 16) {
        return bad(
            400,
            format!("Sec-WebSocket-Key must be base64 of 16 bytes, got {key:?}"),
        );
    }
    let request = UpgradeRequest {
        path: head.path,
        key: key.to_string(),
        host: first(&headers, "Host").map(str::to_string),
        origin: first(&headers, "Origin").map(str::to_string),
        subprotocols: list_items(&headers, "Sec-WebSocket-Protocol"),
        extensions: Extension::from_headers(&headers),
        headers,
    };
    Ok(Some((request, head.len)))
}

/// The response refusing a bad upgrade request: the error's status (400, or 426 with
/// `Sec-WebSocket-Version: 13` for an unsupported version) and its reason as a text body.
/// Other errors (a malformed or oversized request) are answered with 400.
#[must_use]
pub fn reject_response(error: &Error) -> Vec<u8> {
    let (status, reason) = match error {
        Error::BadRequest { status, reason } => (*status, reason.clone()),
        other => (400, other.to_string()),
    };
    let phrase = if status == 426 {
        "Upgrade Required"
    } else {
        "Bad Request"
    };
    let version = if status == 426 {
        "Sec-WebSocket-Version: 13\r\n"
    } else {
        ""
    };
    // The reason can quote request bytes, so it goes only into the body, whose length is
    // explicit; no header line ever carries it.
    format!(
        "HTTP/1.1 {status} {phrase}\r\n{version}Content-Type: text/plain; charset=utf-8\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{reason}",
        reason.len()
    )
    .into_bytes()
}
