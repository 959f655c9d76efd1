//! Proxy selection: explicit settings, environment variables and no_proxy, as tables.
#![allow(clippy::unwrap_used)]

use std::collections::HashMap;

use ws_transport::{NoProxy, Proxy, ProxyConfig, ProxyError, ProxyKind, WsUrl};

#[test]
fn no_proxy_table() {
    // list, host, port, expected
    let cases: &[(&str, &str, u16, bool)] = &[
        ("*", "anything.example", 80, true),
        ("example.org", "example.org", 80, true),
        ("example.org", "a.example.org", 80, true),
        ("example.org", "a.b.example.org", 443, true),
        (".example.org", "a.example.org", 80, true),
        (".example.org", "example.org", 80, true),
        ("*.example.org", "a.example.org", 80, true),
        ("example.org", "notexample.org", 80, false),
        ("example.org", "example.org.evil", 80, false),
        ("EXAMPLE.org", "Example.ORG", 80, true),
        ("example.org.", "example.org", 80, true),
        ("example.org", "example.org.", 80, true),
        ("example.org:8080", "example.org", 8080, true),
        ("example.org:8080", "example.org", 80, false),
        ("localhost", "localhost", 1, true),
        ("127.0.0.1", "127.0.0.1", 80, true),
        ("127.0.0.1", "127.0.0.2", 80, false),
        ("127.0.0.1:9000", "127.0.0.1", 9000, true),
        ("127.0.0.1:9000", "127.0.0.1", 9001, false),
        ("10.0.0.0/8", "10.200.3.4", 80, true),
        ("10.0.0.0/8", "11.0.0.1", 80, false),
        ("192.168.1.0/24", "192.168.1.255", 80, true),
        ("192.168.1.0/24", "192.168.2.1", 80, false),
        ("0.0.0.0/0", "8.8.8.8", 80, true),
        ("10.0.0.0/8", "ten.example", 80, false),
        ("10.0.0.0/8", "::1", 80, false),
        ("::1", "::1", 80, true),
        ("[::1]", "::1", 80, true),
        ("[::1]:8080", "::1", 8080, true),
        ("[::1]:8080", "::1", 80, false),
        ("2001:db8::/32", "2001:db8:ffff::1", 80, true),
        ("2001:db8::/32", "2001:db9::1", 80, false),
        ("[2001:db8::]/32", "2001:db8::5", 80, true),
        ("::/0", "fe80::1", 80, true),
        ("a.com, b.com ,c.com", "x.b.com", 80, true),
        ("a.com,,b.com", "a.com", 80, true),
        ("", "a.com", 80, false),
        ("10.0.0.0/33", "10.0.0.1", 80, false),
        ("bad/entry", "bad", 80, false),
        ("host:notaport", "host", 80, false),
    ];
    for &(list, host, port, expected) in cases {
        assert_eq!(
            NoProxy::parse(list).matches(host, port),
            expected,
            "no_proxy={list:?} host={host} port={port}"
        );
    }
    assert!(NoProxy::from_entries(["a.com", "10.0.0.0/8"]).matches("10.1.1.1", 1));
    assert!(NoProxy::parse(" , ").is_empty());
}

type ProxyCase = (
    &'static str,
    ProxyKind,
    &'static str,
    u16,
    Option<(&'static str, &'static str)>,
);

#[test]
fn proxy_urls() {
    let cases: &[ProxyCase] = &[
        ("http://proxy:3128", ProxyKind::Http, "proxy", 3128, None),
        ("proxy:3128", ProxyKind::Http, "proxy", 3128, None),
        ("http://proxy", ProxyKind::Http, "proxy", 80, None),
        ("http://proxy/", ProxyKind::Http, "proxy", 80, None),
        ("socks4://p", ProxyKind::Socks4, "p", 1080, None),
        ("SOCKS4A://p:1", ProxyKind::Socks4a, "p", 1, None),
        (
            "socks5://u:p@p",
            ProxyKind::Socks5,
            "p",
            1080,
            Some(("u", "p")),
        ),
        (
            "socks5h://u%20x:p%2Fw@[::1]:9050",
            ProxyKind::Socks5h,
            "::1",
            9050,
            Some(("u x", "p/w")),
        ),
        (
            "http://user@proxy:8080",
            ProxyKind::Http,
            "proxy",
            8080,
            Some(("user", "")),
        ),
    ];
    for &(input, kind, host, port, creds) in cases {
        let proxy = Proxy::parse(input).unwrap_or_else(|e| panic!("{input}: {e}"));
        assert_eq!(
            (
                proxy.kind(),
                proxy.host(),
                proxy.port(),
                proxy.credentials()
            ),
            (kind, host, port, creds),
            "{input}"
        );
    }
    for bad in [
        "ftp://proxy",
        "https://proxy:443",
        "http://",
        "http://proxy:99999",
        "http://user:pw@proxy:x",
    ] {
        let err = Proxy::parse(bad).unwrap_err();
        assert!(matches!(err, ProxyError::InvalidProxy(_)), "{bad}: {err:?}");
        assert!(!err.to_string().contains("pw"), "password leaked: {err}");
    }
    let debug = format!("{:?}", Proxy::parse("http://me:hunter2@p").unwrap());
    assert!(
        !debug.contains("hunter2") && debug.contains("redacted"),
        "{debug}"
    );
    assert_eq!(ProxyKind::Socks4.default_port(), 1080);
    assert_eq!(ProxyKind::Http.default_port(), 80);
}

