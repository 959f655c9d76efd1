//! The blocking client against hostile and faulty peers: peers that stop reading, trickle
//! bytes, flood pings, never finish a message, announce absurd lengths, reset; redirects that
//! try to take credentials elsewhere or leave the web. Every test runs under a watchdog
//! (`within`): a hang fails it instead of stalling CI.
#![allow(clippy::unwrap_used)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use test_support::{Pki, http_peer, tls_server, within};
use ws_client::{CloseCode, Config, Error, Limits, Message, ProxyConfig, State, TlsConfig};
use ws_frame::{Event, Session};

fn builder() -> ws_client::ConfigBuilder {
    Config::builder().proxy(ProxyConfig::Direct)
}

/// Answers the WebSocket upgrade on `stream`; returns bytes that came after the request.
fn upgrade(stream: &mut (impl Read + Write)) -> Vec<u8> {
    let mut buf = Vec::new();
    let mut chunk = [0; 4096];
    loop {
        if let Some((req, used)) = ws_handshake::parse_request(&buf, &Default::default()).unwrap() {
            stream.write_all(&req.accept(None, None).unwrap()).unwrap();
            return buf[used..].to_vec();
        }
        let n = stream.read(&mut chunk).unwrap();
        assert!(n > 0, "the client left during the upgrade");
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// A peer on loopback that accepts one connection, answers the upgrade and runs `f`.
fn raw_peer<T, F>(f: F) -> (u16, JoinHandle<T>)
where
    T: Send + 'static,
    F: FnOnce(TcpStream) -> T + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let handle = std::thread::spawn(move || {
        let (mut tcp, _) = listener.accept().unwrap();
        upgrade(&mut tcp);
        f(tcp)
    });
    (port, handle)
}

/// A peer that accepts one TCP connection and runs `f` before any HTTP.
fn tcp_peer<F>(f: F) -> u16
where
    F: FnOnce(TcpStream) + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let (tcp, _) = listener.accept().unwrap();
        f(tcp);
    });
    port
}

/// Writes `bytes` one at a time, `gap` apart, until the client goes away.
fn trickle(tcp: &mut TcpStream, bytes: &[u8], gap: Duration) {
    for b in bytes {
        if tcp.write_all(&[*b]).is_err() {
            return;
        }
        std::thread::sleep(gap);
    }
}

/// Checks an operation's duration against its limit, with room for a loaded machine.
fn assert_bounded(elapsed: Duration, limit: Duration, what: &str) {
    assert!(
        elapsed < limit + Duration::from_millis(900),
        "{what} took {elapsed:?}, limit {limit:?}"
    );
}

/// Reads what the client sent until its close frame (answering it) or end of stream, and
/// decodes it as a server: every frame must be valid. Returns the data messages in order.
fn decode_all(stream: &mut (impl Read + Write), first: &[u8]) -> Vec<Vec<u8>> {
    let mut session = Session::server(ws_frame::Config::default());
    session.receive_data(first);
    let mut messages = Vec::new();
    let mut chunk = vec![0; 64 * 1024];
    loop {
        loop {
            let event = session
                .next_event()
                .unwrap_or_else(|e| panic!("the peer read an invalid stream: {e}"));
            match event {
                Some(Event::Binary(data)) => messages.push(data.to_vec()),
                Some(Event::Text(text)) => messages.push(text.as_bytes().to_vec()),
                Some(_) => {}
                None => break,
            }
        }
        let out = session.pending_output().to_vec();
        if !out.is_empty() {
            let _ = stream.write_all(&out);
            let _ = stream.flush();
            session.consume_output(out.len());
        }
        if session.close_expected() {
            return messages;
        }
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => return messages,
            Ok(n) => session.receive_data(&chunk[..n]),
        }
    }
}

/// The message `i` of a run: 256 KiB, numbered, so any repeat or loss shows.
fn numbered(i: u32) -> Vec<u8> {
    let mut data = vec![(i % 251) as u8; 256 << 10];
    data[..4].copy_from_slice(&i.to_be_bytes());
    data
}

