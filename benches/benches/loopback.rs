//! Loopback benchmark: ws-client against tungstenite and raw TCP, in the same run.
//!
//! ```sh
//! cargo bench -p ws-benches --bench loopback            # all scenarios
//! cargo bench -p ws-benches --bench loopback -- recv    # a filter on the scenario name
//! ```
//!
//! Each client talks to a fast in-process server over 127.0.0.1:
//! - `recv`: the server streams pre-built frames; the client receives N messages. The raw
//!   baseline reads the same bytes with 64 KiB `read`s and does nothing with them.
//! - `send`/`send-batch`: the server reads and discards; the client sends N messages,
//!   flushing each (or writing all, then flushing once), and waits for the server's "done"
//!   frame. The raw baseline is one `write(2)` per pre-encoded frame.
//! - `echo`: the server echoes; the client sends one message and waits for it, N times. The
//!   raw baseline is a TCP ping-pong of the frame's bytes.
//!
//! Every number is the median of 5 runs, in messages per second.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::thread::JoinHandle;
use std::time::Instant;

use ws_frame::{FrameHeader, OpCode, encode_frame};

const RUNS: usize = 5;

/// Accepts one connection and completes the WebSocket handshake on it.
fn accept_ws(listener: &TcpListener) -> TcpStream {
    let (mut tcp, _) = listener.accept().expect("accept");
    tcp.set_nodelay(true).expect("nodelay");
    let limits = ws_handshake::HttpLimits::default();
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let (request, used) = loop {
        let n = tcp.read(&mut chunk).expect("read request");
        buf.extend_from_slice(&chunk[..n]);
        if let Some(done) = ws_handshake::parse_request(&buf, &limits).expect("request") {
            break done;
        }
    };
    assert_eq!(
        used,
        buf.len(),
        "the client spoke before the handshake finished"
    );
    tcp.write_all(&request.accept(None, None).expect("accept"))
        .expect("write 101");
    tcp
}

/// Accepts the benchmark's one connection: plain TCP for the raw client, else a WebSocket.
fn accept_for(client: Client, listener: &TcpListener) -> TcpStream {
    if client == Client::Raw {
        let (tcp, _) = listener.accept().expect("accept");
        tcp.set_nodelay(true).expect("nodelay");
        tcp
    } else {
        accept_ws(listener)
    }
}

fn server_frame(payload: &[u8]) -> Vec<u8> {
    let header = FrameHeader::new(true, OpCode::Binary, None, payload.len() as u64);
    let mut out = Vec::new();
    encode_frame(&mut out, header, payload).expect("frame");
    out
}

fn client_frame(payload: &[u8]) -> Vec<u8> {
    let header = FrameHeader::new(
        true,
        OpCode::Binary,
        Some([1, 2, 3, 4]),
        payload.len() as u64,
    );
    let mut out = Vec::new();
    encode_frame(&mut out, header, payload).expect("frame");
    out
}

/// Which client runs a scenario.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Client {
    Raw,
    Ours,
    Tungstenite,
}

const CLIENTS: [Client; 3] = [Client::Raw, Client::Ours, Client::Tungstenite];

fn spawn_server(f: impl FnOnce(TcpListener) + Send + 'static) -> (u16, JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    (port, std::thread::spawn(move || f(listener)))
}

fn ws_client(port: u16) -> ws_client::WebSocket {
    ws_client::Config::builder()
        .proxy(ws_client::ProxyConfig::Direct)
        .limits(ws_client::Limits::default().max_frame_size(1 << 24))
        .build()
        .expect("config")
        .connect(&format!("ws://127.0.0.1:{port}/"))
        .expect("connect")
}

fn tungstenite_client(port: u16) -> tungstenite::WebSocket<TcpStream> {
    let tcp = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    tcp.set_nodelay(true).expect("nodelay");
    let (ws, _) =
        tungstenite::client::client(format!("ws://127.0.0.1:{port}/"), tcp).expect("handshake");
    ws
}

