//! The connected byte stream, plain or TLS, and its halves.
//!
//! Every stream is kept as a reading side and a shared writing side from the start, so
//! [`Stream::split`] costs nothing. The design rules, which the blocking client's full-duplex
//! use depends on:
//!
//! 1. **No lock is held across a socket read.** A writer never waits behind a blocked reader.
//! 2. **The reader never waits for a write in progress.** Bytes the reading side must send
//!    (pongs and close replies of the layer above, TLS alerts and key updates) are handed over
//!    with [`WriteHalf::offer`], which never blocks: when the sink is free they are written
//!    without waiting; when a writer holds it, they are left for that writer, which writes
//!    them before it lets go; when the socket is full, they wait in the backlog and the reader
//!    waits for the socket to be readable *or* writable, so they leave as soon as the peer
//!    reads.
//! 3. **Bytes that reached the socket count exactly once.** A write that runs out of time
//!    after part of it went out keeps the rest in the sink's backlog, which goes out first
//!    with the next write; for TLS the encrypted records are kept the same way, so the peer
//!    never sees a truncated or repeated record. A hard error (reset, broken pipe) breaks the
//!    writing side for good: every later write fails with that error.
//! 4. **A write timeout is a deadline for the whole write**, not for each system call: the
//!    socket is written without blocking and `poll(2)` waits for room, for the time left.
//!
//! ```text
//!   ReadHalf ── socket read (no lock) ──► lock(conn): read_tls + decrypt ──► plaintext
//!   WriteHalf ─ lock(sink) ─► backlog first ─► lock(conn): encrypt into backlog ─► unlock(conn)
//!                                             ─► socket write until the deadline
//!   offer ───── handoff (plain) or rustls (TLS) ─► try_lock(sink) ─► non-blocking write
//! ```
//!
//! The sink lock orders writes on the wire; the lock order is always sink, then conn (or
//! handoff).

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
#[cfg(unix)]
use std::os::fd::{AsRawFd, RawFd};
#[cfg(unix)]
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, TryLockError};
use std::time::Duration;

#[cfg(feature = "tls")]
use rustls::ClientConnection;

use crate::deadline::Deadline;

/// Any caller-supplied byte stream (Python's `socket=` option).
pub trait ReadWrite: Read + Write + Send + 'static {}

impl<T: Read + Write + Send + 'static> ReadWrite for T {}

/// The socket under the stream: something that can be cloned into a reading and a writing
/// side.
pub(crate) enum Raw {
    Tcp(TcpStream),
    #[cfg(unix)]
    Unix(UnixStream),
    /// A caller's stream cannot be duplicated, so both sides share it under one lock.
    Custom(Arc<Mutex<Box<dyn ReadWrite>>>),
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding the lock leaves only bytes in a buffer behind; keep going.
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The lock if nobody holds it.
fn try_lock<T>(mutex: &Mutex<T>) -> Option<MutexGuard<'_, T>> {
    match mutex.try_lock() {
        Ok(guard) => Some(guard),
        Err(TryLockError::Poisoned(p)) => Some(p.into_inner()),
        Err(TryLockError::WouldBlock) => None,
    }
}

/// Flags of every socket write: never block (the deadline is waited for with `poll`), and no
/// `SIGPIPE` for a peer that went away where the platform has the flag.
#[cfg(unix)]
const SEND_FLAGS: libc::c_int = libc::MSG_DONTWAIT | NO_SIGPIPE;
#[cfg(any(target_os = "linux", target_os = "android", target_os = "freebsd"))]
const NO_SIGPIPE: libc::c_int = libc::MSG_NOSIGNAL;
#[cfg(all(
    unix,
    not(any(target_os = "linux", target_os = "android", target_os = "freebsd"))
))]
const NO_SIGPIPE: libc::c_int = 0;

impl Raw {
    fn try_clone(&self) -> io::Result<Self> {
        Ok(match self {
            Self::Tcp(s) => Self::Tcp(s.try_clone()?),
            #[cfg(unix)]
            Self::Unix(s) => Self::Unix(s.try_clone()?),
            Self::Custom(s) => Self::Custom(Arc::clone(s)),
        })
    }

    pub(crate) fn set_read_timeout(&self, t: Option<Duration>) -> io::Result<()> {
        match self {
            Self::Tcp(s) => s.set_read_timeout(t),
            #[cfg(unix)]
            Self::Unix(s) => s.set_read_timeout(t),
            Self::Custom(_) => Err(custom_unsupported("timeouts")),
        }
    }

    #[cfg(feature = "tls")]
    pub(crate) fn set_write_timeout(&self, t: Option<Duration>) -> io::Result<()> {
        match self {
            Self::Tcp(s) => s.set_write_timeout(t),
            #[cfg(unix)]
            Self::Unix(s) => s.set_write_timeout(t),
            Self::Custom(_) => Err(custom_unsupported("timeouts")),
        }
    }

