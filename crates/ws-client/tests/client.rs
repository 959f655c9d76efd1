//! ws-client end to end on loopback, against the crate's echo server and raw peers the tests
//! start themselves.
#![allow(clippy::unwrap_used)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use test_support::http_peer;
use ws_client::echo::EchoServer;
use ws_client::{CloseCode, Config, Error, Message, OpCode, ProxyConfig, State};

fn builder() -> ws_client::ConfigBuilder {
    Config::builder().proxy(ProxyConfig::Direct)
}

#[test]
fn echo_text_binary_and_close_code() {
    let server = EchoServer::start().unwrap();
    let mut ws = builder().build().unwrap().connect(&server.url()).unwrap();
    assert_eq!(ws.handshake_status(), 101);
    assert!(!ws.is_tls());
    assert_eq!(ws.peer_addr().unwrap().port(), server.port());
    assert!(
        ws.headers()
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case("sec-websocket-accept"))
    );
    ws.send_text("Hello, Server").unwrap();
    assert_eq!(ws.recv().unwrap(), Message::Text("Hello, Server".into()));
    ws.send_binary(&[0, 1, 2, 255]).unwrap();
    assert_eq!(ws.recv().unwrap(), Message::Binary(vec![0, 1, 2, 255]));
    let big = "x".repeat(1 << 20);
    ws.send(big.as_str()).unwrap();
    assert_eq!(ws.recv().unwrap().as_text().unwrap().len(), 1 << 20);
    let answer = ws.close(CloseCode::NORMAL, "bye").unwrap().unwrap();
    assert_eq!(answer.code, CloseCode::NORMAL);
    assert_eq!(ws.status(), State::Closed);
    // After close every call says so, never hangs.
    assert!(ws.send_text("late").unwrap_err().is_closed());
    assert!(ws.recv().unwrap_err().is_closed());
}

#[test]
fn pings_are_answered_and_pongs_seen_with_control_frames() {
    let server = EchoServer::start().unwrap();
    let mut ws = builder().build().unwrap().connect(&server.url()).unwrap();
    ws.ping(b"are you there").unwrap();
    assert_eq!(
        ws.recv_data_frame(true).unwrap(),
        Message::Pong(b"are you there".to_vec())
    );
    ws.ping(b"x").unwrap();
    ws.send_text("after ping").unwrap();
    // recv() skips the pong and returns the data message.
    assert_eq!(ws.recv().unwrap(), Message::Text("after ping".into()));
    let (opcode, data) = {
        ws.send_binary(b"raw").unwrap();
        ws.recv_data(false).unwrap()
    };
    assert_eq!((opcode, data), (OpCode::Binary, b"raw".to_vec()));
    assert!(
        ws.ping(&[0; 126]).is_err(),
        "control payloads over 125 bytes are refused"
    );
}

#[test]
fn manual_fragmentation_and_fire_cont_frame() {
    let server = EchoServer::start().unwrap();
    let mut ws = builder()
        .fire_cont_frame(true)
        .build()
        .unwrap()
        .connect(&server.url())
        .unwrap();
    ws.send_frame(OpCode::Text, false, b"Hel").unwrap();
    ws.ping(b"between").unwrap();
    ws.send_frame(OpCode::Continuation, false, b"lo, ").unwrap();
    ws.send_frame(OpCode::Continuation, true, b"World").unwrap();
    // The echo server reassembles and sends one frame back; fire_cont_frame delivers it as a
    // fragment with fin set.
    let got = ws.recv().unwrap();
    assert_eq!(
        got,
        Message::Fragment {
            opcode: OpCode::Text,
            data: b"Hello, World".to_vec(),
            fin: true
        }
    );
    assert!(
        ws.send_frame(OpCode::Continuation, true, b"x").is_err(),
        "no message in progress"
    );
}

#[test]
fn custom_mask_key_is_used() {
    let server = EchoServer::start().unwrap();
    let calls = Arc::new(Mutex::new(0u32));
    let counter = Arc::clone(&calls);
    let config = builder()
        .mask_key(move || {
            *counter.lock().unwrap() += 1;
            [1, 2, 3, 4]
        })
        .build()
        .unwrap();
    let mut ws = config.connect(&server.url()).unwrap();
    ws.send_text("masked").unwrap();
    assert_eq!(ws.recv().unwrap().as_text(), Some("masked"));
    assert!(*calls.lock().unwrap() >= 1);
}