/// Receive: the server writes `count` frames of `size` bytes; returns messages per second.
fn recv(client: Client, size: usize, count: usize) -> f64 {
    let frame = server_frame(&vec![7u8; size]);
    let per_chunk = (256 * 1024 / frame.len()).max(1);
    let chunk: Vec<u8> = frame
        .iter()
        .copied()
        .cycle()
        .take(frame.len() * per_chunk)
        .collect();
    let total_bytes = frame.len() * count;
    let (port, server) = spawn_server(move |listener| {
        let mut tcp = accept_for(client, &listener);
        let mut left = total_bytes;
        while left > 0 {
            let n = left.min(chunk.len());
            tcp.write_all(&chunk[..n]).expect("stream frames");
            left -= n;
        }
        let mut sink = [0u8; 1024];
        let _ = tcp.read(&mut sink);
    });
    let started;
    match client {
        Client::Raw => {
            let mut tcp = TcpStream::connect(("127.0.0.1", port)).expect("connect");
            let mut buf = vec![0u8; 64 * 1024];
            let mut got = 0;
            started = Instant::now();
            while got < total_bytes {
                got += tcp.read(&mut buf).expect("read");
            }
        }
        Client::Ours => {
            let mut ws = ws_client(port);
            started = Instant::now();
            for _ in 0..count {
                let m = ws.recv().expect("recv");
                debug_assert_eq!(m.as_bytes().len(), size);
            }
        }
        Client::Tungstenite => {
            let mut ws = tungstenite_client(port);
            started = Instant::now();
            for _ in 0..count {
                let m = ws.read().expect("read");
                debug_assert_eq!(m.len(), size);
            }
        }
    }
    let rate = count as f64 / started.elapsed().as_secs_f64();
    server.join().expect("server");
    rate
}

/// Send: the server discards `count` client frames of `size` bytes, then sends "done".
fn send(client: Client, size: usize, count: usize, batch: bool) -> f64 {
    let payload = vec![7u8; size];
    let frame = client_frame(&payload);
    let total_bytes = frame.len() * count;
    let (port, server) = spawn_server(move |listener| {
        let mut tcp = accept_for(client, &listener);
        let mut buf = vec![0u8; 256 * 1024];
        let mut got = 0;
        while got < total_bytes {
            let n = tcp.read(&mut buf).expect("drain");
            assert!(n > 0, "client hung up after {got} of {total_bytes} bytes");
            got += n;
        }
        tcp.write_all(&server_frame(b"done")).expect("done");
        let _ = tcp.read(&mut buf);
    });
    let started;
    match client {
        Client::Raw => {
            let mut tcp = TcpStream::connect(("127.0.0.1", port)).expect("connect");
            tcp.set_nodelay(true).expect("nodelay");
            let all: Vec<u8> = if batch {
                frame.iter().copied().cycle().take(total_bytes).collect()
            } else {
                Vec::new()
            };
            started = Instant::now();
            if batch {
                tcp.write_all(&all).expect("write");
            } else {
                for _ in 0..count {
                    tcp.write_all(&frame).expect("write");
                }
            }
            let mut done = [0u8; 6];
            tcp.read_exact(&mut done).expect("done");
        }
        Client::Ours => {
            let mut ws = ws_client(port);
            started = Instant::now();
            for _ in 0..count {
                if batch {
                    ws.queue_binary(&payload).expect("queue");
                } else {
                    ws.send_binary(&payload).expect("send");
                }
            }
            ws.flush().expect("flush");
            ws.recv().expect("done");
        }
        Client::Tungstenite => {
            let mut ws = tungstenite_client(port);
            // A reference-counted payload: cloning it copies nothing, as a borrowed one would not.
            let shared = tungstenite::Bytes::from(payload.clone());
            started = Instant::now();
            for _ in 0..count {
                let m = tungstenite::Message::binary(shared.clone());
                if batch {
                    ws.write(m).expect("write");
                } else {
                    ws.send(m).expect("send");
                }
            }
            ws.flush().expect("flush");
            ws.read().expect("done");
        }
    }
    let rate = count as f64 / started.elapsed().as_secs_f64();
    server.join().expect("server");
    rate
}

