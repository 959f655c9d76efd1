//! Every response rule with a passing and a failing case, every message fed at every split,
//! request building rules, the proxy codec and the server side.

#![allow(clippy::unwrap_used)] // tests fail loudly by design

use ws_handshake::{
    ClientRequest, Error, HttpLimits, Origin, Outcome, accept_key, connect_request,
    parse_connect_response, parse_request, parse_response, reject_response,
};

const NONCE: [u8; 16] = *b"the sample nonce";
const ACCEPT: &str = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

fn request() -> ClientRequest {
    ClientRequest::new("example.com", 80, false, "/a/b?x=1", NONCE)
        .subprotocols(["chat", "v2.chat"])
        .extensions(["permessage-deflate; client_max_window_bits"])
}

fn response(extra: &str) -> String {
    format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {ACCEPT}\r\n{extra}\r\n"
    )
}

/// Parses `bytes` whole and at every split; all must agree. Returns the whole-input result.
fn parse_at_every_split(bytes: &[u8]) -> Result<Option<(Outcome, usize)>, Error> {
    let limits = HttpLimits::default();
    let whole = parse_response(bytes, &request(), &limits);
    for split in 0..bytes.len() {
        match parse_response(&bytes[..split], &request(), &limits) {
            Ok(None) => {}
            // Once the prefix holds the whole response, it must give the same result.
            Ok(Some(done)) if whole.as_ref().is_ok_and(|w| w.as_ref() == Some(&done)) => {}
            Err(e) if whole.as_ref().is_err_and(|w| *w == e) => {}
            other => panic!("prefix of {split} bytes gave {other:?}"),
        }
    }
    whole
}

#[test]
fn rfc_key_example() {
    assert_eq!(accept_key("dGhlIHNhbXBsZSBub25jZQ=="), ACCEPT);
    assert_eq!(request().key(), "dGhlIHNhbXBsZSBub25jZQ==");
}

#[test]
fn a_valid_101_is_accepted_and_trailing_frame_bytes_are_kept() {
    let mut bytes = response("Sec-WebSocket-Protocol: v2.chat\r\nSec-WebSocket-Extensions: permessage-deflate; client_max_window_bits=10\r\nX-Server: Test\r\n").into_bytes();
    let head_len = bytes.len();
    bytes.extend_from_slice(b"\x81\x02hi");
    let (outcome, used) = parse_at_every_split(&bytes).unwrap().unwrap();
    assert_eq!(used, head_len);
    let Outcome::Accepted(accepted) = outcome else {
        panic!()
    };
    assert_eq!(accepted.reason, "Switching Protocols");
    assert_eq!(accepted.subprotocol.as_deref(), Some("v2.chat"));
    assert_eq!(accepted.extensions[0].name, "permessage-deflate");
    assert_eq!(
        accepted.extensions[0].params,
        [("client_max_window_bits".to_string(), Some("10".to_string()))]
    );
    assert_eq!(
        accepted.headers.last().unwrap(),
        &("X-Server".to_string(), "Test".to_string()),
        "order and case kept"
    );
}

