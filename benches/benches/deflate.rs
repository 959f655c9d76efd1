//! permessage-deflate: receiving and sending JSON-like text compressed and plain, through a
//! client and a server session in memory, at 128 B, 16 KiB and 1 MiB. Each benchmark prints
//! the bytes on the wire once, so the table in `docs/performance.md` can give the ratio.
//!
//! ```sh
//! cargo bench -p ws-benches --bench deflate
//! ```

#![allow(clippy::unwrap_used)] // benchmarks fail loudly by design

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use ws_deflate::DeflateConfig;
use ws_frame::{Config, Event, Session};
use ws_handshake::Extension;

const KEY: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

/// A feed of JSON objects, as exchange and chat feeds send.
fn json(size: usize) -> String {
    let mut s = String::with_capacity(size + 100);
    let mut i = 0u64;
    while s.len() < size {
        s.push_str(&format!(
            "{{\"seq\":{i},\"symbol\":\"BTC-USD\",\"price\":{}.{},\"size\":{},\"side\":\"{}\"}}",
            60_000 + i * 37 % 1000,
            i * 13 % 100,
            i % 17 + 1,
            if i % 3 == 0 { "buy" } else { "sell" }
        ));
        i += 1;
    }
    s.truncate(size);
    s
}

/// A client and a server session, with deflate negotiated when `compress`.
fn pair(compress: bool) -> (Session<impl FnMut() -> [u8; 4]>, Session) {
    let limits = ws_frame::Limits::default();
    let mut client = Session::client(Config::default().limits(limits), || KEY);
    let mut server = Session::server(Config::default().limits(limits));
    if compress {
        let config = DeflateConfig::default();
        let (answer, server_side) = config
            .accept_offers(&Extension::parse_list(&config.offer()))
            .unwrap();
        let client_side = config
            .accept_response(&Extension::parse_list(&answer))
            .unwrap()
            .unwrap();
        client.set_extension(Box::new(client_side));
        server.set_extension(Box::new(server_side));
    }
    (client, server)
}

fn deflate(c: &mut Criterion) {
    let mut group = c.benchmark_group("deflate");
    for size in [128usize, 16 << 10, 1 << 20] {
        let text = json(size);
        group.throughput(Throughput::Bytes(size as u64));
        for compress in [false, true] {
            let mode = if compress { "compressed" } else { "plain" };
            // Sending: the client encodes (and compresses) one message.
            let (mut client, _) = pair(compress);
            client.send_text(&text).unwrap();
            eprintln!(
                "deflate {mode} {size} B: {} bytes on the wire",
                client.pending_output().len()
            );
            let n = client.pending_output().len();
            client.consume_output(n);
            group.bench_function(BenchmarkId::new(format!("send_{mode}"), size), |b| {
                b.iter(|| {
                    client.send_text(black_box(&text)).unwrap();
                    let n = client.pending_output().len();
                    client.consume_output(n);
                });
            });
            // Receiving: the client decodes (and inflates) what the server sent, a batch of
            // messages prepared once so the server's compression is not measured.
            let (_, mut server) = pair(compress);
            let batch = (4 << 20) / size.max(1) + 1;
            let mut wire = Vec::new();
            for _ in 0..batch {
                server.send_text(&text).unwrap();
                wire.extend_from_slice(server.pending_output());
                let n = server.pending_output().len();
                server.consume_output(n);
            }
            // With context takeover each message depends on the ones before: the receiving
            // session must see the whole batch in order, once per iteration, so it is reset
            // by making a new pair per iteration of the batch.
            group.throughput(Throughput::Bytes((size * batch) as u64));
            group.bench_function(BenchmarkId::new(format!("recv_{mode}"), size), |b| {
                b.iter_batched(
                    || pair(compress).0,
                    |mut fresh| {
                        let mut total = 0;
                        for piece in wire.chunks(64 << 10) {
                            fresh.receive_data(piece);
                            while let Some(Event::Text(t)) = fresh.next_event().unwrap() {
                                total += t.len();
                            }
                        }
                        black_box(total)
                    },
                    criterion::BatchSize::LargeInput,
                );
            });
            group.throughput(Throughput::Bytes(size as u64));
        }
    }
    group.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(20)
}

criterion_group! {
    name = benches;
    config = config();
    targets = deflate
}
criterion_main!(benches);
