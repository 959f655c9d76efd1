//! The blocking WebSocket: connecting (with redirects), sending, receiving, closing, splitting.

use std::io::{self, Read};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use ws_frame::{CloseCode, Delivery, Event, InputLoan, OpCode, Session, State};
use ws_handshake::{ClientRequest, Outcome, parse_response};
use ws_transport::{ReadHalf, SendError, ShutdownHandle, Stream, WriteHalf, WsUrl};

use crate::keys::{Keys, RandomKeys, fill_random};
use crate::trace;
use crate::{CloseFrame, Config, Error, Message, MessageRef};

/// What the handshake established, kept for the life of the connection.
#[derive(Debug)]
struct Info {
    url: String,
    status: u16,
    headers: Vec<(String, String)>,
    subprotocol: Option<String>,
    tls: bool,
    peer: Option<SocketAddr>,
    local: Option<SocketAddr>,
    /// The permessage-deflate parameters, when the server accepted compression.
    #[cfg(feature = "deflate")]
    compression: Option<ws_deflate::Negotiated>,
}

/// A connected WebSocket (Python's `WebSocket` after `connect`).
///
/// Owned by one thread; [`split`](Self::split) gives a [`Receiver`] and a cloneable
/// [`Sender`] for full duplex across threads. Pings are answered and the peer's close is
/// echoed automatically. After the connection is closed every call returns
/// [`Error::ConnectionClosed`].
pub struct WebSocket {
    session: Session<Keys>,
    /// `recv_frame` handed out the first frame of a message: its other frames are delivered
    /// one by one too, then the configured delivery comes back.
    frames_until_fin: bool,
    /// The delivery the connection was configured with.
    configured_delivery: Delivery,
    /// Frames of a fragmented message were queued and not yet written (see [`Out::encode`]).
    queued_fragment: bool,
    read: ReadHalf,
    link: Link,
    info: Arc<Info>,
    close_timeout: Duration,
    timeout: ReadTimeout,
}

impl std::fmt::Debug for WebSocket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebSocket")
            .field("url", &self.info.url)
            .field("state", &self.session.state())
            .field("subprotocol", &self.info.subprotocol)
            .field("tls", &self.info.tls)
            .finish_non_exhaustive()
    }
}

/// Connects to `url` with the default options (Python's `create_connection(url)`).
///
/// # Errors
/// See [`Error`]: address, connect, proxy, TLS, bad status, handshake, redirects, timeout.
pub fn connect(url: &str) -> Result<WebSocket, Error> {
    Config::default().connect(url)
}

impl Config {
    /// Connects to `url` with these options (Python's `create_connection(url, **options)`).
    ///
    /// # Errors
    /// See [`Error`].
    pub fn connect(&self, url: &str) -> Result<WebSocket, Error> {
        open(self, url, None)
    }

    /// Runs the WebSocket handshake over a stream the caller connected (Python's `socket=`);
    /// for `wss://` TLS is laid over it first. Redirects open new connections.
    ///
    /// # Errors
    /// See [`Error`].
    pub fn connect_over(&self, url: &str, stream: Stream) -> Result<WebSocket, Error> {
        open(self, url, Some(stream))
    }
}

fn open(config: &Config, url: &str, mut stream: Option<Stream>) -> Result<WebSocket, Error> {
    let mut url = WsUrl::parse(url)?;
    let first = url.clone();
    let mut redirects = 0;
    loop {
        let transport = match stream.take() {
            Some(s) => ws_transport::connect_over(&url, s, &config.transport)?,
            None => ws_transport::connect(&url, &config.transport)?,
        };
        let mut nonce = [0; 16];
        fill_random(&mut nonce);
        // Credentials were given for the first origin (scheme, host and port): never send
        // them anywhere else.
        let request = config.request(&url, nonce, url.origin() == first.origin());
        match handshake(transport, &request, config, &url)? {
            Handshake::Open(ws) => return Ok(*ws),
            Handshake::Redirect { status, location } => {
                if redirects >= config.redirect_limit {
                    return Err(Error::TooManyRedirects {
                        limit: config.redirect_limit,
                    });
                }
                redirects += 1;
                let next = WsUrl::parse(&location)?;
                if url.is_secure() && !next.is_secure() {
                    return Err(Error::InsecureRedirect {
                        location: next.to_string(),
                    });
                }
                log::info!("redirect {status} from {url} to {next}");
                url = next;
            }
        }
    }
}

enum Handshake {
    Open(Box<WebSocket>),
    Redirect { status: u16, location: String },
}

/// Timeouts on a caller's stream are the caller's business; anything else is reported.
fn set_timeouts(stream: &Stream, timeout: Option<Duration>) -> Result<(), Error> {
    set_timeouts_of(stream, timeout)?;
    stream.set_write_timeout(timeout).map_err(Error::Io)
}

/// Sets the read timeout, ignoring a caller's stream, which has none.
fn set_timeouts_of(stream: &Stream, timeout: Option<Duration>) -> Result<(), Error> {
    ignore_unsupported(stream.set_read_timeout(timeout))
}

/// A caller's stream has no timeouts of ours: setting one is not an error.
fn ignore_unsupported(result: io::Result<()>) -> Result<(), Error> {
    match result {
        Err(e) if e.kind() != io::ErrorKind::Unsupported => Err(Error::Io(e)),
        _ => Ok(()),
    }
}

/// Zero is refused everywhere a timeout is taken, with the same words.
fn check_timeout(timeout: Option<Duration>) -> Result<(), Error> {
    if timeout == Some(Duration::ZERO) {
        return Err(Error::InvalidConfig(format!(
            "a zero timeout: {}",
            crate::config::ZERO_TIMEOUT
        )));
    }
    Ok(())
}

