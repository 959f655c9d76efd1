//! Interop with real third-party proxies, started by `cargo xtask interop` (which sets the
//! `WS_INTEROP_*` variables). Ignored in a plain `cargo test`.
#![allow(clippy::unwrap_used)]

use std::io::{Read, Write};
use std::time::Duration;

use test_support::{Pki, tcp_echo_server, tls_echo_server};
use ws_transport::{
    Error, NoProxy, Proxy, ProxyConfig, ProxyError, ProxyKind, TlsConfig, TransportConfig, WsUrl,
    connect,
};

fn peer(name: &str) -> (String, u16) {
    let value = std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: run these tests with `cargo xtask interop`")
    });
    let (host, port) = value.rsplit_once(':').unwrap();
    (host.to_string(), port.parse().unwrap())
}

fn credentials() -> (String, String) {
    (
        std::env::var("WS_INTEROP_USER").unwrap(),
        std::env::var("WS_INTEROP_PASSWORD").unwrap(),
    )
}

fn proxy(kind: ProxyKind, var: &str, auth: Option<(&str, &str)>) -> ProxyConfig {
    let (host, port) = peer(var);
    let mut proxy = Proxy::new(kind, &host, Some(port));
    if let Some((user, password)) = auth {
        proxy = proxy.with_credentials(user, password);
    }
    ProxyConfig::Explicit(proxy)
}

fn config(proxy: ProxyConfig) -> TransportConfig {
    TransportConfig::default()
        .proxy(proxy)
        .no_proxy(Some(NoProxy::default()))
        .connect_timeout(Some(Duration::from_secs(5)))
}

/// Echoes through the proxy to a loopback server named `host` (127.0.0.1 or localhost,
/// which a SOCKS4a / SOCKS5h proxy resolves itself).
fn echo_through(proxy: ProxyConfig, host: &str) -> Result<(), Error> {
    let (port, server) = tcp_echo_server();
    let url = WsUrl::parse(&format!("ws://{host}:{port}/")).unwrap();
    let mut stream = connect(&url, &config(proxy))?;
    stream.write_all(b"through the proxy").unwrap();
    let mut buf = [0; 17];
    stream.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"through the proxy");
    stream.shutdown().unwrap();
    server.join().unwrap().unwrap();
    Ok(())
}

#[test]
#[ignore = "needs the peers of `cargo xtask interop`"]
fn tinyproxy_connect_without_auth() {
    echo_through(proxy(ProxyKind::Http, "WS_INTEROP_HTTP", None), "127.0.0.1").unwrap();
    echo_through(proxy(ProxyKind::Http, "WS_INTEROP_HTTP", None), "localhost").unwrap();
}

#[test]
#[ignore = "needs the peers of `cargo xtask interop`"]
fn tinyproxy_connect_with_auth_and_wrong_password() {
    let (user, password) = credentials();
    echo_through(
        proxy(
            ProxyKind::Http,
            "WS_INTEROP_HTTP_AUTH",
            Some((&user, &password)),
        ),
        "127.0.0.1",
    )
    .unwrap();

    let err = echo_through(
        proxy(
            ProxyKind::Http,
            "WS_INTEROP_HTTP_AUTH",
            Some((&user, "wrong")),
        ),
        "127.0.0.1",
    )
    .unwrap_err();
    let Error::Proxy(e) = &err else {
        panic!("{err:?}")
    };
    assert!(e.is_auth_required(), "{err}");
    assert!(
        matches!(
            e,
            ProxyError::HttpStatus {
                status: 401 | 407,
                ..
            }
        ),
        "{err}"
    );

    let err = echo_through(
        proxy(ProxyKind::Http, "WS_INTEROP_HTTP_AUTH", None),
        "127.0.0.1",
    )
    .unwrap_err();
    assert!(
        matches!(
            &err,
            Error::Proxy(ProxyError::HttpStatus { status: 407, .. })
        ),
        "{err}"
    );
}

