//! The client processes of the peers: raw TCP (no WebSocket work at all), tungstenite and
//! fastwebsockets, each used as its documentation shows, with default settings.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;

use compare_proto::{Args, DONE, Scenario, Timer, idle, timed};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};

use crate::server::client_frame;

/// A frame header is at most 14 bytes; the raw client's receive buffer is 64 KiB.
const RAW_READ: usize = 64 * 1024;

fn tcp(args: &Args) -> Result<TcpStream, String> {
    let tcp = TcpStream::connect(("127.0.0.1", args.port)).map_err(|e| format!("connect: {e}"))?;
    tcp.set_nodelay(true).map_err(|e| format!("nodelay: {e}"))?;
    Ok(tcp)
}

/// The rustls client configuration of a TLS scenario: trusts the driver's test CA.
fn tls_config(args: &Args) -> Result<Arc<rustls::ClientConfig>, String> {
    let pem = args.ca_pem()?;
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(pem.as_bytes()) {
        let cert = cert.map_err(|e| format!("CA: {e}"))?;
        roots.add(cert).map_err(|e| format!("CA: {e}"))?;
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS: {e}"))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// The name the server's certificate is checked against.
fn server_name() -> ServerName<'static> {
    ServerName::try_from("localhost").expect("a DNS name")
}

/// A TLS connection to the server with its handshake done (which is not timed).
fn tls(args: &Args) -> Result<rustls::StreamOwned<rustls::ClientConnection, TcpStream>, String> {
    let mut conn = rustls::ClientConnection::new(tls_config(args)?, server_name())
        .map_err(|e| format!("TLS: {e}"))?;
    let mut tcp = tcp(args)?;
    while conn.is_handshaking() {
        conn.complete_io(&mut tcp)
            .map_err(|e| format!("TLS handshake: {e}"))?;
    }
    Ok(rustls::StreamOwned::new(conn, tcp))
}

/// Raw TCP: reads or writes the bytes a WebSocket client would, and nothing else (over TLS
/// in a TLS scenario: then it also decrypts or encrypts them).
pub fn raw(args: Args) -> Result<(), String> {
    if args.scenario == Scenario::Idle {
        idle(args.count, || tcp(&args).expect("connect"));
        return Ok(());
    }
    raw_with(&args, false)
}

/// Raw TCP doing the least a WebSocket client cannot avoid and raw TCP skips (see
/// [`floor_rows`]): receiving, each message read whole into one buffer, as a client that
/// hands messages out in one piece must at least do, and text checked with `simdutf8`
/// (§8.1); sending, each payload copied and masked with a key that changes per message
/// before it is written (§5.3).
pub fn raw_floor(args: Args) -> Result<(), String> {
    raw_with(&args, true)
}

/// Whether the row of `scenario` and `size` has a raw floor ([`raw_floor`]): the
/// per-message send rows, and the receive rows whose frames do not fit the raw client's
/// read buffer. (Smaller messages already arrive whole in the raw client's buffer, and reading
/// them one by one would only add system calls that no client makes.)
pub const fn floor_rows(scenario: Scenario, size: usize) -> bool {
    match scenario.plain() {
        Scenario::Send => true,
        Scenario::Recv | Scenario::RecvAscii | Scenario::RecvMixed => size >= RAW_READ,
        _ => false,
    }
}

/// [`raw`] or [`raw_floor`] over TCP or TLS, as the scenario says.
fn raw_with(args: &Args, floor: bool) -> Result<(), String> {
    if args.scenario.is_tls() {
        raw_over(tls(args)?, args, floor);
    } else {
        raw_over(tcp(args)?, args, floor);
    }
    Ok(())
}

/// [`raw`]'s work over `tcp`, or with `floor` [`raw_floor`]'s.
fn raw_over(mut tcp: impl Read + Write, args: &Args, floor: bool) {
    let frame = client_frame(&args.payload());
    match args.scenario.plain() {
        Scenario::Recv | Scenario::RecvAscii | Scenario::RecvMixed => {
            let opcode = if args.scenario.is_text() {
                ws_frame::OpCode::Text
            } else {
                ws_frame::OpCode::Binary
            };
            let payload = crate::server::payload(args.scenario, args.size);
            let one = crate::server::server_frame(opcode, &payload);
            if floor {
                let mut whole = vec![0u8; one.len()];
                let text = args.scenario.is_text();
                let head = one.len() - payload.len();
                return timed(|| {
                    for _ in 0..args.count {
                        tcp.read_exact(&mut whole).expect("read");
                        if text {
                            simdutf8::basic::from_utf8(&whole[head..]).expect("text");
                        }
                    }
                });
            }
            let total = one.len() * args.count;
            let mut buf = vec![0u8; RAW_READ];
            timed(|| {
                let mut got = 0;
                while got < total {
                    let n = tcp.read(&mut buf).expect("read");
                    assert!(n > 0, "server left");
                    got += n;
                }
            });
        }
        Scenario::Send if floor => {
            let payload = args.payload();
            let mut out = Vec::with_capacity(frame.len());
            timed(|| {
                for n in 0..args.count as u32 {
                    out.clear();
                    let header = ws_frame::FrameHeader::new(
                        true,
                        ws_frame::OpCode::Binary,
                        Some(n.to_le_bytes()),
                        0,
                    );
                    ws_frame::encode_frame(&mut out, header, &payload).expect("frame");
                    tcp.write_all(&out).expect("write");
                }
                read_done(&mut tcp);
            });
        }
        Scenario::Send => timed(|| {
            for _ in 0..args.count {
                tcp.write_all(&frame).expect("write");
            }
            read_done(&mut tcp);
        }),
        Scenario::SendBatch => {
            let all = frame.repeat(args.count);
            timed(|| {
                tcp.write_all(&all).expect("write");
                read_done(&mut tcp);
            });
        }
        Scenario::Echo => {
            let mut back =
                vec![
                    0u8;
                    crate::server::server_frame(ws_frame::OpCode::Binary, &args.payload()).len()
                ];
            timed(|| {
                for _ in 0..args.count {
                    tcp.write_all(&frame).expect("write");
                    tcp.read_exact(&mut back).expect("read");
                }
            });
        }
        other => unreachable!("{other:?} is not plain"),
    }
}

/// Reads the server's `DONE` frame, which says it received every message.
fn read_done(tcp: &mut impl Read) {
    let mut done = [0u8; 2 + DONE.len()];
    tcp.read_exact(&mut done).expect("done");
}

/// tungstenite's upgrade over `stream`.
fn tungstenite_connect<S: Read + Write>(
    args: &Args,
    stream: S,
) -> Result<tungstenite::WebSocket<S>, String> {
    let (ws, _) =
        tungstenite::client::client(args.url(), stream).map_err(|e| format!("handshake: {e}"))?;
    Ok(ws)
}

/// tungstenite: `read` for messages, `send` (write and flush) or `write` + one `flush`. Over
/// TLS it is given a rustls stream, as its `client_tls` would make.
pub fn tungstenite(args: Args) -> Result<(), String> {
    if args.scenario == Scenario::Idle {
        idle(args.count, || {
            tungstenite_connect(&args, tcp(&args).expect("connect")).expect("upgrade")
        });
        return Ok(());
    }
    if args.scenario.is_tls() {
        tungstenite_over(tungstenite_connect(&args, tls(&args)?)?, &args);
    } else {
        tungstenite_over(tungstenite_connect(&args, tcp(&args)?)?, &args);
    }
    Ok(())
}

/// [`tungstenite`]'s work over `ws`.
fn tungstenite_over<S: Read + Write>(mut ws: tungstenite::WebSocket<S>, args: &Args) {
    // A reference-counted payload: cloning it per message copies nothing.
    let payload = tungstenite::Bytes::from(args.payload());
    let message = || tungstenite::Message::binary(payload.clone());
    match args.scenario.plain() {
        Scenario::Recv | Scenario::RecvAscii | Scenario::RecvMixed => timed(|| {
            for _ in 0..args.count {
                let m = ws.read().expect("read");
                assert!(m.is_text() || m.is_binary(), "{m:?}");
            }
        }),
        Scenario::Send => timed(|| {
            for _ in 0..args.count {
                ws.send(message()).expect("send");
            }
            assert_eq!(ws.read().expect("done").into_data().as_ref(), DONE);
        }),
        Scenario::SendBatch => timed(|| {
            for _ in 0..args.count {
                ws.write(message()).expect("write");
            }
            ws.flush().expect("flush");
            assert_eq!(ws.read().expect("done").into_data().as_ref(), DONE);
        }),
        Scenario::Echo => timed(|| {
            for _ in 0..args.count {
                ws.send(message()).expect("send");
                assert_eq!(ws.read().expect("echo").len(), args.size);
            }
        }),
        other => unreachable!("{other:?} is not plain"),
    }
}

/// The client half of the upgrade for fastwebsockets (whose own needs hyper) over `stream`:
/// the request, then the 101 read a byte at a time so no frame after it is consumed. Not
/// timed.
async fn fastwebsockets_upgrade<S>(mut stream: S, args: &Args) -> Result<S, String>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let request = format!(
        "GET / HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
        args.port
    );
    stream
        .write_all(request.as_bytes())
        .await
        .map_err(|e| format!("upgrade: {e}"))?;
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let byte = stream.read_u8().await.map_err(|e| format!("101: {e}"))?;
        head.push(byte);
    }
    if !head.starts_with(b"HTTP/1.1 101") {
        return Err(format!("not a 101: {}", String::from_utf8_lossy(&head)));
    }
    Ok(stream)
}