/// A peer that stops reading for a while under sends with a 200 ms timeout: some sends time
/// out before any byte left, one times out part-way. Every byte the peer finally reads must
/// be a valid frame, and the messages it gets are exactly those the client reported as sent
/// (`Ok`) or partly sent, in order, none twice.
fn stalled_peer_sees_whole_frames(mut ws: ws_client::WebSocket, peer: JoinHandle<Vec<Vec<u8>>>) {
    let started = Instant::now();
    let mut expected = Vec::new();
    let (mut partly, mut unsent) = (0, 0);
    let mut i = 0;
    while started.elapsed() < Duration::from_millis(2500) || partly == 0 || unsent == 0 {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "no timeouts seen"
        );
        let data = numbered(i);
        match ws.send_binary(&data) {
            Ok(()) => expected.push(data),
            Err(Error::SendTimeout {
                partly_sent: true,
                connection_closed: false,
            }) => {
                partly += 1;
                expected.push(data);
            }
            Err(Error::SendTimeout {
                partly_sent: false,
                connection_closed: false,
            }) => unsent += 1,
            Err(other) => panic!("send {i}: {other}"),
        }
        i += 1;
    }
    ws.set_timeout(Some(Duration::from_secs(10))).unwrap();
    ws.send_binary(b"last").unwrap();
    expected.push(b"last".to_vec());
    ws.close(CloseCode::NORMAL, "").unwrap();
    let got = peer.join().unwrap();
    assert!(
        partly >= 1 && unsent >= 1,
        "partly {partly}, unsent {unsent}"
    );
    assert_eq!(got.len(), expected.len(), "messages lost or repeated");
    for (n, (got, expected)) in got.iter().zip(&expected).enumerate() {
        assert!(got == expected, "message {n} differs");
    }
}

const STALL: Duration = Duration::from_millis(1500);

#[test]
fn partial_sends_never_corrupt_the_stream_over_tcp() {
    within(Duration::from_secs(60), "stalled TCP peer", || {
        let (port, peer) = raw_peer(|mut tcp| {
            std::thread::sleep(STALL);
            decode_all(&mut tcp, &[])
        });
        let ws = builder()
            .timeout(Some(Duration::from_millis(200)))
            .build()
            .unwrap()
            .connect(&format!("ws://127.0.0.1:{port}/"))
            .unwrap();
        stalled_peer_sees_whole_frames(ws, peer);
    });
}

#[test]
fn partial_sends_never_corrupt_the_stream_over_tls() {
    within(Duration::from_secs(60), "stalled TLS peer", || {
        let pki = Pki::new();
        let (result, got) = std::sync::mpsc::channel();
        let (port, _server) = tls_server(&pki, false, move |tls| {
            let first = upgrade(tls);
            std::thread::sleep(STALL);
            let _ = result.send(decode_all(tls, &first));
            Ok(())
        });
        let peer = std::thread::spawn(move || got.recv().unwrap());
        let ws = builder()
            .tls(TlsConfig::default().ca_pem(pki.ca_pem.clone()))
            .timeout(Some(Duration::from_millis(200)))
            .build()
            .unwrap()
            .connect(&format!("wss://localhost:{port}/"))
            .unwrap();
        stalled_peer_sees_whole_frames(ws, peer);
    });
}

#[test]
fn a_ping_flood_from_a_peer_that_does_not_read_never_corrupts_the_stream() {
    within(Duration::from_secs(60), "ping flood", || {
        const PINGS: usize = 40_000;
        let (port, peer) = raw_peer(|mut tcp| {
            let mut frames = Vec::new();
            for i in 0..PINGS {
                frames.extend_from_slice(&[0x89, 125]);
                frames.extend(std::iter::repeat_n((i % 200) as u8, 125));
            }
            frames.extend_from_slice(&[0x81, 4]);
            frames.extend_from_slice(b"done");
            tcp.write_all(&frames).unwrap();
            decode_all_with_pongs(&mut tcp)
        });
        let mut ws = builder()
            .timeout(Some(Duration::from_secs(10)))
            .build()
            .unwrap()
            .connect(&format!("ws://127.0.0.1:{port}/"))
            .unwrap();
        assert_eq!(ws.recv().unwrap(), Message::Text("done".into()));
        ws.send_text("after").unwrap();
        ws.close(CloseCode::NORMAL, "").unwrap();
        let (pongs, messages) = peer.join().unwrap();
        assert_eq!(messages, vec![b"after".to_vec()]);
        assert!(pongs > 0 && pongs <= PINGS, "{pongs} pongs");
    });
}

