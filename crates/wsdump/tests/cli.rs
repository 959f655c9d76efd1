//! The `wsdump` binary as a script runs it: flags, exact output, errors and exit status,
//! against the echo server, scripted peers, TLS and proxies started here.
#![allow(clippy::unwrap_used)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use test_support::{Pki, read_head, tls_server};
use ws_client::echo::EchoServer;
use ws_frame::{Event, Session};

/// Runs wsdump with `args` and `stdin`, without proxies from the environment, within 30 s.
fn wsdump(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_wsdump"))
        .args(args)
        .env_remove("http_proxy")
        .env_remove("https_proxy")
        .env_remove("all_proxy")
        .env_remove("HTTP_PROXY")
        .env_remove("HTTPS_PROXY")
        .env_remove("ALL_PROXY")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    let started = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            return child.wait_with_output().unwrap();
        }
        if started.elapsed() > Duration::from_secs(30) {
            let _ = child.kill();
            panic!("wsdump {args:?} still running after 30 s");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).unwrap()
}

/// A peer that answers the upgrade (choosing `protocol` if given), records the request, then
/// runs `script` on the server side of the connection.
fn peer(
    protocol: Option<&'static str>,
    script: impl FnOnce(&mut TcpStream, &mut Session) + Send + 'static,
) -> (String, Arc<Mutex<String>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("ws://127.0.0.1:{}/", listener.local_addr().unwrap().port());
    let seen = Arc::new(Mutex::new(String::new()));
    let log = Arc::clone(&seen);
    std::thread::spawn(move || {
        let (mut tcp, _) = listener.accept().unwrap();
        let head = read_head(&mut tcp);
        *log.lock().unwrap() = head.clone();
        let (request, _) = ws_handshake::parse_request(head.as_bytes(), &Default::default())
            .unwrap()
            .unwrap();
        tcp.write_all(&request.accept(protocol, None).unwrap())
            .unwrap();
        let mut session = Session::server(ws_frame::Config::default());
        script(&mut tcp, &mut session);
    });
    (url, seen)
}

fn flush(tcp: &mut TcpStream, session: &mut Session) {
    let out = session.pending_output().to_vec();
    let _ = tcp.write_all(&out);
    session.consume_output(out.len());
}

/// Reads until the client's close and answers it.
fn until_close(tcp: &mut TcpStream, session: &mut Session) -> Vec<String> {
    let mut seen = Vec::new();
    let mut chunk = [0; 4096];
    loop {
        while let Ok(Some(event)) = session.next_event() {
            seen.push(match event {
                Event::Text(t) => format!("text {t}"),
                Event::Binary(b) => format!("binary {b:?}"),
                other => format!("{other:?}"),
            });
        }
        flush(tcp, session);
        if session.close_expected() {
            return seen;
        }
        match tcp.read(&mut chunk) {
            Ok(0) | Err(_) => return seen,
            Ok(n) => session.receive_data(&chunk[..n]),
        }
    }
}

#[test]
fn raw_text_and_verbose_output() {
    let server = EchoServer::start().unwrap();
    let out = wsdump(
        &["-r", &server.url(), "-t", "hello", "--eof-wait", "1"],
        b"",
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "hello\n");

    let out = wsdump(
        &[&server.url(), "-r", "-v", "-t", "hello", "--eof-wait", "1"],
        b"",
    );
    assert_eq!(stdout(&out), "text: hello\nclose: \n");
}

#[test]
fn stdin_lines_are_sent_as_text_or_binary() {
    let server = EchoServer::start().unwrap();
    let out = wsdump(&[&server.url(), "-r", "--eof-wait", "1"], b"one\ntwo\n");
    assert_eq!(stdout(&out), "one\ntwo\n");
    let out = wsdump(
        &[&server.url(), "-r", "--binary", "--eof-wait", "1"],
        b"three\n",
    );
    assert_eq!(stdout(&out), "b'three'\n");
}

