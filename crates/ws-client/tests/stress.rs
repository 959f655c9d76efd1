//! Full duplex under load: a `Receiver` and 8 `Sender` threads on split halves against the
//! echo server, over TCP and over TLS, messages of 0 B to 256 KiB, every message checked in
//! per-thread order. Before the split was redesigned this hung every time (a sender blocked on
//! a full socket while holding the lock the receiver needed to decode).
//!
//! `cargo test` runs one short round of each; `cargo xtask ci` runs the gate: at least
//! `STRESS_SECONDS` (default 20) of 100,000-message rounds in release
//! (`cargo test --release -p ws-client --test stress -- --ignored`).
#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use test_support::{Pki, tls_server, within};
use ws_client::echo::EchoServer;
use ws_client::{CloseCode, Config, Message, ProxyConfig, TlsConfig, WebSocket};

const THREADS: usize = 8;
/// Messages of at least this size carry `T:SSSSSSSS:` (thread, sequence) at the front.
const HEADER: usize = 11;

/// xorshift64*: deterministic sizes, so the receiver can rebuild every sender's plan.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// 0 B to 256 KiB, mostly small: 90 % up to 1.5 KB, 9 % up to 64 KiB, 1 % up to 256 KiB.
    fn size(&mut self) -> usize {
        let bucket = self.next() % 100;
        let max = match bucket {
            0 => 256 << 10,
            1..=9 => 64 << 10,
            _ => 1500,
        };
        (self.next() % (max + 1)) as usize
    }
}

/// One sender's messages: (size, text?).
fn plan(thread: usize, count: usize) -> Vec<(usize, bool)> {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ ((thread as u64 + 1) * 0x1000_0001));
    (0..count)
        .map(|_| {
            let size = rng.size();
            (size, rng.next() % 4 == 0)
        })
        .collect()
}

/// The payload of `thread`'s message `seq`. Text payloads are ASCII.
fn payload(thread: usize, seq: usize, size: usize, text: bool) -> Vec<u8> {
    if size < HEADER {
        return vec![b'a' + thread as u8; size];
    }
    let mut bytes = format!("{thread}:{seq:08}:").into_bytes();
    bytes.extend((HEADER..size).map(|i| {
        if text {
            b'a' + ((thread * 7 + seq + i) % 26) as u8
        } else {
            (thread * 131 + seq * 7 + i * 13) as u8
        }
    }));
    bytes
}

fn message(thread: usize, seq: usize, (size, text): (usize, bool)) -> Message {
    let bytes = payload(thread, seq, size, text);
    if text {
        Message::Text(String::from_utf8(bytes).unwrap())
    } else {
        Message::Binary(bytes)
    }
}

