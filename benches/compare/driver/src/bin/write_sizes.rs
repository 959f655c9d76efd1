//! What the kernel alone costs a sender on loopback, by write size: raw TCP writes the same
//! bytes in writes of each size (no WebSocket work at all) to a reader pinned like the
//! comparison's server thread (the second CPU, reading into 256 KiB), and the sending
//! thread's CPU time per KiB sent is printed for every repetition, sorted, with how many
//! times each CPU went idle per MiB sent (`compare_proto::idle_entries`; absent where Linux
//! does not expose it).
//!
//! ```sh
//! cd benches/compare
//! cargo run --release --bin write-sizes -- [--reps N] [--mib M] KIB...
//! # e.g. `-- 128 256`: 15 repetitions of 200 MiB per size, sizes in rotating order
//! ```
//!
//! It is the floor under the batched-send rows (`send-batch`): a client that queues
//! messages and writes them in writes of a size pays at least this per KiB, and on a VM the
//! cost of a write size can change between two modes from one repetition to the next
//! (docs/performance.md, "The modes on the EPYC").

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::ExitCode;
use std::time::Duration;

use compare_proto::{Side, idle_entries, idle_per_mib, pin, thread_cpu_time};

/// The reader's buffer: the comparison's server thread reads into 256 KiB as well.
const READ_BUFFER: usize = 256 * 1024;

struct Options {
    reps: usize,
    total: usize,
    sizes: Vec<usize>,
}

fn parse(mut args: impl Iterator<Item = String>) -> Result<Options, String> {
    let mut options = Options {
        reps: 15,
        total: 200 << 20,
        sizes: Vec::new(),
    };
    while let Some(arg) = args.next() {
        let number = |name: &str, value: Option<String>| match value {
            None => Err(format!(
                "{name} needs a positive number, and none was given"
            )),
            Some(v) => v
                .parse::<usize>()
                .ok()
                .filter(|&n| n > 0)
                .ok_or_else(|| format!("{name} needs a positive number, not {v:?}")),
        };
        match arg.as_str() {
            "--reps" => options.reps = number("--reps", args.next())?,
            "--mib" => options.total = number("--mib", args.next())? << 20,
            size => options
                .sizes
                .push(number("a write size in KiB", Some(size.to_string()))? << 10),
        }
    }
    if options.sizes.is_empty() {
        return Err("usage: write-sizes [--reps N] [--mib M] KIB...".to_string());
    }
    Ok(options)
}

/// Reads `total` bytes from every connection, then answers one byte so the sender knows
/// all of it arrived.
fn serve(listener: TcpListener, total: usize) {
    pin(Side::Server);
    let mut buf = vec![0u8; READ_BUFFER];
    for conn in listener.incoming() {
        let Ok(mut conn) = conn else { return };
        let mut got = 0;
        while got < total {
            match conn.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => got += n,
            }
        }
        let _ = conn.write_all(b"x");
    }
}

/// One repetition: `total` bytes in writes of `size`; the sending thread's CPU time.
fn send(addr: std::net::SocketAddr, size: usize, total: usize) -> Result<Duration, String> {
    let mut conn = TcpStream::connect(addr).map_err(|e| format!("connect: {e}"))?;
    conn.set_nodelay(true)
        .map_err(|e| format!("nodelay: {e}"))?;
    let chunk = vec![7u8; size];
    let start = thread_cpu_time();
    let mut left = total;
    while left > 0 {
        let n = left.min(size);
        conn.write_all(&chunk[..n])
            .map_err(|e| format!("write: {e}"))?;
        left -= n;
    }
    let cpu = thread_cpu_time().saturating_sub(start);
    let mut done = [0u8; 1];
    conn.read_exact(&mut done)
        .map_err(|e| format!("the reader did not answer: {e}"))?;
    Ok(cpu)
}

fn run(options: &Options) -> Result<(), String> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| format!("bind: {e}"))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let total = options.total;
    std::thread::spawn(move || serve(listener, total));
    pin(Side::Client);
    // Per size, per repetition: the CPU per KiB, and each CPU's idle entries per MiB.
    let mut runs: Vec<Vec<(f64, Vec<f64>)>> = vec![Vec::new(); options.sizes.len()];
    let count = options.sizes.len();
    for rep in 0..options.reps {
        for turn in 0..count {
            let i = (rep + turn) % count;
            let idle_before = idle_entries();
            let cpu = send(addr, options.sizes[i], total)?;
            let idle = idle_per_mib(&idle_before, total);
            runs[i].push((cpu.as_nanos() as f64 / (total as f64 / 1024.0), idle));
        }
    }
    println!(
        "sender CPU per KiB sent, {} repetitions of {} MiB, sorted; in brackets each CPU's \
         idle entries per MiB (the sender is pinned to the first CPU it may use, the reader \
         to the second):",
        options.reps,
        total >> 20
    );
    for (size, mut runs) in options.sizes.iter().zip(runs) {
        runs.sort_by(|a, b| a.0.total_cmp(&b.0));
        let shown: Vec<String> = runs
            .iter()
            .map(|(ns, idle)| {
                let idle: Vec<String> = idle.iter().map(|n| format!("{n:.1}")).collect();
                format!("{ns:.0} [{}]", idle.join("/"))
            })
            .collect();
        println!("write {:>5} KiB: {} ns", size >> 10, shown.join(", "));
    }
    Ok(())
}

fn main() -> ExitCode {
    match parse(std::env::args().skip(1)).and_then(|options| run(&options)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("write-sizes: {message}");
            ExitCode::FAILURE
        }
    }
}
