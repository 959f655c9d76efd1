//! The client processes of the peers: raw TCP (no WebSocket work at all), tungstenite and
//! fastwebsockets, each used as its documentation shows, with default settings.

use std::io::{Read, Write};
use std::net::TcpStream;

use compare_proto::{Args, DONE, Scenario, Timer, idle, timed};

use crate::server::client_frame;

/// A frame header is at most 14 bytes; the raw client's receive buffer is 64 KiB.
const RAW_READ: usize = 64 * 1024;

fn tcp(args: &Args) -> Result<TcpStream, String> {
    let tcp = TcpStream::connect(("127.0.0.1", args.port)).map_err(|e| format!("connect: {e}"))?;
    tcp.set_nodelay(true).map_err(|e| format!("nodelay: {e}"))?;
    Ok(tcp)
}

/// Raw TCP: reads or writes the bytes a WebSocket client would, and nothing else.
pub fn raw(args: Args) -> Result<(), String> {
    if args.scenario == Scenario::Idle {
        idle(args.count, || tcp(&args).expect("connect"));
        return Ok(());
    }
    let mut tcp = tcp(&args)?;
    let frame = client_frame(&args.payload());
    match args.scenario {
        Scenario::Recv | Scenario::RecvAscii | Scenario::RecvMixed => {
            let opcode = if args.scenario.is_text() {
                ws_frame::OpCode::Text
            } else {
                ws_frame::OpCode::Binary
            };
            let one = crate::server::server_frame(
                opcode,
                &crate::server::payload(args.scenario, args.size),
            );
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
        Scenario::Send => timed(|| {
            for _ in 0..args.count {
                tcp.write_all(&frame).expect("write");
            }
            let mut done = [0u8; 2 + DONE.len()];
            tcp.read_exact(&mut done).expect("done");
        }),
        Scenario::SendBatch => {
            let all = frame.repeat(args.count);
            timed(|| {
                tcp.write_all(&all).expect("write");
                let mut done = [0u8; 2 + DONE.len()];
                tcp.read_exact(&mut done).expect("done");
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
        Scenario::Idle => unreachable!("handled above"),
    }
    Ok(())
}

fn tungstenite_connect(args: &Args) -> Result<tungstenite::WebSocket<TcpStream>, String> {
    let (ws, _) = tungstenite::client::client(args.url(), tcp(args)?)
        .map_err(|e| format!("handshake: {e}"))?;
    Ok(ws)
}

/// tungstenite: `read` for messages, `send` (write and flush) or `write` + one `flush`.
pub fn tungstenite(args: Args) -> Result<(), String> {
    if args.scenario == Scenario::Idle {
        idle(args.count, || tungstenite_connect(&args).expect("connect"));
        return Ok(());
    }
    let mut ws = tungstenite_connect(&args)?;
    // A reference-counted payload: cloning it per message copies nothing.
    let payload = tungstenite::Bytes::from(args.payload());
    let message = || tungstenite::Message::binary(payload.clone());
    match args.scenario {
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
        Scenario::Idle => unreachable!("handled above"),
    }
    Ok(())
}

/// The client half of the upgrade for fastwebsockets (whose own needs hyper): the request,
/// then the 101 read a byte at a time so no frame after it is consumed. Not timed.
async fn fastwebsockets_connect(args: &Args) -> Result<tokio::net::TcpStream, String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut tcp = tokio::net::TcpStream::connect(("127.0.0.1", args.port))
        .await
        .map_err(|e| format!("connect: {e}"))?;
    tcp.set_nodelay(true).map_err(|e| format!("nodelay: {e}"))?;
    let request = format!(
        "GET / HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
        args.port
    );
    tcp.write_all(request.as_bytes())
        .await
        .map_err(|e| format!("upgrade: {e}"))?;
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let byte = tcp.read_u8().await.map_err(|e| format!("101: {e}"))?;
        head.push(byte);
    }
    if !head.starts_with(b"HTTP/1.1 101") {
        return Err(format!("not a 101: {}", String::from_utf8_lossy(&head)));
    }
    Ok(tcp)
}

/// fastwebsockets on a current-thread tokio runtime: `FragmentCollector::read_frame` for
/// whole messages, `write_frame` per message; a batch goes through a `BufWriter` and one
/// `flush` (fastwebsockets writes each frame at once otherwise).
pub fn fastwebsockets(args: Args) -> Result<(), String> {
    use fastwebsockets::{FragmentCollector, Frame, OpCode, Payload, Role, WebSocket};
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()
        .map_err(|e| format!("runtime: {e}"))?;
    if args.scenario == Scenario::Idle {
        idle(args.count, || {
            let tcp = runtime
                .block_on(fastwebsockets_connect(&args))
                .expect("connect");
            WebSocket::after_handshake(tcp, Role::Client)
        });
        return Ok(());
    }
    runtime.block_on(async {
        let tcp = fastwebsockets_connect(&args).await?;
        let payload = args.payload();
        let frame = || Frame::binary(Payload::Borrowed(&payload));
        let timer = Timer::start();
        match args.scenario {
            Scenario::Recv | Scenario::RecvAscii | Scenario::RecvMixed => {
                let mut ws = FragmentCollector::new(WebSocket::after_handshake(tcp, Role::Client));
                for _ in 0..args.count {
                    let message = ws.read_frame().await.expect("read");
                    assert!(matches!(message.opcode, OpCode::Text | OpCode::Binary));
                }
            }
            Scenario::Send => {
                let mut ws = WebSocket::after_handshake(tcp, Role::Client);
                for _ in 0..args.count {
                    ws.write_frame(frame()).await.expect("write");
                }
                let done = ws.read_frame().await.expect("done");
                assert_eq!(&*done.payload, DONE);
            }
            Scenario::SendBatch => {
                let buffered = tokio::io::BufWriter::with_capacity(64 * 1024, tcp);
                let mut ws = WebSocket::after_handshake(buffered, Role::Client);
                for _ in 0..args.count {
                    ws.write_frame(frame()).await.expect("write");
                }
                ws.flush().await.expect("flush");
                let done = ws.read_frame().await.expect("done");
                assert_eq!(&*done.payload, DONE);
            }
            Scenario::Echo => {
                let mut ws = FragmentCollector::new(WebSocket::after_handshake(tcp, Role::Client));
                for _ in 0..args.count {
                    ws.write_frame(frame()).await.expect("write");
                    let back = ws.read_frame().await.expect("echo");
                    assert_eq!(back.payload.len(), args.size);
                }
            }
            Scenario::Idle => unreachable!("handled above"),
        }
        timer.report();
        Ok(())
    })
}