/// The time left before `deadline`, or the timeout error for `operation`.
fn time_left(
    deadline: Instant,
    operation: &str,
    limit: Option<Duration>,
) -> Result<Duration, Error> {
    match deadline.checked_duration_since(Instant::now()) {
        Some(left) if !left.is_zero() => Ok(left),
        _ => Err(Error::Timeout {
            operation: match limit {
                Some(limit) => format!("{operation} (limit {limit:?})"),
                None => operation.to_string(),
            },
        }),
    }
}

fn handshake(
    mut stream: Stream,
    request: &ClientRequest,
    config: &Config,
    url: &WsUrl,
) -> Result<Handshake, Error> {
    let bytes = request.encode().map_err(Error::Handshake)?;
    trace::request(&bytes);
    // The handshake timeout bounds the whole exchange, not each read: a server answering one
    // byte a second cannot stretch it.
    let deadline = config.handshake_timeout.map(|t| Instant::now() + t);
    set_timeouts(&stream, config.handshake_timeout)?;
    io::Write::write_all(&mut stream, &bytes)
        .map_err(|e| Error::from_io(e, "sending the handshake request"))?;
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 4096];
    let waiting = "waiting for the handshake response";
    let (outcome, used) = loop {
        if let Some(done) =
            parse_response(&buf, request, &config.http_limits).map_err(Error::Handshake)?
        {
            break done;
        }
        if let Some(deadline) = deadline {
            let left = time_left(deadline, waiting, config.handshake_timeout)?;
            set_timeouts_of(&stream, Some(left))?;
        }
        let n = stream
            .read(&mut chunk)
            .map_err(|e| Error::from_io(e, waiting))?;
        if n == 0 {
            return Err(Error::closed(
                "the server closed the connection during the handshake",
            ));
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    trace::response(&buf[..used.min(buf.len())]);
    let remember = |headers: &[(String, String)]| {
        if let Some(jar) = &config.cookie_jar {
            let set_cookie = headers
                .iter()
                .filter(|(name, _)| name.eq_ignore_ascii_case("set-cookie"))
                .map(|(_, value)| value.as_str());
            jar.store_for(url, set_cookie);
        }
    };
    let accepted = match outcome {
        Outcome::Accepted(accepted) => {
            remember(&accepted.headers);
            accepted
        }
        Outcome::Redirect {
            status,
            location,
            headers,
        } => {
            remember(&headers);
            let _ = stream.shutdown();
            return Ok(Handshake::Redirect { status, location });
        }
        Outcome::BadStatus(bad) => {
            let _ = stream.shutdown();
            return Err(Error::BadStatus(Box::new(bad)));
        }
    };
    set_timeouts(&stream, config.timeout)?;
    let keys = match &config.mask_key {
        Some(f) => Keys::Custom(Arc::clone(f)),
        None => Keys::Random(RandomKeys::new()),
    };
    let mut session = Session::client(config.frame, keys);
    #[cfg(feature = "deflate")]
    let compression = match &config.compression {
        Some(deflate) => match deflate.accept_response(&accepted.extensions) {
            Ok(Some(extension)) => {
                let negotiated = extension.negotiated();
                session.set_extension(Box::new(extension));
                Some(negotiated)
            }
            Ok(None) => None,
            Err(e) => {
                let _ = stream.shutdown();
                return Err(Error::Compression(e));
            }
        },
        None => None,
    };
    // The first frames may have come in the same read as the 101 (compressed already, when
    // compression was accepted: the extension is in place first).
    session.receive_data(&buf[used..]);
    let info = Arc::new(Info {
        url: url.to_string(),
        status: 101,
        headers: accepted.headers,
        subprotocol: accepted.subprotocol,
        tls: stream.is_tls(),
        peer: stream.peer_addr(),
        local: stream.local_addr(),
        #[cfg(feature = "deflate")]
        compression,
    });
    let (read, write) = stream.split();
    log::debug!(
        "connected to {} (subprotocol {:?})",
        info.url,
        info.subprotocol
    );
    Ok(Handshake::Open(Box::new(WebSocket {
        session,
        frames_until_fin: false,
        configured_delivery: config.frame.delivery,
        queued_fragment: false,
        read,
        link: Link {
            write,
            failure: Mutex::new(None),
        },
        info,
        close_timeout: config.close_timeout,
        timeout: ReadTimeout::new(config.timeout),
    })))
}

/// The writing side of a connection, and how it ended if it failed. A [`WebSocket`] owns
/// one; after [`WebSocket::split`] the halves share it.
struct Link {
    write: WriteHalf,
    /// What ended the connection, once something did; later calls report it.
    failure: Mutex<Option<String>>,
}

impl Link {
    /// Ends the connection for good after a failure: nothing more is sent, the socket is
    /// shut down (waking a blocked reader), and every later call reports `why`.
    fn fail(&self, session: &mut Session<Keys>, why: String) {
        session.abandon();
        lock(&self.failure).get_or_insert(why);
        let _ = self.write.shutdown_handle().shutdown();
    }

    /// The error for a call on a connection that has ended.
    fn closed_error(&self) -> Error {
        match &*lock(&self.failure) {
            Some(why) => Error::closed(format!("the connection had already failed: {why}")),
            None => Error::closed("the WebSocket is closed"),
        }
    }

    /// An error from encoding a frame: after the close (or a failure) it says which.
    fn refused(&self, e: ws_frame::Error) -> Error {
        match e {
            ws_frame::Error::Closed => self.closed_error(),
            other => other.into(),
        }
    }

    /// Hands the session's queued control frames (pongs, the close reply, the close frame of
    /// a protocol failure) to the writer without waiting for it: a reader never waits on a
    /// send in progress (see `docs/design.md`).
    fn offer(&self, session: &mut Session<Keys>) {
        let out = session.pending_output();
        if out.is_empty() {
            return;
        }
        if let Err(e) = self.write.offer(out) {
            log::debug!("control frame not sent: {e}");
        }
        let n = out.len();
        session.consume_output(n);
    }

    /// Writes `bytes`, the frames the caller encoded, as one unit within the write timeout
    /// (or `timeout` when given). On failure, the error and whether it ends the connection,
    /// which [`settle`](Self::settle) acts on once the caller holds the session again.
    fn send(
        &self,
        bytes: &[u8],
        timeout: Option<Option<Duration>>,
        fragment: bool,
    ) -> Result<(), (Error, bool)> {
        if bytes.is_empty() {
            return Ok(());
        }
        let result = match timeout {
            Some(limit) => self.write.send_within(bytes, limit),
            None => self.write.send(bytes),
        };
        result.map_err(|e| send_error(e, fragment))
    }

    /// Ends the connection when a [`send`](Self::send) failure calls for it.
    fn settle(
        &self,
        result: Result<(), (Error, bool)>,
        session: &mut Session<Keys>,
    ) -> Result<(), Error> {
        result.map_err(|(error, fatal)| {
            if fatal {
                self.fail(session, error.to_string());
            }
            error
        })
    }

    /// A read failed: a timeout leaves the connection as it is; anything else ends it.
    fn read_failed(&self, session: &mut Session<Keys>, e: io::Error) -> Error {
        let error = Error::from_io(e, "receiving");
        if !error.is_timeout() {
            self.fail(session, error.to_string());
        }
        error
    }
}

/// What a failed send means for the caller, and whether the connection is over.
///
/// A timeout before any byte left drops the frames (nothing was sent, the connection goes on)
/// unless they were fragments of a message, which cannot go on without them. A timeout after
/// some bytes left keeps the rest owed: it goes out first with the next send or flush, so the
/// peer sees whole frames and nothing twice. Any other error ends the connection.
fn send_error(e: SendError, fragment: bool) -> (Error, bool) {
    let partly_sent = e.is_committed();
    let io = e.into_io_error();
    if !matches!(
        io.kind(),
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock
    ) {
        return (Error::lost("sending", io), true);
    }
    let connection_closed = fragment && !partly_sent;
    let error = Error::SendTimeout {
        partly_sent,
        connection_closed,
    };
    (error, connection_closed)
}

/// Makes the next event `want` asks for ready in `session.event()`, skipping the others;
/// `Ok(false)` when more input is needed. A control event's output (a pong, the close reply)
/// is handed to the link; data events queue none, so the hot path returns at once.
///
/// # Errors
/// The peer's protocol errors (the close frame naming the error goes to the link first);
/// [`Error::ConnectionClosed`] once the connection is over.
#[inline(always)]
fn ready(session: &mut Session<Keys>, link: &Link, want: Want) -> Result<bool, Error> {
    loop {
        match session.poll_event() {
            Ok(true) => {}
            Ok(false) => return more_input(session, link),
            Err(e) => return Err(protocol_failure(session, link, e)),
        }
        // The hot path: a data message, nothing to log.
        if session.has_data_event() && !log::log_enabled!(log::Level::Trace) {
            return Ok(true);
        }
        if inspect(session, link, want) {
            return Ok(true);
        }
    }
}

/// [`ready`] for a control event or with tracing on: logs the event, hands a control
/// event's output to the link; whether `want` takes the event.
#[inline(never)]
fn inspect(session: &mut Session<Keys>, link: &Link, want: Want) -> bool {
    let data = session.has_data_event();
    let Some(event) = session.event() else {
        return false;
    };
    if log::log_enabled!(log::Level::Trace) {
        trace::received(MessageRef::from_event(event));
    }
    if data {
        return true;
    }
    let wanted = want.accepts(&event);
    link.offer(session);
    wanted
}

/// [`ready`] when the input is used up: `Ok(false)` (read more), or the connection is over.
#[inline(never)]
fn more_input(session: &Session<Keys>, link: &Link) -> Result<bool, Error> {
    if session.state() == State::Closed {
        return Err(link.closed_error());
    }
    Ok(false)
}

/// [`ready`] on the peer's protocol error: the close frame naming it goes to the link first.
#[cold]
#[inline(never)]
fn protocol_failure(session: &mut Session<Keys>, link: &Link, e: ws_frame::Error) -> Error {
    link.offer(session);
    let error = Error::from(e);
    link.fail(session, error.to_string());
    error
}

/// The socket timeout of a receiving side, kept as a deadline for each whole receive call:
/// the first read of a call may wait the whole timeout, every later read of the same call
/// only what is left of it. So a peer that trickles a message cannot hold a receive past
/// the timeout (Python gives each socket read the whole timeout again). The socket's read
/// timeout is cut only for a call's later reads, and put back at the next call's first.
#[derive(Clone, Copy, Debug)]
struct ReadTimeout {
    timeout: Option<Duration>,
    /// The socket's read timeout was cut to what was left of a call.
    cut: bool,
}

impl ReadTimeout {
    const fn new(timeout: Option<Duration>) -> Self {
        Self {
            timeout,
            cut: false,
        }
    }

    /// Arms `read` for the next read of a receive call. `deadline`: the call's own (the
    /// close handshake), which every read gets what is left of; otherwise `started` is when
    /// the call's first read began (`None` before it), and the timeout counts from there.
    fn arm(
        &mut self,
        read: &ReadHalf,
        deadline: Option<Instant>,
        started: &mut Option<Instant>,
    ) -> Result<(), Error> {
        // A caller's stream takes no timeout. Against the call's own deadline that is an
        // error, so the close handshake does not wait for the peer's answer at all rather
        // than wait without limit; the socket timeout is ignored there, as `set_timeout`
        // ignores it.
        let (until, strict) = match (deadline, self.timeout, *started) {
            (Some(deadline), _, _) => (deadline, true),
            (None, Some(timeout), Some(started)) => (started + timeout, false),
            (None, timeout, _) => {
                // A call's first read: the whole timeout, which is on the socket already
                // unless an earlier call cut it.
                *started = timeout.map(|_| Instant::now());
                if self.cut {
                    ignore_unsupported(read.set_read_timeout(timeout))?;
                    self.cut = false;
                }
                return Ok(());
            }
        };
        let left = time_left(until, "receiving", self.timeout.filter(|_| !strict))?;
        let set = read.set_read_timeout(Some(left));
        if strict {
            set.map_err(Error::Io)?;
        } else {
            ignore_unsupported(set)?;
        }
        self.cut = true;
        Ok(())
    }

    /// A new timeout, set on `read`.
    fn set(&mut self, read: &ReadHalf, timeout: Option<Duration>) -> Result<(), Error> {
        check_timeout(timeout)?;
        ignore_unsupported(read.set_read_timeout(timeout))?;
        *self = Self::new(timeout);
        Ok(())
    }
}

/// Hands a read into `loan` (the session's buffer, lent with `Session::lend_input` so that
/// the read needs no borrow of the session) back to the session: the bytes, the end of the
/// stream, or the failure; an interrupted read is nothing. The buffer goes back whatever
/// happened, so a half-received frame survives a timeout.
fn take_read(
    session: &mut Session<Keys>,
    link: &Link,
    loan: InputLoan,
    read: io::Result<usize>,
) -> Result<(), Error> {
    session.restore_input(loan, *read.as_ref().unwrap_or(&0));
    match read {
        Ok(0) => session.receive_eof(),
        Ok(_) => {}
        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
        Err(e) => return Err(link.read_failed(session, e)),
    }
    Ok(())
}

/// The ready event as an owned [`Message`]. Large payloads are taken from the session (a
/// message assembled from several reads is handed over, not copied); small ones are copied.
fn owned(session: &mut Session<Keys>) -> Option<Message> {
    let event = session.event()?;
    let large = match event {
        Event::Binary(data) => data.len() >= TAKE_ABOVE,
        Event::Text(text) => text.len() >= TAKE_ABOVE,
        _ => false,
    };
    if !large {
        return Some(Message::from_event(event));
    }
    Some(if matches!(session.event(), Some(Event::Text(_))) {
        Message::Text(session.take_text())
    } else {
        Message::Binary(session.take_message())
    })
}

/// Payloads from this size on are taken from the session rather than copied (below it a copy
/// is cheaper than giving up the buffer's capacity).
const TAKE_ABOVE: usize = 64 * 1024;

/// What `recv*` hands out.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Want {
    Data,
    DataAndControl,
}

