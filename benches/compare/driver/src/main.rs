//! The loopback comparison: ws-client against raw TCP, tungstenite and fastwebsockets, in one
//! run with interleaved repetitions.
//!
//! ```sh
//! cargo xtask bench --compare                   # builds both binaries, runs every row
//! compare --ours PATH [--reps N] [--verbose] [FILTER...]
//!                                               # what xtask runs; FILTER matches "recv 16 B",
//!                                               # --verbose prints every run's rate, CPU
//!                                               # time and idle entries per MiB
//! compare client NAME SCENARIO SIZE COUNT PORT  # one peer client run (the driver's child)
//! ```
//!
//! For each row, each repetition runs every client once, in an order that rotates from one
//! repetition to the next, each in its own process against a fresh server thread of this
//! process. A row reports ws-client's median rate and, per peer, the median of the
//! per-repetition ratios (ws-client ÷ peer) with their minimum and maximum: the spread.
//! Raw TCP does no WebSocket work, so the per-message send rows and the receive rows of
//! messages larger than its read buffer also run the raw floor (`raw-floor`): raw TCP doing
//! only what a client cannot avoid and raw TCP skips (copying and masking each payload;
//! reading each message whole into one buffer, and checking text), the limit a WebSocket
//! client can reach in that row.
//! The idle row reports resident memory per open connection instead (lower is better).
//! With two CPUs or more, every client process runs on the first CPU and the server thread
//! on the second (`compare_proto::pin`). The TLS rows (`recv-tls`, `send-tls`) serve with a
//! test CA made once per run, whose PEM the clients get in `COMPARE_CA_PEM`.

mod peers;
mod server;

use std::process::{Command, Stdio};
use std::sync::{Arc, mpsc};
use std::time::Duration;

use compare_proto::Scenario;

/// The clients of a row, ws-client first; receive rows also run ws-client's `recv_ref`
/// (`ws-client-ref`), compared with the same peers, and the idle row also holds connections
/// split into halves (`ws-client-split`), as `ws-app` holds them.
const CLIENTS: [&str; 4] = ["ws-client", "raw", "tungstenite", "fastwebsockets"];

/// The clients that run `scenario` with messages of `size`.
fn clients(scenario: Scenario, size: usize) -> Vec<&'static str> {
    let mut clients = CLIENTS.to_vec();
    if scenario.is_recv() {
        clients.insert(1, "ws-client-ref");
    }
    if peers::floor_rows(scenario, size) {
        clients.insert(clients.len() - 2, "raw-floor");
    }
    if scenario == Scenario::Idle {
        clients.insert(1, "ws-client-split");
    }
    clients
}

/// The peers a row compares with (the clients that are not ws-client); `raw-floor` only runs
/// in [`peers::floor_rows`].
const PEERS: [&str; 4] = ["raw", "raw-floor", "tungstenite", "fastwebsockets"];

/// A client run that takes longer than this is a hang: it is killed and the run fails.
const WATCHDOG: Duration = Duration::from_secs(120);

/// (scenario, message size, messages per run): a run takes a fraction of a second.
const ROWS: &[(Scenario, usize, usize)] = &[
    (Scenario::Recv, 16, 1_000_000),
    (Scenario::Recv, 128, 500_000),
    (Scenario::Recv, 1 << 10, 200_000),
    (Scenario::Recv, 16 << 10, 20_000),
    (Scenario::Recv, 64 << 10, 5_000),
    (Scenario::Recv, 1 << 20, 300),
    (Scenario::RecvAscii, 16 << 10, 20_000),
    (Scenario::RecvMixed, 16 << 10, 20_000),
    (Scenario::RecvMixed, 1 << 20, 300),
    (Scenario::Send, 16, 250_000),
    (Scenario::Send, 128, 200_000),
    (Scenario::Send, 1 << 10, 100_000),
    (Scenario::Send, 16 << 10, 20_000),
    (Scenario::Send, 64 << 10, 5_000),
    (Scenario::Send, 1 << 20, 300),
    (Scenario::SendBatch, 16, 1_000_000),
    (Scenario::SendBatch, 128, 500_000),
    (Scenario::SendBatch, 1 << 10, 200_000),
    (Scenario::SendBatch, 16 << 10, 20_000),
    (Scenario::SendBatch, 64 << 10, 5_000),
    (Scenario::SendBatch, 1 << 20, 300),
    (Scenario::Echo, 16, 20_000),
    (Scenario::Echo, 1 << 10, 20_000),
    (Scenario::RecvTls, 128, 500_000),
    (Scenario::RecvTls, 16 << 10, 20_000),
    (Scenario::SendTls, 128, 200_000),
    (Scenario::SendTls, 16 << 10, 20_000),
    (Scenario::Idle, 0, 1_000),
];