#[test]
fn trace_goes_to_stderr_with_credentials_redacted() {
    let server = EchoServer::start().unwrap();
    let out = wsdump(
        &[
            &server.url(),
            "-r",
            "-vv",
            "--headers",
            "Authorization: Bearer SECRET, X-Custom: 1",
            "-t",
            "traced",
            "--eof-wait",
            "1",
        ],
        b"",
    );
    let err = stderr(&out);
    assert!(err.contains("X-Custom: 1"), "{err}");
    assert!(err.contains("Authorization"), "{err}");
    assert!(!err.contains("SECRET"), "{err}");
    assert_eq!(stdout(&out), "text: traced\nclose: \n");
    // `-v 2` is the same as `-vv`.
    let out = wsdump(&[&server.url(), "-r", "-v", "2", "--eof-wait", "0.2"], b"");
    assert!(
        stderr(&out).contains("Sec-WebSocket-Key"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn timings_prefix_each_line_with_seconds() {
    let server = EchoServer::start().unwrap();
    let out = wsdump(
        &[
            &server.url(),
            "-r",
            "--timings",
            "-t",
            "timed",
            "--eof-wait",
            "1",
        ],
        b"",
    );
    let text = stdout(&out);
    let (seconds, rest) = text.split_once(": ").unwrap();
    assert_eq!(rest, "timed\n");
    let seconds: f64 = seconds.parse().unwrap();
    assert!(seconds > 0.0 && seconds < 5.0 && text.starts_with(|c: char| c.is_ascii_digit()));
}

#[test]
fn headers_origin_and_subprotocols_are_sent() {
    let (url, request) = peer(Some("b"), |tcp, session| {
        session.send_text("chosen").unwrap();
        flush(tcp, session);
        until_close(tcp, session);
    });
    let out = wsdump(
        &[
            &url,
            "-r",
            "-s",
            "a",
            "b",
            "-o",
            "https://origin.example",
            "--headers",
            "X-One: 1,X-Two: 2",
            "--eof-wait",
            "1",
        ],
        b"",
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "chosen\n");
    let request = request.lock().unwrap().clone();
    for line in [
        "Sec-WebSocket-Protocol: a, b",
        "Origin: https://origin.example",
        "X-One: 1",
        "X-Two: 2",
    ] {
        assert!(
            request.contains(&format!("{line}\r\n")),
            "{line}:\n{request}"
        );
    }
}

#[test]
fn binary_gzip_zlib_pings_and_a_server_close_as_python_shows_them() {
    use flate2::Compression;
    use flate2::write::{DeflateEncoder, GzEncoder};
    let mut gz = GzEncoder::new(Vec::new(), Compression::default());
    gz.write_all(b"zipped text").unwrap();
    let gz = gz.finish().unwrap();
    let mut raw = DeflateEncoder::new(Vec::new(), Compression::default());
    raw.write_all(b"deflated text").unwrap();
    let raw = raw.finish().unwrap();
    let (url, _) = peer(None, move |tcp, session| {
        session.send_binary(b"\x00\x01a'\n").unwrap();
        session.send_binary(&gz).unwrap();
        session.send_binary(&raw).unwrap();
        session.send_ping(b"hb").unwrap();
        session
            .send_close(Some(ws_frame::CloseCode(1001)), "bye")
            .unwrap();
        flush(tcp, session);
        until_close(tcp, session);
    });
    let out = wsdump(&[&url, "-r", "-v", "--eof-wait", "5"], b"");
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "binary: b\"\\x00\\x01a'\\n\"\nbinary: [gzip] zipped text\nbinary: [zlib] deflated \
         text\nping: b'hb'\nclose: \n"
    );
}

#[test]
fn eof_wait_keeps_receiving_before_the_close() {
    let (url, _) = peer(None, |tcp, session| {
        std::thread::sleep(Duration::from_millis(300));
        session.send_text("late").unwrap();
        flush(tcp, session);
        until_close(tcp, session);
    });
    let started = Instant::now();
    let out = wsdump(&[&url, "-r", "--eof-wait", "1"], b"");
    assert_eq!(stdout(&out), "late\n");
    assert!(started.elapsed() >= Duration::from_secs(1));
    // Without the wait, the close goes out at once; what arrives before the peer's answer
    // to it is still shown.
    let (url, _) = peer(None, |tcp, session| {
        std::thread::sleep(Duration::from_millis(300));
        session.send_text("before the close").unwrap();
        flush(tcp, session);
        until_close(tcp, session);
    });
    let started = Instant::now();
    let out = wsdump(&[&url, "-r"], b"");
    assert_eq!(stdout(&out), "before the close\n");
    assert!(started.elapsed() < Duration::from_secs(1));
}

#[test]
fn timeout_bounds_connecting_and_sending_not_a_quiet_connection() {
    // The peer is quiet for longer than --timeout before it sends: the message is shown.
    let (url, _) = peer(None, |tcp, session| {
        std::thread::sleep(Duration::from_millis(900));
        session.send_text("after a quiet while").unwrap();
        flush(tcp, session);
        until_close(tcp, session);
    });
    let out = wsdump(&[&url, "-r", "--timeout", "0.3", "--eof-wait", "1.5"], b"");
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "after a quiet while\n");
}

#[test]
fn interactive_mode_writes_pythons_bytes_when_stdin_is_a_pipe() {
    let (url, _) = peer(None, |tcp, session| {
        let mut chunk = [0; 4096];
        // Wait for the client's message, then answer after its prompts are out.
        loop {
            let n = tcp.read(&mut chunk).unwrap();
            session.receive_data(&chunk[..n]);
            if let Ok(Some(Event::Text(_))) = session.next_event() {
                break;
            }
        }
        std::thread::sleep(Duration::from_millis(300));
        session.send_text("hi back").unwrap();
        flush(tcp, session);
        until_close(tcp, session);
    });
    let out = wsdump(&[&url, "--eof-wait", "1"], b"hi\n");
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "Press Ctrl+C to quit\n> > \u{1b}[2K\u{1b}[E\u{1b}[34m< hi back\u{1b}[39m\n> "
    );
}