    fn read_timeout(&self) -> io::Result<Option<Duration>> {
        match self {
            Self::Tcp(s) => s.read_timeout(),
            #[cfg(unix)]
            Self::Unix(s) => s.read_timeout(),
            Self::Custom(_) => Ok(None),
        }
    }

    fn shutdown(&self) -> io::Result<()> {
        let result = match self {
            Self::Tcp(s) => s.shutdown(Shutdown::Both),
            #[cfg(unix)]
            Self::Unix(s) => s.shutdown(Shutdown::Both),
            Self::Custom(_) => return Err(custom_unsupported("shutdown")),
        };
        // Shutting down a socket the peer already reset is not a failure of ours.
        match result {
            Err(e) if e.kind() == io::ErrorKind::NotConnected => Ok(()),
            other => other,
        }
    }

    /// The descriptor to `poll`, for sockets.
    #[cfg(unix)]
    fn fd(&self) -> Option<RawFd> {
        match self {
            Self::Tcp(s) => Some(s.as_raw_fd()),
            Self::Unix(s) => Some(s.as_raw_fd()),
            Self::Custom(_) => None,
        }
    }

    /// One write that does not block on a socket (`WouldBlock` when it is full). A caller's
    /// stream is written as it behaves.
    fn write_nonblocking(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            #[cfg(unix)]
            Self::Tcp(s) => socket2::SockRef::from(&*s).send_with_flags(buf, SEND_FLAGS),
            #[cfg(unix)]
            Self::Unix(s) => socket2::SockRef::from(&*s).send_with_flags(buf, SEND_FLAGS),
            #[cfg(not(unix))]
            Self::Tcp(s) => s.write(buf),
            Self::Custom(s) => lock(s).write(buf),
        }
    }

    /// Writes some of `buf`, waiting for room as `wait` allows; returns how much went out.
    fn write_some(&mut self, buf: &[u8], wait: &mut Wait) -> io::Result<usize> {
        loop {
            match self.write_nonblocking(buf) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    let Wait::Until(deadline) = wait else {
                        return Err(e);
                    };
                    let left = deadline.remaining()?;
                    #[cfg(unix)]
                    match self.fd() {
                        Some(fd) => {
                            crate::sys::poll(fd, crate::sys::Interest::Write, left)?;
                        }
                        None => return Err(e),
                    }
                    #[cfg(not(unix))]
                    return Err(e);
                }
                other => return other,
            }
        }
    }
}

fn custom_unsupported(what: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::Unsupported,
        format!("{what} are not available on a caller-supplied stream"),
    )
}

impl Read for Raw {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Self::Tcp(s) => s.read(buf),
            #[cfg(unix)]
            Self::Unix(s) => s.read(buf),
            Self::Custom(s) => lock(s).read(buf),
        }
    }
}

impl Write for Raw {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Self::Tcp(s) => s.write(buf),
            #[cfg(unix)]
            Self::Unix(s) => s.write(buf),
            Self::Custom(s) => lock(s).write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Self::Tcp(s) => s.flush(),
            #[cfg(unix)]
            Self::Unix(s) => s.flush(),
            Self::Custom(s) => lock(s).flush(),
        }
    }
}

/// How long a write may wait for the socket to take bytes.
enum Wait {
    /// Not at all: a full socket gives `WouldBlock`.
    Never,
    /// Until the deadline.
    Until(Deadline),
}

/// The writing end: the socket and what was accepted for it but is not written yet.
struct Sink {
    raw: Raw,
    /// `backlog[start..]` is owed to the socket, in order: the rest of a write that ran out of
    /// time, control frames handed over by `offer`, TLS records.
    backlog: Vec<u8>,
    start: usize,
}

impl Sink {
    /// Writes the backlog, waiting as `wait` allows.
    fn write_backlog(&mut self, wait: &mut Wait) -> io::Result<()> {
        while self.start < self.backlog.len() {
            match self.raw.write_some(&self.backlog[self.start..], wait)? {
                0 => return Err(io::ErrorKind::WriteZero.into()),
                n => self.start += n,
            }
        }
        self.backlog.clear();
        self.start = 0;
        Ok(())
    }

    /// Keeps `bytes` at the end of the backlog.
    fn keep(&mut self, bytes: &[u8]) {
        if self.start > 0 {
            self.backlog.drain(..self.start);
            self.start = 0;
        }
        self.backlog.extend_from_slice(bytes);
    }
}

/// Control bytes that `offer` may leave waiting for a peer that does not read; beyond this,
/// offers are refused instead of growing without bound (RFC 6455 §5.5.3 lets an endpoint
/// answer only the latest of several pings).
const OFFER_LIMIT: usize = 64 * 1024;

/// A write timeout of `None`, as stored in [`Shared::write_timeout`].
const NO_TIMEOUT: u64 = u64::MAX;

/// How long a reader that waits on a busy sink sleeps before it looks at the backlog again.
#[cfg(unix)]
const BUSY_RECHECK: Duration = Duration::from_millis(10);

