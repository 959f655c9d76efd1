//! What the loopback comparison's driver and its client processes agree on.
//!
//! The driver starts a server for one scenario on a loopback port, then runs a client as its
//! own process: `CLIENT SCENARIO SIZE COUNT PORT`. The client connects, does the scenario's
//! work `COUNT` times with `SIZE`-byte messages, and prints one line: the nanoseconds the
//! work took (connecting and the handshake excluded) and the nanoseconds of CPU time (user
//! and system) the process spent on it, or for [`Scenario::Idle`] the bytes of resident
//! memory each of `COUNT` open connections added.

use std::time::{Duration, Instant};

/// One kind of work a client does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scenario {
    /// The server streams `COUNT` binary messages; the client receives them.
    Recv,
    /// As `Recv`, with ASCII text messages (the client validates UTF-8).
    RecvAscii,
    /// As `Recv`, with text in several scripts (Latin, Cyrillic, Greek, CJK, emoji).
    RecvMixed,
    /// The client sends `COUNT` binary messages, each written at once; the server answers
    /// "done" (a 4-byte binary message) when it has them all.
    Send,
    /// As `Send`, but the client queues all messages and writes them with one flush.
    SendBatch,
    /// The client sends one message and waits for the server's echo, `COUNT` times.
    Echo,
    /// The client opens `COUNT + 1` connections and holds them; it reports the resident
    /// memory each of the last `COUNT` added (the first warms up one-time state).
    Idle,
    /// As `Recv`, over TLS (`wss://`; the raw client reads the TLS stream).
    RecvTls,
    /// As `Send`, over TLS.
    SendTls,
}

impl Scenario {
    /// Every scenario, in report order.
    pub const ALL: [Self; 9] = [
        Self::Recv,
        Self::RecvAscii,
        Self::RecvMixed,
        Self::Send,
        Self::SendBatch,
        Self::Echo,
        Self::RecvTls,
        Self::SendTls,
        Self::Idle,
    ];

    /// The name on the command line and in the report.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Recv => "recv",
            Self::RecvAscii => "recv-text-ascii",
            Self::RecvMixed => "recv-text-mixed",
            Self::Send => "send",
            Self::SendBatch => "send-batch",
            Self::Echo => "echo",
            Self::Idle => "idle",
            Self::RecvTls => "recv-tls",
            Self::SendTls => "send-tls",
        }
    }

    /// Whether the server sends text frames.
    pub const fn is_text(self) -> bool {
        matches!(self, Self::RecvAscii | Self::RecvMixed)
    }

    /// Whether the client receives a stream of messages.
    pub const fn is_recv(self) -> bool {
        matches!(
            self,
            Self::Recv | Self::RecvAscii | Self::RecvMixed | Self::RecvTls
        )
    }

    /// Whether the connection is TLS (`wss://`).
    pub const fn is_tls(self) -> bool {
        matches!(self, Self::RecvTls | Self::SendTls)
    }

    /// The scenario's work without TLS: what the server and the clients do once the
    /// connection is open.
    pub const fn plain(self) -> Self {
        match self {
            Self::RecvTls => Self::Recv,
            Self::SendTls => Self::Send,
            other => other,
        }
    }
}

impl std::str::FromStr for Scenario {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|s| s.name() == text)
            .ok_or_else(|| format!("unknown scenario {text:?}"))
    }
}

/// A client process's arguments: `SCENARIO SIZE COUNT PORT`.
#[derive(Clone, Copy, Debug)]
pub struct Args {
    /// What to do.
    pub scenario: Scenario,
    /// Bytes per message.
    pub size: usize,
    /// Messages (connections for [`Scenario::Idle`]).
    pub count: usize,
    /// The server's loopback port.
    pub port: u16,
}

