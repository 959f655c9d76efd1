//! TLS against an in-process rustls server with certificates generated at test time.
#![allow(clippy::unwrap_used)]

use std::io::{Read, Write};
use std::time::Duration;

use test_support::{Pki, read_head, tls_echo_server};
use ws_transport::{
    CertificateProblem, Error, ProxyConfig, TlsConfig, TlsError, TransportConfig, WsUrl, connect,
};

fn config(tls: TlsConfig) -> TransportConfig {
    TransportConfig::default()
        .proxy(ProxyConfig::Direct)
        .connect_timeout(Some(Duration::from_secs(5)))
        .tls(tls)
}

fn url(host: &str, port: u16) -> WsUrl {
    WsUrl::parse(&format!("wss://{host}:{port}/")).unwrap()
}

fn round_trip(stream: &mut ws_transport::Stream, payload: &[u8]) {
    stream.write_all(payload).unwrap();
    let mut back = vec![0; payload.len()];
    stream.read_exact(&mut back).unwrap();
    assert_eq!(back, payload);
}

#[test]
fn trusted_ca_in_memory_connects_and_echoes() {
    let pki = Pki::new();
    let (port, server) = tls_echo_server(&pki, false);
    let mut stream = connect(
        &url("localhost", port),
        &config(TlsConfig::default().ca_pem(pki.ca_pem.clone())),
    )
    .unwrap();
    assert!(stream.is_tls());
    assert!(stream.tls_description().unwrap().contains("TLS"));
    round_trip(&mut stream, b"hello over TLS");
    // A message far above one record and above rustls's default buffer limit.
    let big: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    round_trip(&mut stream, &big);
    stream.shutdown().unwrap();
    server.join().unwrap().unwrap();
}

#[test]
fn ip_address_host_is_verified_against_ip_san() {
    let pki = Pki::new();
    let (port, server) = tls_echo_server(&pki, false);
    let mut stream = connect(
        &url("127.0.0.1", port),
        &config(TlsConfig::default().ca_pem(pki.ca_pem.clone())),
    )
    .unwrap();
    round_trip(&mut stream, b"ip");
    stream.shutdown().unwrap();
    server.join().unwrap().unwrap();
}