/// Echo: one message out, the same back, `count` times.
fn echo(client: Client, size: usize, count: usize) -> f64 {
    let payload = vec![7u8; size];
    let frame = client_frame(&payload);
    let reply = server_frame(&payload);
    let (server_frame_len, server_reply) = (frame.len(), reply.clone());
    let (port, server) = spawn_server(move |listener| {
        let mut tcp = accept_for(client, &listener);
        // The server knows the frame length; it reads one frame and writes the reply.
        let mut buf = vec![0u8; server_frame_len];
        for _ in 0..count {
            tcp.read_exact(&mut buf).expect("read frame");
            tcp.write_all(&server_reply).expect("reply");
        }
        let _ = tcp.read(&mut buf);
    });
    let started;
    match client {
        Client::Raw => {
            let mut tcp = TcpStream::connect(("127.0.0.1", port)).expect("connect");
            tcp.set_nodelay(true).expect("nodelay");
            let mut back = vec![0u8; reply.len()];
            started = Instant::now();
            for _ in 0..count {
                tcp.write_all(&frame).expect("write");
                tcp.read_exact(&mut back).expect("read");
            }
        }
        Client::Ours => {
            let mut ws = ws_client(port);
            started = Instant::now();
            for _ in 0..count {
                ws.send_binary(&payload).expect("send");
                ws.recv().expect("recv");
            }
        }
        Client::Tungstenite => {
            let mut ws = tungstenite_client(port);
            let shared = tungstenite::Bytes::from(payload.clone());
            started = Instant::now();
            for _ in 0..count {
                ws.send(tungstenite::Message::binary(shared.clone()))
                    .expect("send");
                ws.read().expect("read");
            }
        }
    }
    let rate = count as f64 / started.elapsed().as_secs_f64();
    server.join().expect("server");
    rate
}

fn median(mut runs: Vec<f64>) -> f64 {
    runs.sort_by(f64::total_cmp);
    runs[runs.len() / 2]
}

fn human(size: usize) -> String {
    match size {
        s if s >= 1 << 20 => format!("{} MiB", s >> 20),
        s if s >= 1 << 10 => format!("{} KiB", s >> 10),
        s => format!("{s} B"),
    }
}

fn main() {
    let filter: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let wanted = |name: &str| filter.is_empty() || filter.iter().any(|f| name.contains(f.as_str()));
    // LOOPBACK_CLIENT=raw|ws-client|tungstenite runs one client only (for profiling).
    let only = match std::env::var("LOOPBACK_CLIENT").as_deref() {
        Ok("raw") => Some(Client::Raw),
        Ok("ws-client") => Some(Client::Ours),
        Ok("tungstenite") => Some(Client::Tungstenite),
        _ => None,
    };
    // (message size, messages per run) so that one run takes a fraction of a second.
    let sizes = [
        (16, 1_000_000),
        (128, 500_000),
        (1 << 10, 200_000),
        (64 << 10, 5_000),
        (1 << 20, 300),
    ];
    println!(
        "| scenario | size | raw TCP msg/s | ws-client msg/s | tungstenite msg/s | ws-client / tungstenite | ws-client / raw |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|");
    type Scenario = (
        &'static str,
        fn(Client, usize, usize) -> f64,
        &'static [usize],
    );
    let scenarios: [Scenario; 4] = [
        ("recv", recv, &[16, 128, 1 << 10, 64 << 10, 1 << 20]),
        (
            "send",
            |c, s, n| send(c, s, n / 4, false),
            &[16, 128, 1 << 10, 64 << 10, 1 << 20],
        ),
        (
            "send-batch",
            |c, s, n| send(c, s, n, true),
            &[16, 128, 1 << 10, 64 << 10, 1 << 20],
        ),
        ("echo", |c, s, n| echo(c, s, n / 20), &[16, 1 << 10]),
    ];
    for (name, run, scenario_sizes) in scenarios {
        if !wanted(name) {
            continue;
        }
        for &(size, count) in sizes.iter().filter(|(s, _)| scenario_sizes.contains(s)) {
            if !wanted(&human(size)) && filter.iter().any(|f| f.ends_with('B')) {
                continue;
            }
            let rates: Vec<f64> = CLIENTS
                .iter()
                .map(|&client| {
                    if only.is_some_and(|o| o != client) {
                        return f64::NAN;
                    }
                    median((0..RUNS).map(|_| run(client, size, count)).collect())
                })
                .collect();
            let (raw, ours, theirs) = (rates[0], rates[1], rates[2]);
            println!(
                "| {name} | {} | {:.0} | {:.0} | {:.0} | {:.2}× | {:.2}× |",
                human(size),
                raw,
                ours,
                theirs,
                ours / theirs,
                ours / raw
            );
        }
    }
}