impl Args {
    /// Parses `SCENARIO SIZE COUNT PORT` from `args`.
    ///
    /// # Errors
    /// A message naming the argument that is missing or malformed.
    pub fn parse(mut args: impl Iterator<Item = String>) -> Result<Self, String> {
        let mut next = |name: &str| args.next().ok_or_else(|| format!("missing {name}"));
        let scenario = next("SCENARIO")?.parse()?;
        let number = |name: &str, text: String| {
            text.parse::<usize>()
                .map_err(|_| format!("{name} must be a number, not {text:?}"))
        };
        let size = number("SIZE", next("SIZE")?)?;
        let count = number("COUNT", next("COUNT")?)?;
        let port = next("PORT")?;
        let port = port
            .parse()
            .map_err(|_| format!("PORT must be a port number, not {port:?}"))?;
        Ok(Self {
            scenario,
            size,
            count,
            port,
        })
    }

    /// The server's URL (`wss://` for a TLS scenario; the certificate names `localhost`).
    pub fn url(&self) -> String {
        if self.scenario.is_tls() {
            format!("wss://localhost:{}/", self.port)
        } else {
            format!("ws://127.0.0.1:{}/", self.port)
        }
    }

    /// The PEM of the CA that signed the server's certificate in a TLS scenario, which the
    /// driver passes to its clients in [`CA_PEM_VAR`].
    ///
    /// # Errors
    /// When the variable is not set.
    pub fn ca_pem(&self) -> Result<String, String> {
        std::env::var(CA_PEM_VAR).map_err(|_| format!("{CA_PEM_VAR} is not set"))
    }

    /// The payload a client sends: `size` bytes.
    pub fn payload(&self) -> Vec<u8> {
        vec![7u8; self.size]
    }
}

/// The environment variable that carries the test CA's PEM to the client processes.
pub const CA_PEM_VAR: &str = "COMPARE_CA_PEM";

/// The server's answer when a send scenario has all the messages.
pub const DONE: &[u8] = b"done";

/// Times `work` and prints the result line (see [`Timer`]).
pub fn timed(work: impl FnOnce()) {
    let timer = Timer::start();
    work();
    timer.report();
}

/// The clocks of a timed piece of work, for work that [`timed`] cannot wrap (an `async`
/// block): started before it, [`report`](Self::report)ed after it.
#[derive(Clone, Copy, Debug)]
pub struct Timer {
    wall: Instant,
    cpu: Duration,
}

impl Timer {
    /// Starts both clocks.
    pub fn start() -> Self {
        Self {
            cpu: cpu_time(),
            wall: Instant::now(),
        }
    }

    /// Prints the result line: wall-clock nanoseconds, then CPU nanoseconds since
    /// [`start`](Self::start).
    ///
    /// The CPU time tells the client's own work apart from waiting: on loopback a client
    /// that is faster than the server sleeps until data comes, and how long it sleeps
    /// depends on the kernel's wake-ups as much as on the client.
    pub fn report(self) {
        let wall = self.wall.elapsed();
        let cpu = cpu_time().saturating_sub(self.cpu);
        println!("{} {}", wall.as_nanos(), cpu.as_nanos());
    }
}

/// The CPU time (user and system) this process has used so far, all threads together
/// (`CLOCK_PROCESS_CPUTIME_ID`, to the nanosecond).
pub fn cpu_time() -> Duration {
    clock(libc::CLOCK_PROCESS_CPUTIME_ID)
}

/// The CPU time (user and system) the calling thread has used so far
/// (`CLOCK_THREAD_CPUTIME_ID`, to the nanosecond).
pub fn thread_cpu_time() -> Duration {
    clock(libc::CLOCK_THREAD_CPUTIME_ID)
}

/// `clock_gettime(id)`, or zero if the clock cannot be read.
fn clock(id: libc::clockid_t) -> Duration {
    // SAFETY: `clock_gettime` fills the `timespec` it is given, two numbers that start
    // zeroed; nothing else is read or kept.
    let now = unsafe {
        let mut now: libc::timespec = std::mem::zeroed();
        if libc::clock_gettime(id, &mut now) != 0 {
            return Duration::ZERO;
        }
        now
    };
    Duration::new(now.tv_sec as u64, now.tv_nsec as u32)
}

/// This process's resident memory in bytes (Linux `/proc/self/statm`), or 0 elsewhere.
pub fn resident_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<u64>().ok())
        .map_or(0, |pages| pages * 4096)
}