#[test]
fn ca_file_and_ca_dir() {
    let pki = Pki::new();
    let dir = std::env::temp_dir().join(format!("ws-transport-ca-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("ca.pem");
    std::fs::write(&file, &pki.ca_pem).unwrap();
    std::fs::write(dir.join("README.txt"), "not a certificate").unwrap();

    let (port, server) = tls_echo_server(&pki, false);
    let mut stream = connect(
        &url("localhost", port),
        &config(TlsConfig::default().ca_file(&file)),
    )
    .unwrap();
    round_trip(&mut stream, b"file");
    stream.shutdown().unwrap();
    server.join().unwrap().unwrap();

    let (port, server) = tls_echo_server(&pki, false);
    let mut stream = connect(
        &url("localhost", port),
        &config(TlsConfig::default().ca_dir(&dir)),
    )
    .unwrap();
    round_trip(&mut stream, b"dir");
    stream.shutdown().unwrap();
    server.join().unwrap().unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn missing_ca_file_names_the_path() {
    let err = connect(
        &url("localhost", 1),
        &config(TlsConfig::default().ca_file("/nonexistent/ca.pem")),
    )
    .unwrap_err();
    // TLS settings are checked before anything is dialled, so port 1 is never tried.
    assert!(matches!(err, Error::Tls(TlsError::Read { .. })), "{err:?}");
    assert!(
        err.to_string()
            .starts_with("TLS: cannot read /nonexistent/ca.pem:"),
        "{err}"
    );
}

#[test]
fn untrusted_certificate_is_refused_with_reason() {
    let pki = Pki::new();
    let other = Pki::new();
    let (port, server) = tls_echo_server(&pki, false);
    let err = connect(
        &url("localhost", port),
        &config(TlsConfig::default().ca_pem(other.ca_pem)),
    )
    .unwrap_err();
    match &err {
        Error::Tls(TlsError::UntrustedCertificate { name, reason }) => {
            assert_eq!(name, "localhost");
            assert_eq!(reason, &CertificateProblem::UnknownIssuer);
        }
        other => panic!("expected an untrusted certificate error, got {other:?}"),
    }
    assert_eq!(
        err.to_string(),
        "TLS: certificate verify failed for localhost: unknown issuer (is the CA in the trust \
         store? see TlsConfig::ca_file)"
    );
    // The server saw our alert.
    assert!(server.join().unwrap().is_err());
}

#[test]
fn wrong_name_is_a_name_mismatch() {
    let pki = Pki::new();
    let (port, server) = tls_echo_server(&pki, false);
    let tls = TlsConfig::default()
        .ca_pem(pki.ca_pem.clone())
        .server_name("other.example");
    let err = connect(&url("localhost", port), &config(tls)).unwrap_err();
    match &err {
        Error::Tls(TlsError::NameMismatch { name, .. }) => assert_eq!(name, "other.example"),
        other => panic!("expected a name mismatch, got {other:?}"),
    }
    assert_eq!(
        err.to_string(),
        "TLS: host name mismatch: the certificate is valid for localhost, 127.0.0.1, not \
         other.example"
    );
    let _ = server.join().unwrap();
}

#[test]
fn expired_and_not_yet_valid_certificates_say_so() {
    for (pki, expected) in [
        (
            Pki::expired(),
            "the certificate expired on 2000-01-01 00:00:00 UTC",
        ),
        (
            Pki::not_yet_valid(),
            "the certificate is not valid before 3000-01-01 00:00:00 UTC (is the clock right?)",
        ),
    ] {
        let (port, server) = tls_echo_server(&pki, false);
        let err = connect(
            &url("localhost", port),
            &config(TlsConfig::default().ca_pem(pki.ca_pem.clone())),
        )
        .unwrap_err();
        assert!(
            matches!(&err, Error::Tls(TlsError::UntrustedCertificate { .. })),
            "{err:?}"
        );
        let text = err.to_string();
        assert!(
            text.starts_with("TLS: certificate verify failed for localhost: "),
            "{text}"
        );
        assert!(text.ends_with(expected), "{text}");
        let _ = server.join().unwrap();
    }
}

#[test]
fn certificate_problems_read_as_words() {
    for (problem, words) in [
        (CertificateProblem::Revoked, "the certificate was revoked"),
        (
            CertificateProblem::BadSignature,
            "bad signature: a certificate is not signed by its issuer's key",
        ),
        (
            CertificateProblem::Expired(None),
            "the certificate has expired",
        ),
        (
            CertificateProblem::WrongPurpose,
            "the certificate is not meant for a TLS server",
        ),
    ] {
        assert_eq!(problem.to_string(), words);
    }
    assert_eq!(
        TlsError::Alert("CertificateRequired".into()).to_string(),
        "the server requires a client certificate (see TlsConfig::client_cert) (TLS alert \
         CertificateRequired)"
    );
}

#[test]
fn weakening_calls_are_independent_in_either_order() {
    // An untrusted certificate checked under another name: both weakenings are needed.
    for both in [
        TlsConfig::default()
            .dangerous()
            .disable_certificate_verification()
            .dangerous()
            .disable_hostname_verification(),
        TlsConfig::default()
            .dangerous()
            .disable_hostname_verification()
            .dangerous()
            .disable_certificate_verification(),
    ] {
        let pki = Pki::new();
        let (port, server) = tls_echo_server(&pki, false);
        let tls = both.ca_pem(Pki::new().ca_pem).server_name("other.example");
        let mut stream = connect(&url("localhost", port), &config(tls)).unwrap();
        round_trip(&mut stream, b"either order");
        stream.shutdown().unwrap();
        server.join().unwrap().unwrap();
    }
    // The hostname weakening alone keeps the chain check, whichever came first before.
    let pki = Pki::new();
    let (port, server) = tls_echo_server(&pki, false);
    let tls = TlsConfig::default()
        .ca_pem(Pki::new().ca_pem)
        .dangerous()
        .disable_hostname_verification();
    let err = connect(&url("localhost", port), &config(tls)).unwrap_err();
    assert!(
        matches!(err, Error::Tls(TlsError::UntrustedCertificate { .. })),
        "{err:?}"
    );
    let _ = server.join().unwrap();
}

#[test]
fn one_file_with_certificate_and_key() {
    let pki = Pki::new();
    let dir = std::env::temp_dir().join(format!("ws-transport-certfile-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let both = dir.join("client.pem");
    std::fs::write(
        &both,
        format!("{}{}", pki.client_cert_pem, pki.client_key_pem),
    )
    .unwrap();
    let (port, server) = tls_echo_server(&pki, true);
    let tls = TlsConfig::default()
        .ca_pem(pki.ca_pem.clone())
        .client_cert_file(&both);
    let mut stream = connect(&url("localhost", port), &config(tls)).unwrap();
    round_trip(&mut stream, b"certfile alone");
    stream.shutdown().unwrap();
    server.join().unwrap().unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn skipping_the_hostname_check_keeps_the_chain_check() {
    let pki = Pki::new();
    let (port, server) = tls_echo_server(&pki, false);
    let tls = TlsConfig::default()
        .ca_pem(pki.ca_pem.clone())
        .server_name("other.example")
        .dangerous()
        .disable_hostname_verification();
    let mut stream = connect(&url("localhost", port), &config(tls)).unwrap();
    round_trip(&mut stream, b"name not checked");
    stream.shutdown().unwrap();
    server.join().unwrap().unwrap();

    // An untrusted chain is still refused.
    let (port, server) = tls_echo_server(&pki, false);
    let tls = TlsConfig::default()
        .ca_pem(Pki::new().ca_pem)
        .dangerous()
        .disable_hostname_verification();
    let err = connect(&url("localhost", port), &config(tls)).unwrap_err();
    assert!(
        matches!(err, Error::Tls(TlsError::UntrustedCertificate { .. })),
        "{err:?}"
    );
    let _ = server.join().unwrap();
}

#[test]
fn disabling_verification_accepts_an_untrusted_certificate() {
    let pki = Pki::new();
    let (port, server) = tls_echo_server(&pki, false);
    let tls = TlsConfig::default()
        .dangerous()
        .disable_certificate_verification();
    let mut stream = connect(&url("localhost", port), &config(tls)).unwrap();
    round_trip(&mut stream, b"no verification");
    stream.shutdown().unwrap();
    server.join().unwrap().unwrap();
}

#[test]
fn client_certificate_required() {
    let pki = Pki::new();
    let (port, server) = tls_echo_server(&pki, true);
    let without = TlsConfig::default().ca_pem(pki.ca_pem.clone());
    // TLS 1.3: the server checks the client's certificate after the client finished, so the
    // refusal arrives as an alert on the first read.
    let result = connect(&url("localhost", port), &config(without)).and_then(|mut stream| {
        stream.write_all(b"x").unwrap();
        let mut buf = [0; 1];
        stream.read(&mut buf).map_err(|e| Error::Io {
            operation: "read".into(),
            source: e,
        })
    });
    let err = result.unwrap_err();
    assert!(err.to_string().contains("CertificateRequired"), "{err}");
    assert!(server.join().unwrap().is_err());

    let (port, server) = tls_echo_server(&pki, true);
    let with = TlsConfig::default()
        .ca_pem(pki.ca_pem.clone())
        .client_cert_pem(pki.client_cert_pem.clone(), pki.client_key_pem.clone());
    let mut stream = connect(&url("localhost", port), &config(with)).unwrap();
    round_trip(&mut stream, b"mutual TLS");
    stream.shutdown().unwrap();
    server.join().unwrap().unwrap();
}

#[test]
fn encrypted_key_and_missing_key_are_clear_errors() {
    let pki = Pki::new();
    let (port, _server) = tls_echo_server(&pki, false);
    let encrypted = "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIBvTBXBgkqhkiG9w0BBQ0w\n-----END ENCRYPTED PRIVATE KEY-----\n";
    let tls = TlsConfig::default()
        .ca_pem(pki.ca_pem.clone())
        .client_cert_pem(pki.client_cert_pem.clone(), encrypted);
    let err = connect(&url("localhost", port), &config(tls)).unwrap_err();
    assert!(
        matches!(err, Error::Tls(TlsError::EncryptedKey(_))),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .contains("password-protected keys are not supported"),
        "{err}"
    );

    let tls = TlsConfig::default()
        .ca_pem(pki.ca_pem.clone())
        .client_cert_pem(pki.client_cert_pem.clone(), "no key here");
    let err = connect(&url("localhost", port), &config(tls)).unwrap_err();
    assert!(
        matches!(err, Error::Tls(TlsError::InvalidPem { .. })),
        "{err:?}"
    );
}

#[test]
fn split_tls_stream_writes_while_a_reader_is_blocked() {
    let pki = Pki::new();
    let (port, server) = tls_echo_server(&pki, false);
    let stream = connect(
        &url("localhost", port),
        &config(TlsConfig::default().ca_pem(pki.ca_pem.clone())),
    )
    .unwrap();
    let (mut reader, writer) = stream.split();
    let reading = std::thread::spawn(move || {
        let mut got = Vec::new();
        let mut buf = [0; 4096];
        while got.len() < 3 * 1000 {
            let n = reader.read(&mut buf).unwrap();
            assert!(n > 0);
            got.extend_from_slice(&buf[..n]);
        }
        got
    });
    // The reader is blocked in read() before anything is sent: writes must not wait for it.
    std::thread::sleep(Duration::from_millis(100));
    let writers: Vec<_> = (0..3u8)
        .map(|t| {
            let mut w = writer.clone();
            std::thread::spawn(move || {
                for _ in 0..10 {
                    w.write_all(&[t; 100]).unwrap();
                }
            })
        })
        .collect();
    for w in writers {
        w.join().unwrap();
    }
    let got = reading.join().unwrap();
    // Each 100-byte write arrives whole: records are never interleaved.
    for chunk in got.chunks(100) {
        assert!(chunk.iter().all(|&b| b == chunk[0]), "interleaved write");
    }
    writer.shutdown().unwrap();
    server.join().unwrap().unwrap();
}

#[test]
fn handshake_timeout_against_a_silent_server() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let holder = std::thread::spawn(move || {
        let (tcp, _) = listener.accept().unwrap();
        std::thread::sleep(Duration::from_millis(800));
        drop(tcp);
    });
    let cfg = config(
        TlsConfig::default()
            .dangerous()
            .disable_certificate_verification(),
    )
    .connect_timeout(Some(Duration::from_millis(200)));
    let err = connect(&url("localhost", port), &cfg).unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
    assert!(
        err.to_string()
            .contains("TLS handshake with localhost timed out after 200ms"),
        "{err}"
    );
    holder.join().unwrap();
}

#[test]
fn one_connect_timeout_covers_the_proxy_exchange_and_the_tls_handshake() {
    // A proxy that takes 600 ms to open the tunnel, then a server behind it that never
    // answers the TLS handshake: with a 1 s connect timeout the handshake gets the 400 ms
    // that are left, not a second of its own.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let proxy = std::thread::spawn(move || {
        let (mut tcp, _) = listener.accept().unwrap();
        let head = read_head(&mut tcp);
        std::thread::sleep(Duration::from_millis(600));
        tcp.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
            .unwrap();
        // Silent until the client gives up.
        let mut rest = Vec::new();
        let _ = tcp.read_to_end(&mut rest);
        head
    });
    let cfg = config(
        TlsConfig::default()
            .dangerous()
            .disable_certificate_verification(),
    )
    .proxy(ProxyConfig::Explicit(ws_transport::Proxy::new(
        ws_transport::ProxyKind::Http,
        "127.0.0.1",
        Some(port),
    )))
    .connect_timeout(Some(Duration::from_secs(1)));
    let started = std::time::Instant::now();
    let err = connect(&url("target.example", 443), &cfg).unwrap_err();
    let took = started.elapsed();
    assert!(err.is_timeout(), "{err:?}");
    assert!(
        err.to_string()
            .contains("TLS handshake with target.example timed out after 1s"),
        "{err}"
    );
    assert!(
        took >= Duration::from_millis(950),
        "gave up early, after {took:?}"
    );
    assert!(took < Duration::from_millis(1400), "took {took:?}");
    assert!(
        proxy
            .join()
            .unwrap()
            .starts_with("CONNECT target.example:443 ")
    );
}
