//! TCP, Unix and caller-supplied streams on loopback, against peers the tests start.
#![allow(clippy::unwrap_used)]

use std::io::{ErrorKind, Read, Write};
use std::net::TcpListener;
use std::time::{Duration, Instant};

use test_support::{read_head, tcp_echo_server};
use ws_transport::{
    Error, OptionValue, Proxy, ProxyConfig, ProxyError, ProxyKind, SocketOptions, Stream,
    TransportConfig, WsUrl, connect, connect_over,
};

fn direct() -> TransportConfig {
    TransportConfig::default().proxy(ProxyConfig::Direct)
}

fn url(s: &str) -> WsUrl {
    WsUrl::parse(s).unwrap()
}

/// Writes `bytes` to the echo server behind `stream` and checks they come back.
fn assert_echoes(stream: &mut Stream, bytes: &[u8]) {
    stream.write_all(bytes).unwrap();
    let mut back = vec![0; bytes.len()];
    stream.read_exact(&mut back).unwrap();
    assert_eq!(back, bytes);
}

#[test]
fn tcp_round_trip_with_addresses_and_timeouts() {
    let (port, server) = tcp_echo_server();
    let mut stream = connect(&url(&format!("ws://localhost:{port}/")), &direct()).unwrap();
    assert!(!stream.is_tls());
    assert_eq!(stream.peer_addr().unwrap().port(), port);
    assert!(stream.local_addr().unwrap().ip().is_loopback());
    assert_echoes(&mut stream, b"ping");

    // A read timeout fails the read without closing the stream.
    stream
        .set_read_timeout(Some(Duration::from_millis(50)))
        .unwrap();
    // The kernel keeps timeouts in clock ticks, so the value read back may be rounded up.
    let kept = stream.read_timeout().unwrap().unwrap();
    assert!(
        kept >= Duration::from_millis(50) && kept < Duration::from_millis(60),
        "{kept:?}"
    );
    let err = stream.read(&mut [0; 4]).unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut),
        "{err:?}"
    );
    assert_echoes(&mut stream, b"again");
    stream.shutdown().unwrap();
    server.join().unwrap().unwrap();
}

#[test]
fn refused_connection_lists_each_address() {
    // Bind then drop: the port is very likely closed now.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let err = connect(&url(&format!("ws://127.0.0.1:{port}/")), &direct()).unwrap_err();
    let Error::Connect { target, attempts } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(target, &format!("127.0.0.1:{port}"));
    assert_eq!(attempts.len(), 1);
    assert_eq!(attempts[0].1.kind(), ErrorKind::ConnectionRefused);
    assert!(
        err.to_string().starts_with(&format!(
            "cannot connect to 127.0.0.1:{port}: 127.0.0.1:{port}: "
        )),
        "{err}"
    );
}

#[test]
fn resolution_failure_is_its_own_error() {
    // Without a connect timeout the lookup runs on the caller's thread, with one on a
    // thread of its own (the system resolver takes no time limit): the same error either way.
    for timeout in [None, Some(Duration::from_secs(30))] {
        let config = direct().connect_timeout(timeout);
        let err = connect(&url("ws://nonexistent.invalid/"), &config).unwrap_err();
        assert!(
            matches!(&err, Error::Resolve { host, .. } if host == "nonexistent.invalid"),
            "{err:?}"
        );
        assert!(
            err.to_string()
                .starts_with("cannot resolve host \"nonexistent.invalid\""),
            "{err}"
        );
    }
}

#[test]
fn a_host_name_is_resolved_within_the_connect_timeout() {
    let (port, server) = tcp_echo_server();
    let config = direct().connect_timeout(Some(Duration::from_secs(30)));
    let mut stream = connect(&url(&format!("ws://localhost:{port}/")), &config).unwrap();
    assert_echoes(&mut stream, b"ping");
    stream.shutdown().unwrap();
    server.join().unwrap().unwrap();
}