/// A tokio TCP connection to the server.
async fn tokio_tcp(args: &Args) -> Result<tokio::net::TcpStream, String> {
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", args.port))
        .await
        .map_err(|e| format!("connect: {e}"))?;
    tcp.set_nodelay(true).map_err(|e| format!("nodelay: {e}"))?;
    Ok(tcp)
}

/// fastwebsockets on a current-thread tokio runtime: `FragmentCollector::read_frame` for
/// whole messages, `write_frame` per message; a batch goes through a `BufWriter` and one
/// `flush` (fastwebsockets writes each frame at once otherwise). Over TLS it is given a
/// tokio-rustls stream.
pub fn fastwebsockets(args: Args) -> Result<(), String> {
    use fastwebsockets::{Role, WebSocket};
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()
        .map_err(|e| format!("runtime: {e}"))?;
    if args.scenario == Scenario::Idle {
        idle(args.count, || {
            let tcp = runtime
                .block_on(async { fastwebsockets_upgrade(tokio_tcp(&args).await?, &args).await })
                .expect("connect");
            WebSocket::after_handshake(tcp, Role::Client)
        });
        return Ok(());
    }
    runtime.block_on(async {
        let tcp = tokio_tcp(&args).await?;
        if args.scenario.is_tls() {
            let connector = tokio_rustls::TlsConnector::from(tls_config(&args)?);
            let tls = connector
                .connect(server_name(), tcp)
                .await
                .map_err(|e| format!("TLS handshake: {e}"))?;
            fastwebsockets_over(fastwebsockets_upgrade(tls, &args).await?, &args).await;
        } else {
            fastwebsockets_over(fastwebsockets_upgrade(tcp, &args).await?, &args).await;
        }
        Ok(())
    })
}

