//! URL table tests (Python's `_url.parse_url` cases plus the rules).
#![allow(clippy::unwrap_used)]

use ws_transport::{UrlError, WsUrl};

/// input, secure, host, port, resource, credentials
type Case = (
    &'static str,
    bool,
    &'static str,
    u16,
    &'static str,
    Option<(&'static str, &'static str)>,
);

#[test]
fn valid_urls() {
    let cases: &[Case] = &[
        ("ws://example.com", false, "example.com", 80, "/", None),
        ("ws://example.com/", false, "example.com", 80, "/", None),
        ("wss://example.com", true, "example.com", 443, "/", None),
        (
            "WSS://Example.COM:8443/Path",
            true,
            "example.com",
            8443,
            "/Path",
            None,
        ),
        (
            "ws://example.com:8080/a/b?x=1&y=2",
            false,
            "example.com",
            8080,
            "/a/b?x=1&y=2",
            None,
        ),
        (
            "ws://example.com?x=1",
            false,
            "example.com",
            80,
            "/?x=1",
            None,
        ),
        (
            "ws://example.com/chat#frag",
            false,
            "example.com",
            80,
            "/chat",
            None,
        ),
        ("ws://example.com#frag", false, "example.com", 80, "/", None),
        ("ws://[::1]/", false, "::1", 80, "/", None),
        (
            "wss://[2001:db8::1]:9443/x",
            true,
            "2001:db8::1",
            9443,
            "/x",
            None,
        ),
        ("ws://127.0.0.1:9001", false, "127.0.0.1", 9001, "/", None),
        (
            "ws://user:pass@host/",
            false,
            "host",
            80,
            "/",
            Some(("user", "pass")),
        ),
        (
            "ws://us%40er:p%3Ass@host:81/",
            false,
            "host",
            81,
            "/",
            Some(("us@er", "p:ss")),
        ),
        (
            "ws://user@host/",
            false,
            "host",
            80,
            "/",
            Some(("user", "")),
        ),
        ("ws://a@b@host/", false, "host", 80, "/", Some(("a@b", ""))),
        ("http://example.com/", false, "example.com", 80, "/", None),
        ("https://example.com/", true, "example.com", 443, "/", None),
        ("ws://example.com:/", false, "example.com", 80, "/", None),
        ("  ws://example.com/  ", false, "example.com", 80, "/", None),
        (
            "ws://h/a b?q=é\"",
            false,
            "h",
            80,
            "/a%20b?q=%C3%A9%22",
            None,
        ),
        ("ws://h/a%20b\r\n#x", false, "h", 80, "/a%20b%0D%0A", None),
    ];
    for &(input, secure, host, port, resource, creds) in cases {
        let url = WsUrl::parse(input).unwrap_or_else(|e| panic!("{input}: {e}"));
        assert_eq!(url.is_secure(), secure, "{input}");
        assert_eq!(url.host(), host, "{input}");
        assert_eq!(url.port(), port, "{input}");
        assert_eq!(url.resource(), resource, "{input}");
        assert_eq!(url.credentials(), creds, "{input}");
    }
}

#[test]
fn invalid_urls() {
    let cases: &[(&str, UrlError)] = &[
        (
            "example.com/chat",
            UrlError::MissingScheme("example.com/chat".into()),
        ),
        (
            "ftp://example.com/",
            UrlError::UnsupportedScheme("ftp".into()),
        ),
        ("ws:///path", UrlError::MissingHost("ws:///path".into())),
        ("ws://:80/", UrlError::MissingHost("ws://:80/".into())),
        ("ws://user@/", UrlError::MissingHost("ws://user@/".into())),
        ("ws://host:0/", UrlError::InvalidPort("0".into())),
        ("ws://host:65536/", UrlError::InvalidPort("65536".into())),
        ("ws://host:+80/", UrlError::InvalidPort("+80".into())),
        ("ws://host:http/", UrlError::InvalidPort("http".into())),
        ("ws://[::1/", UrlError::InvalidIpv6("::1".into())),
        ("ws://[not-v6]/", UrlError::InvalidIpv6("not-v6".into())),
        ("ws://[::1]x/", UrlError::InvalidHost("[::1]x".into())),
        ("ws://ho st/", UrlError::InvalidHost("ho st".into())),
        (
            "ws://host\r\nX: y/",
            UrlError::InvalidHost("host\r\nX".into()),
        ),
        ("ws://::1/", UrlError::InvalidHost("::1".into())),
    ];
    for (input, expected) in cases {
        assert_eq!(WsUrl::parse(input).unwrap_err(), *expected, "{input:?}");
    }
}