struct Shared {
    sink: Mutex<Sink>,
    /// Plain streams: bytes handed over by `offer` while the sink was busy. (TLS keeps them
    /// encrypted inside rustls, which orders them with every other record.)
    handoff: Mutex<Vec<u8>>,
    #[cfg(feature = "tls")]
    tls: Option<Mutex<ClientConnection>>,
    /// The name the server's certificate was verified for, for TLS errors.
    #[cfg(feature = "tls")]
    tls_name: String,
    /// Something may be owed to the socket: handed over, left in the backlog, or (TLS)
    /// produced by rustls. Set by whoever leaves bytes behind; cleared only by the sink's
    /// holder before it collects them.
    pending: AtomicBool,
    /// Bytes offered since the backlog was last empty (bounded by [`OFFER_LIMIT`]).
    offered: AtomicUsize,
    /// The write timeout in nanoseconds, [`NO_TIMEOUT`] for none.
    write_timeout: AtomicU64,
    /// The error that broke the writing side, kind and text.
    broken: Mutex<Option<(io::ErrorKind, String)>>,
    /// A clone of the socket kept for [`ShutdownHandle`], which must not wait for the sink.
    control: Raw,
    peer: Option<SocketAddr>,
    local: Option<SocketAddr>,
}

impl Shared {
    fn write_timeout(&self) -> Option<Duration> {
        match self.write_timeout.load(Ordering::Relaxed) {
            NO_TIMEOUT => None,
            nanos => Some(Duration::from_nanos(nanos)),
        }
    }