#[test]
fn socket_options_raw_and_errors() {
    let (port, server) = tcp_echo_server();
    let options = SocketOptions::default()
        .nodelay(false)
        .keepalive(None)
        .raw(libc::SOL_SOCKET, libc::SO_SNDBUF, OptionValue::Int(1 << 16))
        .raw(
            libc::IPPROTO_TCP,
            libc::TCP_NODELAY,
            OptionValue::Bytes(1i32.to_ne_bytes().to_vec()),
        );
    let mut stream = connect(
        &url(&format!("ws://127.0.0.1:{port}/")),
        &direct().socket_options(options),
    )
    .unwrap();
    stream.write_all(b"x").unwrap();
    stream.read_exact(&mut [0; 1]).unwrap();
    stream.shutdown().unwrap();
    server.join().unwrap().unwrap();

    let bad = SocketOptions::default().raw(9999, 9999, OptionValue::Int(1));
    let err = connect(&url("ws://127.0.0.1:9/"), &direct().socket_options(bad)).unwrap_err();
    assert!(matches!(err, Error::SocketOption { .. }), "{err:?}");
    assert!(
        err.to_string()
            .starts_with("cannot set socket option level 9999 name 9999 = Int(1): "),
        "{err}"
    );
}

#[cfg(unix)]
#[test]
fn unix_socket_path() {
    let dir = std::env::temp_dir().join(format!("ws-transport-unix-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("ws.sock");
    let _ = std::fs::remove_file(&path);
    let listener = std::os::unix::net::UnixListener::bind(&path).unwrap();
    let server = std::thread::spawn(move || {
        let (mut peer, _) = listener.accept().unwrap();
        let mut buf = [0; 3];
        peer.read_exact(&mut buf).unwrap();
        peer.write_all(&buf).unwrap();
    });
    let config = direct().unix_socket(Some(path.clone()));
    let mut stream = connect(&url("ws://localhost/docker"), &config).unwrap();
    stream.write_all(b"abc").unwrap();
    let mut buf = [0; 3];
    stream.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"abc");
    assert!(stream.peer_addr().is_none());
    server.join().unwrap();

    let with_proxy = config.proxy(ProxyConfig::Explicit(Proxy::new(
        ProxyKind::Http,
        "p",
        None,
    )));
    let err = connect(&url("ws://localhost/"), &with_proxy).unwrap_err();
    assert!(matches!(err, Error::InvalidConfig(_)), "{err:?}");

    // A listener whose queue is full makes connect(2) wait: within the connect timeout.
    let full = dir.join("full.sock");
    let _ = std::fs::remove_file(&full);
    let listener =
        socket2::Socket::new(socket2::Domain::UNIX, socket2::Type::STREAM, None).unwrap();
    listener
        .bind(&socket2::SockAddr::unix(&full).unwrap())
        .unwrap();
    listener.listen(0).unwrap();
    let waiting = test_support::within(Duration::from_secs(30), "full Unix listener", move || {
        let config = direct()
            .unix_socket(Some(full))
            .connect_timeout(Some(Duration::from_millis(300)));
        // The queue takes one connection; the next has to wait for room.
        let _held = connect(&url("ws://localhost/"), &config).unwrap();
        let started = Instant::now();
        let err = connect(&url("ws://localhost/"), &config).unwrap_err();
        (err, started.elapsed())
    });
    let (err, took) = waiting;
    assert!(err.is_timeout(), "{err:?}");
    assert!(
        err.to_string().starts_with("connect to Unix socket ")
            && err.to_string().ends_with("full.sock timed out after 300ms"),
        "{err}"
    );
    assert!(took >= Duration::from_millis(250), "gave up after {took:?}");
    assert!(took < Duration::from_secs(2), "took {took:?}");
    drop(listener);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn caller_supplied_stream() {
    let (port, server) = tcp_echo_server();
    let tcp = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    // A custom stream: anything Read + Write + Send.
    let mut stream = connect_over(&url("ws://any/"), Stream::from_custom(tcp), &direct()).unwrap();
    stream.write_all(b"custom").unwrap();
    let mut buf = [0; 6];
    stream.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"custom");
    assert_eq!(
        stream
            .set_read_timeout(Some(Duration::from_secs(1)))
            .unwrap_err()
            .kind(),
        ErrorKind::Unsupported
    );
    drop(stream);
    server.join().unwrap().unwrap();
}

#[test]
fn split_halves_and_shutdown_handle_wake_a_blocked_reader() {
    let (port, server) = tcp_echo_server();
    let stream = connect(&url(&format!("ws://127.0.0.1:{port}/")), &direct()).unwrap();
    let handle = stream.shutdown_handle();
    let (mut reader, mut writer) = stream.split();
    let reading = std::thread::spawn(move || {
        let mut buf = [0; 16];
        let n = reader.read(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"one");
        // Blocks until the handle shuts the socket down, then sees end of stream.
        let started = Instant::now();
        let n = reader.read(&mut buf).unwrap();
        (n, started.elapsed())
    });
    writer.write_all(b"one").unwrap();
    std::thread::sleep(Duration::from_millis(150));
    handle.shutdown().unwrap();
    let (n, waited) = reading.join().unwrap();
    assert_eq!(n, 0);
    assert!(waited >= Duration::from_millis(100), "{waited:?}");
    server.join().unwrap().unwrap();
}

#[test]
fn halves_put_back_together() {
    let (port, _server) = tcp_echo_server();
    let (p2, _server2) = tcp_echo_server();
    let a = connect(&url(&format!("ws://127.0.0.1:{port}/")), &direct()).unwrap();
    let b = connect(&url(&format!("ws://127.0.0.1:{p2}/")), &direct()).unwrap();
    let (ra, wa) = a.split();
    let (rb, wb) = b.split();
    let (ra, wb) = Stream::unsplit(ra, wb).unwrap_err();
    assert!(Stream::unsplit(ra, wa).is_ok());
    assert!(Stream::unsplit(rb, wb).is_ok());
}

/// A one-shot HTTP proxy of our own: reads a CONNECT request, answers with `reply`, then
/// sends `early` as if from the target. Returns the request it saw.
fn connect_peer(
    reply: &'static str,
    early: &'static [u8],
) -> (u16, std::thread::JoinHandle<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let handle = std::thread::spawn(move || {
        let (mut peer, _) = listener.accept().unwrap();
        let request = read_head(&mut peer);
        let mut out = reply.as_bytes().to_vec();
        out.extend_from_slice(early);
        peer.write_all(&out).unwrap();
        std::thread::sleep(Duration::from_millis(100));
        request
    });
    (port, handle)
}

#[test]
fn http_connect_keeps_the_tunnel_bytes() {
    let (port, peer) = connect_peer(
        "HTTP/1.1 200 Connection established\r\nX: y\r\n\r\n",
        b"EARLY",
    );
    let proxy =
        Proxy::new(ProxyKind::Http, "127.0.0.1", Some(port)).with_credentials("user", "pa:ss");
    let config = TransportConfig::default().proxy(ProxyConfig::Explicit(proxy));
    let mut stream = connect(&url("ws://target.example:8080/x"), &config).unwrap();
    let mut buf = [0; 5];
    stream.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"EARLY");
    let request = peer.join().unwrap();
    assert!(
        request.starts_with("CONNECT target.example:8080 HTTP/1.1\r\n"),
        "{request}"
    );
    // base64("user:pa:ss")
    assert!(
        request.contains("Proxy-Authorization: Basic dXNlcjpwYTpzcw==\r\n"),
        "{request}"
    );
}