/// Sends `per_thread` messages from each of 8 threads while the receiver checks each one;
/// returns the number of messages checked.
fn round(ws: WebSocket, per_thread: usize) -> usize {
    let plans: Vec<Vec<(usize, bool)>> = (0..THREADS).map(|t| plan(t, per_thread)).collect();
    let (mut rx, tx) = ws.split();
    let senders: Vec<_> = (0..THREADS)
        .map(|thread| {
            let tx = tx.clone();
            let plan = plans[thread].clone();
            std::thread::spawn(move || {
                for (seq, &spec) in plan.iter().enumerate() {
                    tx.send(message(thread, seq, spec)).unwrap();
                }
            })
        })
        .collect();
    let mut next = [0usize; THREADS];
    // Empty messages name no sender: they are counted here and matched to a sender when
    // that sender's next message comes, or at the end.
    let mut empties = 0usize;
    let expect = |thread: usize, next: &mut [usize; THREADS], empties: &mut usize| {
        while next[thread] < per_thread && plans[thread][next[thread]].0 == 0 {
            assert!(*empties > 0, "thread {thread}: a message went missing");
            *empties -= 1;
            next[thread] += 1;
        }
        assert!(
            next[thread] < per_thread,
            "thread {thread}: more messages than sent"
        );
        message(thread, next[thread], plans[thread][next[thread]])
    };
    for received in 0..THREADS * per_thread {
        let got = rx.recv().unwrap();
        let bytes = got.as_bytes();
        if bytes.is_empty() {
            empties += 1;
            continue;
        }
        let thread = if bytes.len() >= HEADER && bytes[1] == b':' {
            usize::from(bytes[0] - b'0')
        } else {
            usize::from(bytes[0] - b'a')
        };
        assert!(
            thread < THREADS,
            "message {received} names no sender: {got:?}"
        );
        let expected = expect(thread, &mut next, &mut empties);
        assert!(
            got == expected,
            "thread {thread}: message {} out of order or corrupted: got {} bytes starting {:?}, \
             expected {} bytes",
            next[thread],
            bytes.len(),
            String::from_utf8_lossy(&bytes[..bytes.len().min(HEADER)]),
            expected.as_bytes().len(),
        );
        next[thread] += 1;
    }
    for thread in 0..THREADS {
        while next[thread] < per_thread {
            assert_eq!(
                plans[thread][next[thread]].0, 0,
                "thread {thread}: messages missing"
            );
            assert!(
                empties > 0,
                "thread {thread}: an empty message went missing"
            );
            empties -= 1;
            next[thread] += 1;
        }
    }
    assert_eq!(empties, 0, "more empty messages than sent");
    for sender in senders {
        sender.join().unwrap();
    }
    tx.send_close(CloseCode::NORMAL, "done").unwrap();
    match rx.recv().unwrap() {
        Message::Close(frame) => assert_eq!(frame.unwrap().code, CloseCode::NORMAL),
        other => panic!("a message after all were checked: {other:?}"),
    }
    THREADS * per_thread
}

fn plain() -> WebSocket {
    let server = EchoServer::start().unwrap();
    Config::builder()
        .proxy(ProxyConfig::Direct)
        .build()
        .unwrap()
        .connect(&server.url())
        .unwrap()
}

fn tls(pki: &Pki) -> WebSocket {
    let (port, _) = tls_server(pki, false, |tls| {
        ws_client::echo::serve(tls).map_err(|e| std::io::Error::other(e.to_string()))
    });
    Config::builder()
        .proxy(ProxyConfig::Direct)
        .tls(TlsConfig::default().ca_pem(pki.ca_pem.clone()))
        .build()
        .unwrap()
        .connect(&format!("wss://localhost:{port}/"))
        .unwrap()
}

#[test]
fn split_halves_full_duplex_over_tcp() {
    within(
        Duration::from_secs(60),
        "8 senders and a receiver, TCP",
        || round(plain(), 300),
    );
}

#[test]
fn split_halves_full_duplex_over_tls() {
    within(
        Duration::from_secs(60),
        "8 senders and a receiver, TLS",
        || round(tls(&Pki::new()), 150),
    );
}

/// The CI gate: 100,000-message rounds, TCP and TLS in turn, for at least `STRESS_SECONDS`.
#[test]
#[ignore = "a long stress run; `cargo xtask ci` runs it in release"]
fn stress_gate() {
    let seconds: u64 = std::env::var("STRESS_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20);
    let per_thread = 100_000 / THREADS;
    let started = Instant::now();
    let pki = Pki::new();
    let mut rounds = 0;
    let mut messages = 0;
    while rounds < 2 || started.elapsed() < Duration::from_secs(seconds) {
        let secure = rounds % 2 == 1;
        let ws = if secure { tls(&pki) } else { plain() };
        let what = format!("round {rounds} ({})", if secure { "TLS" } else { "TCP" });
        let round_start = Instant::now();
        messages += within(Duration::from_secs(120), &what, move || {
            round(ws, per_thread)
        });
        eprintln!(
            "{what}: 100000 messages in {:.1} s",
            round_start.elapsed().as_secs_f64()
        );
        rounds += 1;
    }
    eprintln!(
        "stress gate: {rounds} rounds, {messages} messages checked in {:.1} s",
        started.elapsed().as_secs_f64()
    );
}
