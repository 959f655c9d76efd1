//! ws-frame micro-benchmarks: masking, UTF-8 validation, decoding and encoding.
//!
//! Run with `cargo xtask bench` (or `cargo bench -p ws-benches -- <filter>`); the numbers and
//! the machine are recorded in `docs/performance.md`.

#![allow(clippy::unwrap_used)] // tests and benchmarks fail loudly by design

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use ws_frame::{
    Config, Decoder, Event, FrameHeader, Limits, OpCode, Role, Session, Utf8Validator, apply_mask,
    apply_mask_bytes, encode_frame,
};

const KEY: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

fn masking(c: &mut Criterion) {
    let mut group = c.benchmark_group("mask");
    for size in [125usize, 4 << 10, 1 << 20] {
        let mut buf = vec![0x5Au8; size];
        group.throughput(Throughput::Bytes(size as u64));
        group.bench_with_input(
            BenchmarkId::new("bytewise_reference", size),
            &size,
            |b, _| {
                b.iter(|| apply_mask_bytes(black_box(&mut buf), KEY, 1));
            },
        );
        group.bench_with_input(BenchmarkId::new("apply_mask", size), &size, |b, _| {
            b.iter(|| apply_mask(black_box(&mut buf), KEY, 1));
        });
    }
    group.finish();
}

/// 1 MiB of text: ASCII, or a mix of 1- to 4-byte code points.
fn text(mixed: bool) -> Vec<u8> {
    let unit = if mixed {
        "Grüße, Καλημέρα, こんにちは, 🦀 and ASCII. "
    } else {
        "The quick brown fox jumps over the lazy dog. "
    };
    let mut s = String::new();
    while s.len() < (1 << 20) {
        s.push_str(unit);
    }
    s.into_bytes()
}

fn utf8(c: &mut Criterion) {
    let mut group = c.benchmark_group("utf8");
    for (name, data) in [("ascii_1MiB", text(false)), ("mixed_1MiB", text(true))] {
        group.throughput(Throughput::Bytes(data.len() as u64));
        group.bench_function(BenchmarkId::new("std_from_utf8", name), |b| {
            b.iter(|| std::str::from_utf8(black_box(&data)).is_ok());
        });
        group.bench_function(BenchmarkId::new("validator_whole", name), |b| {
            b.iter(|| {
                let mut v = Utf8Validator::new();
                v.feed(black_box(&data)).and_then(|()| v.finish()).is_ok()
            });
        });
        group.bench_function(BenchmarkId::new("validator_4KiB_pieces", name), |b| {
            b.iter(|| {
                let mut v = Utf8Validator::new();
                for piece in black_box(&data).chunks(4093) {
                    v.feed(piece).unwrap();
                }
                v.finish().is_ok()
            });
        });
    }
    group.finish();
}

/// `count` unmasked binary frames of `size` bytes, as a server sends them.
fn frames(count: usize, size: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for _ in 0..count {
        encode_frame(
            &mut out,
            FrameHeader::new(true, OpCode::Binary, None, 0),
            &vec![7; size],
        )
        .unwrap();
    }
    out
}

/// Decodes every frame in `wire` (unmasking in place) and returns the payload bytes seen.
fn decode_all(role: Role, wire: &mut [u8]) -> usize {
    let mut decoder = Decoder::new(role, Limits::default());
    let (mut pos, mut total) = (0, 0);
    while let Some(chunk) = decoder.decode(&mut wire[pos..]).unwrap() {
        total += chunk.payload.len();
        pos += chunk.consumed;
    }
    total
}

