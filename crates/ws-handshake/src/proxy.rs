//! The HTTP `CONNECT` tunnel request and the proxy's reply (RFC 9110 §9.3.6).

use crate::error::Error;
use crate::headers::{HttpLimits, Kind, basic_credentials, check_header, parse_head};

/// The `CONNECT` request for a tunnel to `host:port` (IPv6 bracketed), with
/// `Proxy-Authorization: Basic` when `auth` gives a user and password.
///
/// ```
/// let request = ws_handshake::connect_request("::1", 443, Some(("user", "pass")))?;
/// assert_eq!(
///     request,
///     b"CONNECT [::1]:443 HTTP/1.1\r\nHost: [::1]:443\r\n\
///       Proxy-Authorization: Basic dXNlcjpwYXNz\r\n\r\n"
/// );
/// # Ok::<(), ws_handshake::Error>(())
/// ```
pub fn connect_request(
    host: &str,
    port: u16,
    auth: Option<(&str, &str)>,
) -> Result<Vec<u8>, Error> {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let target = if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    };
    check_header("Host", &target)?;
    let mut out = format!("CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n");
    if let Some((user, password)) = auth {
        let value = basic_credentials(user, password);
        check_header("Proxy-Authorization", &value)?;
        out.push_str(&format!("Proxy-Authorization: {value}\r\n"));
    }
    out.push_str("\r\n");
    Ok(out.into_bytes())
}

/// Parses the proxy's reply to `CONNECT`: `Ok(None)` for "need more", `Ok(Some(n))` when the
/// tunnel is open (a 2xx status; the bytes after `n` already belong to the tunnel), and
/// [`Error::ProxyStatus`] for any other status (407: see [`Error::is_proxy_auth_required`]).
///
/// ```
/// use ws_handshake::{parse_connect_response, HttpLimits};
/// let limits = HttpLimits::default();
/// assert_eq!(parse_connect_response(b"HTTP/1.1 200 OK\r\n\r\nTLS", &limits)?, Some(19));
/// assert_eq!(parse_connect_response(b"HTTP/1.1 200 O", &limits)?, None);
/// let denied = parse_connect_response(b"HTTP/1.1 407 Auth\r\n\r\n", &limits).unwrap_err();
/// assert!(denied.is_proxy_auth_required());
/// # Ok::<(), ws_handshake::Error>(())
/// ```
pub fn parse_connect_response(buf: &[u8], limits: &HttpLimits) -> Result<Option<usize>, Error> {
    match parse_head(buf, Kind::Response, limits)? {
        None => Ok(None),
        Some(head) if (200..300).contains(&head.code) => Ok(Some(head.len)),
        Some(head) => Err(Error::ProxyStatus {
            status: head.code,
            reason: head.reason,
        }),
    }
}