fn human(size: usize) -> String {
    match size {
        0 => "-".to_string(),
        s if s >= 1 << 20 => format!("{} MiB", s >> 20),
        s if s >= 1 << 10 => format!("{} KiB", s >> 10),
        s => format!("{s} B"),
    }
}

fn rate(value: f64) -> String {
    match value {
        v if v >= 1e6 => format!("{:.2} M", v / 1e6),
        v if v >= 1e3 => format!("{:.1} k", v / 1e3),
        v => format!("{v:.0}"),
    }
}

/// The certificates of the TLS rows, made once per run: the CA's PEM for the clients and
/// the server's configuration.
struct Pki {
    ca_pem: String,
    server: Arc<rustls::ServerConfig>,
}

impl Pki {
    fn new() -> Self {
        let pki = test_support::Pki::new();
        Self {
            server: pki.server_config(false),
            ca_pem: pki.ca_pem,
        }
    }
}

/// What one client run measured.
#[derive(Clone, Debug)]
struct Run {
    /// Messages per second (bytes per connection for the idle row).
    value: f64,
    /// CPU nanoseconds (user and system) the client process spent per message; zero for
    /// the idle row.
    cpu_per_message: f64,
    /// How often each CPU went idle per MiB of payload while the client ran, handshake
    /// included (`compare_proto::idle_entries`; empty where Linux does not expose it).
    /// `--verbose` prints it: it tells the kernel's two modes apart.
    idle_per_mib: Vec<f64>,
}

/// Runs one client process for one row.
fn run_client(
    pki: &Pki,
    ours: &str,
    client: &str,
    scenario: Scenario,
    size: usize,
    count: usize,
) -> Result<Run, String> {
    let raw = client.starts_with("raw");
    let (port, server) = server::start(scenario, size, count, raw, &pki.server);
    let args = [
        scenario.name().to_string(),
        size.to_string(),
        count.to_string(),
        port.to_string(),
    ];
    let mut command = if client == "ws-client" {
        Command::new(ours)
    } else if client == "ws-client-ref" {
        let mut command = Command::new(ours);
        command.env("COMPARE_RECV_REF", "1");
        command
    } else if client == "ws-client-split" {
        let mut command = Command::new(ours);
        command.env("COMPARE_SPLIT", "1");
        command
    } else {
        let mut command = Command::new(std::env::current_exe().map_err(|e| e.to_string())?);
        command.args(["client", client]);
        command
    };
    let idle_before = compare_proto::idle_entries();
    let child = command
        .args(&args)
        .env(compare_proto::CA_PEM_VAR, &pki.ca_pem)
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start {client}: {e}"))?;
    // A thread waits for the child, so this one sleeps until it ends or the watchdog fires
    // instead of waking up to poll it while the run is measured.
    let pid = child.id();
    let (done, ended) = mpsc::channel();
    let waiter = std::thread::spawn(move || {
        let output = child.wait_with_output();
        let _ = done.send(());
        output
    });
    if ended.recv_timeout(WATCHDOG).is_err() {
        compare_proto::kill(pid);
        let _ = waiter.join();
        return Err(format!(
            "{client} {} {}: no result in {WATCHDOG:?}",
            scenario.name(),
            human(size)
        ));
    }
    let output = waiter
        .join()
        .map_err(|_| format!("waiting for {client} failed"))?
        .map_err(|e| format!("{client}: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "{client} {} {}: {}",
            scenario.name(),
            human(size),
            output.status
        ));
    }
    server
        .join()
        .map_err(|_| format!("the server of {client} {} failed", scenario.name()))?;
    let idle_per_mib = compare_proto::idle_per_mib(&idle_before, size * count);
    let out = String::from_utf8_lossy(&output.stdout);
    let numbers: Vec<f64> = out
        .split_whitespace()
        .map(str::parse)
        .collect::<Result<_, _>>()
        .map_err(|_| format!("{client}: not numbers: {out:?}"))?;
    match (scenario, numbers.as_slice()) {
        (Scenario::Idle, &[bytes]) => Ok(Run {
            value: bytes,
            cpu_per_message: 0.0,
            idle_per_mib,
        }),
        (_, &[wall, cpu]) => Ok(Run {
            value: count as f64 / (wall / 1e9),
            cpu_per_message: cpu / count as f64,
            idle_per_mib,
        }),
        _ => Err(format!("{client}: unexpected result line {out:?}")),
    }
}