impl Want {
    /// Whether `event` is handed out (pings and pongs only with control frames).
    fn accepts(self, event: &Event<'_>) -> bool {
        self == Self::DataAndControl || !matches!(event, Event::Ping(_) | Event::Pong(_))
    }

    fn with_control(control_frames: bool) -> Self {
        if control_frames {
            Self::DataAndControl
        } else {
            Self::Data
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Queued output beyond this is written at once by [`WebSocket::queue`]: large enough that
/// batched small messages leave in few writes (loopback and fast links take 256 KiB per
/// `write` as easily as 64 KiB), small enough to bound what a queue holds.
const QUEUE_FLUSH_BYTES: usize = 256 * 1024;

/// A message to send, borrowing its payload. Every `send*` and `queue*` of [`WebSocket`] and
/// [`Sender`] goes through [`Out::encode`], so none copies a payload before the session's
/// one encoding copy.
#[derive(Clone, Copy)]
enum Out<'a> {
    Text(&'a str),
    Binary(&'a [u8]),
    Frame(OpCode, bool, &'a [u8]),
    Ping(&'a [u8]),
    Pong(&'a [u8]),
    Close(Option<CloseCode>, &'a str),
}

impl<'a> Out<'a> {
    fn of(message: &'a Message) -> Self {
        match message {
            Message::Text(s) => Self::Text(s),
            Message::Binary(b) => Self::Binary(b),
            Message::UnvalidatedText(b) => Self::Frame(OpCode::Text, true, b),
            Message::Fragment { opcode, data, fin } => Self::Frame(*opcode, *fin, data),
            Message::Ping(p) => Self::Ping(p),
            Message::Pong(p) => Self::Pong(p),
            Message::Close(Some(c)) => Self::Close(Some(c.code), &c.reason),
            Message::Close(None) => Self::Close(None, ""),
        }
    }

    /// `true` for a frame of a message fragmented by hand, which the message cannot do
    /// without.
    fn is_fragment(self) -> bool {
        matches!(self, Self::Frame(..))
    }

    /// Encodes into the session's output without writing it.
    fn encode(self, session: &mut Session<Keys>, link: &Link) -> Result<(), Error> {
        self.encode_frame(session).map_err(|e| link.refused(e))
    }

    fn encode_frame(self, session: &mut Session<Keys>) -> Result<(), ws_frame::Error> {
        match self {
            Self::Text(s) => {
                trace::sent_bytes(OpCode::Text, s.as_bytes());
                session.send_text(s)?;
            }
            Self::Binary(b) => {
                trace::sent_bytes(OpCode::Binary, b);
                session.send_binary(b)?;
            }
            Self::Frame(opcode, fin, b) => {
                trace::sent_bytes(opcode, b);
                session.send_frame(opcode, fin, b)?;
            }
            Self::Ping(p) => {
                trace::sent_bytes(OpCode::Ping, p);
                session.send_ping(p)?;
            }
            Self::Pong(p) => {
                trace::sent_bytes(OpCode::Pong, p);
                session.send_pong(p)?;
            }
            Self::Close(code, reason) => {
                trace::sent_bytes(OpCode::Close, reason.as_bytes());
                session.send_close(code, reason)?;
            }
        }
        Ok(())
    }
}

impl WebSocket {
    /// Sends a message of any kind. The socket timeout is a deadline for the whole send.
    ///
    /// # Errors
    /// [`Error::SendTimeout`] when the timeout passes, saying whether the message went out
    /// in part (then the rest follows first with the next send or [`flush`](Self::flush))
    /// or not at all (then it never will); [`Error::ConnectionClosed`] after close, or when
    /// the connection is lost (the socket error is its source; the connection is then
    /// closed for good); [`Error::Protocol`] for what the codec refuses (a control payload
    /// over 125 bytes, an invalid close code).
    pub fn send(&mut self, message: impl Into<Message>) -> Result<(), Error> {
        let message = message.into();
        self.send_out(Out::of(&message))
    }

    /// Sends a text message.
    ///
    /// # Errors
    /// As [`send`](Self::send).
    pub fn send_text(&mut self, text: &str) -> Result<(), Error> {
        self.send_out(Out::Text(text))
    }

    /// Sends a binary message.
    ///
    /// # Errors
    /// As [`send`](Self::send).
    pub fn send_binary(&mut self, data: &[u8]) -> Result<(), Error> {
        self.send_out(Out::Binary(data))
    }

    /// Sends one frame of a fragmented message (manual fragmentation): the first with `Text`
    /// or `Binary`, the rest with `Continuation`, the last with `fin`. Control frames may be
    /// sent in between.
    ///
    /// # Errors
    /// As [`send`](Self::send); also a wrong opcode for the position in the message.
    pub fn send_frame(&mut self, opcode: OpCode, fin: bool, payload: &[u8]) -> Result<(), Error> {
        self.send_out(Out::Frame(opcode, fin, payload))
    }

    /// Queues a message without writing it (tungstenite's `write`): many small messages then
    /// leave in few system calls. [`flush`](Self::flush) writes the queue; it is also
    /// written by itself once it holds 256 KiB, and by every `send*`.
    ///
    /// # Errors
    /// As [`send`](Self::send).
    pub fn queue(&mut self, message: impl Into<Message>) -> Result<(), Error> {
        let message = message.into();
        self.queue_out(Out::of(&message))
    }

    /// Queues a binary message (see [`queue`](Self::queue)).
    ///
    /// # Errors
    /// As [`send`](Self::send).
    pub fn queue_binary(&mut self, data: &[u8]) -> Result<(), Error> {
        self.queue_out(Out::Binary(data))
    }

    /// Queues a text message (see [`queue`](Self::queue)).
    ///
    /// # Errors
    /// As [`send`](Self::send).
    pub fn queue_text(&mut self, text: &str) -> Result<(), Error> {
        self.queue_out(Out::Text(text))
    }

    fn queue_out(&mut self, out: Out<'_>) -> Result<(), Error> {
        out.encode(&mut self.session, &self.link)?;
        self.queued_fragment |= out.is_fragment();
        if self.session.pending_output().len() >= QUEUE_FLUSH_BYTES {
            self.write_queued(None)?;
        }
        Ok(())
    }

    /// Encodes and writes.
    fn send_out(&mut self, out: Out<'_>) -> Result<(), Error> {
        out.encode(&mut self.session, &self.link)?;
        self.queued_fragment |= out.is_fragment();
        self.write_queued(None)
    }

    /// Writes what the session queued as one unit, within the write timeout or `timeout`.
    /// Sent or not, the bytes leave the session: what went out part-way is owed by the
    /// stream, what never left is dropped (see [`send_error`]).
    fn write_queued(&mut self, timeout: Option<Option<Duration>>) -> Result<(), Error> {
        let fragment = std::mem::take(&mut self.queued_fragment);
        let out = self.session.pending_output();
        let n = out.len();
        let result = self.link.send(out, timeout, fragment);
        self.session.consume_output(n);
        self.link.settle(result, &mut self.session)
    }

    /// Writes every queued message, and whatever an earlier send that ran out of time left
    /// owed, within the write timeout.
    ///
    /// # Errors
    /// [`Error::SendTimeout`] when the time runs out (what is left stays owed);
    /// [`Error::ConnectionClosed`] when the connection is lost.
    pub fn flush(&mut self) -> Result<(), Error> {
        self.write_queued(None)?;
        match self.link.write.flush_pending() {
            Ok(()) => Ok(()),
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock
                ) =>
            {
                Err(Error::SendTimeout {
                    partly_sent: true,
                    connection_closed: false,
                })
            }
            Err(e) => {
                let error = Error::lost("sending", e);
                self.link.fail(&mut self.session, error.to_string());
                Err(error)
            }
        }
    }

    /// Sends a ping.
    ///
    /// # Errors
    /// As [`send`](Self::send).
    pub fn ping(&mut self, payload: &[u8]) -> Result<(), Error> {
        self.send_out(Out::Ping(payload))
    }

    /// Sends a pong.
    ///
    /// # Errors
    /// As [`send`](Self::send).
    pub fn pong(&mut self, payload: &[u8]) -> Result<(), Error> {
        self.send_out(Out::Pong(payload))
    }

    /// Sends a close frame and returns at once (Python's `send_close`); see
    /// [`close`](Self::close) for the whole closing handshake.
    ///
    /// # Errors
    /// As [`send`](Self::send).
    pub fn send_close(&mut self, code: CloseCode, reason: &str) -> Result<(), Error> {
        self.send_out(Out::Close(Some(code), reason))
    }

    /// Closes the connection: sends a close frame with `code` and `reason`, waits for the
    /// peer's close frame, then shuts the socket down. The close timeout (3 s by default) is
    /// a deadline for all of it, however the peer behaves (a peer that pings without ever
    /// answering is cut off at the deadline). Returns the peer's close frame when it came in
    /// time. Messages that arrive meanwhile are dropped. The connection is closed afterwards
    /// whatever happened. Calling it on a connection that closed normally only shuts the
    /// socket down.
    ///
    /// # Errors
    /// [`Error::Protocol`] for an invalid code or a reason over 123 bytes (nothing is sent,
    /// the connection stays open); [`Error::Timeout`] when the close frame itself could not be
    /// sent in time; [`Error::ConnectionClosed`] when the connection had already failed (a
    /// lost socket, a protocol error, a fragment that could not be sent), saying how.
    pub fn close(&mut self, code: CloseCode, reason: &str) -> Result<Option<CloseFrame>, Error> {
        let timeout = self.close_timeout;
        self.close_with_timeout(code, reason, timeout)
    }

    /// [`close`](Self::close) with its own deadline. Zero sends the close frame if the socket
    /// takes it at once and does not wait for the answer.
    ///
    /// # Errors
    /// As [`close`](Self::close).
    pub fn close_with_timeout(
        &mut self,
        code: CloseCode,
        reason: &str,
        timeout: Duration,
    ) -> Result<Option<CloseFrame>, Error> {
        if lock(&self.link.failure).is_some() {
            return Err(self.link.closed_error());
        }
        let deadline = Instant::now() + timeout;
        if matches!(self.session.state(), State::Open | State::RemoteClosing) {
            Out::Close(Some(code), reason).encode(&mut self.session, &self.link)?;
            if let Err(e) = self.write_queued(Some(Some(timeout))) {
                // The peer did not take the close frame: there is no handshake to wait for.
                self.link.fail(&mut self.session, e.to_string());
                return Err(e);
            }
        }
        let mut answer = None;
        while self.session.state() == State::LocalClosing {
            match self.next(Want::DataAndControl, Some(deadline)) {
                Ok(Message::Close(frame)) => answer = frame,
                Ok(_) => {}
                Err(_) => break,
            }
        }
        self.session.abandon();
        let _ = self.link.write.shutdown();
        Ok(answer)
    }

    /// Shuts the socket down at once, without a close frame (Python's `shutdown`).
    pub fn shutdown(&mut self) {
        self.session.abandon();
        let _ = self.link.write.shutdown();
    }

    /// Receives the next data message: text, binary, a fragment with `fire_cont_frame`, or the
    /// peer's close frame (already answered). Pings are answered and skipped.
    ///
    /// # Errors
    /// [`Error::Timeout`] when the socket timeout passes (the connection stays usable);
    /// [`Error::ConnectionClosed`] after the close handshake or when the peer went away;
    /// [`Error::Protocol`] when the peer broke the protocol (the connection is then closed).
    pub fn recv(&mut self) -> Result<Message, Error> {
        self.next(Want::Data, None)
    }

    /// Receives the next message or control frame (Python's `recv_data_frame(True)`).
    ///
    /// # Errors
    /// As [`recv`](Self::recv).
    pub fn recv_data_frame(&mut self, control_frames: bool) -> Result<Message, Error> {
        self.next(Want::with_control(control_frames), None)
    }

    /// Receives the next message as opcode and bytes (Python's `recv_data`).
    ///
    /// # Errors
    /// As [`recv`](Self::recv).
    pub fn recv_data(&mut self, control_frames: bool) -> Result<(OpCode, Vec<u8>), Error> {
        let message = self.recv_data_frame(control_frames)?;
        let opcode = message.opcode();
        let data = match message {
            Message::Text(s) => s.into_bytes(),
            Message::Binary(b)
            | Message::UnvalidatedText(b)
            | Message::Ping(b)
            | Message::Pong(b) => b,
            Message::Fragment { data, .. } => data,
            Message::Close(c) => c.map_or_else(Vec::new, |c| {
                let mut payload = c.code.0.to_be_bytes().to_vec();
                payload.extend_from_slice(c.reason.as_bytes());
                payload
            }),
        };
        Ok((opcode, data))
    }

    /// Receives one frame as it arrived (Python's `recv_frame`): a data frame as
    /// [`Message::Fragment`] even when messages are being reassembled, control frames as
    /// `Ping` / `Pong` / `Close`, and pings are **not** answered. The frames are still
    /// validated. If the frame starts a fragmented message, the rest of that message is
    /// delivered frame by frame by whichever `recv*` comes next, then whole messages resume.
    ///
    /// # Errors
    /// As [`recv`](Self::recv).
    pub fn recv_frame(&mut self) -> Result<Message, Error> {
        let auto_pong = self.session.config().auto_pong;
        self.session.set_delivery(Delivery::Fragments);
        self.session.set_auto_pong(false);
        let result = self.next(Want::DataAndControl, None);
        self.session.set_auto_pong(auto_pong);
        match &result {
            Ok(Message::Fragment { fin: false, .. }) => self.frames_until_fin = true,
            _ if !self.frames_until_fin => self.session.set_delivery(self.configured_delivery),
            _ => {}
        }
        result
    }

    /// The next message `want` asks for, owned (see [`wait`](Self::wait)).
    fn next(&mut self, want: Want, deadline: Option<Instant>) -> Result<Message, Error> {
        self.wait(want, deadline)?;
        owned(&mut self.session).ok_or_else(|| self.link.closed_error())
    }

    /// Receives the next data message as [`recv`](Self::recv) does, but lends it from the
    /// receive buffer instead of allocating it: no allocation and no copy, the fastest way
    /// to read a stream of messages. The [`MessageRef`] borrows the connection until it is
    /// dropped; [`MessageRef::to_message`] keeps a copy. (On split halves, use
    /// [`Receiver::recv`], which must copy out of the shared session.)
    ///
    /// ```no_run
    /// # fn main() -> Result<(), ws_client::Error> {
    /// let mut ws = ws_client::connect("ws://127.0.0.1:9001/feed")?;
    /// let mut bytes = 0;
    /// for _ in 0..1000 {
    ///     if let ws_client::MessageRef::Binary(data) = ws.recv_ref()? {
    ///         bytes += data.len();
    ///     }
    /// }
    /// # let _ = bytes;
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    /// As [`recv`](Self::recv).
    #[inline]
    pub fn recv_ref(&mut self) -> Result<MessageRef<'_>, Error> {
        self.wait(Want::Data, None)?;
        self.session
            .event()
            .map(MessageRef::from_event)
            .ok_or_else(|| self.link.closed_error())
    }

    /// Reads until the session has an event `want` asks for ready in `session.event()`,
    /// within `deadline` (the close handshake) or else the socket timeout ([`ReadTimeout`]).
    #[inline(always)]
    fn wait(&mut self, want: Want, deadline: Option<Instant>) -> Result<(), Error> {
        if ready(&mut self.session, &self.link, want)? {
            self.made_ready();
            return Ok(());
        }
        self.read_until_ready(want, deadline)
    }

    /// After an event was made ready: the message `recv_frame` started may be over.
    #[inline(always)]
    fn made_ready(&mut self) {
        if self.frames_until_fin
            && matches!(
                self.session.event(),
                Some(Event::Fragment { fin: true, .. })
            )
        {
            // The configured delivery returns (the event already made ready keeps its own).
            self.frames_until_fin = false;
            self.session.set_delivery(self.configured_delivery);
        }
    }

    /// [`wait`](Self::wait) once the buffered input is used up: reads, then looks again.
    #[inline(never)]
    fn read_until_ready(&mut self, want: Want, deadline: Option<Instant>) -> Result<(), Error> {
        let mut started = None;
        loop {
            self.timeout.arm(&self.read, deadline, &mut started)?;
            let mut loan = self.session.lend_input();
            let read = self.read.read(loan.room());
            take_read(&mut self.session, &self.link, loan, read)?;
            if ready(&mut self.session, &self.link, want)? {
                self.made_ready();
                return Ok(());
            }
        }
    }

    /// An iterator over received messages until the connection closes; the peer's close
    /// frame is the last item.
    pub fn messages(&mut self) -> Messages<'_> {
        Messages {
            socket: self,
            done: false,
        }
    }

    /// Sets the socket timeout (`None`: block): a deadline for each whole receive call and
    /// for each whole send. (Python applies it to each socket read of a receive, so a peer
    /// that trickles a message can hold Python's `recv` for ever; here a receive that runs
    /// out of time returns [`Error::Timeout`] and keeps what arrived for the next call.)
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for zero: Python's `settimeout(0)` is non-blocking mode, which
    /// this blocking client does not offer (the same answer as `Config::builder().timeout`).
    pub fn set_timeout(&mut self, timeout: Option<Duration>) -> Result<(), Error> {
        self.timeout.set(&self.read, timeout)?;
        self.link
            .write
            .set_write_timeout(timeout)
            .map_err(Error::Io)
    }

    /// The socket timeout.
    #[must_use]
    pub fn timeout(&self) -> Option<Duration> {
        self.timeout.timeout
    }

    /// The closing-handshake state (Python's `connected` is `status() == State::Open`).
    #[must_use]
    pub fn status(&self) -> State {
        self.session.state()
    }

    /// The handshake response's status (101).
    #[must_use]
    pub fn handshake_status(&self) -> u16 {
        self.info.status
    }

    /// The handshake response's headers, in order, names as sent (Python's `getheaders`).
    #[must_use]
    pub fn headers(&self) -> &[(String, String)] {
        &self.info.headers
    }

    /// The subprotocol the server chose (Python's `getsubprotocol`).
    #[must_use]
    pub fn subprotocol(&self) -> Option<&str> {
        self.info.subprotocol.as_deref()
    }

    /// The permessage-deflate parameters the server accepted (`None`: no compression).
    #[cfg(feature = "deflate")]
    #[must_use]
    pub fn compression(&self) -> Option<ws_deflate::Negotiated> {
        self.info.compression
    }

    /// `true` when the connection uses TLS (Python's `is_ssl`).
    #[must_use]
    pub fn is_tls(&self) -> bool {
        self.info.tls
    }

    /// The URL connected to (after redirects), without credentials.
    #[must_use]
    pub fn url(&self) -> &str {
        &self.info.url
    }

    /// The peer's address (TCP; through a proxy, the proxy's).
    #[must_use]
    pub fn peer_addr(&self) -> Option<SocketAddr> {
        self.info.peer
    }

    /// The local address (TCP).
    #[must_use]
    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.info.local
    }

    /// A handle that aborts the connection from any thread: a blocked `recv` returns
    /// [`Error::ConnectionClosed`].
    #[must_use]
    pub fn abort_handle(&self) -> AbortHandle {
        AbortHandle(self.link.write.shutdown_handle())
    }

    /// Splits into a receiving half and a sending half for use on different threads. The
    /// [`Sender`] is `Clone + Send + Sync`, works over TLS, and never waits behind a
    /// [`Receiver`] blocked in `recv`.
    #[must_use]
    pub fn split(self) -> (Receiver, Sender) {
        let shared = Arc::new(Shared {
            session: Mutex::new(self.session),
            send: Mutex::new(Vec::new()),
            link: self.link,
            info: self.info,
        });
        let receiver = Receiver {
            read: self.read,
            timeout: self.timeout,
            shared: Arc::clone(&shared),
        };
        (receiver, Sender { shared })
    }
}

/// Iterator over a connection's messages; see [`WebSocket::messages`].
#[derive(Debug)]
pub struct Messages<'a> {
    socket: &'a mut WebSocket,
    done: bool,
}

impl Iterator for Messages<'_> {
    type Item = Result<Message, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match self.socket.recv() {
            Err(e) if e.is_closed() => None,
            Ok(m @ Message::Close(_)) => {
                self.done = true;
                Some(Ok(m))
            }
            other => Some(other),
        }
    }
}

/// Aborts a connection from another thread; see [`WebSocket::abort_handle`].
#[derive(Clone)]
pub struct AbortHandle(ShutdownHandle);

impl AbortHandle {
    /// Shuts the socket down; a blocked receiver wakes with [`Error::ConnectionClosed`].
    pub fn abort(&self) {
        let _ = self.0.shutdown();
    }
}

/// What the halves of a split connection share. The session lock is held only for CPU work
/// (decoding, encoding), never across a socket read or write. The send lock is held by one
/// sender from encoding its frame to writing it, so frames reach the wire in the order they
/// were encoded (nothing follows a close frame); the receiver never takes it.
struct Shared {
    session: Mutex<Session<Keys>>,
    /// Held across one sender's encode and write; its buffer receives the encoded frame.
    send: Mutex<Vec<u8>>,
    link: Link,
    info: Arc<Info>,
}

/// The receiving half of a split [`WebSocket`].
pub struct Receiver {
    read: ReadHalf,
    timeout: ReadTimeout,
    shared: Arc<Shared>,
}

/// The sending half of a split [`WebSocket`]: `Clone + Send + Sync`.
#[derive(Clone)]
pub struct Sender {
    shared: Arc<Shared>,
}

impl Receiver {
    /// As [`WebSocket::recv`].
    ///
    /// # Errors
    /// As [`WebSocket::recv`].
    pub fn recv(&mut self) -> Result<Message, Error> {
        self.next(Want::Data, None)
    }

