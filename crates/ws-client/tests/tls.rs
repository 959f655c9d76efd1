//! wss:// end to end against a rustls server running the crate's echo server, with
//! certificates made at test time.
#![allow(clippy::unwrap_used)]

use std::io::{Read, Write};
use std::time::Duration;

use test_support::{Pki, tls_server};
use ws_client::{CloseCode, Config, Error, ErrorKind, Message, ProxyConfig, TlsConfig, TlsError};

fn wss_echo(pki: &Pki) -> u16 {
    let (port, _) = tls_server(pki, false, |tls| {
        ws_client::echo::serve(tls).map_err(|e| std::io::Error::other(e.to_string()))
    });
    port
}

fn trusting(pki: &Pki) -> Config {
    Config::builder()
        .proxy(ProxyConfig::Direct)
        .tls(TlsConfig::default().ca_pem(pki.ca_pem.clone()))
        .timeout(Some(Duration::from_secs(5)))
        .build()
        .unwrap()
}

#[test]
fn wss_echo_and_close() {
    let pki = Pki::new();
    let port = wss_echo(&pki);
    let mut ws = trusting(&pki)
        .connect(&format!("wss://localhost:{port}/"))
        .unwrap();
    assert!(ws.is_tls());
    ws.send_text("over TLS").unwrap();
    assert_eq!(ws.recv().unwrap().as_text(), Some("over TLS"));
    let big = vec![7u8; 200_000];
    ws.send_binary(&big).unwrap();
    assert_eq!(ws.recv().unwrap(), Message::Binary(big));
    assert_eq!(
        ws.close(CloseCode::NORMAL, "").unwrap().unwrap().code,
        CloseCode::NORMAL
    );
}

#[test]
fn untrusted_server_is_refused() {
    let pki = Pki::new();
    let port = wss_echo(&pki);
    let err = trusting(&Pki::new())
        .connect(&format!("wss://localhost:{port}/"))
        .unwrap_err();
    assert!(
        matches!(&err, Error::Tls(TlsError::UntrustedCertificate { .. })),
        "{err:?}"
    );
    assert_eq!(err.kind(), ErrorKind::TlsUntrusted);
    assert!(
        err.to_string().contains("certificate verify failed"),
        "{err}"
    );
    assert!(err.to_string().contains("unknown issuer"), "{err}");
}

#[test]
fn name_mismatch_reads_as_a_mismatch() {
    let pki = Pki::new();
    let port = wss_echo(&pki);
    let err = Config::builder()
        .proxy(ProxyConfig::Direct)
        .tls(
            TlsConfig::default()
                .ca_pem(pki.ca_pem.clone())
                .server_name("other.example"),
        )
        .build()
        .unwrap()
        .connect(&format!("wss://localhost:{port}/"))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TlsNameMismatch, "{err:?}");
    assert_eq!(
        err.to_string(),
        "TLS: host name mismatch: the certificate is valid for localhost, 127.0.0.1, not \
         other.example"
    );
}

#[test]
fn an_alert_after_the_tls13_handshake_is_a_typed_tls_error() {
    // A TLS 1.3 server that wants a client certificate says so only after the client's
    // handshake is over: the refusal arrives on the first read, as an alert.
    let pki = Pki::new();
    let (port, _server) = tls_server(&pki, true, |tls| {
        ws_client::echo::serve(tls).map_err(|e| std::io::Error::other(e.to_string()))
    });
    let err = trusting(&pki)
        .connect(&format!("wss://localhost:{port}/"))
        .unwrap_err();
    match &err {
        Error::Tls(TlsError::Alert(alert)) => assert_eq!(alert, "CertificateRequired"),
        other => panic!("expected the CertificateRequired alert, got {other:?}"),
    }
    assert_eq!(err.kind(), ErrorKind::Tls);
    assert!(
        err.to_string()
            .contains("the server requires a client certificate"),
        "{err}"
    );
}

#[test]
fn split_over_tls() {
    let pki = Pki::new();
    let port = wss_echo(&pki);
    let ws = trusting(&pki)
        .connect(&format!("wss://localhost:{port}/"))
        .unwrap();
    let (mut rx, tx) = ws.split();
    let reader = std::thread::spawn(move || {
        let mut n = 0;
        while let Ok(Message::Text(_)) = rx.recv() {
            n += 1;
            if n == 50 {
                break;
            }
        }
        n
    });
    std::thread::sleep(Duration::from_millis(50));
    let writers: Vec<_> = (0..2)
        .map(|_| {
            let tx = tx.clone();
            std::thread::spawn(move || (0..25).for_each(|i| tx.send_text(&i.to_string()).unwrap()))
        })
        .collect();
    writers.into_iter().for_each(|w| w.join().unwrap());
    assert_eq!(reader.join().unwrap(), 50);
}

#[test]
fn wss_to_ws_redirect_is_refused() {
    let pki = Pki::new();
    let (port, _) = tls_server(&pki, false, |tls| {
        let mut buf = [0; 4096];
        let _ = tls.read(&mut buf)?;
        tls.write_all(b"HTTP/1.1 302 Found\r\nLocation: ws://localhost:1/\r\n\r\n")?;
        tls.flush()
    });
    let err = trusting(&pki)
        .connect(&format!("wss://localhost:{port}/"))
        .unwrap_err();
    assert!(
        matches!(&err, Error::InsecureRedirect { location } if location == "ws://localhost:1/"),
        "{err:?}"
    );
}