    fn set_write_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        let nanos = match timeout {
            None => NO_TIMEOUT,
            Some(t) if t.is_zero() => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "cannot set a 0 duration timeout",
                ));
            }
            Some(t) => u64::try_from(t.as_nanos()).unwrap_or(NO_TIMEOUT - 1),
        };
        self.write_timeout.store(nanos, Ordering::Relaxed);
        Ok(())
    }

    /// The error of an earlier hard failure, if the writing side is broken.
    fn check_broken(&self) -> io::Result<()> {
        match &*lock(&self.broken) {
            Some((kind, text)) => Err(io::Error::new(
                *kind,
                format!("the connection failed earlier: {text}"),
            )),
            None => Ok(()),
        }
    }

    /// Sorts a write error: a timeout or a full socket leaves the stream usable; anything
    /// else breaks the writing side for good and drops what was owed.
    fn write_failed(&self, sink: &mut Sink, e: &io::Error) {
        if matches!(
            e.kind(),
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
        ) {
            self.pending.store(true, Ordering::Release);
            return;
        }
        lock(&self.broken).get_or_insert_with(|| (e.kind(), e.to_string()));
        sink.backlog.clear();
        sink.start = 0;
    }

    /// Moves what was handed over into the backlog, behind what is there. The caller holds
    /// the sink.
    fn collect(&self, sink: &mut Sink) {
        // Cleared before collecting: an offer that lands after this sets it again.
        self.pending.store(false, Ordering::Release);
        #[cfg(feature = "tls")]
        if let Some(tls) = &self.tls {
            encrypted_into(&mut lock(tls), &mut sink.backlog);
            return;
        }
        let mut handoff = lock(&self.handoff);
        if !handoff.is_empty() {
            sink.backlog.extend_from_slice(&handoff);
            handoff.clear();
        }
    }

    /// Writes everything owed without blocking. `true` when nothing is left (or the stream
    /// broke, so nothing ever will be written).
    fn drain_nonblocking(&self, sink: &mut Sink) -> bool {
        if self.pending.load(Ordering::Acquire) {
            self.collect(sink);
        }
        match sink.write_backlog(&mut Wait::Never) {
            Ok(()) => {
                self.offered.store(0, Ordering::Relaxed);
                true
            }
            Err(e) => {
                self.write_failed(sink, &e);
                !matches!(e.kind(), io::ErrorKind::WouldBlock)
            }
        }
    }

    /// Ends a turn at the sink: writes, without blocking, what was handed over meanwhile, lets
    /// go, and looks once more for an offer that found the sink taken. `true` when nothing
    /// is left owed.
    fn release<'a>(&'a self, mut sink: MutexGuard<'a, Sink>) -> bool {
        loop {
            let emptied = self.drain_nonblocking(&mut sink);
            drop(sink);
            if !emptied || !self.pending.load(Ordering::Acquire) {
                return emptied;
            }
            match try_lock(&self.sink) {
                Some(again) => sink = again,
                // Whoever holds it now writes the handed-over bytes before letting go.
                None => return true,
            }
        }
    }

    /// Writes what was owed, then `data`, as one unit within `timeout`; see
    /// [`WriteHalf::send`].
    fn send(&self, data: &[u8], timeout: Option<Duration>) -> Result<(), SendError> {
        self.check_broken().map_err(SendError::not_sent)?;
        let mut sink = lock(&self.sink);
        let mut wait = Wait::Until(Deadline::new(timeout));
        let result = self.send_locked(&mut sink, data, &mut wait);
        self.release(sink);
        result
    }

    fn send_locked(&self, sink: &mut Sink, data: &[u8], wait: &mut Wait) -> Result<(), SendError> {
        // What was accepted earlier goes first: the rest of an earlier write, handed-over
        // control frames, TLS records.
        if self.pending.load(Ordering::Acquire) {
            self.collect(sink);
        }
        if let Err(e) = sink.write_backlog(wait) {
            self.write_failed(sink, &e);
            return Err(SendError::not_sent(e));
        }
        self.offered.store(0, Ordering::Relaxed);
        #[cfg(feature = "tls")]
        if let Some(tls) = &self.tls {
            return self.send_tls(sink, tls, data, wait);
        }
        {
            let mut written = 0;
            while written < data.len() {
                let e = match sink.raw.write_some(&data[written..], wait) {
                    Ok(0) => io::ErrorKind::WriteZero.into(),
                    Ok(n) => {
                        written += n;
                        continue;
                    }
                    Err(e) => e,
                };
                if written == 0 {
                    self.write_failed(sink, &e);
                    return Err(SendError::not_sent(e));
                }
                // Part of it is on the wire: the rest must follow before anything else.
                sink.keep(&data[written..]);
                self.write_failed(sink, &e);
                return Err(SendError::committed(e));
            }
            Ok(())
        }
    }

    /// [`send_locked`](Self::send_locked)'s TLS part: encrypt, then write the records.
    #[cfg(feature = "tls")]
    fn send_tls(
        &self,
        sink: &mut Sink,
        tls: &Mutex<ClientConnection>,
        data: &[u8],
        wait: &mut Wait,
    ) -> Result<(), SendError> {
        {
            let mut conn = lock(tls);
            // No buffer limit is set, so rustls takes all of it.
            conn.writer().write_all(data).map_err(SendError::not_sent)?;
            encrypted_into(&mut conn, &mut sink.backlog);
        }
        // Encrypted records cannot be taken back: from here on the data counts as sent.
        sink.write_backlog(wait).map_err(|e| {
            self.write_failed(sink, &e);
            SendError::committed(e)
        })
    }

    /// See [`WriteHalf::offer`].
    fn offer(&self, bytes: &[u8]) -> io::Result<()> {
        self.check_broken()?;
        if bytes.is_empty() {
            return Ok(());
        }
        if self.offered.fetch_add(bytes.len(), Ordering::Relaxed) + bytes.len() > OFFER_LIMIT {
            self.offered.fetch_sub(bytes.len(), Ordering::Relaxed);
            return Err(io::Error::new(
                io::ErrorKind::WouldBlock,
                format!(
                    "over {OFFER_LIMIT} bytes of control frames wait for a peer that does not read"
                ),
            ));
        }
        #[cfg(feature = "tls")]
        if let Some(tls) = &self.tls {
            lock(tls).writer().write_all(bytes)?;
        } else {
            lock(&self.handoff).extend_from_slice(bytes);
        }
        #[cfg(not(feature = "tls"))]
        lock(&self.handoff).extend_from_slice(bytes);
        self.pending.store(true, Ordering::Release);
        if let Some(sink) = try_lock(&self.sink) {
            self.release(sink);
        }
        Ok(())
    }

    /// Writes what is owed, within the write timeout; see [`WriteHalf::flush_pending`].
    fn flush(&self) -> io::Result<()> {
        self.check_broken()?;
        let mut sink = lock(&self.sink);
        self.collect(&mut sink);
        let mut wait = Wait::Until(Deadline::new(self.write_timeout()));
        let result = sink.write_backlog(&mut wait);
        if let Err(e) = &result {
            self.write_failed(&mut sink, e);
        }
        self.release(sink);
        result
    }

    /// Waits until `raw` is readable while writing what is owed as the socket takes it, so a
    /// reader never blocks a pong behind its own read. Honours the socket's read timeout
    /// (`WouldBlock` when it passes, as a timed-out read would).
    #[cfg(unix)]
    fn wait_readable(&self, raw: &Raw) -> io::Result<()> {
        use crate::sys::{Interest, poll};
        let Some(fd) = raw.fd() else { return Ok(()) };
        let mut deadline = Deadline::new(raw.read_timeout()?);
        loop {
            let (interest, cap) = match try_lock(&self.sink) {
                Some(sink) => {
                    if self.release(sink) {
                        return Ok(());
                    }
                    // The socket is full: wake when the peer reads, or when it writes.
                    (Interest::ReadWrite, None)
                }
                // A writer holds the sink and writes the backlog before it lets go; look
                // again soon in case the socket stays full after that.
                None => (Interest::Read, Some(BUSY_RECHECK)),
            };
            let left = deadline.remaining().map_err(|_| {
                io::Error::new(io::ErrorKind::WouldBlock, "timed out waiting to read")
            })?;
            let wait = match (left, cap) {
                (Some(left), Some(cap)) => Some(left.min(cap)),
                (left, None) => left,
                (None, cap) => cap,
            };
            if poll(fd, interest, wait)?.readable {
                return Ok(());
            }
        }
    }

    /// Reads from `raw`; while something is owed to the socket, also writes it as the socket
    /// takes it.
    fn read_raw(&self, raw: &mut Raw, buf: &mut [u8]) -> io::Result<usize> {
        #[cfg(unix)]
        if self.pending.load(Ordering::Acquire) {
            self.wait_readable(raw)?;
        }
        raw.read(buf)
    }

    /// Something was produced for the socket outside a write (a TLS alert or key update):
    /// write it if the sink is free, else leave it to its holder.
    #[cfg(feature = "tls")]
    fn kick(&self) {
        self.pending.store(true, Ordering::Release);
        if let Some(sink) = try_lock(&self.sink) {
            self.release(sink);
        }
    }
}