    /// As [`WebSocket::recv_data_frame`].
    ///
    /// # Errors
    /// As [`WebSocket::recv`].
    pub fn recv_data_frame(&mut self, control_frames: bool) -> Result<Message, Error> {
        self.next(Want::with_control(control_frames), None)
    }

    /// Sets the read timeout (`None`: block), a deadline for each whole receive call as
    /// [`WebSocket::set_timeout`] describes.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for zero, as [`WebSocket::set_timeout`].
    pub fn set_timeout(&mut self, timeout: Option<Duration>) -> Result<(), Error> {
        self.timeout.set(&self.read, timeout)
    }

    fn next(&mut self, want: Want, deadline: Option<Instant>) -> Result<Message, Error> {
        let link = &self.shared.link;
        let mut started = None;
        loop {
            {
                let mut session = lock(&self.shared.session);
                if ready(&mut session, link, want)? {
                    return owned(&mut session).ok_or_else(|| link.closed_error());
                }
            }
            self.timeout.arm(&self.read, deadline, &mut started)?;
            // The session's buffer is lent out for the read, so no lock is held while the
            // read blocks: senders are never held up by a waiting reader.
            let mut loan = lock(&self.shared.session).lend_input();
            let read = self.read.read(loan.room());
            take_read(&mut lock(&self.shared.session), link, loan, read)?;
        }
    }