fn decoding(c: &mut Criterion) {
    let mut group = c.benchmark_group("decode");
    for (count, size) in [(4096usize, 16usize), (64, 64 << 10)] {
        let mut wire = frames(count, size);
        group.throughput(Throughput::Elements(count as u64));
        group.bench_function(
            BenchmarkId::new("decoder_frames", format!("{count}x{size}B")),
            |b| {
                b.iter(|| black_box(decode_all(Role::Client, &mut wire)));
            },
        );
        group.throughput(Throughput::Bytes(wire.len() as u64));
        // A server unmasks every payload in place: the decode cost with masking included.
        let mut masked = Vec::new();
        for _ in 0..count {
            let header = FrameHeader::new(true, OpCode::Binary, Some(KEY), 0);
            encode_frame(&mut masked, header, &vec![7; size]).unwrap();
        }
        group.bench_function(
            BenchmarkId::new("decoder_masked", format!("{count}x{size}B")),
            |b| {
                b.iter(|| black_box(decode_all(Role::Server, &mut masked)));
            },
        );
        group.bench_function(
            BenchmarkId::new("session_messages", format!("{count}x{size}B")),
            |b| {
                let mut session =
                    Session::client(Config::default().read_buffer_size(128 << 10), || KEY);
                b.iter(|| {
                    let mut total = 0;
                    for piece in wire.chunks(128 << 10) {
                        session.receive_data(piece);
                        while let Some(event) = session.next_event().unwrap() {
                            if let Event::Binary(data) = event {
                                total += data.len();
                            }
                        }
                    }
                    black_box(total)
                });
            },
        );
    }
    // Frames that do not line up with reads: 16 KiB frames (binary, and ASCII text) read
    // through the session's own buffer (`input_buffer` / `commit_input`) in reads of 100,000
    // bytes, so about one frame in six straddles two reads.
    for (name, opcode) in [("binary", OpCode::Binary), ("text", OpCode::Text)] {
        let mut wire = Vec::new();
        for _ in 0..256 {
            let header = FrameHeader::new(true, opcode, None, 0);
            encode_frame(&mut wire, header, &[b'x'; 16 << 10]).unwrap();
        }
        group.throughput(Throughput::Bytes(wire.len() as u64));
        group.bench_function(
            BenchmarkId::new("session_straddling_reads", format!("256x16KiB_{name}")),
            |b| {
                let mut session = Session::client(Config::default(), || KEY);
                b.iter(|| {
                    let mut total = 0;
                    let mut fed = 0;
                    while fed < wire.len() {
                        let room = session.input_buffer();
                        let n = room.len().min(100_000).min(wire.len() - fed);
                        room[..n].copy_from_slice(&wire[fed..fed + n]);
                        session.commit_input(n);
                        fed += n;
                        while let Some(event) = session.next_event().unwrap() {
                            match event {
                                Event::Binary(data) => total += data.len(),
                                Event::Text(text) => total += text.len(),
                                _ => {}
                            }
                        }
                    }
                    assert_eq!(total, 256 << 14);
                    black_box(total)
                });
            },
        );
    }
    group.finish();
}

fn encoding(c: &mut Criterion) {
    let mut group = c.benchmark_group("encode");
    for size in [16usize, 1 << 10, 16 << 10, 64 << 10, 1 << 20] {
        let payload = vec![9u8; size];
        let mut out = Vec::with_capacity(size + 14);
        group.throughput(Throughput::Bytes(size as u64));
        group.bench_function(BenchmarkId::new("masked_frame", size), |b| {
            b.iter(|| {
                out.clear();
                let header = FrameHeader::new(true, OpCode::Binary, Some(KEY), 0);
                encode_frame(&mut out, header, black_box(&payload)).unwrap();
                black_box(out.len())
            });
        });
        let mut session = Session::client(Config::default(), || KEY);
        group.bench_function(BenchmarkId::new("session_send_binary", size), |b| {
            b.iter(|| {
                session.send_binary(black_box(&payload)).unwrap();
                let n = session.pending_output().len();
                session.consume_output(n);
            });
        });
    }
    group.finish();
}

/// A 1 MiB text message arriving in 64 KiB reads, handed out as an owned `String` the way
/// `ws-client`'s `recv` does: validated as it arrives, then taken (`take_text`).
fn text_messages(c: &mut Criterion) {
    let mut group = c.benchmark_group("text");
    for (name, mixed) in [("ascii", false), ("mixed", true)] {
        let payload = text(mixed);
        let mut wire = Vec::new();
        encode_frame(
            &mut wire,
            FrameHeader::new(true, OpCode::Text, None, 0),
            &payload,
        )
        .unwrap();
        group.throughput(Throughput::Bytes(payload.len() as u64));
        group.bench_function(BenchmarkId::new("session_owned_1MiB", name), |b| {
            let mut session = Session::client(Config::default(), || KEY);
            b.iter(|| {
                let mut got = 0;
                for piece in wire.chunks(64 << 10) {
                    session.receive_data(piece);
                    if let Some(Event::Text(_)) = session.next_event().unwrap() {
                        got += session.take_text().len();
                    }
                }
                black_box(got)
            });
        });
    }
    group.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(30)
}

criterion_group! {
    name = benches;
    config = config();
    targets = masking, utf8, decoding, encoding, text_messages
}
criterion_main!(benches);