/// A [`WriteHalf::send`] that did not complete.
#[derive(Debug)]
pub struct SendError {
    error: io::Error,
    committed: bool,
}

impl SendError {
    const fn not_sent(error: io::Error) -> Self {
        Self {
            error,
            committed: false,
        }
    }

    const fn committed(error: io::Error) -> Self {
        Self {
            error,
            committed: true,
        }
    }

    /// `true` when the bytes count as sent although the call failed: part of them reached the
    /// socket (or, with TLS, they were encrypted) before the time ran out, and the rest is
    /// kept and written first by the next write or flush. Never send them again. After a
    /// hard error the stream is broken and nothing more goes out either way.
    #[must_use]
    pub fn is_committed(&self) -> bool {
        self.committed
    }

    /// The underlying error: `TimedOut` when the write timeout passed, or the socket's error.
    #[must_use]
    pub fn io_error(&self) -> &io::Error {
        &self.error
    }

    /// The underlying error, by value.
    #[must_use]
    pub fn into_io_error(self) -> io::Error {
        self.error
    }
}

impl std::fmt::Display for SendError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.committed {
            write!(
                f,
                "{} (partly sent; the rest goes out first with the next write)",
                self.error
            )
        } else {
            write!(f, "{} (nothing was sent)", self.error)
        }
    }
}

impl std::error::Error for SendError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.error)
    }
}

/// The receiving side of a [`Stream`]. Reads are blocking, subject to the read timeout.
pub struct ReadHalf {
    raw: Raw,
    shared: Arc<Shared>,
    /// TLS only: ciphertext read from the socket; `start..end` is not yet handed to rustls.
    #[cfg(feature = "tls")]
    pending: Box<[u8]>,
    #[cfg(feature = "tls")]
    start: usize,
    #[cfg(feature = "tls")]
    end: usize,
}

/// What a stream is made with: for TLS, the connection and the name it verified.
#[cfg(feature = "tls")]
pub(crate) type TlsParts = Option<(ClientConnection, String)>;
/// What a stream is made with (never anything: TLS is not built in).
#[cfg(not(feature = "tls"))]
pub(crate) type TlsParts = Option<std::convert::Infallible>;

/// Moves the records rustls has ready into `out`.
#[cfg(feature = "tls")]
fn encrypted_into(conn: &mut ClientConnection, out: &mut Vec<u8>) {
    while conn.wants_write() {
        // Writing into a `Vec` cannot fail.
        if conn.write_tls(out).is_err() {
            break;
        }
    }
}

/// The sending side of a [`Stream`]: `Clone + Send + Sync`; clones write in turn, each
/// [`send`](Self::send) reaching the socket whole before the next starts.
#[derive(Clone)]
pub struct WriteHalf {
    shared: Arc<Shared>,
}

/// Shuts the connection down from any thread, waking a reader blocked on it.
#[derive(Clone)]
pub struct ShutdownHandle {
    shared: Arc<Shared>,
}

/// A connected stream: TCP, Unix or caller-supplied, with or without TLS.
pub struct Stream {
    read: ReadHalf,
    write: WriteHalf,
}

impl std::fmt::Debug for Stream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match self.read.raw {
            Raw::Tcp(_) => "tcp",
            #[cfg(unix)]
            Raw::Unix(_) => "unix",
            Raw::Custom(_) => "custom",
        };
        f.debug_struct("Stream")
            .field("kind", &kind)
            .field("tls", &self.is_tls())
            .field("peer", &self.peer_addr())
            .finish()
    }
}

impl Stream {
    /// A stream over `raw`; with TLS, the connection and the name it verified.
    pub(crate) fn new(raw: Raw, tls: TlsParts) -> io::Result<Self> {
        let (sink, control) = (raw.try_clone()?, raw.try_clone()?);
        Ok(Self::from_parts(raw, sink, control, tls))
    }