    /// The subprotocol the server chose.
    #[must_use]
    pub fn subprotocol(&self) -> Option<&str> {
        self.shared.info.subprotocol.as_deref()
    }
}

impl Sender {
    /// Encodes under the session lock, writes with only the send lock held: the receiver
    /// can decode (and hand over pongs) while this waits for a full socket.
    fn send_out(&self, out: Out<'_>) -> Result<(), Error> {
        self.send_out_within(out, None)
    }

    fn send_out_within(
        &self,
        out: Out<'_>,
        timeout: Option<Option<Duration>>,
    ) -> Result<(), Error> {
        let shared = &*self.shared;
        let mut frame = lock(&shared.send);
        {
            let mut session = lock(&shared.session);
            out.encode(&mut session, &shared.link)?;
            session.take_output(&mut frame);
        }
        let result = shared.link.send(&frame, timeout, out.is_fragment());
        frame.clear();
        shared.link.settle(result, &mut lock(&shared.session))
    }

    /// As [`WebSocket::send`].
    ///
    /// # Errors
    /// As [`WebSocket::send`].
    pub fn send(&self, message: impl Into<Message>) -> Result<(), Error> {
        let message = message.into();
        self.send_out(Out::of(&message))
    }

    /// Sends a text message.
    ///
    /// # Errors
    /// As [`WebSocket::send`].
    pub fn send_text(&self, text: &str) -> Result<(), Error> {
        self.send_out(Out::Text(text))
    }