/// As [`decode_all`], also counting pongs and checking each carries a ping's payload.
fn decode_all_with_pongs(tcp: &mut TcpStream) -> (usize, Vec<Vec<u8>>) {
    let mut session = Session::server(ws_frame::Config::default());
    let (mut pongs, mut messages) = (0, Vec::new());
    let mut chunk = vec![0; 64 * 1024];
    loop {
        while let Some(event) = session
            .next_event()
            .unwrap_or_else(|e| panic!("the peer read an invalid stream: {e}"))
        {
            match event {
                Event::Pong(p) => {
                    assert!(p.len() == 125 && p.iter().all(|b| *b == p[0]), "bad pong");
                    pongs += 1;
                }
                Event::Text(t) => messages.push(t.as_bytes().to_vec()),
                _ => {}
            }
        }
        let out = session.pending_output().to_vec();
        tcp.write_all(&out).unwrap();
        session.consume_output(out.len());
        if session.close_expected() {
            return (pongs, messages);
        }
        match tcp.read(&mut chunk) {
            Ok(0) | Err(_) => return (pongs, messages),
            Ok(n) => session.receive_data(&chunk[..n]),
        }
    }
}

#[test]
fn handshake_timeout_bounds_a_trickled_response() {
    within(Duration::from_secs(30), "trickled 101", || {
        let port = tcp_peer(|mut tcp| {
            let mut buf = [0; 4096];
            let _ = tcp.read(&mut buf);
            trickle(
                &mut tcp,
                b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n",
                Duration::from_millis(100),
            );
        });
        let limit = Duration::from_secs(1);
        let started = Instant::now();
        let err = builder()
            .handshake_timeout(Some(limit))
            .build()
            .unwrap()
            .connect(&format!("ws://127.0.0.1:{port}/"))
            .unwrap_err();
        assert!(err.is_timeout(), "{err}");
        assert_bounded(started.elapsed(), limit, "the handshake");
    });
}

/// A peer that upgrades, then trickles one 24-byte binary message a byte every 100 ms
/// (2.5 s in all, longer than any receive may take), then waits for the client to leave.
const SLOW: &[u8] = b"a slow message, trickled";

fn trickled_message_peer() -> (u16, JoinHandle<()>) {
    raw_peer(|mut tcp| {
        let mut frame = vec![0x82, 24];
        frame.extend_from_slice(SLOW);
        trickle(&mut tcp, &frame, Duration::from_millis(100));
        let _ = tcp.read_to_end(&mut Vec::new());
    })
}

/// Calls `recv` until a message comes: each call must end within `limit` (the socket
/// timeout is a deadline for the whole call, not for each read), and what arrived across the
/// timeouts must make up the message whole.
fn recv_through_timeouts(
    mut recv: impl FnMut() -> Result<Message, Error>,
    limit: Duration,
) -> (Message, usize) {
    let mut timeouts = 0;
    loop {
        let started = Instant::now();
        let result = recv();
        assert_bounded(started.elapsed(), limit, "a receive");
        match result {
            Err(e) if e.is_timeout() => timeouts += 1,
            Err(e) => panic!("{e}"),
            Ok(message) => return (message, timeouts),
        }
    }
}

#[test]
fn a_trickled_message_cannot_stretch_a_receive_past_its_timeout() {
    within(Duration::from_secs(30), "trickled message", || {
        let limit = Duration::from_millis(400);
        let (port, peer) = trickled_message_peer();
        let config = builder().timeout(Some(limit)).build().unwrap();
        let mut ws = config.connect(&format!("ws://127.0.0.1:{port}/")).unwrap();
        let (message, timeouts) = recv_through_timeouts(|| ws.recv(), limit);
        assert_eq!(message, Message::Binary(SLOW.to_vec()));
        assert!(
            timeouts >= 4,
            "{timeouts} timeouts in 2.5 s with a 400 ms limit"
        );
        ws.shutdown();
        peer.join().unwrap();

        // The same on the receiving half of a split connection.
        let (port, peer) = trickled_message_peer();
        let (mut rx, _tx) = config
            .connect(&format!("ws://127.0.0.1:{port}/"))
            .unwrap()
            .split();
        let (message, timeouts) = recv_through_timeouts(|| rx.recv(), limit);
        assert_eq!(message, Message::Binary(SLOW.to_vec()));
        assert!(
            timeouts >= 4,
            "{timeouts} timeouts in 2.5 s with a 400 ms limit"
        );
        drop((rx, _tx));
        peer.join().unwrap();
    });
}