    /// Builds the halves from three handles on the same socket.
    fn from_parts(raw: Raw, sink: Raw, control: Raw, tls: TlsParts) -> Self {
        let (peer, local) = match &raw {
            Raw::Tcp(s) => (s.peer_addr().ok(), s.local_addr().ok()),
            _ => (None, None),
        };
        let shared = Arc::new(Shared {
            sink: Mutex::new(Sink {
                raw: sink,
                backlog: Vec::new(),
                start: 0,
            }),
            handoff: Mutex::new(Vec::new()),
            #[cfg(feature = "tls")]
            tls_name: tls
                .as_ref()
                .map(|(_, name)| name.clone())
                .unwrap_or_default(),
            #[cfg(feature = "tls")]
            tls: tls.map(|(conn, _)| Mutex::new(conn)),
            pending: AtomicBool::new(false),
            offered: AtomicUsize::new(0),
            write_timeout: AtomicU64::new(NO_TIMEOUT),
            broken: Mutex::new(None),
            control,
            peer,
            local,
        });
        #[cfg(not(feature = "tls"))]
        let _ = tls;
        let read = ReadHalf {
            raw,
            shared: Arc::clone(&shared),
            #[cfg(feature = "tls")]
            pending: Box::default(),
            #[cfg(feature = "tls")]
            start: 0,
            #[cfg(feature = "tls")]
            end: 0,
        };
        Self {
            read,
            write: WriteHalf { shared },
        }
    }

    /// Wraps a connected TCP stream (no TLS).
    ///
    /// # Errors
    /// When the socket cannot be duplicated into its reading and writing sides.
    pub fn from_tcp(stream: TcpStream) -> io::Result<Self> {
        Self::new(Raw::Tcp(stream), None)
    }

    /// Wraps a connected Unix stream (no TLS).
    ///
    /// # Errors
    /// When the socket cannot be duplicated into its reading and writing sides.
    #[cfg(unix)]
    pub fn from_unix(stream: UnixStream) -> io::Result<Self> {
        Self::new(Raw::Unix(stream), None)
    }

    /// Wraps any caller-supplied stream. It cannot be duplicated, so its halves share one
    /// lock (a writer waits while a reader is blocked), timeouts and shutdown are the
    /// caller's business (those methods return `Unsupported`), and writes block as the
    /// stream does: the non-blocking hand-over of [`WriteHalf::offer`] needs a socket.
    pub fn from_custom(stream: impl ReadWrite) -> Self {
        let inner: Arc<Mutex<Box<dyn ReadWrite>>> = Arc::new(Mutex::new(Box::new(stream)));
        let raw = || Raw::Custom(Arc::clone(&inner));
        Self::from_parts(raw(), raw(), raw(), None)
    }

    /// Takes the socket back out of a plain stream so TLS can be laid over it.
    #[cfg(feature = "tls")]
    pub(crate) fn into_raw(self) -> Raw {
        self.read.raw
    }

    /// `true` when TLS is in use.
    #[must_use]
    pub fn is_tls(&self) -> bool {
        self.read.is_tls()
    }

    /// The TLS protocol version and cipher suite negotiated, for logs
    /// (`"TLSv1_3 / TLS13_AES_256_GCM_SHA384"`).
    #[cfg(feature = "tls")]
    #[must_use]
    pub fn tls_description(&self) -> Option<String> {
        let conn = lock(self.read.shared.tls.as_ref()?);
        let version = conn
            .protocol_version()
            .map(|v| format!("{v:?}"))
            .unwrap_or_default();
        let suite = conn
            .negotiated_cipher_suite()
            .map(|s| format!("{:?}", s.suite()))
            .unwrap_or_default();
        Some(format!("{version} / {suite}"))
    }

    /// The peer's address (TCP only; through a proxy, the proxy's).
    #[must_use]
    pub fn peer_addr(&self) -> Option<SocketAddr> {
        self.read.shared.peer
    }

    /// The local address (TCP only).
    #[must_use]
    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.read.shared.local
    }

    /// Sets the read timeout; `None` blocks forever. A read that times out fails with
    /// `WouldBlock` or `TimedOut` (platform-dependent) and loses no data.
    ///
    /// # Errors
    /// A zero duration, or a caller-supplied stream.
    pub fn set_read_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        self.read.set_read_timeout(timeout)
    }

    /// Sets the write timeout, a deadline for each whole write; `None` blocks forever.
    ///
    /// # Errors
    /// A zero duration.
    pub fn set_write_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        self.write.set_write_timeout(timeout)
    }

    /// The current read timeout.
    ///
    /// # Errors
    /// When the operating system cannot report it.
    pub fn read_timeout(&self) -> io::Result<Option<Duration>> {
        self.read.raw.read_timeout()
    }

    /// Sends TLS `close_notify` (if TLS, without waiting for room) and shuts the socket down
    /// in both directions.
    ///
    /// # Errors
    /// The socket's error; a caller-supplied stream gives `Unsupported`.
    pub fn shutdown(&self) -> io::Result<()> {
        self.write.shutdown()
    }

    /// A handle that can shut the connection down from another thread.
    #[must_use]
    pub fn shutdown_handle(&self) -> ShutdownHandle {
        ShutdownHandle {
            shared: Arc::clone(&self.read.shared),
        }
    }

    /// Splits into a receiving and a sending half that can live on different threads.
    #[must_use]
    pub fn split(self) -> (ReadHalf, WriteHalf) {
        (self.read, self.write)
    }

    /// Puts two halves of the same stream back together.
    ///
    /// # Errors
    /// Gives the halves back when they come from different streams.
    pub fn unsplit(read: ReadHalf, write: WriteHalf) -> Result<Self, (ReadHalf, WriteHalf)> {
        if Arc::ptr_eq(&read.shared, &write.shared) {
            Ok(Self { read, write })
        } else {
            Err((read, write))
        }
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.read.read(buf)
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.write.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.write.flush()
    }
}