#[test]
#[ignore = "needs the peers of `cargo xtask interop`"]
fn wss_through_tinyproxy() {
    let pki = Pki::new();
    let (port, server) = tls_echo_server(&pki, false);
    let url = WsUrl::parse(&format!("wss://localhost:{port}/")).unwrap();
    let cfg = config(proxy(ProxyKind::Http, "WS_INTEROP_HTTP", None))
        .tls(TlsConfig::default().ca_pem(pki.ca_pem.clone()));
    let mut stream = connect(&url, &cfg).unwrap();
    assert!(stream.is_tls());
    stream.write_all(b"tls in a tunnel").unwrap();
    let mut buf = [0; 15];
    stream.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"tls in a tunnel");
    stream.shutdown().unwrap();
    server.join().unwrap().unwrap();
}

#[test]
#[ignore = "needs the peers of `cargo xtask interop`"]
fn dante_socks4_5_5h_and_4a_refusal() {
    for kind in [ProxyKind::Socks4, ProxyKind::Socks5] {
        echo_through(proxy(kind, "WS_INTEROP_DANTE", None), "127.0.0.1").unwrap();
        // Resolved here, sent as an address.
        echo_through(proxy(kind, "WS_INTEROP_DANTE", None), "localhost").unwrap();
    }
    // Names resolved by the proxy.
    echo_through(
        proxy(ProxyKind::Socks5h, "WS_INTEROP_DANTE", None),
        "localhost",
    )
    .unwrap();
    match echo_through(
        proxy(ProxyKind::Socks4a, "WS_INTEROP_DANTE", None),
        "localhost",
    ) {
        Ok(()) => {}
        // Dante 1.4 does not implement the 4a extension; it refuses with code 91, which
        // must arrive as the typed refusal, not as a hang or a parse error.
        Err(Error::Proxy(ProxyError::Socks4(reply))) => assert_eq!(reply.code(), 91),
        Err(other) => panic!("{other:?}"),
    }
}

#[test]
#[ignore = "needs the peers of `cargo xtask interop`"]
fn microsocks_socks5_auth() {
    let (user, password) = credentials();
    for kind in [ProxyKind::Socks5, ProxyKind::Socks5h] {
        echo_through(
            proxy(kind, "WS_INTEROP_MICROSOCKS", Some((&user, &password))),
            "localhost",
        )
        .unwrap();
    }
    let err = echo_through(
        proxy(
            ProxyKind::Socks5,
            "WS_INTEROP_MICROSOCKS",
            Some((&user, "wrong")),
        ),
        "127.0.0.1",
    )
    .unwrap_err();
    assert!(
        matches!(&err, Error::Proxy(ProxyError::Socks5AuthFailed(_))),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .contains("rejected the user name or password"),
        "{err}"
    );
    let err = echo_through(
        proxy(ProxyKind::Socks5, "WS_INTEROP_MICROSOCKS", None),
        "127.0.0.1",
    )
    .unwrap_err();
    assert!(
        matches!(&err, Error::Proxy(ProxyError::Socks5NoAcceptableMethod)),
        "{err:?}"
    );
}

#[test]
#[ignore = "needs the peers of `cargo xtask interop`"]
fn pproxy_socks4_and_socks5_auth() {
    echo_through(
        proxy(ProxyKind::Socks4, "WS_INTEROP_PPROXY_SOCKS4", None),
        "localhost",
    )
    .unwrap();
    let (user, password) = credentials();
    // First: pproxy remembers a client address once it has authenticated, so the refusal is
    // only meaningful before any success.
    let wrong = Some((user.as_str(), "wrong"));
    let err = echo_through(
        proxy(ProxyKind::Socks5, "WS_INTEROP_PPROXY_SOCKS5", wrong),
        "127.0.0.1",
    )
    .unwrap_err();
    // pproxy drops the connection instead of answering RFC 1929's failure status.
    assert!(
        matches!(
            &err,
            Error::Proxy(ProxyError::Closed(_) | ProxyError::Socks5AuthFailed(_))
        ),
        "{err:?}"
    );
    for kind in [ProxyKind::Socks5, ProxyKind::Socks5h] {
        let auth = Some((user.as_str(), password.as_str()));
        echo_through(proxy(kind, "WS_INTEROP_PPROXY_SOCKS5", auth), "localhost").unwrap();
    }
}

