//! Parity with Python's websocket-client where real-peer trials found gaps: the cookie jar,
//! error kinds and accessors, a close frame without a code, request headers the client owns
//! (`Sec-WebSocket-Key`, `Sec-WebSocket-Extensions`), `suppress_host`, zero timeouts.
#![allow(clippy::unwrap_used)]

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use test_support::{SilentListener, read_head, within};
use ws_client::{
    CloseCode, Config, CookieJar, Error, ErrorKind, Message, OpCode, ProxyConfig, ProxyKind,
};

fn builder() -> ws_client::ConfigBuilder {
    Config::builder().proxy(ProxyConfig::Direct)
}

/// What a scripted server answers to one connection.
enum Answer {
    /// A valid 101 with these extra header lines, then a normal close.
    Upgrade(&'static str),
    /// This response as is (`{port}` becomes the server's own port).
    Raw(String),
}

/// A server that answers one connection per answer, in turn, and records each request.
fn server(answers: Vec<Answer>) -> (u16, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    std::thread::spawn(move || {
        for answer in answers {
            let (mut tcp, _) = listener.accept().unwrap();
            let head = read_head(&mut tcp);
            log.lock().unwrap().push(head.clone());
            match answer {
                Answer::Upgrade(extra) => {
                    let (request, _) =
                        ws_handshake::parse_request(head.as_bytes(), &Default::default())
                            .unwrap()
                            .unwrap();
                    let accept = String::from_utf8(request.accept(None, None).unwrap()).unwrap();
                    let response = if extra.is_empty() {
                        accept
                    } else {
                        accept.replacen("\r\n\r\n", &format!("\r\n{extra}\r\n\r\n"), 1)
                    };
                    tcp.write_all(response.as_bytes()).unwrap();
                    // A close frame with no status code, then the end of the stream.
                    tcp.write_all(&[0x88, 0x00]).unwrap();
                    let mut rest = Vec::new();
                    let _ = tcp.read_to_end(&mut rest);
                }
                Answer::Raw(response) => {
                    let response = response.replace("{port}", &port.to_string());
                    tcp.write_all(response.as_bytes()).unwrap();
                }
            }
        }
    });
    (port, seen)
}

fn cookie_line(request: &str) -> Option<&str> {
    request
        .lines()
        .find_map(|line| line.strip_prefix("Cookie: "))
}

#[test]
fn the_jar_sends_cookies_back_on_the_next_connection() {
    within(
        Duration::from_secs(30),
        "cookie jar across connections",
        || {
            let (port, seen) = server(vec![
                Answer::Upgrade("Set-Cookie: session=abc; Path=/"),
                Answer::Upgrade(""),
                Answer::Upgrade(""),
            ]);
            let url = format!("ws://127.0.0.1:{port}/chat");
            let config = builder().cookie("mine=1").build().unwrap();
            let mut ws = config.connect(&url).unwrap();
            assert_eq!(ws.recv().unwrap(), Message::Close(None));
            drop(ws);
            // The jar's cookies first, then the option's (Python's `server_cookie; client_cookie`).
            let clone = config.clone();
            clone.connect(&url).unwrap();
            // Turned off: only the option.
            builder()
                .cookie("mine=1")
                .no_cookie_jar()
                .build()
                .unwrap()
                .connect(&url)
                .unwrap();
            let seen = seen.lock().unwrap();
            assert_eq!(cookie_line(&seen[0]), Some("mine=1"));
            assert_eq!(cookie_line(&seen[1]), Some("session=abc; mine=1"));
            assert_eq!(cookie_line(&seen[2]), Some("mine=1"));
            let cookies = config.cookie_jar().unwrap().cookies();
            assert_eq!(cookies.len(), 1);
            assert_eq!(
                (cookies[0].name.as_str(), cookies[0].value.as_str()),
                ("session", "abc")
            );
        },
    );
}

#[test]
fn a_cookie_set_by_a_redirect_follows_it_but_not_to_another_host() {
    within(
        Duration::from_secs(30),
        "cookie jar across redirects",
        || {
            // Same host (another port): the login cookie goes along (cookies ignore ports).
            let (target, seen) = server(vec![Answer::Upgrade("")]);
            let login = format!(
                "HTTP/1.1 302 Found\r\nSet-Cookie: login=ok\r\nLocation: ws://127.0.0.1:{target}/\r\n\r\n"
            );
            let (port, _) = server(vec![Answer::Raw(login)]);
            let config = builder().build().unwrap();
            config.connect(&format!("ws://127.0.0.1:{port}/")).unwrap();
            assert_eq!(cookie_line(&seen.lock().unwrap()[0]), Some("login=ok"));

            // Another host: "localhost" is not 127.0.0.1 to the cookie rules.
            let (target, seen) = server(vec![Answer::Upgrade("")]);
            let login = format!(
                "HTTP/1.1 302 Found\r\nSet-Cookie: login=ok\r\nLocation: ws://localhost:{target}/\r\n\r\n"
            );
            let (port, _) = server(vec![Answer::Raw(login)]);
            builder()
                .build()
                .unwrap()
                .connect(&format!("ws://127.0.0.1:{port}/"))
                .unwrap();
            assert_eq!(cookie_line(&seen.lock().unwrap()[0]), None);
        },
    );
}

#[test]
fn one_jar_can_be_shared_by_configs() {
    let jar = CookieJar::new();
    jar.store("ws://127.0.0.1/", ["shared=1"]);
    within(Duration::from_secs(30), "shared jar", move || {
        let (port, seen) = server(vec![Answer::Upgrade("")]);
        builder()
            .cookie_jar(jar.clone())
            .build()
            .unwrap()
            .connect(&format!("ws://127.0.0.1:{port}/"))
            .unwrap();
        assert_eq!(cookie_line(&seen.lock().unwrap()[0]), Some("shared=1"));
    });
}

#[test]
fn a_close_frame_without_a_code_invents_no_bytes() {
    within(Duration::from_secs(30), "close without a code", || {
        let (port, _) = server(vec![Answer::Upgrade(""), Answer::Upgrade("")]);
        let url = format!("ws://127.0.0.1:{port}/");
        let mut ws = builder().build().unwrap().connect(&url).unwrap();
        assert_eq!(ws.recv().unwrap(), Message::Close(None));
        drop(ws);
        let mut ws = builder().build().unwrap().connect(&url).unwrap();
        assert_eq!(ws.recv_data(false).unwrap(), (OpCode::Close, Vec::new()));
    });
}

#[test]
fn suppress_host_sends_no_host_header() {
    within(Duration::from_secs(30), "suppress_host", || {
        let (port, seen) = server(vec![Answer::Upgrade("")]);
        builder()
            .suppress_host()
            .build()
            .unwrap()
            .connect(&format!("ws://127.0.0.1:{port}/"))
            .unwrap();
        let request = seen.lock().unwrap()[0].clone();
        assert!(
            !request.to_ascii_lowercase().contains("\r\nhost:"),
            "{request}"
        );
    });
}

#[test]
fn a_custom_key_is_the_key_the_answer_is_checked_against() {
    within(Duration::from_secs(30), "custom Sec-WebSocket-Key", || {
        let key = "dGhlIHNhbXBsZSBub25jZQ==";
        let (port, seen) = server(vec![Answer::Upgrade("")]);
        builder()
            .header("Sec-WebSocket-Key", key)
            .build()
            .unwrap()
            .connect(&format!("ws://127.0.0.1:{port}/"))
            .unwrap();
        assert!(seen.lock().unwrap()[0].contains(&format!("Sec-WebSocket-Key: {key}\r\n")));
        // An answer computed for another key is refused.
        let wrong = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\
                     Connection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n";
        let (port, _) = server(vec![Answer::Raw(wrong.to_string())]);
        let err = builder()
            .header("Sec-WebSocket-Key", "AAAAAAAAAAAAAAAAAAAAAA==")
            .build()
            .unwrap()
            .connect(&format!("ws://127.0.0.1:{port}/"))
            .unwrap_err();
        assert!(
            matches!(
                err,
                Error::Handshake(ws_handshake::Error::AcceptMismatch { .. })
            ),
            "{err:?}"
        );
    });
}

#[test]
fn an_extensions_header_is_refused_when_building() {
    let err = builder()
        .header("Sec-WebSocket-Extensions", "permessage-deflate")
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidConfig);
    assert!(
        err.to_string().contains("Sec-WebSocket-Extensions"),
        "{err}"
    );
}