impl ReadHalf {
    /// Sets the read timeout (shared with the whole stream).
    ///
    /// # Errors
    /// A zero duration, or a caller-supplied stream.
    pub fn set_read_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        self.raw.set_read_timeout(timeout)
    }

    /// `true` when TLS is in use.
    #[must_use]
    pub fn is_tls(&self) -> bool {
        #[cfg(feature = "tls")]
        return self.shared.tls.is_some();
        #[cfg(not(feature = "tls"))]
        false
    }

    /// Reads plaintext, as many socket reads as a record needs, all within the socket's
    /// read timeout ([`ReadClock`]).
    #[cfg(feature = "tls")]
    fn read_tls(&mut self, tls: &Mutex<ClientConnection>, buf: &mut [u8]) -> io::Result<usize> {
        let mut clock = ReadClock::default();
        let result = self.read_tls_within(tls, buf, &mut clock);
        // The timeout goes back whatever happened. Plaintext already taken from rustls must
        // reach the caller even if it cannot: a socket that refuses its own timeout is
        // broken, and the next read says so.
        let _ = clock.end(&self.raw);
        result
    }

    #[cfg(feature = "tls")]
    fn read_tls_within(
        &mut self,
        tls: &Mutex<ClientConnection>,
        buf: &mut [u8],
        clock: &mut ReadClock,
    ) -> io::Result<usize> {
        // A fatal alert after the handshake (a TLS 1.3 server refusing the client's
        // certificate) is the same typed error as during it, carried inside the I/O error.
        let name = &self.shared.tls_name;
        let decrypt = |conn: &mut ClientConnection| {
            conn.process_new_packets().map(drop).map_err(|e| {
                io::Error::new(io::ErrorKind::InvalidData, crate::tls::classify(&e, name))
            })
        };
        loop {
            let wants_write = {
                let mut conn = lock(tls);
                match conn.reader().read(buf) {
                    Ok(n) => return Ok(n),
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                    Err(e) => return Err(e),
                }
                if self.start < self.end {
                    let mut input = &self.pending[self.start..self.end];
                    self.start += conn.read_tls(&mut input)?;
                    let decrypted = decrypt(&mut conn);
                    if conn.wants_write() {
                        // An alert or a key update reply: hand it to the writer, don't wait.
                        drop(conn);
                        self.shared.kick();
                    }
                    decrypted?;
                    continue;
                }
                conn.wants_write()
            };
            if wants_write {
                self.shared.kick();
            }
            if self.pending.is_empty() {
                self.pending = vec![0; TLS_READ_CHUNK].into_boxed_slice();
            }
            clock.before_read(&self.raw)?;
            let n = self.shared.read_raw(&mut self.raw, &mut self.pending)?;
            (self.start, self.end) = (0, n);
            if n == 0 {
                let mut conn = lock(tls);
                conn.read_tls(&mut &[][..])?;
                decrypt(&mut conn)?;
                return match conn.reader().read(buf) {
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(0),
                    other => other,
                };
            }
        }
    }
}

/// The socket reads of one TLS read call, which the socket's read timeout bounds as a whole:
/// a peer that sends a record a byte at a time, each just before a read would time out,
/// cannot stretch the call. The first read waits the whole timeout, each later one what is
/// left of it; the timeout is put back when the call ends. What arrived stays with rustls
/// for the next call.
#[cfg(feature = "tls")]
#[derive(Default)]
struct ReadClock {
    /// When the call's first socket read began.
    started: Option<std::time::Instant>,
    /// The socket's read timeout counted from then, once a later read needed it.
    deadline: Option<Deadline>,
    /// The socket's read timeout was cut to what was left.
    cut: bool,
}

#[cfg(feature = "tls")]
impl ReadClock {
    fn before_read(&mut self, raw: &Raw) -> io::Result<()> {
        let Some(started) = self.started else {
            self.started = Some(std::time::Instant::now());
            return Ok(());
        };
        let deadline = match &mut self.deadline {
            Some(deadline) => deadline,
            None => self
                .deadline
                .insert(Deadline::started_at(started, raw.read_timeout()?)),
        };
        if let Some(left) = deadline.remaining()? {
            raw.set_read_timeout(Some(left))?;
            self.cut = true;
        }
        Ok(())
    }

    /// Puts the socket's read timeout back if a read cut it.
    fn end(self, raw: &Raw) -> io::Result<()> {
        match self.deadline {
            Some(deadline) if self.cut => raw.set_read_timeout(deadline.timeout()),
            _ => Ok(()),
        }
    }
}