#[test]
fn timeout_then_the_connection_still_works() {
    let server = EchoServer::start().unwrap();
    let mut ws = builder()
        .timeout(Some(Duration::from_millis(100)))
        .build()
        .unwrap()
        .connect(&server.url())
        .unwrap();
    assert_eq!(ws.timeout(), Some(Duration::from_millis(100)));
    let started = Instant::now();
    let err = ws.recv().unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
    assert!(started.elapsed() >= Duration::from_millis(90));
    ws.send_text("still here").unwrap();
    assert_eq!(ws.recv().unwrap().as_text(), Some("still here"));
    ws.set_timeout(None).unwrap();
    assert_eq!(ws.timeout(), None);
}

#[test]
fn headers_cookie_origin_host_and_subprotocols_are_sent() {
    let accept_all = "HTTP/1.1 400 Bad Request\r\nContent-Length: 2\r\n\r\nno".to_string();
    let (port, seen) = http_peer(vec![accept_all]);
    let config = builder()
        .header("X-Token", "abc")
        .header_line("X-Other: 1")
        .cookie("session=42")
        .origin("https://app.example")
        .host("virtual.example")
        .subprotocols(["chat", "superchat"])
        .build()
        .unwrap();
    let err = config
        .connect(&format!("ws://user:pw@127.0.0.1:{port}/path?q=1"))
        .unwrap_err();
    let Error::BadStatus(bad) = &err else {
        panic!("{err:?}")
    };
    assert_eq!((bad.status, bad.body.as_slice()), (400, &b"no"[..]));
    let request = seen.lock().unwrap()[0].clone();
    assert!(
        request.starts_with("GET /path?q=1 HTTP/1.1\r\n"),
        "{request}"
    );
    for line in [
        "X-Token: abc",
        "X-Other: 1",
        "Cookie: session=42",
        "Origin: https://app.example",
        "Host: virtual.example",
        "Sec-WebSocket-Protocol: chat, superchat",
        "Authorization: Basic dXNlcjpwdw==",
    ] {
        assert!(
            request.contains(&format!("{line}\r\n")),
            "missing {line:?} in\n{request}"
        );
    }

    let (port, seen) = http_peer(vec!["HTTP/1.1 403 Forbidden\r\n\r\n".to_string()]);
    let err = builder()
        .suppress_origin()
        .build()
        .unwrap()
        .connect(&format!("ws://127.0.0.1:{port}/"))
        .unwrap_err();
    assert!(
        matches!(&err, Error::BadStatus(b) if b.status == 403),
        "{err:?}"
    );
    assert!(!seen.lock().unwrap()[0].contains("Origin:"));
}

#[test]
fn subprotocol_chosen_by_the_server() {
    let server = EchoServer::start().unwrap();
    let ws = builder()
        .subprotocols(["v2.chat", "v1.chat"])
        .build()
        .unwrap()
        .connect(&server.url())
        .unwrap();
    assert_eq!(ws.subprotocol(), Some("v2.chat"));
}

#[test]
fn redirects_are_followed_and_limited() {
    let server = EchoServer::start().unwrap();
    let target = server.url();
    let hop = format!("HTTP/1.1 302 Found\r\nLocation: {target}\r\nContent-Length: 0\r\n\r\n");
    let (port, seen) = http_peer(vec![hop]);
    // 127.0.0.1 → 127.0.0.1 on another port: same host, credentials kept.
    let config = builder().cookie("c=1").build().unwrap();
    let mut ws = config
        .connect(&format!("ws://127.0.0.1:{port}/start"))
        .unwrap();
    assert_eq!(ws.url(), target);
    ws.send_text("after redirect").unwrap();
    assert_eq!(ws.recv().unwrap().as_text(), Some("after redirect"));
    assert!(seen.lock().unwrap()[0].contains("Cookie: c=1"));

    // A relative Location, then too many hops.
    let relative = "HTTP/1.1 307 Temporary Redirect\r\nLocation: /again\r\n\r\n".to_string();
    let (port, _) = http_peer(vec![relative.clone(), relative.clone(), relative]);
    let err = builder()
        .redirect_limit(2)
        .build()
        .unwrap()
        .connect(&format!("ws://127.0.0.1:{port}/"))
        .unwrap_err();
    assert!(
        matches!(err, Error::TooManyRedirects { limit: 2 }),
        "{err:?}"
    );
    assert_eq!(err.to_string(), "too many redirects: more than 2");
}

