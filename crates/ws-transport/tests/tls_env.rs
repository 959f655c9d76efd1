//! TLS settings read from the environment: `WEBSOCKET_CLIENT_CA_BUNDLE` and `SSLKEYLOGFILE`.
//! One test in its own binary, because it changes the process environment.
#![allow(clippy::unwrap_used)]

use std::io::{Read, Write};
use std::time::Duration;

use test_support::{Pki, tls_echo_server};
use ws_transport::{ProxyConfig, TlsConfig, TransportConfig, WsUrl, connect};

#[allow(unsafe_code)]
fn set_env(name: &str, value: &std::path::Path) {
    // SAFETY: this binary has a single test and sets variables before it starts any thread
    // that could read the environment concurrently.
    unsafe { std::env::set_var(name, value) };
}

#[test]
fn ca_bundle_variable_and_key_log_file() {
    let pki = Pki::new();
    let dir = std::env::temp_dir().join(format!("ws-transport-env-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bundle = dir.join("bundle.pem");
    std::fs::write(&bundle, &pki.ca_pem).unwrap();
    let key_log = dir.join("keys.log");
    set_env(ws_transport::CA_BUNDLE_ENV, &bundle);
    set_env("SSLKEYLOGFILE", &key_log);

    let (port, server) = tls_echo_server(&pki, false);
    let config = TransportConfig::default()
        .proxy(ProxyConfig::Direct)
        .connect_timeout(Some(Duration::from_secs(5)))
        .tls(TlsConfig::default());
    let mut stream = connect(
        &WsUrl::parse(&format!("wss://localhost:{port}/")).unwrap(),
        &config,
    )
    .unwrap();
    stream.write_all(b"env").unwrap();
    let mut buf = [0; 3];
    stream.read_exact(&mut buf).unwrap();
    stream.shutdown().unwrap();
    server.join().unwrap().unwrap();

    let log = std::fs::read_to_string(&key_log).unwrap();
    assert!(
        log.lines()
            .any(|l| l.starts_with("CLIENT_HANDSHAKE_TRAFFIC_SECRET ")
                || l.starts_with("CLIENT_RANDOM ")),
        "{log}"
    );

    // With key logging turned off nothing more is written.
    let before = log.len();
    let (port, server) = tls_echo_server(&pki, false);
    let quiet = config.tls(TlsConfig::default().key_log(false));
    let stream = connect(
        &WsUrl::parse(&format!("wss://localhost:{port}/")).unwrap(),
        &quiet,
    )
    .unwrap();
    stream.shutdown().unwrap();
    server.join().unwrap().unwrap();
    assert_eq!(std::fs::read_to_string(&key_log).unwrap().len(), before);
    std::fs::remove_dir_all(&dir).unwrap();
}