#[test]
fn a_trickled_tls_record_cannot_stretch_a_receive_past_its_timeout() {
    // The message is one TLS record whose ciphertext arrives a byte every 40 ms: each
    // socket read would end in time, but the receive as a whole may not take longer than
    // its timeout.
    within(Duration::from_secs(30), "trickled TLS record", || {
        let pki = Pki::new();
        let (port, server) = tls_server(&pki, false, |tls| {
            upgrade(tls);
            tls.flush()?;
            let mut frame = vec![0x82, 24];
            frame.extend_from_slice(SLOW);
            tls.conn.writer().write_all(&frame)?;
            let mut record = Vec::new();
            tls.conn.write_tls(&mut record)?;
            trickle(&mut tls.sock, &record, Duration::from_millis(40));
            let _ = tls.sock.read_to_end(&mut Vec::new());
            Ok(())
        });
        let limit = Duration::from_millis(400);
        let mut ws = builder()
            .tls(TlsConfig::default().ca_pem(pki.ca_pem.clone()))
            .timeout(Some(limit))
            .build()
            .unwrap()
            .connect(&format!("wss://localhost:{port}/"))
            .unwrap();
        let (message, timeouts) = recv_through_timeouts(|| ws.recv(), limit);
        assert_eq!(message, Message::Binary(SLOW.to_vec()));
        assert!(timeouts >= 2, "{timeouts} timeouts with a 400 ms limit");
        ws.shutdown();
        server.join().unwrap().unwrap();
    });
}

#[test]
fn close_over_a_callers_stream_does_not_wait_for_a_silent_peer() {
    // A caller's stream takes no timeouts, so the close handshake cannot wait for the
    // peer's answer within a limit: it sends the close frame and does not wait at all.
    within(
        Duration::from_secs(30),
        "close over a caller's stream",
        || {
            let (port, peer) = raw_peer(|mut tcp| {
                let mut first = [0; 2];
                tcp.read_exact(&mut first).unwrap();
                let _ = tcp.read_to_end(&mut Vec::new());
                first
            });
            let tcp = TcpStream::connect(("127.0.0.1", port)).unwrap();
            let mut ws = builder()
                .build()
                .unwrap()
                .connect_over(
                    &format!("ws://127.0.0.1:{port}/"),
                    ws_client::Stream::from_custom(tcp),
                )
                .unwrap();
            let started = Instant::now();
            let _ = ws.close(CloseCode::NORMAL, "");
            assert!(started.elapsed() < Duration::from_secs(2), "close waited");
            drop(ws);
            // The close frame went out: a masked close (0x88) from the client.
            assert_eq!(peer.join().unwrap()[0], 0x88);
        },
    );
}

#[test]
fn a_silent_server_cannot_hold_connect_for_ever_by_default() {
    // No timeout set anywhere: the server accepts, reads the request and says nothing. The
    // default handshake limit ends the wait (Python's client would wait for ever).
    within(
        Duration::from_secs(30),
        "silent server, default limits",
        || {
            let port = tcp_peer(|mut tcp| {
                let mut buf = [0; 4096];
                let _ = tcp.read(&mut buf);
                let _ = tcp.read_to_end(&mut Vec::new());
            });
            let config = builder().build().unwrap();
            assert_eq!(config.timeout(), None);
            let started = Instant::now();
            let err = config
                .connect(&format!("ws://127.0.0.1:{port}/"))
                .unwrap_err();
            assert!(err.is_timeout(), "{err}");
            assert!(err.to_string().contains("handshake response"), "{err}");
            let elapsed = started.elapsed();
            assert!(
                elapsed >= ws_client::DEFAULT_OPEN_TIMEOUT,
                "gave up after {elapsed:?}"
            );
            assert_bounded(
                elapsed,
                ws_client::DEFAULT_OPEN_TIMEOUT,
                "the default handshake limit",
            );
        },
    );
}

#[test]
fn proxy_timeout_bounds_a_trickled_connect_reply() {
    within(Duration::from_secs(30), "trickled CONNECT reply", || {
        let port = tcp_peer(|mut tcp| {
            let mut buf = [0; 4096];
            let _ = tcp.read(&mut buf);
            trickle(
                &mut tcp,
                b"HTTP/1.1 200 Connection established\r\nX-Slow: yes\r\n\r\n",
                Duration::from_millis(100),
            );
        });
        let limit = Duration::from_secs(1);
        let started = Instant::now();
        let proxy = ws_client::Proxy::new(ws_client::ProxyKind::Http, "127.0.0.1", Some(port));
        let err = Config::builder()
            .proxy(ProxyConfig::Explicit(proxy))
            .proxy_timeout(Some(limit))
            .build()
            .unwrap()
            .connect("ws://example.invalid/")
            .unwrap_err();
        assert!(err.is_timeout(), "{err:?}");
        assert!(err.to_string().contains("CONNECT with proxy"), "{err}");
        assert_bounded(started.elapsed(), limit, "the proxy exchange");
    });
}