#[test]
fn redirect_to_another_host_drops_credentials() {
    let server = EchoServer::start().unwrap();
    // "localhost" is another host name than 127.0.0.1: credentials must not follow.
    let hop = format!(
        "HTTP/1.1 301 Moved\r\nLocation: ws://localhost:{}/\r\n\r\n",
        server.port()
    );
    let (port, _) = http_peer(vec![hop]);
    // Record what reaches the second host through a proxy-less capture: a peer that logs.
    let (capture_port, seen) = http_peer(vec!["HTTP/1.1 404 Not Found\r\n\r\n".to_string()]);
    let hop_to_capture =
        format!("HTTP/1.1 308 Permanent\r\nLocation: ws://localhost:{capture_port}/\r\n\r\n");
    let (port2, _) = http_peer(vec![hop_to_capture]);
    let config = builder()
        .cookie("secret=1")
        .header("Authorization", "Bearer token")
        .header("X-Keep", "yes")
        .build()
        .unwrap();
    let err = config
        .connect(&format!("ws://127.0.0.1:{port2}/"))
        .unwrap_err();
    assert!(
        matches!(&err, Error::BadStatus(b) if b.status == 404),
        "{err:?}"
    );
    let request = seen.lock().unwrap()[0].clone();
    assert!(request.contains("X-Keep: yes"), "{request}");
    assert!(
        !request.contains("secret=1") && !request.contains("Bearer"),
        "credentials leaked:\n{request}"
    );
    // And the working redirect reaches the echo server.
    let mut ws = config.connect(&format!("ws://127.0.0.1:{port}/")).unwrap();
    ws.send_text("hi").unwrap();
    assert_eq!(ws.recv().unwrap().as_text(), Some("hi"));
}

#[test]
fn invalid_options_are_errors_from_build() {
    let err = Config::builder().header("X", "a\nb").build().unwrap_err();
    assert!(
        matches!(&err, Error::InvalidConfig(m) if m.contains("\"X\"")),
        "{err:?}"
    );
    let err = Config::builder()
        .timeout(Some(Duration::ZERO))
        .build()
        .unwrap_err();
    assert!(err.to_string().contains("timeout is zero"), "{err}");
    let err = Config::builder()
        .header("Bad Name", "v")
        .build()
        .unwrap_err();
    assert!(matches!(err, Error::InvalidConfig(_)));
}

#[test]
fn split_sender_is_not_blocked_by_a_waiting_receiver() {
    let server = EchoServer::start().unwrap();
    let ws = builder().build().unwrap().connect(&server.url()).unwrap();
    let (mut rx, tx) = ws.split();
    let reader = std::thread::spawn(move || {
        let mut got = Vec::new();
        loop {
            match rx.recv() {
                Ok(Message::Text(t)) => got.push(t),
                Ok(Message::Close(c)) => return (got, c),
                Ok(_) => {}
                Err(e) => panic!("{e}"),
            }
        }
    });
    // The receiver is blocked in recv() before anything is sent.
    std::thread::sleep(Duration::from_millis(100));
    let senders: Vec<_> = (0..4)
        .map(|i| {
            let tx = tx.clone();
            std::thread::spawn(move || {
                for j in 0..25 {
                    tx.send_text(&format!("{i}-{j}")).unwrap();
                }
            })
        })
        .collect();
    for s in senders {
        s.join().unwrap();
    }
    std::thread::sleep(Duration::from_millis(100));
    tx.send_close(CloseCode::NORMAL, "done").unwrap();
    let (got, close) = reader.join().unwrap();
    assert_eq!(got.len(), 100);
    assert_eq!(close.unwrap().code, CloseCode::NORMAL);
    assert!(tx.send_text("late").unwrap_err().is_closed());
}

