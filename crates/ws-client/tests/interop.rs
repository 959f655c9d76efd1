//! Interop with Python's `websockets` server, plain and over TLS, started by `cargo xtask
//! interop` (which sets the `WS_INTEROP_*` variables). Ignored in a plain `cargo test`.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use ws_client::{CloseCode, Config, Message, ProxyConfig, TlsConfig};

fn var(name: &str) -> String {
    std::env::var(name)
        .unwrap_or_else(|_| panic!("{name} is not set: run with `cargo xtask interop`"))
}

fn exercise(config: &Config, url: &str) {
    let mut ws = config.connect(url).unwrap();
    ws.send_text("Hello, websockets").unwrap();
    assert_eq!(
        ws.recv().unwrap(),
        Message::Text("Hello, websockets".into())
    );
    let big: Vec<u8> = (0..3_000_000u32).map(|i| (i % 253) as u8).collect();
    ws.send_binary(&big).unwrap();
    assert_eq!(ws.recv().unwrap(), Message::Binary(big));
    ws.send_text("ünïcödé ✓").unwrap();
    assert_eq!(ws.recv().unwrap().as_text(), Some("ünïcödé ✓"));
    ws.ping(b"p").unwrap();
    assert_eq!(
        ws.recv_data_frame(true).unwrap(),
        Message::Pong(b"p".to_vec())
    );
    let answer = ws.close(CloseCode::NORMAL, "bye").unwrap().unwrap();
    assert_eq!(answer.code, CloseCode::NORMAL);
}

#[test]
#[ignore = "needs the peers of `cargo xtask interop`"]
fn python_websockets_plain() {
    let config = Config::builder()
        .proxy(ProxyConfig::Direct)
        .subprotocols(["chat"])
        .timeout(Some(Duration::from_secs(10)))
        .build()
        .unwrap();
    let url = format!("ws://{}/", var("WS_INTEROP_WEBSOCKETS"));
    let ws = config.connect(&url).unwrap();
    assert_eq!(ws.subprotocol(), Some("chat"));
    drop(ws);
    exercise(&config, &url);
}

#[test]
#[ignore = "needs the peers of `cargo xtask interop`"]
fn python_websockets_tls() {
    let config = Config::builder()
        .proxy(ProxyConfig::Direct)
        .tls(TlsConfig::default().ca_file(var("WS_INTEROP_WEBSOCKETS_CA")))
        .timeout(Some(Duration::from_secs(10)))
        .build()
        .unwrap();
    exercise(
        &config,
        &format!("wss://{}/", var("WS_INTEROP_WEBSOCKETS_TLS")),
    );
}

#[test]
#[ignore = "needs the peers of `cargo xtask interop`"]
fn python_websockets_compressed() {
    // websockets negotiates permessage-deflate by default.
    let config = Config::builder()
        .proxy(ProxyConfig::Direct)
        .subprotocols(["chat"])
        .compression(ws_client::DeflateConfig::default())
        .timeout(Some(Duration::from_secs(10)))
        .build()
        .unwrap();
    let url = format!("ws://{}/", var("WS_INTEROP_WEBSOCKETS"));
    let ws = config.connect(&url).unwrap();
    let negotiated = ws
        .compression()
        .expect("websockets accepts permessage-deflate");
    let answer = ws
        .headers()
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case("sec-websocket-extensions"))
        .map(|(_, value)| value.clone())
        .unwrap();
    assert!(answer.starts_with("permessage-deflate"), "{answer}");
    eprintln!("websockets answered {answer:?}: {negotiated:?}");
    drop(ws);
    exercise(&config, &url);
    // Compressible text both ways.
    let mut ws = config.connect(&url).unwrap();
    let text = "{\"price\": 101.25, \"size\": 3} ".repeat(2000);
    ws.send_text(&text).unwrap();
    assert_eq!(ws.recv().unwrap().as_text(), Some(text.as_str()));
    ws.close(CloseCode::NORMAL, "").unwrap();
}