#[test]
fn errors_name_the_problem() {
    let text = |s: &str| WsUrl::parse(s).unwrap_err().to_string();
    assert_eq!(
        text("ftp://x/"),
        "URL scheme \"ftp\" is not supported; use ws:// or wss://"
    );
    assert_eq!(
        text("ws://x:99999/"),
        "invalid port \"99999\" in URL: expected a number from 1 to 65535"
    );
    assert_eq!(text("ws:///"), "URL \"ws:///\" has no host");
}

#[test]
fn display_never_shows_credentials() {
    let url = WsUrl::parse("wss://user:secret@Example.com:443/a?b").unwrap();
    assert_eq!(url.to_string(), "wss://example.com:443/a?b");
    assert!(!format!("{url}").contains("secret"));
    assert_eq!(
        WsUrl::parse("ws://[::1]:9/").unwrap().to_string(),
        "ws://[::1]:9/"
    );
}

#[test]
fn debug_and_errors_never_show_the_password() {
    let url = WsUrl::parse("ws://alice:URLPASS123@example.com/path").unwrap();
    let debug = format!("{url:?}");
    assert!(!debug.contains("URLPASS123"), "{debug}");
    assert!(debug.contains("alice"), "{debug}");
    for input in [
        "ws://alice:URLPASS123@/path",
        "ws://alice:URLPASS123@:80/path",
        "alice:URLPASS123@example.com/path",
        "ftp://alice:URLPASS123@example.com/",
        "alice:URLPASS123@example.com://x",
        "ws://alice:URLPASS123@exa mple.com/",
        "ws://alice:URLPASS123@[::1/",
        "ws://alice:URLPASS123@example.com:99999/",
    ] {
        let err = WsUrl::parse(input).unwrap_err();
        for shown in [err.to_string(), format!("{err:?}")] {
            assert!(!shown.contains("URLPASS123"), "{input}: {shown}");
        }
    }
    assert_eq!(
        WsUrl::parse("ws://alice:URLPASS123@/path")
            .unwrap_err()
            .to_string(),
        "URL \"ws://alice:***@/path\" has no host"
    );
}

#[test]
fn origin_is_scheme_host_and_port() {
    let origin = |s: &str| {
        let url = WsUrl::parse(s).unwrap();
        let (secure, host, port) = url.origin();
        (secure, host.to_string(), port)
    };
    assert_eq!(origin("ws://a.example/x"), origin("http://A.example:80/y"));
    assert_ne!(origin("ws://a.example/"), origin("ws://a.example:81/"));
    assert_ne!(origin("ws://a.example/"), origin("wss://a.example:80/"));
    assert_ne!(origin("ws://a.example/"), origin("ws://b.example/"));
}

proptest::proptest! {
    #[test]
    fn parse_never_panics(s in "\\PC{0,64}") {
        let _ = WsUrl::parse(&s);
    }

    #[test]
    fn display_parses_back(host in "[a-z][a-z0-9-]{0,20}(\\.[a-z]{2,5})?", port in 1u16.., path in "(/[a-zA-Z0-9_.~-]{0,8}){0,3}", secure: bool) {
        let scheme = if secure { "wss" } else { "ws" };
        let url = WsUrl::parse(&format!("{scheme}://{host}:{port}{path}")).unwrap();
        let again = WsUrl::parse(&url.to_string()).unwrap();
        proptest::prop_assert_eq!(url, again);
    }
}