/// A peer's cell: the median of the per-repetition ratios `ratio(ours, theirs)` with their
/// spread, and the peer's median `theirs` shown by `show`.
fn cell(
    ours: &[f64],
    theirs: &[f64],
    ratio: impl Fn(f64, f64) -> f64,
    show: impl Fn(f64) -> String,
) -> String {
    if theirs.is_empty() {
        // The peer does not run in this row.
        return "–".to_string();
    }
    let mut ratios: Vec<f64> = ours
        .iter()
        .zip(theirs)
        .map(|(&o, &t)| ratio(o, t))
        .collect();
    let low = ratios.iter().copied().fold(f64::INFINITY, f64::min);
    let high = ratios.iter().copied().fold(0.0, f64::max);
    let mid = median(&mut ratios);
    let mut theirs = theirs.to_vec();
    format!(
        "{mid:.2}× ({low:.2}–{high:.2}) of {}",
        show(median(&mut theirs))
    )
}

/// Nanoseconds per message, readable.
fn per_message(nanos: f64) -> String {
    if nanos >= 1e3 {
        format!("{:.2} µs", nanos / 1e3)
    } else {
        format!("{nanos:.0} ns")
    }
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

struct Options {
    ours: String,
    reps: usize,
    /// `--verbose`: every run's result on stderr as it comes.
    verbose: bool,
    filters: Vec<String>,
}

fn parse_options() -> Result<Options, String> {
    let mut options = Options {
        ours: String::new(),
        reps: 5,
        verbose: false,
        filters: Vec::new(),
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--ours" => options.ours = args.next().ok_or("--ours needs a path")?,
            "--verbose" => options.verbose = true,
            "--reps" => {
                let n = args.next().ok_or("--reps needs a number")?;
                options.reps = n
                    .parse()
                    .ok()
                    .filter(|&n| n > 0)
                    .ok_or_else(|| format!("--reps needs a positive number, not {n:?}"))?;
            }
            _ => options.filters.push(arg),
        }
    }
    if options.ours.is_empty() {
        return Err("--ours PATH (the compare-ours binary) is required".to_string());
    }
    Ok(options)
}