#[test]
fn a_refused_connection_is_one_line_and_a_failure() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let out = wsdump(&[&format!("ws://127.0.0.1:{port}/"), "-r"], b"");
    assert!(!out.status.success());
    assert_eq!(
        stderr(&out),
        format!("wsdump: error: connection refused (127.0.0.1:{port})\n")
    );
    assert_eq!(stdout(&out), "");
    let out = wsdump(&["ftp://x/"], b"");
    assert!(!out.status.success());
    assert!(
        stderr(&out).starts_with("wsdump: error: "),
        "{}",
        stderr(&out)
    );
    assert!(!stderr(&out).contains("panicked"));
}

fn wss_echo(pki: &Pki) -> u16 {
    let (port, _) = tls_server(pki, false, |tls| {
        ws_client::echo::serve(tls).map_err(|e| std::io::Error::other(e.to_string()))
    });
    port
}

#[test]
fn an_untrusted_certificate_fails_without_nocert_and_works_with_it() {
    let pki = Pki::new();
    let url = format!("wss://localhost:{}/", wss_echo(&pki));
    let out = wsdump(&[&url, "-r", "-t", "x"], b"");
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.starts_with("wsdump: error: TLS: certificate verify failed"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");

    let url = format!("wss://localhost:{}/", wss_echo(&pki));
    let out = wsdump(
        &[&url, "-r", "-n", "-t", "trusted anyway", "--eof-wait", "1"],
        b"",
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "trusted anyway\n");

    // The CA given with --ca-file makes it trusted without -n.
    let dir = std::env::temp_dir().join(format!("wsdump-ca-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ca = dir.join("ca.pem");
    std::fs::write(&ca, &pki.ca_pem).unwrap();
    let url = format!("wss://localhost:{}/", wss_echo(&pki));
    let out = wsdump(
        &[
            &url,
            "-r",
            "--ca-file",
            ca.to_str().unwrap(),
            "-t",
            "ca",
            "--eof-wait",
            "1",
        ],
        b"",
    );
    assert_eq!(stdout(&out), "ca\n", "{}", stderr(&out));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Copies bytes both ways between two sockets until either side ends.
fn pipe(a: TcpStream, b: TcpStream) {
    let (mut a_read, mut b_write) = (a.try_clone().unwrap(), b.try_clone().unwrap());
    std::thread::spawn(move || std::io::copy(&mut a_read, &mut b_write));
    let (mut b_read, mut a_write) = (b, a);
    std::thread::spawn(move || std::io::copy(&mut b_read, &mut a_write));
}

/// An HTTP CONNECT proxy for one tunnel; counts the tunnels it opened.
fn connect_proxy() -> (String, Arc<Mutex<usize>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let tunnels = Arc::new(Mutex::new(0));
    let count = Arc::clone(&tunnels);
    std::thread::spawn(move || {
        let (mut client, _) = listener.accept().unwrap();
        let head = read_head(&mut client);
        let target = head.split_whitespace().nth(1).unwrap().to_string();
        let upstream = TcpStream::connect(target).unwrap();
        client
            .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
            .unwrap();
        *count.lock().unwrap() += 1;
        pipe(client, upstream);
    });
    (url, tunnels)
}

/// A SOCKS5 proxy (no authentication, IPv4 targets) for one tunnel.
fn socks5_proxy() -> (String, Arc<Mutex<usize>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("socks5://{}", listener.local_addr().unwrap());
    let tunnels = Arc::new(Mutex::new(0));
    let count = Arc::clone(&tunnels);
    std::thread::spawn(move || {
        let (mut client, _) = listener.accept().unwrap();
        let mut greeting = [0; 2];
        client.read_exact(&mut greeting).unwrap();
        let mut methods = vec![0; usize::from(greeting[1])];
        client.read_exact(&mut methods).unwrap();
        client.write_all(&[5, 0]).unwrap();
        let mut request = [0; 10];
        client.read_exact(&mut request).unwrap();
        assert_eq!(request[3], 1, "an IPv4 target");
        let ip = std::net::Ipv4Addr::new(request[4], request[5], request[6], request[7]);
        let port = u16::from_be_bytes([request[8], request[9]]);
        let upstream = TcpStream::connect((ip, port)).unwrap();
        client.write_all(&[5, 0, 0, 1, 0, 0, 0, 0, 0, 0]).unwrap();
        *count.lock().unwrap() += 1;
        pipe(client, upstream);
    });
    (url, tunnels)
}

#[test]
fn proxies_given_with_p_carry_the_connection() {
    for (proxy, tunnels) in [connect_proxy(), socks5_proxy()] {
        let server = EchoServer::start().unwrap();
        let out = wsdump(
            &[
                &server.url(),
                "-r",
                "-p",
                &proxy,
                "-t",
                "proxied",
                "--eof-wait",
                "1",
            ],
            b"",
        );
        assert!(out.status.success(), "{proxy}: {}", stderr(&out));
        assert_eq!(stdout(&out), "proxied\n", "{proxy}");
        assert_eq!(*tunnels.lock().unwrap(), 1, "{proxy}");
    }
}

#[test]
fn compress_offers_deflate_and_messages_still_read_as_text() {
    let (url, request) = peer(None, |tcp, session| {
        // This peer does not take the offer: the exchange is plain, and says so.
        session.send_text("plain").unwrap();
        flush(tcp, session);
        until_close(tcp, session);
    });
    let out = wsdump(&[&url, "-r", "--compress", "--eof-wait", "1"], b"");
    assert_eq!(stdout(&out), "plain\n");
    assert!(
        request
            .lock()
            .unwrap()
            .contains("Sec-WebSocket-Extensions: permessage-deflate")
    );
    // The echo server takes it: compressed both ways.
    let server = EchoServer::start().unwrap();
    let text = "compressible ".repeat(100);
    let out = wsdump(
        &[
            &server.url(),
            "-r",
            "--compress",
            "-t",
            &text,
            "--eof-wait",
            "1",
        ],
        b"",
    );
    assert_eq!(stdout(&out), format!("{text}\n"));
}

#[test]
fn help_lists_every_python_flag() {
    let out = wsdump(&["--help"], b"");
    let help = stdout(&out);
    for flag in [
        "-p, --proxy",
        "-v, --verbose",
        "-n, --nocert",
        "-r, --raw",
        "-s, --subprotocols",
        "-o, --origin",
        "--eof-wait",
        "-t, --text",
        "--timings",
        "--headers",
        "ws_url",
    ] {
        assert!(help.contains(flag), "{flag} missing:\n{help}");
    }
}
