//! The client's upgrade request (RFC 6455 §4.1).

use crate::error::Error;
use crate::headers::{basic_credentials, check_header, encode_key, percent_decode};

/// What to send as `Origin`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Origin {
    /// `http://host[:port]` for ws and `https://host[:port]` for wss, as Python's
    /// websocket-client sends.
    #[default]
    Default,
    /// This value.
    Custom(String),
    /// No `Origin` header (Python's `suppress_origin=True`).
    Suppressed,
}

/// A client's opening handshake request, built from the target and the options of Python's
/// `connect()`.
///
/// The key's 16 random bytes come from the caller, so this crate needs no RNG.
///
/// ```
/// use ws_handshake::ClientRequest;
/// let request = ClientRequest::new("example.com", 8080, false, "/chat?room=1", *b"the sample nonce")
///     .subprotocols(["chat", "superchat"])
///     .header("X-Trace", "1");
/// assert_eq!(
///     String::from_utf8(request.encode()?).unwrap(),
///     "GET /chat?room=1 HTTP/1.1\r\n\
///      Upgrade: websocket\r\n\
///      Connection: Upgrade\r\n\
///      Host: example.com:8080\r\n\
///      Origin: http://example.com:8080\r\n\
///      Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
///      Sec-WebSocket-Version: 13\r\n\
///      Sec-WebSocket-Protocol: chat, superchat\r\n\
///      X-Trace: 1\r\n\
///      \r\n"
/// );
/// # Ok::<(), ws_handshake::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientRequest {
    host: String,
    port: u16,
    secure: bool,
    resource: String,
    key: String,
    host_header: Option<String>,
    suppress_host: bool,
    origin: Origin,
    connection: Option<String>,
    subprotocols: Vec<String>,
    extensions: Vec<String>,
    cookie: Option<String>,
    authorization: Option<String>,
    /// Custom headers, in order; lines that did not parse are kept to be reported by `encode`.
    headers: Vec<Result<(String, String), String>>,
}

impl ClientRequest {
    /// A request for `resource` (path and query; empty means `/`) on `host:port`; `secure`
    /// is `true` for wss. `host` is a name or an IP address, IPv6 without brackets.
    #[must_use]
    pub fn new(host: &str, port: u16, secure: bool, resource: &str, key: [u8; 16]) -> Self {
        let host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string();
        let resource = if resource.is_empty() {
            "/".to_string()
        } else {
            resource.to_string()
        };
        Self {
            host,
            port,
            secure,
            resource,
            key: encode_key(key),
            host_header: None,
            suppress_host: false,
            origin: Origin::Default,
            connection: None,
            subprotocols: Vec::new(),
            extensions: Vec::new(),
            cookie: None,
            authorization: None,
            headers: Vec::new(),
        }
    }

    /// Replaces the `Host` header's value (Python's `host=`).
    #[must_use]
    pub fn host_header(mut self, value: &str) -> Self {
        self.host_header = Some(value.to_string());
        self
    }

    /// Sends no `Host` header (Python's `suppress_host=True`).
    #[must_use]
    pub fn suppress_host(mut self) -> Self {
        self.suppress_host = true;
        self
    }

    /// Sets what to send as `Origin` (Python's `origin=` and `suppress_origin=`).
    #[must_use]
    pub fn origin(mut self, origin: Origin) -> Self {
        self.origin = origin;
        self
    }

    /// Replaces the `Connection` header's value (default `Upgrade`). A whole header line
    /// `Connection: ...`, as Python's option takes, is accepted too.
    #[must_use]
    pub fn connection(mut self, value: &str) -> Self {
        let value = match value.split_once(':') {
            Some((name, rest)) if name.trim().eq_ignore_ascii_case("connection") => rest,
            _ => value,
        };
        self.connection = Some(value.trim().to_string());
        self
    }

    /// Subprotocols to offer, in order of preference (`Sec-WebSocket-Protocol`).
    #[must_use]
    pub fn subprotocols<I: IntoIterator<Item = S>, S: Into<String>>(
        mut self,
        protocols: I,
    ) -> Self {
        self.subprotocols = protocols.into_iter().map(Into::into).collect();
        self
    }

    /// Extension offers (`Sec-WebSocket-Extensions`), each with its parameters, such as
    /// `permessage-deflate; client_max_window_bits`.
    #[must_use]
    pub fn extensions<I: IntoIterator<Item = S>, S: Into<String>>(mut self, offers: I) -> Self {
        self.extensions = offers.into_iter().map(Into::into).collect();
        self
    }

    /// The `Cookie` header's value.
    #[must_use]
    pub fn cookie(mut self, value: &str) -> Self {
        self.cookie = Some(value.to_string());
        self
    }

    /// `Authorization: Basic` with these credentials.
    #[must_use]
    pub fn basic_auth(mut self, user: &str, password: &str) -> Self {
        self.authorization = Some(basic_credentials(user, password));
        self
    }

    /// `Authorization: Basic` from a URL's user-info (`user:password`, percent-encoded).
    #[must_use]
    pub fn basic_auth_from_userinfo(self, userinfo: &str) -> Self {
        let (user, password) = userinfo.split_once(':').unwrap_or((userinfo, ""));
        self.basic_auth(&percent_decode(user), &percent_decode(password))
    }

