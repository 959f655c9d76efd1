//! The connected byte stream, plain or TLS, and its halves.
//!
//! Every stream is kept as a reading side and a shared writing side from the start, so
//! [`Stream::split`] costs nothing and a writer never waits behind a blocked reader, with or
//! without TLS. For TLS both sides share the rustls connection state under a mutex that is
//! never held across a socket read or write:
//!
//! ```text
//!   ReadHalf ── socket read ──► lock(conn): read_tls + decrypt ──► plaintext
//!   WriteHalf ─ lock(sink) ─► lock(conn): encrypt into scratch ─► unlock(conn) ─► socket write
//! ```
//!
//! The sink lock orders TLS records on the wire; the lock order is always sink, then conn.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
#[cfg(unix)]
use std::os::unix::net::UnixStream;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use rustls::ClientConnection;

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

    fn write_vectored(&mut self, bufs: &[io::IoSlice<'_>]) -> io::Result<usize> {
        match self {
            Self::Tcp(s) => s.write_vectored(bufs),
            #[cfg(unix)]
            Self::Unix(s) => s.write_vectored(bufs),
            Self::Custom(s) => lock(s).write_vectored(bufs),
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

struct Sink {
    raw: Raw,
    /// Encrypted bytes waiting to be written (TLS only); reused across writes.
    scratch: Vec<u8>,
}

struct Shared {
    sink: Mutex<Sink>,
    tls: Option<Mutex<ClientConnection>>,
    /// A clone of the socket kept for [`ShutdownHandle`], which must not wait for the sink.
    control: Raw,
    peer: Option<SocketAddr>,
    local: Option<SocketAddr>,
}

impl Shared {
    /// Encrypts whatever rustls has queued and writes it; the caller holds the sink.
    fn push_tls(&self, sink: &mut Sink) -> io::Result<()> {
        let Some(tls) = &self.tls else { return Ok(()) };
        {
            let mut conn = lock(tls);
            while conn.wants_write() {
                conn.write_tls(&mut sink.scratch)?;
            }
        }
        let result = sink.raw.write_all(&sink.scratch);
        sink.scratch.clear();
        result
    }
}

/// The receiving side of a [`Stream`]. Reads are blocking, subject to the read timeout.
pub struct ReadHalf {
    raw: Raw,
    shared: Arc<Shared>,
    /// TLS only: ciphertext read from the socket; `start..end` is not yet handed to rustls.
    pending: Box<[u8]>,
    start: usize,
    end: usize,
}

/// The sending side of a [`Stream`]: `Clone + Send + Sync`; clones write in turn, each
/// `write` reaching the socket whole before the next starts.
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
    pub(crate) fn new(raw: Raw, tls: Option<ClientConnection>) -> io::Result<Self> {
        let (sink, control) = (raw.try_clone()?, raw.try_clone()?);
        Ok(Self::from_parts(raw, sink, control, tls))
    }

    /// Builds the halves from three handles on the same socket.
    fn from_parts(raw: Raw, sink: Raw, control: Raw, tls: Option<ClientConnection>) -> Self {
        let (peer, local) = match &raw {
            Raw::Tcp(s) => (s.peer_addr().ok(), s.local_addr().ok()),
            _ => (None, None),
        };
        let shared = Arc::new(Shared {
            sink: Mutex::new(Sink {
                raw: sink,
                scratch: Vec::new(),
            }),
            tls: tls.map(Mutex::new),
            control,
            peer,
            local,
        });
        let read = ReadHalf {
            raw,
            shared: Arc::clone(&shared),
            pending: Box::default(),
            start: 0,
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
    /// lock (a writer waits while a reader is blocked), and timeouts and shutdown are the
    /// caller's business: those methods return `Unsupported`.
    pub fn from_custom(stream: impl ReadWrite) -> Self {
        let inner: Arc<Mutex<Box<dyn ReadWrite>>> = Arc::new(Mutex::new(Box::new(stream)));
        let raw = || Raw::Custom(Arc::clone(&inner));
        Self::from_parts(raw(), raw(), raw(), None)
    }

    /// Takes the socket back out of a plain stream so TLS can be laid over it.
    pub(crate) fn into_raw(self) -> Raw {
        self.read.raw
    }

    /// `true` when TLS is in use.
    #[must_use]
    pub fn is_tls(&self) -> bool {
        self.read.shared.tls.is_some()
    }

    /// The TLS protocol version and cipher suite negotiated, for logs
    /// (`"TLSv1_3 / TLS13_AES_256_GCM_SHA384"`).
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
        self.read.raw.set_read_timeout(timeout)
    }

    /// Sets the write timeout; `None` blocks forever.
    ///
    /// # Errors
    /// A zero duration, or a caller-supplied stream.
    pub fn set_write_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        self.read.shared.control.set_write_timeout(timeout)
    }

    /// The current read timeout.
    ///
    /// # Errors
    /// When the operating system cannot report it.
    pub fn read_timeout(&self) -> io::Result<Option<Duration>> {
        self.read.raw.read_timeout()
    }

    /// Sends TLS `close_notify` (if TLS) and shuts the socket down in both directions.
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

    fn write_vectored(&mut self, bufs: &[io::IoSlice<'_>]) -> io::Result<usize> {
        self.write.write_vectored(bufs)
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
        self.shared.tls.is_some()
    }

    fn read_tls(&mut self, tls: &Mutex<ClientConnection>, buf: &mut [u8]) -> io::Result<usize> {
        let decrypt = |conn: &mut ClientConnection| {
            conn.process_new_packets()
                .map(drop)
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
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
                    decrypt(&mut conn)?;
                    continue;
                }
                conn.wants_write()
            };
            if wants_write {
                // rustls has something to say (a key update reply, an alert): say it.
                let mut sink = lock(&self.shared.sink);
                self.shared.push_tls(&mut sink)?;
            }
            if self.pending.is_empty() {
                self.pending = vec![0; TLS_READ_CHUNK].into_boxed_slice();
            }
            let n = self.raw.read(&mut self.pending)?;
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

/// Ciphertext read per socket read: a few maximum-size TLS records.
const TLS_READ_CHUNK: usize = 64 * 1024;

impl Read for ReadHalf {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.shared.tls.is_none() {
            return self.raw.read(buf);
        }
        // The TLS state lives in `shared`, which `read_tls` also reaches through `self`.
        let shared = Arc::clone(&self.shared);
        match &shared.tls {
            Some(tls) => self.read_tls(tls, buf),
            None => self.raw.read(buf),
        }
    }
}

impl WriteHalf {
    /// Sends TLS `close_notify` (if TLS) and shuts the socket down in both directions.
    ///
    /// # Errors
    /// The socket's error; a caller-supplied stream gives `Unsupported`.
    pub fn shutdown(&self) -> io::Result<()> {
        if let Some(tls) = &self.shared.tls {
            lock(tls).send_close_notify();
            let mut sink = lock(&self.shared.sink);
            // The peer may be gone already; the shutdown below is what matters.
            let _ = self.shared.push_tls(&mut sink);
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

    /// Sets the write timeout (shared with the whole stream).
    ///
    /// # Errors
    /// A zero duration, or a caller-supplied stream.
    pub fn set_write_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        self.shared.control.set_write_timeout(timeout)
    }

    /// Writes all of `bufs` as one unit: no other clone's write comes in between.
    ///
    /// # Errors
    /// The socket's error.
    pub fn write_parts(&self, bufs: &[&[u8]]) -> io::Result<()> {
        let mut sink = lock(&self.shared.sink);
        let Some(tls) = &self.shared.tls else {
            return write_all_slices(&mut sink.raw, bufs);
        };
        {
            let mut conn = lock(tls);
            if let [one] = bufs {
                conn.writer().write_all(one)?;
            } else {
                // One TLS record for a frame header and its payload, not one each.
                let joined = bufs.concat();
                conn.writer().write_all(&joined)?;
            }
        }
        self.shared.push_tls(&mut sink)
    }
}

fn write_all_slices(raw: &mut Raw, bufs: &[&[u8]]) -> io::Result<()> {
    // The common case, one buffer (a WebSocket frame), needs no slice list.
    if let [one] = bufs {
        return raw.write_all(one);
    }
    let mut slices: Vec<io::IoSlice<'_>> = bufs.iter().map(|b| io::IoSlice::new(b)).collect();
    let mut slices = &mut slices[..];
    while !slices.is_empty() {
        match raw.write_vectored(slices) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => io::IoSlice::advance_slices(&mut slices, n),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

impl Write for WriteHalf {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.write_parts(&[buf])?;
        Ok(buf.len())
    }

    fn write_vectored(&mut self, bufs: &[io::IoSlice<'_>]) -> io::Result<usize> {
        let slices: Vec<&[u8]> = bufs.iter().map(|b| &**b).collect();
        self.write_parts(&slices)?;
        Ok(slices.iter().map(|b| b.len()).sum())
    }

    fn flush(&mut self) -> io::Result<()> {
        lock(&self.shared.sink).raw.flush()
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