/// Ciphertext read per socket read: a few maximum-size TLS records.
#[cfg(feature = "tls")]
const TLS_READ_CHUNK: usize = 64 * 1024;

impl Read for ReadHalf {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        #[cfg(feature = "tls")]
        if self.shared.tls.is_some() {
            // The TLS state lives in `shared`, which `read_tls` also reaches through `self`.
            let shared = Arc::clone(&self.shared);
            if let Some(tls) = &shared.tls {
                return self.read_tls(tls, buf);
            }
        }
        self.shared.read_raw(&mut self.raw, buf)
    }
}

impl WriteHalf {
    /// Writes `data` as one unit, after whatever earlier writes left owed: no other clone's
    /// bytes come in between. The write timeout is a deadline for the whole call.
    ///
    /// When the time runs out (or the socket fails) the error says whether the bytes count
    /// as sent ([`SendError::is_committed`]): if none of them reached the socket, none will;
    /// if part did, the rest is kept and goes out first with the next write or
    /// [`flush_pending`](Self::flush_pending), so the peer always sees whole units and never
    /// a byte twice. After a hard error (reset, broken pipe) every later write fails with it.
    ///
    /// # Errors
    /// [`SendError`]: a `TimedOut` I/O error when the write timeout passed, else the socket's.
    pub fn send(&self, data: &[u8]) -> Result<(), SendError> {
        self.shared.send(data, self.shared.write_timeout())
    }

    /// As [`send`](Self::send) with its own time limit instead of the write timeout (a close
    /// frame within the close timeout, say). A zero limit writes only what the socket takes
    /// at once.
    ///
    /// # Errors
    /// As [`send`](Self::send).
    pub fn send_within(&self, data: &[u8], timeout: Option<Duration>) -> Result<(), SendError> {
        self.shared.send(data, timeout)
    }

    /// Hands `bytes` (a pong, a close reply) to the writing side without waiting: written at
    /// once if the sink is free and the socket takes them, else kept in order and written by
    /// the current writer before it lets go, by the next write, or by a reader waiting on
    /// this stream as soon as the socket has room. Never blocks, so a reader can answer a
    /// ping while a writer is stuck on a full socket.
    ///
    /// # Errors
    /// `WouldBlock` when over 64 KiB of offered bytes already wait for a peer that does not
    /// read (the bytes are dropped); the error that broke the stream, if one did.
    pub fn offer(&self, bytes: &[u8]) -> io::Result<()> {
        self.shared.offer(bytes)
    }

    /// Writes whatever earlier writes and offers left owed, within the write timeout.
    ///
    /// # Errors
    /// `TimedOut` when the write timeout passed (what is left stays owed); the socket's error.
    pub fn flush_pending(&self) -> io::Result<()> {
        self.shared.flush()
    }

    /// Sends TLS `close_notify` (if TLS, without waiting for room) and shuts the socket down
    /// in both directions.
    ///
    /// # Errors
    /// The socket's error; a caller-supplied stream gives `Unsupported`.
    pub fn shutdown(&self) -> io::Result<()> {
        #[cfg(feature = "tls")]
        if let Some(tls) = &self.shared.tls {
            lock(tls).send_close_notify();
            // Best effort: the peer may be gone, or not reading; the shutdown is what matters.
            self.shared.kick();
        }
        self.shared.control.shutdown()
    }

    /// A handle that can shut the connection down without waiting for a writer.
    #[must_use]
    pub fn shutdown_handle(&self) -> ShutdownHandle {
        ShutdownHandle {
            shared: Arc::clone(&self.shared),
        }
    }

    /// Sets the write timeout (shared with the whole stream), a deadline for each whole
    /// [`send`](Self::send).
    ///
    /// # Errors
    /// A zero duration.
    pub fn set_write_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        self.shared.set_write_timeout(timeout)
    }

    /// The write timeout.
    #[must_use]
    pub fn write_timeout(&self) -> Option<Duration> {
        self.shared.write_timeout()
    }
}

impl Write for WriteHalf {
    /// As [`WriteHalf::send`]: `Ok(buf.len())` once the bytes count as sent, even when part
    /// of them still waits for [`flush`](Write::flush); an error only when none of them
    /// were sent.
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self.send(buf) {
            Ok(()) => Ok(buf.len()),
            Err(e) if e.is_committed() && e.io_error().kind() == io::ErrorKind::TimedOut => {
                Ok(buf.len())
            }
            Err(e) => Err(e.into_io_error()),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        self.flush_pending()
    }
}

impl ShutdownHandle {
    /// Shuts the socket down in both directions; a blocked reader wakes with end-of-stream.
    /// No TLS `close_notify` is sent (that would wait for a writer).
    ///
    /// # Errors
    /// The socket's error; a caller-supplied stream gives `Unsupported`.
    pub fn shutdown(&self) -> io::Result<()> {
        self.shared.control.shutdown()
    }
}