#[test]
fn each_101_rule_passes_and_fails() {
    let ok = |extra: &str, base: String| {
        let bytes = base.replace("{extra}", extra);
        parse_at_every_split(bytes.as_bytes())
    };
    let template = |upgrade: &str, connection: &str, accept: &str| {
        format!("HTTP/1.1 101 OK\r\n{upgrade}{connection}{accept}{{extra}}\r\n")
    };
    let accept_line = format!("Sec-WebSocket-Accept: {ACCEPT}\r\n");
    let cases: Vec<(&str, String, &str, Option<Error>)> = vec![
        (
            "upgrade any case",
            template(
                "Upgrade: WebSocket\r\n",
                "Connection: Upgrade\r\n",
                &accept_line,
            ),
            "",
            None,
        ),
        (
            "upgrade missing",
            template("", "Connection: Upgrade\r\n", &accept_line),
            "",
            Some(Error::InvalidUpgrade(None)),
        ),
        (
            "upgrade wrong",
            template("Upgrade: h2c\r\n", "Connection: Upgrade\r\n", &accept_line),
            "",
            Some(Error::InvalidUpgrade(Some("h2c".into()))),
        ),
        (
            "connection in a list",
            template(
                "Upgrade: websocket\r\n",
                "Connection: keep-alive, Upgrade\r\n",
                &accept_line,
            ),
            "",
            None,
        ),
        (
            "connection missing",
            template("Upgrade: websocket\r\n", "", &accept_line),
            "",
            Some(Error::InvalidConnection(None)),
        ),
        (
            "connection wrong",
            template(
                "Upgrade: websocket\r\n",
                "Connection: close\r\n",
                &accept_line,
            ),
            "",
            Some(Error::InvalidConnection(Some("close".into()))),
        ),
        (
            "accept missing",
            template("Upgrade: websocket\r\n", "Connection: Upgrade\r\n", ""),
            "",
            Some(Error::MissingAccept),
        ),
        (
            "accept wrong",
            template(
                "Upgrade: websocket\r\n",
                "Connection: Upgrade\r\n",
                "Sec-WebSocket-Accept: AAAA\r\n",
            ),
            "",
            Some(Error::AcceptMismatch {
                expected: ACCEPT.into(),
                got: "AAAA".into(),
            }),
        ),
        (
            "no subprotocol chosen means none",
            response("{extra}"),
            "",
            None,
        ),
        (
            "subprotocol not offered",
            response("{extra}"),
            "Sec-WebSocket-Protocol: other\r\n",
            Some(Error::UnexpectedSubprotocol("other".into())),
        ),
        (
            "extension not offered",
            response("{extra}"),
            "Sec-WebSocket-Extensions: x-webkit\r\n",
            Some(Error::UnexpectedExtension("x-webkit".into())),
        ),
    ];
    for (name, base, extra, expected) in cases {
        let result = ok(extra, base);
        match expected {
            None => assert!(
                matches!(result, Ok(Some((Outcome::Accepted(_), _)))),
                "{name}: {result:?}"
            ),
            Some(error) => assert_eq!(result.unwrap_err(), error, "{name}"),
        }
    }
}

#[test]
fn redirects_are_resolved_against_the_request_url() {
    for status in [301, 302, 303, 307, 308] {
        let bytes = format!("HTTP/1.1 {status} Moved\r\nLocation: ../c\r\n\r\n");
        let (outcome, _) = parse_at_every_split(bytes.as_bytes()).unwrap().unwrap();
        assert_eq!(
            outcome,
            Outcome::Redirect {
                status,
                location: "ws://example.com/a/../c".into(),
                headers: vec![("Location".into(), "../c".into())],
            }
        );
    }
    let error = parse_at_every_split(b"HTTP/1.1 302 Found\r\n\r\n").unwrap_err();
    assert_eq!(error, Error::MissingLocation(302));
    // Another scheme is refused by name, never taken for a relative path on the same host.
    for (location, scheme) in [
        ("ftp://x/", "ftp"),
        ("file:/etc/passwd", "file"),
        ("FILE:///etc/passwd", "FILE"),
        ("javascript:alert(1)", "javascript"),
        ("data:text/html,hi", "data"),
    ] {
        let bytes = format!("HTTP/1.1 302 Found\r\nLocation: {location}\r\n\r\n");
        let error = parse_at_every_split(bytes.as_bytes()).unwrap_err();
        assert_eq!(error, Error::UnsupportedRedirectScheme(scheme.into()));
        assert!(error.to_string().contains(scheme), "{error}");
    }
    // A path with a colon after its first slash is still a path.
    let bytes = b"HTTP/1.1 302 Found\r\nLocation: /a:b\r\n\r\n";
    let (outcome, _) = parse_at_every_split(bytes).unwrap().unwrap();
    assert!(
        matches!(outcome, Outcome::Redirect { location, .. } if location == "ws://example.com/a:b")
    );
    let error =
        parse_at_every_split(b"HTTP/1.1 302 Found\r\nLocation: ws:no-slashes\r\n\r\n").unwrap_err();
    assert_eq!(error, Error::InvalidLocation("ws:no-slashes".into()));
}