    /// Sends a binary message.
    ///
    /// # Errors
    /// As [`WebSocket::send`].
    pub fn send_binary(&self, data: &[u8]) -> Result<(), Error> {
        self.send_out(Out::Binary(data))
    }

    /// Sends a ping.
    ///
    /// # Errors
    /// As [`WebSocket::send`].
    pub fn ping(&self, payload: &[u8]) -> Result<(), Error> {
        self.send_out(Out::Ping(payload))
    }

    /// Sends a close frame; the [`Receiver`] sees the peer's answer as the last message.
    ///
    /// # Errors
    /// As [`WebSocket::send`].
    pub fn send_close(&self, code: CloseCode, reason: &str) -> Result<(), Error> {
        self.send_out(Out::Close(Some(code), reason))
    }

    /// [`send_close`](Self::send_close) within `timeout` instead of the write timeout (zero:
    /// only if the socket takes it at once); for a close that must not wait on a peer that
    /// does not read.
    ///
    /// # Errors
    /// As [`WebSocket::send`].
    pub fn send_close_within(
        &self,
        code: CloseCode,
        reason: &str,
        timeout: Duration,
    ) -> Result<(), Error> {
        self.send_out_within(Out::Close(Some(code), reason), Some(Some(timeout)))
    }

    /// Shuts the socket down at once; a blocked [`Receiver`] wakes with
    /// [`Error::ConnectionClosed`].
    pub fn shutdown(&self) {
        lock(&self.shared.session).abandon();
        let _ = self.shared.link.write.shutdown_handle().shutdown();
    }

    /// A handle that aborts the connection from any thread.
    #[must_use]
    pub fn abort_handle(&self) -> AbortHandle {
        AbortHandle(self.shared.link.write.shutdown_handle())
    }
}