/// How many times each CPU has gone idle so far (the `usage` counts of its cpuidle states
/// under `/sys/devices/system/cpu`, summed), indexed by CPU number; empty where Linux does
/// not expose them. On a VM an idle entry is usually a halt, and waking a halted CPU costs
/// the waker an interrupt: the count tells the two kernel modes of the large rows apart
/// (docs/performance.md, "The modes on the EPYC").
pub fn idle_entries() -> Vec<u64> {
    let read = |path: String| {
        std::fs::read_to_string(path)
            .ok()
            .and_then(|s| s.trim().parse::<u64>().ok())
    };
    (0..)
        .map_while(|cpu| {
            let states = format!("/sys/devices/system/cpu/cpu{cpu}/cpuidle");
            std::fs::metadata(&states).ok()?;
            Some(
                (0..)
                    .map_while(|state| read(format!("{states}/state{state}/usage")))
                    .sum(),
            )
        })
        .collect()
}

/// Each CPU's idle entries since `before` (an earlier [`idle_entries`]) per MiB of `bytes`.
pub fn idle_per_mib(before: &[u64], bytes: usize) -> Vec<f64> {
    let mib = bytes as f64 / f64::from(1 << 20);
    idle_entries()
        .iter()
        .zip(before)
        .map(|(after, before)| after.saturating_sub(*before) as f64 / mib)
        .collect()
}

/// Opens `count` connections with `open`, holds them, and prints the resident memory each
/// added (whole bytes).
pub fn idle<C>(count: usize, mut open: impl FnMut() -> C) {
    // Warm up the allocator and the library's one-time state with one connection first.
    let first = open();
    let before = resident_bytes();
    let held: Vec<C> = (0..count).map(|_| open()).collect();
    let after = resident_bytes();
    println!("{}", after.saturating_sub(before) / count.max(1) as u64);
    drop(held);
    drop(first);
}

/// Where a side of a run executes: the client process and the server thread each get a
/// core of their own (the first and the second CPU this process may use), so they never
/// compete for one and the scheduler does not move them between runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// The client process under test.
    Client,
    /// The driver's server thread.
    Server,
}

/// Pins the calling thread (and the threads it starts later) to `side`'s core. Does nothing
/// when fewer than two CPUs are available; returns whether it pinned.
pub fn pin(side: Side) -> bool {
    let index = match side {
        Side::Client => 0,
        Side::Server => 1,
    };
    // SAFETY: `set` is a plain bit set that the kernel fills or reads, passed with its own
    // size; the CPU_* helpers index within it (the CPU number comes from the set itself).
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        let size = std::mem::size_of::<libc::cpu_set_t>();
        if libc::sched_getaffinity(0, size, &mut set) != 0 {
            return false;
        }
        let allowed: Vec<usize> = (0..libc::CPU_SETSIZE as usize)
            .filter(|&cpu| libc::CPU_ISSET(cpu, &set))
            .collect();
        let Some(&cpu) = allowed.get(index).filter(|_| allowed.len() >= 2) else {
            return false;
        };
        libc::CPU_ZERO(&mut set);
        libc::CPU_SET(cpu, &mut set);
        libc::sched_setaffinity(0, size, &set) == 0
    }
}

/// Ends process `pid` at once (`SIGKILL`): the driver's watchdog for a client that hangs.
pub fn kill(pid: u32) {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return;
    };
    // SAFETY: `kill` only sends a signal; a process that has already ended makes it fail
    // with ESRCH, which is ignored.
    unsafe {
        libc::kill(pid, libc::SIGKILL);
    }
}

/// Runs a client's `main`: pins it to the client's core, parses the arguments, runs
/// `client`, exits with a message on failure.
pub fn client_main(client: impl FnOnce(Args) -> Result<(), String>) {
    pin(Side::Client);
    let result = Args::parse(std::env::args().skip(1)).and_then(client);
    if let Err(message) = result {
        eprintln!("client: {message}");
        std::process::exit(1);
    }
}
