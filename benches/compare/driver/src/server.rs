//! The server side of each scenario: plain blocking std code on one thread, doing as little
//! as it can so the client is what is measured.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::thread::JoinHandle;

use compare_proto::{DONE, Scenario};
use ws_frame::{FrameHeader, OpCode, encode_frame};

/// Text in several scripts, as a chat or a feed in many languages carries it.
const MIXED: &str =
    "Grüße, Jürgen! Привет, мир. Καλημέρα κόσμε. こんにちは世界。你好，世界。🌍🚀✨ ";

/// The payload the server sends in a receive scenario: `size` bytes (text cut at a character
/// boundary, so a mixed-script message can be a few bytes short).
pub fn payload(scenario: Scenario, size: usize) -> Vec<u8> {
    match scenario {
        Scenario::RecvAscii => b"{\"seq\":1,\"symbol\":\"BTC-USD\",\"price\":60123.45} "
            .iter()
            .copied()
            .cycle()
            .take(size)
            .collect(),
        Scenario::RecvMixed => {
            let mut text = String::with_capacity(size);
            for c in MIXED.chars().cycle() {
                if text.len() + c.len_utf8() > size {
                    break;
                }
                text.push(c);
            }
            text.into_bytes()
        }
        _ => vec![7u8; size],
    }
}

/// One frame as the server sends it (unmasked).
pub fn server_frame(opcode: OpCode, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + 14);
    encode_frame(
        &mut out,
        FrameHeader::new(true, opcode, None, payload.len() as u64),
        payload,
    )
    .expect("frame");
    out
}

/// One frame as a client sends it (masked with a fixed key, for the raw client).
pub fn client_frame(payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + 14);
    encode_frame(
        &mut out,
        FrameHeader::new(
            true,
            OpCode::Binary,
            Some([1, 2, 3, 4]),
            payload.len() as u64,
        ),
        payload,
    )
    .expect("frame");
    out
}

/// Accepts one TCP connection.
fn accept_tcp(listener: &TcpListener) -> TcpStream {
    let (tcp, _) = listener.accept().expect("accept");
    tcp.set_nodelay(true).expect("nodelay");
    tcp
}

/// Accepts one connection, and answers its WebSocket upgrade unless `raw`.
fn accept(listener: &TcpListener, raw: bool) -> TcpStream {
    upgrade(accept_tcp(listener), raw)
}

/// Answers the WebSocket upgrade on `tcp` unless `raw`.
fn upgrade<S: Read + Write>(mut tcp: S, raw: bool) -> S {
    if raw {
        return tcp;
    }
    let limits = ws_handshake::HttpLimits::default();
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let (request, used) = loop {
        let n = tcp.read(&mut chunk).expect("read the upgrade");
        assert!(n > 0, "the client left during the handshake");
        buf.extend_from_slice(&chunk[..n]);
        if let Some(done) = ws_handshake::parse_request(&buf, &limits).expect("upgrade") {
            break done;
        }
    };
    assert_eq!(used, buf.len(), "the client spoke before the 101");
    tcp.write_all(&request.accept(None, None).expect("accept"))
        .expect("write the 101");
    tcp
}

/// Reads until the client hangs up.
fn until_eof(tcp: &mut impl Read) {
    let mut sink = [0u8; 4096];
    while matches!(tcp.read(&mut sink), Ok(n) if n > 0) {}
}

/// Starts the server for one client run; returns its port and thread. A TLS scenario's
/// connection is served over TLS with `tls`.
pub fn start(
    scenario: Scenario,
    size: usize,
    count: usize,
    raw: bool,
    tls: &Arc<rustls::ServerConfig>,
) -> (u16, JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let tls = Arc::clone(tls);
    let thread = std::thread::spawn(move || {
        compare_proto::pin(compare_proto::Side::Server);
        if scenario == Scenario::Idle {
            let mut held: Vec<TcpStream> = (0..=count).map(|_| accept(&listener, raw)).collect();
            for tcp in &mut held {
                until_eof(tcp);
            }
        } else if scenario.is_tls() {
            let conn = rustls::ServerConnection::new(tls).expect("TLS");
            let stream = rustls::StreamOwned::new(conn, accept_tcp(&listener));
            serve(upgrade(stream, raw), scenario.plain(), size, count);
        } else {
            serve(accept(&listener, raw), scenario, size, count);
        }
    });
    (port, thread)
}

/// Does the server's part of `scenario` over `tcp` (upgraded unless the client is raw).
fn serve(mut tcp: impl Read + Write, scenario: Scenario, size: usize, count: usize) {
    match scenario {
        Scenario::Recv | Scenario::RecvAscii | Scenario::RecvMixed => {
            let opcode = if scenario.is_text() {
                OpCode::Text
            } else {
                OpCode::Binary
            };
            let frame = server_frame(opcode, &payload(scenario, size));
            // Write in chunks of whole frames, about 256 KiB each.
            let per_chunk = (256 * 1024 / frame.len()).max(1);
            let chunk = frame.repeat(per_chunk);
            let mut left = count;
            while left > 0 {
                let n = left.min(per_chunk);
                tcp.write_all(&chunk[..n * frame.len()])
                    .expect("stream frames");
                left -= n;
            }
        }
        Scenario::Send | Scenario::SendBatch => {
            let total = client_frame(&vec![7u8; size]).len() * count;
            let mut buf = vec![0u8; 256 * 1024];
            let mut got = 0;
            while got < total {
                let n = tcp.read(&mut buf).expect("drain");
                assert!(n > 0, "the client left after {got} of {total} bytes");
                got += n;
            }
            assert_eq!(got, total, "the client sent more than its messages");
            tcp.write_all(&server_frame(OpCode::Binary, DONE))
                .expect("done");
        }
        Scenario::Echo => {
            let frame_len = client_frame(&vec![7u8; size]).len();
            let reply = server_frame(OpCode::Binary, &vec![7u8; size]);
            let mut buf = vec![0u8; frame_len];
            for _ in 0..count {
                tcp.read_exact(&mut buf).expect("read a frame");
                tcp.write_all(&reply).expect("echo");
            }
        }
        other => unreachable!("{other:?} is served above"),
    }
    until_eof(&mut tcp);
}