#[test]
fn connect_timeout_bounds_a_trickled_tls_handshake() {
    within(Duration::from_secs(30), "trickled TLS handshake", || {
        let port = tcp_peer(|mut tcp| {
            let mut buf = [0; 4096];
            let _ = tcp.read(&mut buf);
            // A handshake record header announcing 16 KiB, then its body two bytes at a time.
            tcp.write_all(&[0x16, 0x03, 0x03, 0x40, 0x00]).unwrap();
            trickle(&mut tcp, &[0x02; 400], Duration::from_millis(50));
        });
        let limit = Duration::from_secs(1);
        let started = Instant::now();
        let err = builder()
            .connect_timeout(Some(limit))
            .build()
            .unwrap()
            .connect(&format!("wss://127.0.0.1:{port}/"))
            .unwrap_err();
        assert!(err.to_string().contains("timed out"), "{err}");
        assert_bounded(started.elapsed(), limit, "the TLS handshake");
    });
}

#[test]
fn close_timeout_bounds_a_peer_that_pings_but_never_answers() {
    within(Duration::from_secs(30), "pinging peer during close", || {
        let (port, _peer) = raw_peer(|mut tcp| {
            for _ in 0..100 {
                if tcp.write_all(&[0x89, 0]).is_err() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(200));
            }
        });
        let limit = Duration::from_secs(1);
        let mut ws = builder()
            .close_timeout(limit)
            .build()
            .unwrap()
            .connect(&format!("ws://127.0.0.1:{port}/"))
            .unwrap();
        let started = Instant::now();
        assert_eq!(ws.close(CloseCode::NORMAL, "").unwrap(), None);
        assert_bounded(started.elapsed(), limit, "close");
        assert_eq!(ws.status(), State::Closed);
        // Zero: the close frame goes out if the socket takes it, and nothing is awaited.
        let (port, _peer) = raw_peer(|mut tcp| {
            let mut sink = Vec::new();
            let _ = tcp.read_to_end(&mut sink);
        });
        let mut ws = builder()
            .build()
            .unwrap()
            .connect(&format!("ws://127.0.0.1:{port}/"))
            .unwrap();
        let started = Instant::now();
        ws.close_with_timeout(CloseCode::NORMAL, "", Duration::ZERO)
            .unwrap();
        assert!(started.elapsed() < Duration::from_millis(200));
    });
}

#[test]
fn send_timeout_bounds_the_whole_send() {
    within(
        Duration::from_secs(30),
        "send to a peer that does not read",
        || {
            let (port, _peer) = raw_peer(|tcp| {
                std::thread::sleep(Duration::from_secs(6));
                drop(tcp);
            });
            let limit = Duration::from_secs(1);
            let mut ws = builder()
                .timeout(Some(limit))
                .build()
                .unwrap()
                .connect(&format!("ws://127.0.0.1:{port}/"))
                .unwrap();
            let started = Instant::now();
            let err = ws.send_binary(&vec![0; 32 << 20]).unwrap_err();
            assert!(
                matches!(
                    err,
                    Error::SendTimeout {
                        partly_sent: true,
                        ..
                    }
                ),
                "{err:?}"
            );
            assert_bounded(started.elapsed(), limit, "one send");
        },
    );
}

#[test]
fn a_message_that_never_ends_is_cut_by_the_fragment_limit() {
    within(
        Duration::from_secs(60),
        "endless empty continuations",
        || {
            let (port, peer) = raw_peer(|mut tcp| {
                // A text message started, then empty continuation frames for ever.
                tcp.write_all(&[0x01, 0]).unwrap();
                let burst = [0x00u8, 0].repeat(4096);
                while tcp.write_all(&burst).is_ok() {}
            });
            let mut ws = builder()
                .timeout(Some(Duration::from_secs(2)))
                .build()
                .unwrap()
                .connect(&format!("ws://127.0.0.1:{port}/"))
                .unwrap();
            let err = ws.recv().unwrap_err();
            assert!(
                matches!(
                    err,
                    Error::Protocol(ws_frame::Error::TooManyFragments {
                        limit: 1_048_576,
                        ..
                    })
                ),
                "{err:?}"
            );
            assert_eq!(err.close_code(), Some(CloseCode::POLICY_VIOLATION));
            assert_eq!(ws.status(), State::Closed);
            // Closing the socket makes the peer's writes fail, which ends it.
            drop(ws);
            peer.join().unwrap();
        },
    );
}