#[test]
fn an_unbounded_body_limit_does_not_overflow() {
    let request = ClientRequest::new("example.com", 80, false, "/", *b"the sample nonce");
    let limits = HttpLimits::default().max_body_bytes(usize::MAX);
    let head = b"HTTP/1.1 500 Oops\r\nContent-Length: 18446744073709551615\r\n\r\nsome";
    // The announced body never fully arrives: more bytes are wanted, without a panic.
    assert_eq!(
        parse_response(head, &request, &limits).unwrap().map(|_| ()),
        None
    );
    let whole = b"HTTP/1.1 500 Oops\r\nContent-Length: 4\r\n\r\nsome";
    let (outcome, used) = parse_response(whole, &request, &limits).unwrap().unwrap();
    assert_eq!(used, whole.len());
    assert!(matches!(outcome, Outcome::BadStatus(bad) if bad.body == b"some"));
}

#[test]
fn bad_status_carries_status_headers_and_bounded_body() {
    let bytes =
        b"HTTP/1.1 403 Forbidden\r\nContent-Length: 9\r\nX-Why: policy\r\n\r\nno entry!extra";
    let (outcome, used) = parse_at_every_split(bytes).unwrap().unwrap();
    let Outcome::BadStatus(bad) = outcome else {
        panic!()
    };
    assert_eq!(
        (
            bad.status,
            bad.reason.as_str(),
            bad.body.as_slice(),
            bad.body_truncated
        ),
        (403, "Forbidden", &b"no entry!"[..], false)
    );
    assert_eq!(bad.headers[1], ("X-Why".to_string(), "policy".to_string()));
    assert_eq!(&bytes[used..], b"extra");

    let limits = HttpLimits::default().max_body_bytes(4);
    let (outcome, _) = parse_response(bytes, &request(), &limits).unwrap().unwrap();
    let Outcome::BadStatus(bad) = outcome else {
        panic!()
    };
    assert_eq!(
        (bad.body.as_slice(), bad.body_truncated),
        (&b"no e"[..], true)
    );

    let error = parse_response(
        b"HTTP/1.1 500 X\r\nContent-Length: lots\r\n\r\n",
        &request(),
        &HttpLimits::default(),
    );
    assert_eq!(
        error.unwrap_err(),
        Error::InvalidContentLength("lots".into())
    );
}

#[test]
fn header_limits_are_enforced_with_the_limit_named() {
    let many: String = (0..10).map(|i| format!("X-{i}: v\r\n")).collect();
    let bytes = response(&many);
    let limits = HttpLimits::default().max_headers(8);
    let error = parse_response(bytes.as_bytes(), &request(), &limits).unwrap_err();
    assert_eq!(error, Error::TooManyHeaders { limit: 8 });
    assert_eq!(error.to_string(), "too many HTTP headers: more than 8");

    let limits = HttpLimits::default().max_header_bytes(100);
    let endless = format!("HTTP/1.1 101 OK\r\nX-Long: {}", "a".repeat(200));
    let error = parse_response(endless.as_bytes(), &request(), &limits).unwrap_err();
    assert_eq!(error, Error::HeadersTooLarge { limit: 100 });
    let error = parse_response(response("").as_bytes(), &request(), &limits).unwrap_err();
    assert_eq!(
        error,
        Error::HeadersTooLarge { limit: 100 },
        "a complete head over the limit too"
    );
}

#[test]
fn malformed_http_is_an_error_not_a_panic() {
    let error =
        parse_response(b"HTTP/1.1 abc\r\n\r\n", &request(), &HttpLimits::default()).unwrap_err();
    assert!(matches!(error, Error::MalformedHttp(_)), "{error:?}");
}

fn encoded(request: &ClientRequest) -> String {
    String::from_utf8(request.encode().unwrap()).unwrap()
}