#[test]
fn zero_timeouts_are_refused_the_same_way_everywhere() {
    let err = builder().timeout(Some(Duration::ZERO)).build().unwrap_err();
    assert!(err.to_string().contains("non-blocking"), "{err}");
    let server = ws_client::echo::EchoServer::start().unwrap();
    let mut ws = builder().build().unwrap().connect(&server.url()).unwrap();
    let err = ws.set_timeout(Some(Duration::ZERO)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidConfig);
    assert!(err.to_string().contains("non-blocking"), "{err}");
    assert_eq!(ws.timeout(), None);
    // A zero close timeout is allowed: send the close frame, do not wait.
    builder().close_timeout(Duration::ZERO).build().unwrap();
}

#[test]
fn error_kinds_without_reaching_into_lower_crates() {
    within(Duration::from_secs(30), "error kinds", || {
        let err = ws_client::connect("ws://nonexistent.invalid/").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Resolve, "{err:?}");

        let closed = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let err = builder()
            .build()
            .unwrap()
            .connect(&format!("ws://127.0.0.1:{closed}/"))
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Refused, "{err:?}");

        // A proxy that asks for credentials.
        let (proxy_port, _) = server(vec![Answer::Raw(
            "HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n".into(),
        )]);
        let proxy = ws_client::Proxy::new(ProxyKind::Http, "127.0.0.1", Some(proxy_port));
        let err = Config::builder()
            .proxy(ProxyConfig::Explicit(proxy))
            .build()
            .unwrap()
            .connect("ws://example.invalid/")
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ProxyAuth, "{err:?}");
        assert_eq!(err.proxy_status(), Some(407));

        // A proxy that never answers: a timeout, wherever it happened.
        let silent = TcpListener::bind("127.0.0.1:0").unwrap();
        let silent_port = silent.local_addr().unwrap().port();
        let proxy = ws_client::Proxy::new(ProxyKind::Socks5, "127.0.0.1", Some(silent_port));
        let err = Config::builder()
            .proxy(ProxyConfig::Explicit(proxy))
            .proxy_timeout(Some(Duration::from_millis(300)))
            .build()
            .unwrap()
            .connect("ws://example.invalid/")
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Timeout, "{err:?}");
        assert!(err.is_timeout());
        drop(silent);

        // A refused handshake keeps its status, and its body explains it.
        let (port, _) = server(vec![Answer::Raw(
            "HTTP/1.1 401 Unauthorized\r\nContent-Length: 14\r\n\r\nbad token\r\nxyz".into(),
        )]);
        let err = builder()
            .build()
            .unwrap()
            .connect(&format!("ws://127.0.0.1:{port}/"))
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::BadStatus);
        assert_eq!(err.http_status(), Some(401));
        assert_eq!(
            err.to_string(),
            "handshake status 401 Unauthorized: bad token  xyz"
        );
    });
}