fn select(
    config: &ProxyConfig,
    url: &str,
    env: &[(&str, &str)],
    no_proxy: Option<&NoProxy>,
) -> Option<String> {
    let env: HashMap<String, String> = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    config
        .select_with(&WsUrl::parse(url).unwrap(), no_proxy, |name| {
            env.get(name).cloned()
        })
        .unwrap()
        .map(|p| p.to_string())
}

type EnvCase = (
    &'static str,
    &'static [(&'static str, &'static str)],
    Option<String>,
);

#[test]
fn environment_table() {
    let env = ProxyConfig::FromEnv;
    let some = |s: &str| Some(s.to_string());
    // url, environment, expected proxy
    let cases: &[EnvCase] = &[
        ("ws://h/", &[], None),
        (
            "ws://h/",
            &[("http_proxy", "http://p:1")],
            some("http://p:1"),
        ),
        ("wss://h/", &[("http_proxy", "http://p:1")], None),
        (
            "wss://h/",
            &[("https_proxy", "http://p:2")],
            some("http://p:2"),
        ),
        ("ws://h/", &[("https_proxy", "http://p:2")], None),
        (
            "ws://h/",
            &[("HTTP_PROXY", "http://up:1")],
            some("http://up:1"),
        ),
        (
            "ws://h/",
            &[
                ("http_proxy", "http://low:1"),
                ("HTTP_PROXY", "http://up:1"),
            ],
            some("http://low:1"),
        ),
        (
            "ws://h/",
            &[("http_proxy", ""), ("HTTP_PROXY", "http://up:1")],
            None,
        ),
        (
            "ws://h/",
            &[("http_proxy", ""), ("all_proxy", "socks5://a:1")],
            None,
        ),
        (
            "ws://h/",
            &[("all_proxy", "socks5://a:1")],
            some("socks5://a:1"),
        ),
        (
            "wss://h/",
            &[("ALL_PROXY", "socks5h://a")],
            some("socks5h://a:1080"),
        ),
        (
            "wss://h/",
            &[
                ("https_proxy", "socks4a://s:9"),
                ("all_proxy", "socks5://a:1"),
            ],
            some("socks4a://s:9"),
        ),
        (
            "ws://h/",
            &[("http_proxy", "p:3128")],
            some("http://p:3128"),
        ),
        // httpoxy: in CGI, HTTP_PROXY comes from the client's `Proxy:` header.
        (
            "ws://h/",
            &[("REQUEST_METHOD", "GET"), ("HTTP_PROXY", "http://evil:1")],
            None,
        ),
        (
            "ws://h/",
            &[("REQUEST_METHOD", "GET"), ("http_proxy", "http://ok:1")],
            some("http://ok:1"),
        ),
        // no_proxy from the environment, lowercase winning.
        (
            "ws://a.internal/",
            &[("http_proxy", "http://p:1"), ("no_proxy", "internal")],
            None,
        ),
        (
            "ws://a.internal/",
            &[("http_proxy", "http://p:1"), ("NO_PROXY", "internal")],
            None,
        ),
        (
            "ws://a.internal/",
            &[
                ("http_proxy", "http://p:1"),
                ("no_proxy", "other"),
                ("NO_PROXY", "internal"),
            ],
            some("http://p:1"),
        ),
        (
            "ws://10.1.2.3:81/",
            &[("http_proxy", "http://p:1"), ("no_proxy", "10.0.0.0/8")],
            None,
        ),
        (
            "ws://h:81/",
            &[("http_proxy", "http://p:1"), ("no_proxy", "h:80")],
            some("http://p:1"),
        ),
        (
            "ws://h/",
            &[("http_proxy", "http://p:1"), ("no_proxy", "*")],
            None,
        ),
    ];
    for (url, vars, expected) in cases {
        assert_eq!(
            select(&env, url, vars, None),
            *expected,
            "{url} with {vars:?}"
        );
    }
}

#[test]
fn explicit_direct_and_no_proxy_override() {
    let explicit = ProxyConfig::Explicit(
        Proxy::new(ProxyKind::Socks5, "[::1]", Some(9)).with_credentials("u", "p"),
    );
    let env = [
        ("http_proxy", "http://envproxy:1"),
        ("no_proxy", "skip.example"),
    ];
    assert_eq!(
        select(&explicit, "ws://h/", &env, None).as_deref(),
        Some("socks5://[::1]:9")
    );
    // The environment's no_proxy applies to explicit proxies too (as in Python).
    assert_eq!(select(&explicit, "ws://a.skip.example/", &env, None), None);
    // An explicit list replaces the environment's.
    let list = NoProxy::parse("other.example");
    assert_eq!(
        select(&explicit, "ws://a.skip.example/", &env, Some(&list)).as_deref(),
        Some("socks5://[::1]:9")
    );
    assert_eq!(
        select(
            &ProxyConfig::FromEnv,
            "ws://x.other.example/",
            &env,
            Some(&list)
        ),
        None
    );
    assert_eq!(select(&ProxyConfig::Direct, "ws://h/", &env, None), None);
}

#[test]
fn unusable_environment_proxy_is_an_error() {
    let err = ProxyConfig::FromEnv
        .select_with(&WsUrl::parse("ws://h/").unwrap(), None, |name| {
            (name == "http_proxy").then(|| "gopher://u:secret@p".to_string())
        })
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("\"gopher\" is not one of http, socks4"),
        "{err}"
    );
    assert!(!err.to_string().contains("secret"));
}