#[test]
fn absurd_announced_lengths_with_huge_limits_do_not_abort() {
    for (limits, len) in [
        (Limits::unlimited(), u64::MAX >> 1),
        (
            Limits::default()
                .max_frame_size(1 << 40)
                .max_message_size(1 << 40),
            1u64 << 40,
        ),
    ] {
        within(Duration::from_secs(30), "absurd length", move || {
            let (port, _peer) = raw_peer(move |mut tcp| {
                let mut frame = vec![0x82, 127];
                frame.extend_from_slice(&len.to_be_bytes());
                frame.extend_from_slice(&[7; 1000]);
                tcp.write_all(&frame).unwrap();
            });
            let mut ws = builder()
                .limits(limits)
                .build()
                .unwrap()
                .connect(&format!("ws://127.0.0.1:{port}/"))
                .unwrap();
            // The peer leaves after 1000 bytes of a frame it announced as enormous.
            let err = ws.recv().unwrap_err();
            assert!(err.is_closed(), "{err:?}");
        });
    }
}

#[test]
fn close_after_a_failed_send_reports_the_failure() {
    within(Duration::from_secs(30), "close after a failure", || {
        // A send that times out part-way, then a close the peer cannot take.
        let (port, peer) = raw_peer(|mut tcp| {
            std::thread::sleep(Duration::from_secs(2));
            let mut rest = Vec::new();
            let _ = tcp.read_to_end(&mut rest);
            rest.len()
        });
        let mut ws = builder()
            .timeout(Some(Duration::from_millis(300)))
            .close_timeout(Duration::from_millis(500))
            .build()
            .unwrap()
            .connect(&format!("ws://127.0.0.1:{port}/"))
            .unwrap();
        let err = ws.send_binary(&vec![0; 32 << 20]).unwrap_err();
        assert!(
            matches!(
                err,
                Error::SendTimeout {
                    partly_sent: true,
                    ..
                }
            ),
            "{err:?}"
        );
        let started = Instant::now();
        let err = ws.close(CloseCode::NORMAL, "").unwrap_err();
        assert!(err.is_timeout(), "{err:?}");
        assert_bounded(started.elapsed(), Duration::from_millis(500), "close");
        assert_eq!(ws.status(), State::Closed);
        // The socket was shut down: the peer reaches the end of the stream.
        assert!(peer.join().unwrap() > 0);
        let again = ws.close(CloseCode::NORMAL, "").unwrap_err();
        assert!(again.is_closed(), "{again:?}");
        assert!(again.to_string().contains("already failed"), "{again}");
        assert!(
            ws.send_text("x")
                .unwrap_err()
                .to_string()
                .contains("already failed")
        );

        // A peer that resets: the send fails for good, with the socket error as its source.
        let (port, _peer) = raw_peer(|tcp| {
            socket2::SockRef::from(&tcp)
                .set_linger(Some(Duration::ZERO))
                .unwrap();
            drop(tcp);
        });
        let mut ws = builder()
            .build()
            .unwrap()
            .connect(&format!("ws://127.0.0.1:{port}/"))
            .unwrap();
        std::thread::sleep(Duration::from_millis(100));
        let err = loop {
            // The first write may still be accepted by the kernel before the reset is seen.
            match ws.send_binary(&[1; 1000]) {
                Ok(()) => std::thread::sleep(Duration::from_millis(10)),
                Err(e) => break e,
            }
        };
        assert!(err.is_closed(), "{err:?}");
        assert!(std::error::Error::source(&err).is_some(), "{err:?}");
        assert_eq!(ws.status(), State::Closed);
        let again = ws.close(CloseCode::NORMAL, "").unwrap_err();
        assert!(again.to_string().contains("already failed"), "{again}");
    });
}