#[test]
fn abort_wakes_a_blocked_receiver() {
    let server = EchoServer::start().unwrap();
    let mut ws = builder().build().unwrap().connect(&server.url()).unwrap();
    let handle = ws.abort_handle();
    let aborter = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(100));
        handle.abort();
    });
    let started = Instant::now();
    let err = ws.recv().unwrap_err();
    assert!(err.is_closed(), "{err:?}");
    assert!(started.elapsed() >= Duration::from_millis(90));
    aborter.join().unwrap();
}

/// Accepts one connection and answers its upgrade with a 101, for peers that then write
/// hand-made frames.
fn accept_upgrade(listener: &TcpListener) -> TcpStream {
    let (mut tcp, _) = listener.accept().unwrap();
    let mut buf = vec![0; 4096];
    let n = tcp.read(&mut buf).unwrap();
    let (req, _) = ws_handshake::parse_request(&buf[..n], &Default::default())
        .unwrap()
        .unwrap();
    tcp.write_all(&req.accept(None, None).unwrap()).unwrap();
    tcp
}

/// A peer that answers one upgrade, writes `pieces` (one write each), and then returns what
/// the client sent until it hung up or `read_timeout` passed; and the client connected to it.
fn scripted_peer(
    pieces: Vec<Vec<u8>>,
    read_timeout: Option<Duration>,
) -> (ws_client::WebSocket, std::thread::JoinHandle<Vec<u8>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = std::thread::spawn(move || {
        let mut tcp = accept_upgrade(&listener);
        for piece in pieces {
            tcp.write_all(&piece).unwrap();
        }
        tcp.set_read_timeout(read_timeout).unwrap();
        let mut rest = Vec::new();
        let _ = tcp.read_to_end(&mut rest);
        rest
    });
    let ws = builder()
        .build()
        .unwrap()
        .connect(&format!("ws://127.0.0.1:{port}/"))
        .unwrap();
    (ws, server)
}

#[test]
fn peer_protocol_error_closes_with_1002() {
    // A server that sends a masked frame (forbidden from a server, RFC 6455 §5.1).
    let (mut ws, server) = scripted_peer(vec![vec![0x81, 0x82, 0, 0, 0, 0, b'h', b'i']], None);
    let err = ws.recv().unwrap_err();
    assert_eq!(err.close_code(), Some(CloseCode::PROTOCOL_ERROR));
    // What reached the server: a masked close frame whose status is 1002.
    let sent = server.join().unwrap();
    assert_eq!(sent[0], 0x88, "{sent:02x?}");
    assert!(sent[1] & 0x80 != 0 && sent.len() >= 8, "{sent:02x?}");
    let mut payload = sent[6..].to_vec();
    ws_frame::apply_mask(&mut payload, [sent[2], sent[3], sent[4], sent[5]], 0);
    assert_eq!(u16::from_be_bytes([payload[0], payload[1]]), 1002);
    // Afterwards every call reports the closed connection.
    assert!(ws.send_text("x").unwrap_err().is_closed());
}

#[test]
fn shutdown_closes_without_a_frame_and_later_calls_say_closed() {
    let server = EchoServer::start().unwrap();
    let mut ws = builder().build().unwrap().connect(&server.url()).unwrap();
    ws.shutdown();
    assert_eq!(ws.status(), State::Closed);
    assert!(ws.send_text("late").unwrap_err().is_closed());
    assert!(ws.recv().unwrap_err().is_closed());
}

#[test]
fn messages_iterator_ends_with_the_close() {
    let server = EchoServer::start().unwrap();
    let mut ws = builder().build().unwrap().connect(&server.url()).unwrap();
    for i in 0..3 {
        ws.send_text(&i.to_string()).unwrap();
    }
    ws.send_close(CloseCode::GOING_AWAY, "").unwrap();
    let got: Vec<Message> = ws.messages().map(Result::unwrap).collect();
    assert_eq!(got.len(), 4);
    assert_eq!(got[0], Message::Text("0".into()));
    assert!(matches!(&got[3], Message::Close(Some(c)) if c.code == CloseCode::GOING_AWAY));
}