#[test]
fn host_and_origin_follow_the_scheme_defaults() {
    let cases = [
        (
            ("example.com", 80, false),
            "Host: example.com\r\n",
            "Origin: http://example.com\r\n",
        ),
        (
            ("example.com", 443, true),
            "Host: example.com\r\n",
            "Origin: https://example.com\r\n",
        ),
        (
            ("example.com", 443, false),
            "Host: example.com:443\r\n",
            "Origin: http://example.com:443\r\n",
        ),
        (
            ("example.com", 8443, true),
            "Host: example.com:8443\r\n",
            "Origin: https://example.com:8443\r\n",
        ),
        (
            ("::1", 80, false),
            "Host: [::1]\r\n",
            "Origin: http://[::1]\r\n",
        ),
        (
            ("[::1]", 9001, false),
            "Host: [::1]:9001\r\n",
            "Origin: http://[::1]:9001\r\n",
        ),
    ];
    for ((host, port, secure), host_line, origin_line) in cases {
        let text = encoded(&ClientRequest::new(host, port, secure, "", NONCE));
        assert!(text.starts_with("GET / HTTP/1.1\r\n"), "{text}");
        assert!(text.contains(host_line), "{text}");
        assert!(text.contains(origin_line), "{text}");
    }
    let base = ClientRequest::new("example.com", 80, false, "/", NONCE);
    assert!(!encoded(&base.clone().origin(Origin::Suppressed)).contains("Origin"));
    assert!(
        encoded(&base.clone().origin(Origin::Custom("https://app".into())))
            .contains("Origin: https://app\r\n")
    );
    assert!(
        encoded(&base.clone().host_header("front.example")).contains("Host: front.example\r\n")
    );
    assert!(
        encoded(&base.clone().connection("keep-alive, Upgrade"))
            .contains("Connection: keep-alive, Upgrade\r\n")
    );
    assert!(
        encoded(&base.connection("Connection: Upgrade, foo"))
            .contains("Connection: Upgrade, foo\r\n")
    );
}

#[test]
fn custom_headers_replace_builtins_and_never_duplicate_them() {
    let request = ClientRequest::new("example.com", 80, false, "/", NONCE)
        .header("sec-websocket-key", "Zm9vYmFyYmF6cXV4MTIzNA==")
        .header_line("ORIGIN: https://mine")
        .header_line("X-Api-Key:  secret ")
        .cookie("a=1");
    let text = encoded(&request);
    assert_eq!(
        text.matches("ec-websocket-key").count() + text.matches("ec-WebSocket-Key").count(),
        1,
        "{text}"
    );
    assert!(text.contains("sec-websocket-key: Zm9vYmFyYmF6cXV4MTIzNA==\r\n"));
    assert_eq!(text.to_ascii_lowercase().matches("origin:").count(), 1);
    assert!(text.contains("ORIGIN: https://mine\r\n"));
    assert!(text.contains("X-Api-Key: secret\r\n"));
    assert!(text.contains("Cookie: a=1\r\n"));
}

#[test]
fn cr_lf_nul_and_bad_names_are_refused_naming_the_header() {
    let base = ClientRequest::new("example.com", 80, false, "/", NONCE);
    for (name, value) in [
        ("X-Evil", "a\r\nInjected: 1"),
        ("X-Evil", "a\nb"),
        ("X-Evil", "a\0b"),
        ("X Evil", "v"),
        ("", "v"),
    ] {
        let error = base.clone().header(name, value).encode().unwrap_err();
        assert!(
            matches!(&error, Error::InvalidHeader { name: n, .. } if n == name),
            "{error:?}"
        );
    }
    let error = base.clone().cookie("a=1\r\nX: y").encode().unwrap_err();
    assert!(
        error.to_string().starts_with("invalid header \"Cookie\""),
        "{error}"
    );
    let error = base
        .clone()
        .header_line("no colon here")
        .encode()
        .unwrap_err();
    assert_eq!(error, Error::InvalidHeaderLine("no colon here".into()));
    let error = ClientRequest::new("h", 80, false, "/a b", NONCE)
        .encode()
        .unwrap_err();
    assert!(matches!(error, Error::InvalidHeader { .. }));
}