#[test]
fn a_connect_that_times_out_is_a_timeout() {
    within(Duration::from_secs(30), "connect timeout", || {
        let Some(silent) = SilentListener::bind("127.0.0.1") else {
            eprintln!("the kernel accepted every connection; nothing to time out");
            return;
        };
        let port = silent.addr().port();
        let started = Instant::now();
        let err = builder()
            .connect_timeout(Some(Duration::from_millis(300)))
            .build()
            .unwrap()
            .connect(&format!("ws://127.0.0.1:{port}/"))
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Timeout, "{err:?}");
        assert!(started.elapsed() < Duration::from_secs(3));
    });
}

#[test]
fn a_code_less_close_is_answered_with_a_code_less_close() {
    // The client echoes "no status" as no status (RFC 6455 §5.5.1), never as 1005.
    within(Duration::from_secs(30), "code-less close echo", || {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let peer = std::thread::spawn(move || {
            let (mut tcp, _) = listener.accept().unwrap();
            let head = read_head(&mut tcp);
            let (request, _) = ws_handshake::parse_request(head.as_bytes(), &Default::default())
                .unwrap()
                .unwrap();
            tcp.write_all(&request.accept(None, None).unwrap()).unwrap();
            tcp.write_all(&[0x88, 0x00]).unwrap();
            let mut answer = [0; 6];
            tcp.read_exact(&mut answer).unwrap();
            answer
        });
        let mut ws = builder()
            .build()
            .unwrap()
            .connect(&format!("ws://127.0.0.1:{port}/"))
            .unwrap();
        assert_eq!(ws.recv().unwrap(), Message::Close(None));
        let answer = peer.join().unwrap();
        assert_eq!(
            answer[..2],
            [0x88, 0x80],
            "a masked close frame with no payload"
        );
        assert_eq!(ws.close(CloseCode::NORMAL, "").unwrap(), None);
    });
}