#[cfg(unix)]
#[test]
fn unix_socket() {
    let path = std::env::temp_dir().join(format!("ws-client-{}.sock", std::process::id()));
    let _ = std::fs::remove_file(&path);
    EchoServer::start_unix(&path).unwrap();
    let mut ws = builder()
        .unix_socket(&path)
        .build()
        .unwrap()
        .connect("ws://localhost/")
        .unwrap();
    ws.send_text("over unix").unwrap();
    assert_eq!(ws.recv().unwrap().as_text(), Some("over unix"));
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn connection_errors_map_to_python_kinds() {
    let err = ws_client::connect("ws://nonexistent.invalid/").unwrap_err();
    assert!(matches!(err, Error::Address(_)), "{err:?}");
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
    assert!(matches!(err, Error::Connect(_)), "{err:?}");
    let err = ws_client::connect("ftp://x/").unwrap_err();
    assert!(matches!(err, Error::Url(_)), "{err:?}");
    let proxy = ws_client::Proxy::new(ws_client::ProxyKind::Socks5, "127.0.0.1", Some(closed));
    let err = Config::builder()
        .proxy(ProxyConfig::Explicit(proxy))
        .build()
        .unwrap()
        .connect("ws://example.org/")
        .unwrap_err();
    assert!(matches!(err, Error::Proxy(_)), "{err:?}");
}

#[test]
fn queued_messages_leave_on_flush_in_order() {
    let server = EchoServer::start().unwrap();
    let mut ws = builder().build().unwrap().connect(&server.url()).unwrap();
    for i in 0..100 {
        ws.queue_text(&i.to_string()).unwrap();
    }
    ws.queue(Message::Binary(vec![1; 70_000])).unwrap();
    ws.queue_binary(b"last").unwrap();
    ws.flush().unwrap();
    for i in 0..100 {
        assert_eq!(ws.recv().unwrap(), Message::Text(i.to_string()));
    }
    assert_eq!(ws.recv().unwrap().as_bytes().len(), 70_000);
    assert_eq!(ws.recv().unwrap(), Message::Binary(b"last".to_vec()));
}

#[test]
fn recv_frame_gives_raw_frames_without_answering_pings() {
    // A server that sends a ping, then a text message in two frames, then reads what came.
    let (mut ws, server) = scripted_peer(
        vec![
            vec![0x89, 0x01, b'p'],             // ping "p"
            vec![0x01, 0x03, b'a', b'b', b'c'], // text, not final
            vec![0x80, 0x02, b'd', b'e'],       // continuation, final
            vec![0x82, 0x01, b'z'],             // a whole binary message
        ],
        Some(Duration::from_millis(300)),
    );
    assert_eq!(ws.recv_frame().unwrap(), Message::Ping(b"p".to_vec()));
    assert_eq!(
        ws.recv_frame().unwrap(),
        Message::Fragment {
            opcode: OpCode::Text,
            data: b"abc".to_vec(),
            fin: false
        }
    );
    // recv() continues the started message frame by frame, then whole messages resume.
    assert_eq!(
        ws.recv().unwrap(),
        Message::Fragment {
            opcode: OpCode::Continuation,
            data: b"de".to_vec(),
            fin: true
        }
    );
    assert_eq!(ws.recv().unwrap(), Message::Binary(b"z".to_vec()));
    let _ = ws.set_timeout(Some(Duration::from_millis(50)));
    drop(ws);
    // The ping was not answered: no pong frame (opcode 0x8A) came from the client.
    let sent = server.join().unwrap();
    assert_ne!(sent.first(), Some(&0x8A), "{sent:02x?}");
}

#[test]
fn compression_negotiated_and_round_trips_with_the_echo_server() {
    let server = EchoServer::start().unwrap();
    let mut ws = builder()
        .compression(ws_client::DeflateConfig::default())
        .build()
        .unwrap()
        .connect(&server.url())
        .unwrap();
    let negotiated = ws.compression().expect("the echo server accepts deflate");
    assert_eq!(negotiated.server_max_window_bits, 15);
    let text = "compress me ".repeat(10_000);
    ws.send_text(&text).unwrap();
    assert_eq!(ws.recv().unwrap().as_text(), Some(text.as_str()));
    let binary: Vec<u8> = (0..200_000u32).map(|i| (i % 7) as u8).collect();
    ws.send_binary(&binary).unwrap();
    assert_eq!(ws.recv().unwrap(), Message::Binary(binary));
    ws.send_text("tiny").unwrap();
    assert_eq!(ws.recv().unwrap().as_text(), Some("tiny"));
    ws.close(CloseCode::NORMAL, "").unwrap();
    // Without the option nothing is offered.
    let ws = builder().build().unwrap().connect(&server.url()).unwrap();
    assert_eq!(ws.compression(), None);
}

#[test]
fn recv_ref_lends_messages_answers_pings_and_ends_with_the_close() {
    // Hand-made frames: text, a ping, binary, a large text in several frames (assembled
    // across reads), then a close with a reason.
    let big = "é€".repeat(40_000); // 200,000 bytes, multibyte characters cut by the frames
    let frames = {
        let mut out = Vec::new();
        let mut frame = |fin: bool, opcode: OpCode, payload: &[u8]| {
            let header = ws_frame::FrameHeader::new(fin, opcode, None, payload.len() as u64);
            ws_frame::encode_frame(&mut out, header, payload).unwrap();
        };
        frame(true, OpCode::Text, "héllo".as_bytes());
        frame(true, OpCode::Ping, b"p");
        frame(true, OpCode::Binary, &[0, 1, 2]);
        let bytes = big.as_bytes();
        frame(false, OpCode::Text, &bytes[..70_001]);
        frame(false, OpCode::Continuation, &bytes[70_001..140_003]);
        frame(true, OpCode::Continuation, &bytes[140_003..]);
        frame(true, OpCode::Close, b"\x03\xe8bye");
        out
    };
    // In small writes, so messages straddle reads.
    let (mut ws, server) = scripted_peer(frames.chunks(1000).map(<[u8]>::to_vec).collect(), None);
    test_support::within(Duration::from_secs(20), "recv_ref", move || {
        assert_eq!(ws.recv_ref().unwrap(), ws_client::MessageRef::Text("héllo"));
        assert_eq!(
            ws.recv_ref().unwrap(),
            ws_client::MessageRef::Binary(&[0, 1, 2])
        );
        let message = ws.recv_ref().unwrap();
        assert_eq!(message.as_text().map(str::len), Some(big.len()));
        assert_eq!(message.to_message(), Message::Text(big.clone()));
        match ws.recv_ref().unwrap() {
            ws_client::MessageRef::Close(Some(close)) => {
                assert_eq!((close.code, close.reason), (CloseCode::NORMAL, "bye"));
            }
            other => panic!("{other:?}"),
        }
        assert!(ws.recv_ref().unwrap_err().is_closed());
    });
    // The ping was answered with a masked pong carrying "p", before the close reply.
    let sent = server.join().unwrap();
    assert_eq!(&sent[..2], &[0x8A, 0x81], "{sent:02x?}");
    assert_eq!(sent[6] ^ sent[2], b'p');
    assert_eq!(sent[7], 0x88, "then the close reply");
}

#[test]
fn large_text_assembled_across_reads_is_received_whole_by_recv() {
    // 500 KB of mixed-script text echoed back in one frame: the client assembles it across
    // many reads, validates it as it arrives and hands the buffer over.
    let server = EchoServer::start().unwrap();
    let mut ws = builder().build().unwrap().connect(&server.url()).unwrap();
    let text: String = "Grüße, мир, 世界, 🌍 "
        .chars()
        .cycle()
        .take(300_000)
        .collect();
    ws.send_text(&text).unwrap();
    assert_eq!(ws.recv().unwrap(), Message::Text(text));
    ws.send_text("after").unwrap();
    assert_eq!(ws.recv().unwrap(), Message::Text("after".into()));
}