    /// Adds a header. One with the name of a built-in header (case-insensitive) replaces it.
    #[must_use]
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push(Ok((name.to_string(), value.to_string())));
        self
    }

    /// Adds a header given as a line `Name: value`, as Python's `header=[...]` list takes. A
    /// line without a colon makes [`encode`](Self::encode) fail.
    #[must_use]
    pub fn header_line(mut self, line: &str) -> Self {
        let parsed = line
            .split_once(':')
            .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
            .ok_or_else(|| line.to_string());
        self.headers.push(parsed);
        self
    }

    /// The value of a custom header `name` that replaces a built-in one (the last one given).
    fn custom(&self, name: &str) -> Option<&str> {
        self.headers.iter().rev().find_map(|header| match header {
            Ok((n, v)) if n.eq_ignore_ascii_case(name) => Some(v.as_str()),
            _ => None,
        })
    }

    /// The `Sec-WebSocket-Key` value sent: the one made from the nonce, or a custom
    /// `Sec-WebSocket-Key` header's, which the server's `Sec-WebSocket-Accept` is then
    /// checked against (as Python does).
    #[must_use]
    pub fn key(&self) -> &str {
        self.custom("Sec-WebSocket-Key").unwrap_or(&self.key)
    }

    /// The subprotocols offered.
    #[must_use]
    pub fn offered_subprotocols(&self) -> &[String] {
        &self.subprotocols
    }

    /// The names of the extensions offered: those given to
    /// [`extensions`](Self::extensions), or those of a custom `Sec-WebSocket-Extensions`
    /// header, which replaces them.
    pub fn offered_extensions(&self) -> impl Iterator<Item = &str> {
        let offers: Vec<&str> = match self.custom("Sec-WebSocket-Extensions") {
            Some(value) => value.split(',').collect(),
            None => self.extensions.iter().map(String::as_str).collect(),
        };
        offers
            .into_iter()
            .map(|e| e.split(';').next().unwrap_or("").trim())
    }

    /// The URL this request is for, `ws[s]://host[:port]/resource`, against which a relative
    /// redirect `Location` is resolved.
    #[must_use]
    pub fn url(&self) -> String {
        format!(
            "{}://{}{}",
            if self.secure { "wss" } else { "ws" },
            self.authority(),
            self.resource
        )
    }

    /// `host[:port]`, IPv6 bracketed, the port left out when it is the scheme's default.
    fn authority(&self) -> String {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        let default_port = if self.secure { 443 } else { 80 };
        if self.port == default_port {
            host
        } else {
            format!("{host}:{}", self.port)
        }
    }

    /// The headers in the order they are sent, built-ins replaced by custom headers of the
    /// same name.
    pub fn headers(&self) -> Result<Vec<(String, String)>, Error> {
        let authority = self.authority();
        let mut headers: Vec<(String, String)> = vec![
            ("Upgrade".into(), "websocket".into()),
            (
                "Connection".into(),
                self.connection.clone().unwrap_or_else(|| "Upgrade".into()),
            ),
        ];
        if !self.suppress_host {
            headers.push((
                "Host".into(),
                self.host_header
                    .clone()
                    .unwrap_or_else(|| authority.clone()),
            ));
        }
        match &self.origin {
            Origin::Default => {
                let scheme = if self.secure { "https" } else { "http" };
                headers.push(("Origin".into(), format!("{scheme}://{authority}")));
            }
            Origin::Custom(value) => headers.push(("Origin".into(), value.clone())),
            Origin::Suppressed => {}
        }
        headers.push(("Sec-WebSocket-Key".into(), self.key.clone()));
        headers.push(("Sec-WebSocket-Version".into(), "13".into()));
        if !self.subprotocols.is_empty() {
            headers.push((
                "Sec-WebSocket-Protocol".into(),
                self.subprotocols.join(", "),
            ));
        }
        if !self.extensions.is_empty() {
            headers.push((
                "Sec-WebSocket-Extensions".into(),
                self.extensions.join(", "),
            ));
        }
        if let Some(auth) = &self.authorization {
            headers.push(("Authorization".into(), auth.clone()));
        }
        if let Some(cookie) = &self.cookie {
            headers.push(("Cookie".into(), cookie.clone()));
        }
        let builtin = headers.len();
        for custom in &self.headers {
            let (name, value) = custom.clone().map_err(Error::InvalidHeaderLine)?;
            match headers[..builtin]
                .iter_mut()
                .find(|(n, _)| n.eq_ignore_ascii_case(&name))
            {
                Some(slot) => *slot = (name, value),
                None => headers.push((name, value)),
            }
        }
        for (name, value) in &headers {
            check_header(name, value)?;
        }
        Ok(headers)
    }

    /// The request bytes. Fails, sending nothing, when a header name or value contains CR,
    /// LF or NUL, or a header line has no colon.
    pub fn encode(&self) -> Result<Vec<u8>, Error> {
        if self
            .resource
            .bytes()
            .any(|b| b.is_ascii_whitespace() || b.is_ascii_control())
        {
            return Err(Error::InvalidHeader {
                name: "request target".into(),
                problem: "contains white space or control characters",
            });
        }
        let mut out = format!("GET {} HTTP/1.1\r\n", self.resource);
        for (name, value) in self.headers()? {
            out.push_str(&name);
            out.push_str(": ");
            out.push_str(&value);
            out.push_str("\r\n");
        }
        out.push_str("\r\n");
        Ok(out.into_bytes())
    }
}