#[test]
fn http_proxy_refusal_carries_the_status() {
    let (port, _peer) = connect_peer(
        "HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n",
        b"",
    );
    let proxy = Proxy::new(ProxyKind::Http, "127.0.0.1", Some(port));
    let config = TransportConfig::default().proxy(ProxyConfig::Explicit(proxy));
    let err = connect(&url("ws://target.example/"), &config).unwrap_err();
    let Error::Proxy(proxy_error) = &err else {
        panic!("{err:?}")
    };
    assert!(proxy_error.is_auth_required());
    assert!(matches!(
        proxy_error,
        ProxyError::HttpStatus { status: 407, .. }
    ));
    assert_eq!(
        err.to_string(),
        "proxy: CONNECT refused with status 407 Proxy Authentication Required"
    );
}

#[test]
fn silent_proxy_times_out_and_unreachable_proxy_says_so() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let holder = std::thread::spawn(move || {
        let held: Vec<_> = (0..3).map(|_| listener.accept().unwrap()).collect();
        std::thread::sleep(Duration::from_millis(900));
        drop(held);
    });
    let steps = [
        (ProxyKind::Http, "CONNECT"),
        (ProxyKind::Socks4a, "SOCKS4 request"),
        (ProxyKind::Socks5, "SOCKS5 greeting"),
    ];
    for (kind, step) in steps {
        let proxy = Proxy::new(kind, "127.0.0.1", Some(port));
        let config = TransportConfig::default()
            .proxy(ProxyConfig::Explicit(proxy))
            .proxy_timeout(Some(Duration::from_millis(150)));
        let err = connect(&url("ws://target.example/"), &config).unwrap_err();
        assert!(err.is_timeout(), "{err:?}");
        let expected = format!("{step} with proxy 127.0.0.1:{port} timed out after 150ms");
        assert_eq!(err.to_string(), expected);
    }
    holder.join().unwrap();

    let closed = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let proxy = Proxy::new(ProxyKind::Http, "127.0.0.1", Some(closed));
    let err = connect(
        &url("ws://t/"),
        &TransportConfig::default().proxy(ProxyConfig::Explicit(proxy)),
    )
    .unwrap_err();
    assert!(
        err.to_string().starts_with(&format!(
            "proxy: cannot reach proxy 127.0.0.1:{closed}: cannot connect"
        )),
        "{err}"
    );
}