fn compare(options: &Options) -> Result<(), String> {
    println!(
        "{} repetitions per row, clients in rotating order; ratio = ws-client ÷ peer, median \
         of the per-repetition ratios (min–max)\n",
        options.reps
    );
    println!(
        "| scenario | size | ws-client msg/s | vs raw TCP | vs raw floor | vs tungstenite | vs fastwebsockets |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|");
    let pki = Pki::new();
    let mut idle_rows = Vec::new();
    let mut cpu_rows = Vec::new();
    for &(scenario, size, count) in ROWS {
        let label = format!("{} {}", scenario.name(), human(size));
        if !options.filters.is_empty()
            && !options.filters.iter().any(|f| label.contains(f.as_str()))
        {
            continue;
        }
        let row_clients = clients(scenario, size);
        let mut results: Vec<Vec<Run>> = vec![Vec::new(); row_clients.len()];
        for rep in 0..options.reps {
            for i in 0..row_clients.len() {
                let which = (i + rep) % row_clients.len();
                let run = run_client(
                    &pki,
                    &options.ours,
                    row_clients[which],
                    scenario,
                    size,
                    count,
                )?;
                if options.verbose {
                    let idle: Vec<String> =
                        run.idle_per_mib.iter().map(|n| format!("{n:.1}")).collect();
                    eprintln!(
                        "{label} rep {rep}: {} {} (CPU {} per message; idle entries per MiB, \
                         by CPU: {})",
                        row_clients[which],
                        rate(run.value),
                        per_message(run.cpu_per_message),
                        idle.join("/")
                    );
                }
                results[which].push(run);
            }
        }
        let result_of = |name: &str, field: fn(&Run) -> f64| {
            row_clients
                .iter()
                .position(|c| *c == name)
                .map(|i| results[i].iter().map(field).collect::<Vec<f64>>())
        };
        let value = |run: &Run| run.value;
        let cpu = |run: &Run| run.cpu_per_message;
        if scenario == Scenario::Idle {
            idle_rows.push(
                row_clients
                    .iter()
                    .map(|name| (*name, result_of(name, value).unwrap_or_default()))
                    .collect::<Vec<_>>(),
            );
            continue;
        }
        for (ours_name, variant) in [("ws-client", ""), ("ws-client-ref", " (recv_ref)")] {
            let (Some(mut ours), Some(mut ours_cpu)) =
                (result_of(ours_name, value), result_of(ours_name, cpu))
            else {
                continue;
            };
            let mut cells = Vec::new();
            let mut cpu_cells = Vec::new();
            for peer in PEERS {
                let theirs = result_of(peer, value).unwrap_or_default();
                cells.push(cell(&ours, &theirs, |o, t| o / t, rate));
                let theirs_cpu = result_of(peer, cpu).unwrap_or_default();
                cpu_cells.push(cell(&ours_cpu, &theirs_cpu, |o, t| t / o, per_message));
            }
            let row = format!("{}{variant} | {}", scenario.name(), human(size));
            println!(
                "| {row} | {} | {} |",
                rate(median(&mut ours)),
                cells.join(" | ")
            );
            cpu_rows.push(format!(
                "| {row} | {} | {} |",
                per_message(median(&mut ours_cpu)),
                cpu_cells.join(" | ")
            ));
        }
    }
    if !cpu_rows.is_empty() {
        println!(
            "\nCPU time per message, client process (user + system; ratio = peer ÷ ws-client, so \
             above 1 ws-client uses less):\n"
        );
        println!(
            "| scenario | size | ws-client CPU/msg | vs raw TCP | vs raw floor | vs tungstenite | vs fastwebsockets |"
        );
        println!("|---|---|---:|---:|---:|---:|---:|");
        for row in &cpu_rows {
            println!("{row}");
        }
    }
    for results in idle_rows {
        println!(
            "\nResident memory per idle connection (1,000 open, RSS growth ÷ 1,000; median):\n"
        );
        println!("| client | bytes per connection |");
        println!("|---|---:|");
        for (name, mut values) in results {
            let label = match name {
                "raw" => "raw TCP socket",
                "ws-client-split" => "ws-client, split into halves",
                name => name,
            };
            println!("| {label} | {:.0} |", median(&mut values));
        }
    }
    Ok(())
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let result = if args.get(1).map(String::as_str) == Some("client") {
        let name = args.get(2).cloned().unwrap_or_default();
        let client: fn(compare_proto::Args) -> Result<(), String> = match name.as_str() {
            "raw" => peers::raw,
            "raw-floor" => peers::raw_floor,
            "tungstenite" => peers::tungstenite,
            "fastwebsockets" => peers::fastwebsockets,
            other => {
                eprintln!("compare: no peer client named {other:?}");
                std::process::exit(2);
            }
        };
        compare_proto::pin(compare_proto::Side::Client);
        compare_proto::Args::parse(args.into_iter().skip(3)).and_then(client)
    } else {
        parse_options().and_then(|options| compare(&options))
    };
    if let Err(message) = result {
        eprintln!("compare: {message}");
        std::process::exit(1);
    }
}