/// [`fastwebsockets`]'s work over `stream`, once upgraded.
async fn fastwebsockets_over<S>(stream: S, args: &Args)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    use fastwebsockets::{FragmentCollector, Frame, OpCode, Payload, Role, WebSocket};
    let payload = args.payload();
    let frame = || Frame::binary(Payload::Borrowed(&payload));
    let timer = Timer::start();
    match args.scenario.plain() {
        Scenario::Recv | Scenario::RecvAscii | Scenario::RecvMixed => {
            let mut ws = FragmentCollector::new(WebSocket::after_handshake(stream, Role::Client));
            for _ in 0..args.count {
                let message = ws.read_frame().await.expect("read");
                assert!(matches!(message.opcode, OpCode::Text | OpCode::Binary));
            }
        }
        Scenario::Send => {
            let mut ws = WebSocket::after_handshake(stream, Role::Client);
            // A TLS stream holds what it encrypted until flushed (fastwebsockets' docs ask
            // for a flush there); on TCP each frame is written at once.
            let flush_each = args.scenario.is_tls();
            for _ in 0..args.count {
                ws.write_frame(frame()).await.expect("write");
                if flush_each {
                    ws.flush().await.expect("flush");
                }
            }
            let done = ws.read_frame().await.expect("done");
            assert_eq!(&*done.payload, DONE);
        }
        Scenario::SendBatch => {
            let buffered = tokio::io::BufWriter::with_capacity(64 * 1024, stream);
            let mut ws = WebSocket::after_handshake(buffered, Role::Client);
            for _ in 0..args.count {
                ws.write_frame(frame()).await.expect("write");
            }
            ws.flush().await.expect("flush");
            let done = ws.read_frame().await.expect("done");
            assert_eq!(&*done.payload, DONE);
        }
        Scenario::Echo => {
            let mut ws = FragmentCollector::new(WebSocket::after_handshake(stream, Role::Client));
            for _ in 0..args.count {
                ws.write_frame(frame()).await.expect("write");
                let back = ws.read_frame().await.expect("echo");
                assert_eq!(back.payload.len(), args.size);
            }
        }
        other => unreachable!("{other:?} is not plain"),
    }
    timer.report();
}