#[test]
#[ignore = "needs the peers of `cargo xtask interop`"]
fn perl_socks4_and_socks4a_with_user_id() {
    let (user, _) = credentials();
    let auth = Some((user.as_str(), ""));
    echo_through(
        proxy(ProxyKind::Socks4, "WS_INTEROP_PERL_SOCKS4", auth),
        "127.0.0.1",
    )
    .unwrap();
    // 4a: the proxy resolves "localhost" itself.
    echo_through(
        proxy(ProxyKind::Socks4a, "WS_INTEROP_PERL_SOCKS4", auth),
        "localhost",
    )
    .unwrap();
    let err = echo_through(
        proxy(
            ProxyKind::Socks4a,
            "WS_INTEROP_PERL_SOCKS4",
            Some(("intruder", "")),
        ),
        "localhost",
    )
    .unwrap_err();
    let Error::Proxy(ProxyError::Socks4(reply)) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(reply.code(), 93, "{err}");
    assert!(
        err.to_string()
            .contains("identd and the request report different user ids"),
        "{err}"
    );
}

#[allow(unsafe_code)]
fn set_env(name: &str, value: &str) {
    // SAFETY: `cargo xtask interop` runs this binary with --test-threads=1, so no other
    // thread reads the environment while it changes.
    unsafe { std::env::set_var(name, value) };
}

#[allow(unsafe_code)]
fn remove_env(name: &str) {
    // SAFETY: as for `set_env`.
    unsafe { std::env::remove_var(name) };
}

#[test]
#[ignore = "needs the peers of `cargo xtask interop`"]
fn environment_proxies_and_no_proxy_bypass() {
    let (http_host, http_port) = peer("WS_INTEROP_HTTP");
    let (socks_host, socks_port) = peer("WS_INTEROP_DANTE");
    let env_config = TransportConfig::default().connect_timeout(Some(Duration::from_secs(5)));
    let (port, server) = tcp_echo_server();
    let url = WsUrl::parse(&format!("ws://127.0.0.1:{port}/")).unwrap();

    // http_proxy points at a port nothing listens on: if it were used, the connection would fail.
    let dead = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    set_env("http_proxy", &format!("http://127.0.0.1:{dead}"));
    set_env("no_proxy", "127.0.0.0/8");
    let mut stream = connect(&url, &env_config).unwrap();
    stream.write_all(b"b").unwrap();
    stream.read_exact(&mut [0; 1]).unwrap();
    stream.shutdown().unwrap();
    server.join().unwrap().unwrap();

    // Without the bypass the dead proxy is used, and says so.
    remove_env("no_proxy");
    let err = connect(&url, &env_config).unwrap_err();
    assert!(
        err.to_string()
            .starts_with(&format!("proxy: cannot reach proxy 127.0.0.1:{dead}")),
        "{err}"
    );

    // http_proxy through tinyproxy, then all_proxy through dante with its scheme honoured.
    set_env("http_proxy", &format!("http://{http_host}:{http_port}"));
    let (port, server) = tcp_echo_server();
    let url = WsUrl::parse(&format!("ws://127.0.0.1:{port}/")).unwrap();
    let mut stream = connect(&url, &env_config).unwrap();
    stream.write_all(b"h").unwrap();
    stream.read_exact(&mut [0; 1]).unwrap();
    stream.shutdown().unwrap();
    server.join().unwrap().unwrap();

    remove_env("http_proxy");
    set_env("all_proxy", &format!("socks5h://{socks_host}:{socks_port}"));
    let (port, server) = tcp_echo_server();
    let url = WsUrl::parse(&format!("ws://localhost:{port}/")).unwrap();
    let mut stream = connect(&url, &env_config).unwrap();
    stream.write_all(b"s").unwrap();
    stream.read_exact(&mut [0; 1]).unwrap();
    stream.shutdown().unwrap();
    server.join().unwrap().unwrap();
    remove_env("all_proxy");
}