#[test]
fn a_longer_proxy_timeout_stays_within_the_connect_timeout() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let holder = std::thread::spawn(move || {
        let held = listener.accept().unwrap();
        std::thread::sleep(Duration::from_millis(900));
        drop(held);
    });
    let proxy = Proxy::new(ProxyKind::Http, "127.0.0.1", Some(port));
    let config = TransportConfig::default()
        .proxy(ProxyConfig::Explicit(proxy))
        .proxy_timeout(Some(Duration::from_secs(5)))
        .connect_timeout(Some(Duration::from_millis(200)));
    let started = Instant::now();
    let err = connect(&url("ws://target.example/"), &config).unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
    assert_eq!(
        err.to_string(),
        format!("CONNECT with proxy 127.0.0.1:{port} timed out after 200ms")
    );
    assert!(started.elapsed() < Duration::from_millis(800));
    holder.join().unwrap();
}

#[test]
fn no_proxy_bypasses_an_explicit_proxy() {
    let (port, server) = tcp_echo_server();
    // The proxy does not exist: only a bypass can succeed.
    let proxy = Proxy::new(ProxyKind::Socks5, "127.0.0.1", Some(1));
    let config = TransportConfig::default()
        .proxy(ProxyConfig::Explicit(proxy))
        .no_proxy(Some(ws_transport::NoProxy::parse("127.0.0.0/8")));
    let mut stream = connect(&url(&format!("ws://127.0.0.1:{port}/")), &config).unwrap();
    stream.write_all(b"d").unwrap();
    stream.read_exact(&mut [0; 1]).unwrap();
    stream.shutdown().unwrap();
    server.join().unwrap().unwrap();
}