#[test]
fn credentials_do_not_follow_a_redirect_to_another_port() {
    within(Duration::from_secs(30), "redirect to another port", || {
        let (capture, seen) = http_peer(vec!["HTTP/1.1 404 Not Found\r\n\r\n".to_string()]);
        // Same host, another port: another origin.
        let hop = format!("HTTP/1.1 302 Found\r\nLocation: ws://127.0.0.1:{capture}/next\r\n\r\n");
        let (port, first) = http_peer(vec![hop]);
        let config = builder()
            .cookie("session=SECRET1")
            .header("Authorization", "Bearer SECRET2")
            .header_line("Proxy-Authorization: Basic SECRET3")
            .header("X-Keep", "yes")
            .build()
            .unwrap();
        let err = config
            .connect(&format!("ws://127.0.0.1:{port}/"))
            .unwrap_err();
        assert!(
            matches!(&err, Error::BadStatus(b) if b.status == 404),
            "{err:?}"
        );
        let original = first.lock().unwrap()[0].clone();
        for secret in ["SECRET1", "SECRET2", "SECRET3"] {
            assert!(original.contains(secret), "{secret} missing:\n{original}");
        }
        let request = seen.lock().unwrap()[0].clone();
        assert!(request.contains("X-Keep: yes"), "{request}");
        for secret in ["SECRET", "Authorization", "Cookie"] {
            assert!(!request.contains(secret), "{secret} leaked:\n{request}");
        }
        // URL credentials (Basic auth) stay with their origin too.
        let (capture, seen) = http_peer(vec!["HTTP/1.1 404 Not Found\r\n\r\n".to_string()]);
        let hop = format!("HTTP/1.1 307 Moved\r\nLocation: ws://127.0.0.1:{capture}/\r\n\r\n");
        let (port, first) = http_peer(vec![hop]);
        builder()
            .build()
            .unwrap()
            .connect(&format!("ws://alice:SECRET4@127.0.0.1:{port}/"))
            .unwrap_err();
        // base64("alice:SECRET4")
        assert!(first.lock().unwrap()[0].contains("YWxpY2U6U0VDUkVUNA=="));
        let request = seen.lock().unwrap()[0].clone();
        assert!(!request.contains("Authorization"), "leaked:\n{request}");
    });
}

#[test]
fn redirects_to_other_schemes_are_refused_by_name() {
    within(Duration::from_secs(30), "redirect to file:", || {
        for (location, scheme) in [
            ("file:/etc/passwd", "file"),
            ("javascript:alert(1)", "javascript"),
        ] {
            let hop = format!("HTTP/1.1 302 Found\r\nLocation: {location}\r\n\r\n");
            let (port, _) = http_peer(vec![hop]);
            let err = builder()
                .build()
                .unwrap()
                .connect(&format!("ws://127.0.0.1:{port}/"))
                .unwrap_err();
            assert!(
                matches!(&err, Error::Handshake(ws_handshake::Error::UnsupportedRedirectScheme(s)) if s == scheme),
                "{err:?}"
            );
            assert!(err.to_string().contains(scheme), "{err}");
        }
    });
}

#[test]
fn a_split_receiver_keeps_a_half_read_frame_across_a_read_timeout() {
    within(Duration::from_secs(20), "split receiver timeout", || {
        let (go_on, wait) = std::sync::mpsc::channel::<()>();
        let payload: Vec<u8> = (0..3000u32).map(|i| i as u8).collect();
        let mut frame = vec![0x82, 126, 0x0B, 0xB8];
        frame.extend_from_slice(&payload);
        let (port, peer) = raw_peer(move |mut tcp| {
            // Part of the frame's header (the decoder leaves it in the read buffer until
            // the header is whole), a pause longer than the client's read timeout, the rest.
            tcp.write_all(&frame[..3]).unwrap();
            wait.recv().unwrap();
            tcp.write_all(&frame[3..]).unwrap();
            tcp
        });
        let ws = builder()
            .build()
            .unwrap()
            .connect(&format!("ws://127.0.0.1:{port}/"))
            .unwrap();
        let (mut rx, _tx) = ws.split();
        rx.set_timeout(Some(Duration::from_millis(100))).unwrap();
        let err = rx.recv().unwrap_err();
        assert!(err.is_timeout(), "{err}");
        go_on.send(()).unwrap();
        rx.set_timeout(Some(Duration::from_secs(5))).unwrap();
        assert_eq!(rx.recv().unwrap(), Message::Binary(payload));
        drop(peer.join().unwrap());
    });
}