#[test]
fn basic_auth_from_userinfo_is_percent_decoded() {
    let request =
        ClientRequest::new("h", 80, false, "/", NONCE).basic_auth_from_userinfo("us%40er:p%3Ass");
    // base64("us@er:p:ss")
    assert!(encoded(&request).contains("Authorization: Basic dXNAZXI6cDpzcw==\r\n"));
}

#[test]
fn proxy_connect_request_and_replies() {
    assert_eq!(
        connect_request("example.com", 443, None).unwrap(),
        b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n"
    );
    let limits = HttpLimits::default();
    let reply = b"HTTP/1.1 200 Connection established\r\nProxy-Agent: x\r\n\r\n\x16\x03";
    for split in 0..reply.len() - 2 {
        assert_eq!(
            parse_connect_response(&reply[..split], &limits).unwrap(),
            None,
            "split {split}"
        );
    }
    assert_eq!(
        parse_connect_response(reply, &limits).unwrap(),
        Some(reply.len() - 2)
    );
    let error = parse_connect_response(
        b"HTTP/1.1 407 Proxy Authentication Required\r\n\r\n",
        &limits,
    )
    .unwrap_err();
    assert!(error.is_proxy_auth_required());
    assert_eq!(
        error.to_string(),
        "proxy refused CONNECT: 407 Proxy Authentication Required"
    );
    let error = parse_connect_response(b"HTTP/1.1 502 Bad Gateway\r\n\r\n", &limits).unwrap_err();
    assert!(!error.is_proxy_auth_required());
    assert!(connect_request("a\r\nb", 1, None).is_err());
}

#[test]
fn server_validates_requests_and_answers() {
    let limits = HttpLimits::default();
    let bytes = request().encode().unwrap();
    for split in 0..bytes.len() {
        assert_eq!(parse_request(&bytes[..split], &limits).unwrap(), None);
    }
    let (upgrade, used) = parse_request(&bytes, &limits).unwrap().unwrap();
    assert_eq!(used, bytes.len());
    assert_eq!(upgrade.subprotocols, ["chat", "v2.chat"]);
    assert_eq!(upgrade.extensions[0].name, "permessage-deflate");
    assert_eq!(upgrade.origin.as_deref(), Some("http://example.com"));
    assert!(matches!(
        upgrade.accept(Some("nope"), None),
        Err(Error::UnexpectedSubprotocol(_))
    ));
    let reply = upgrade.accept(Some("chat"), None).unwrap();
    let (outcome, _) = parse_response(&reply, &request(), &limits)
        .unwrap()
        .unwrap();
    assert!(matches!(outcome, Outcome::Accepted(a) if a.subprotocol.as_deref() == Some("chat")));

    let good = String::from_utf8(bytes).unwrap();
    let cases = [
        (
            good.replacen("GET", "POST", 1),
            400,
            "method must be GET, got POST",
        ),
        (
            good.replacen("HTTP/1.1", "HTTP/1.0", 1),
            400,
            "HTTP/1.1 or later is required",
        ),
        (
            good.replacen("Upgrade: websocket", "Upgrade: h2c", 1),
            400,
            "expected Upgrade: websocket, got h2c",
        ),
        (
            good.replacen("Connection: Upgrade", "Connection: close", 1),
            400,
            "expected Connection: upgrade, got close",
        ),
        (
            good.replacen("Version: 13", "Version: 8", 1),
            426,
            "expected Sec-WebSocket-Version: 13, got 8",
        ),
        (
            good.replacen("dGhlIHNhbXBsZSBub25jZQ==", "c2hvcnQ=", 1),
            400,
            "Sec-WebSocket-Key must be base64 of 16 bytes, got \"c2hvcnQ=\"",
        ),
    ];
    for (text, status, reason) in cases {
        let error = parse_request(text.as_bytes(), &limits).unwrap_err();
        assert_eq!(
            error,
            Error::BadRequest {
                status,
                reason: reason.into()
            }
        );
        let answer = String::from_utf8(reject_response(&error)).unwrap();
        assert!(
            answer.starts_with(&format!("HTTP/1.1 {status} ")),
            "{answer}"
        );
        assert!(answer.ends_with(reason));
        assert_eq!(answer.contains("Sec-WebSocket-Version: 13"), status == 426);
    }
}
