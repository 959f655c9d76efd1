//! The sans-I/O WebSocket connection: bytes in, events and bytes out (RFC 6455 §5–§7).

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use core::fmt::Write as _;
use core::ops::Range;

use crate::close::{CloseCode, MAX_CLOSE_REASON, check_outgoing_close, parse_close_payload};
use crate::decoder::{Decoder, Limits, Role};
use crate::error::Error;
use crate::extension::Extension;
use crate::fenced::{extend_masked, validated};
use crate::header::{FrameHeader, MAX_CONTROL_PAYLOAD, MAX_HEADER_LEN};
use crate::message::{Assembled, Delivery, MessageAssembler, MessageKind, Source};
use crate::opcode::OpCode;
use crate::utf8::{Utf8Validator, utf8_error};

/// Where the mask keys of a client's frames come from (RFC 6455 §5.3).
///
/// Keys must be unpredictable to the application's data source: use a CSPRNG (the blocking
/// client uses ChaCha12 seeded from the OS). Closures `FnMut() -> [u8; 4]` implement it, which
/// also covers Python's `get_mask_key` and fixed keys in tests.
pub trait MaskKeySource {
    /// The key for the next frame.
    fn next_key(&mut self) -> [u8; 4];
}

impl<F: FnMut() -> [u8; 4]> MaskKeySource for F {
    fn next_key(&mut self) -> [u8; 4] {
        self()
    }
}

/// The key source of a server session, which never masks (so it is never asked for a key).
#[derive(Clone, Copy, Debug, Default)]
pub struct NoMask;

impl MaskKeySource for NoMask {
    fn next_key(&mut self) -> [u8; 4] {
        [0; 4]
    }
}

/// Reads in a row that used less than an eighth of the receive buffer before it shrinks: one
/// short read in a stream (the reader caught up with the sender) is not the end of it.
const SMALL_READS_BEFORE_SHRINK: u8 = 8;

/// Reads go straight into the message buffer only while at least this much of a frame's
/// payload is still to come (or the receive buffer's size, when that is smaller), and each
/// such read is offered at least this much room (see `Receiver::direct_read`).
const DIRECT_READ_MIN: usize = 64 << 10;

/// The size a session's receive buffer starts at, and returns to when the traffic thins
/// out (see [`Config::read_buffer_size`]).
pub const INITIAL_READ_BUFFER: usize = 4 << 10;

/// Settings of a [`Session`]. Every field has a default, given in its doc.
///
/// ```
/// use ws_frame::{Config, Delivery, Limits};
/// let config = Config::default()
///     .limits(Limits::default().max_message_size(1 << 20))
///     .delivery(Delivery::Fragments);
/// assert!(config.auto_pong);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Config {
    /// Frame and message size limits. Default [`Limits::default`] (16 MiB / 64 MiB).
    pub limits: Limits,
    /// Client role: accept and unmask masked frames from the server instead of failing with
    /// 1002, as Python's websocket-client does. Default `false` (RFC 6455 §5.1).
    pub accept_masked_frames: bool,
    /// Whole messages or per-frame fragments. Default [`Delivery::Messages`].
    pub delivery: Delivery,
    /// Do not validate the UTF-8 of text messages; they arrive as
    /// [`Event::UnvalidatedText`]. Close reasons are still validated. Default `false`.
    pub skip_utf8_validation: bool,
    /// Answer every ping with a pong carrying the same payload. Default `true`.
    pub auto_pong: bool,
    /// Answer the peer's close frame at once by echoing its status code (§5.5.1). With
    /// `false` the session stays in [`State::RemoteClosing`] until
    /// [`Session::send_close`]. Default `true`.
    pub auto_close_reply: bool,
    /// The most the receive buffer that [`Session::input_buffer`] exposes grows to. It
    /// starts at [`INITIAL_READ_BUFFER`] (4 KiB, or this size if smaller; never under 256
    /// bytes), doubles each time a read fills all the room it was offered (the peer is
    /// sending faster than it is read: bulk traffic gets few, large reads), and goes back to
    /// the initial size, giving the memory back, once it is empty after eight reads in a row
    /// that each used less than an eighth of it (the traffic has thinned out: an idle
    /// connection holds 4 KiB, and the buffer its last large message was assembled in is
    /// freed then too). A frame larger than the buffer is still received, in
    /// pieces: once it is under way, read straight into the buffer its message is assembled
    /// in (see [`Session::input_buffer`]). Default 128 KiB (as tungstenite; on loopback
    /// 256 KiB measured no faster, and 2 MiB slower, see `docs/performance.md`).
    pub read_buffer_size: usize,
    /// Take a client's unfragmented text and binary frames straight from the receive buffer,
    /// waiting for them whole when they fit, instead of running them through the frame
    /// decoder and the message assembler. The events, errors and output are the same either
    /// way (a property test holds the two paths to that); `false` is there to check exactly
    /// that, and to measure what the fast path is worth. Default `true`.
    pub receive_fast_path: bool,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            limits: Limits::default(),
            accept_masked_frames: false,
            delivery: Delivery::Messages,
            skip_utf8_validation: false,
            auto_pong: true,
            auto_close_reply: true,
            read_buffer_size: 128 << 10,
            receive_fast_path: true,
        }
    }
}

impl Config {
    /// Sets [`Config::limits`].
    #[must_use]
    pub const fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }
    /// Sets [`Config::accept_masked_frames`].
    #[must_use]
    pub const fn accept_masked_frames(mut self, accept: bool) -> Self {
        self.accept_masked_frames = accept;
        self
    }
    /// Sets [`Config::delivery`].
    #[must_use]
    pub const fn delivery(mut self, delivery: Delivery) -> Self {
        self.delivery = delivery;
        self
    }
    /// Sets [`Config::skip_utf8_validation`].
    #[must_use]
    pub const fn skip_utf8_validation(mut self, skip: bool) -> Self {
        self.skip_utf8_validation = skip;
        self
    }
    /// Sets [`Config::receive_fast_path`].
    #[must_use]
    pub const fn receive_fast_path(mut self, on: bool) -> Self {
        self.receive_fast_path = on;
        self
    }
    /// Sets [`Config::auto_pong`].
    #[must_use]
    pub const fn auto_pong(mut self, on: bool) -> Self {
        self.auto_pong = on;
        self
    }
    /// Sets [`Config::auto_close_reply`].
    #[must_use]
    pub const fn auto_close_reply(mut self, on: bool) -> Self {
        self.auto_close_reply = on;
        self
    }
    /// Sets [`Config::read_buffer_size`].
    #[must_use]
    pub const fn read_buffer_size(mut self, bytes: usize) -> Self {
        self.read_buffer_size = bytes;
        self
    }
}

/// The state of the closing handshake (RFC 6455 §7).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum State {
    /// Data flows both ways.
    Open,
    /// This endpoint sent a close frame and waits for the peer's. Received data is still
    /// delivered; nothing more can be sent.
    LocalClosing,
    /// The peer sent a close frame that has not been answered yet (only with
    /// `auto_close_reply` off). Sending is still possible.
    RemoteClosing,
    /// Both close frames were exchanged, or the connection failed or ended.
    Closed,
}

/// What the peer sent, as [`Session::next_event`] hands it out. Payloads borrow from the
/// session's buffers until the next call that changes the session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event<'a> {
    /// A complete, valid UTF-8 text message.
    Text(&'a str),
    /// A complete binary message.
    Binary(&'a [u8]),
    /// A complete text message whose UTF-8 was not checked (`skip_utf8_validation`).
    UnvalidatedText(&'a [u8]),
    /// One data frame, with [`Delivery::Fragments`].
    Fragment {
        /// `Text` or `Binary` for a message's first frame, `Continuation` after that.
        opcode: OpCode,
        /// The frame's payload.
        data: &'a [u8],
        /// `true` for the message's last frame.
        fin: bool,
    },
    /// A ping; it was already answered when `auto_pong` is on.
    Ping(&'a [u8]),
    /// A pong.
    Pong(&'a [u8]),
    /// The peer's close frame. A frame without a status reports [`CloseCode::NO_STATUS`].
    Close {
        /// The status code.
        code: CloseCode,
        /// The reason, possibly empty.
        reason: &'a str,
    },
}

/// A WebSocket connection with no I/O: feed it received bytes, take events and bytes to send.
///
/// # Driving a session
///
/// 1. Put received bytes in: read straight into [`input_buffer`](Self::input_buffer) and call
///    [`commit_input`](Self::commit_input) (no copy), or pass them to
///    [`receive_data`](Self::receive_data). When the transport reaches end of stream, call
///    [`receive_eof`](Self::receive_eof).
/// 2. Call [`next_event`](Self::next_event) until it returns `Ok(None)`. Pings are answered,
///    the close handshake is run, and protocol errors fail the connection by themselves: an
///    `Err` means a close frame with the right code (1002, 1007, 1009) is queued and the
///    session is [`State::Closed`].
/// 3. Write out [`pending_output`](Self::pending_output) and report what was written with
///    [`consume_output`](Self::consume_output) after step 2 and after every `send_*` call.
/// 4. When [`close_expected`](Self::close_expected) turns `true`, a server closes the TCP
///    connection after flushing; a client waits (with a timeout) for the server to close it
///    (§7.1.1).
///
/// The session never emits an invalid frame: oversized control payloads, invalid close codes
/// and data after close are refused with an error and nothing is queued.
///
/// ```
/// use ws_frame::{Config, Event, Session};
/// let mut client = Session::client(Config::default(), || [1, 2, 3, 4]);
/// let mut server = Session::server(Config::default());
///
/// client.send_text("Hello, Server")?;
/// server.receive_data(client.pending_output());
/// client.consume_output(client.pending_output().len());
/// assert_eq!(server.next_event()?, Some(Event::Text("Hello, Server")));
///
/// server.send_text("Hello, Client")?;
/// client.receive_data(server.pending_output());
/// assert_eq!(client.pending_output(), b""); // everything was flushed above
/// assert_eq!(client.next_event()?, Some(Event::Text("Hello, Client")));
/// # Ok::<(), ws_frame::Error>(())
/// ```
#[derive(Debug)]
pub struct Session<K = NoMask> {
    rx: Receiver,
    tx: Transmitter<K>,
    /// The negotiated extension (permessage-deflate), shared by both directions.
    extension: Option<Box<dyn Extension + Send>>,
}

/// The receiving half of a session's state.
#[derive(Debug)]
struct Receiver {
    decoder: Decoder,
    assembler: MessageAssembler,
    config: Config,
    /// Received bytes live in `input[start..end]`; `input` (all of it initialized) grows and
    /// shrinks as [`Config::read_buffer_size`] says.
    input: Vec<u8>,
    start: usize,
    end: usize,
    /// The room the last [`Session::input_buffer`] offered, and how much of it the read
    /// that followed used: the growth and shrink signals.
    offered: usize,
    last_read: usize,
    /// Reads in a row that used less than an eighth of the buffer.
    small_reads: u8,
    /// Buffers lent by [`Session::lend_input`] and not yet given back: nothing is decoded
    /// until they are, since their bytes come first.
    loans: u32,
    /// The UTF-8 state of an [awaited](Receiver::awaited_frame) text frame's payload, and
    /// how many of its bytes it has seen (0: none, or no text frame is waiting).
    awaited_utf8: Utf8Validator,
    awaited_checked: usize,
    eof: bool,
    /// The peer's close frame arrived: ignore anything after it.
    close_received: bool,
    /// The event [`Session::poll_event`] made ready, until input is added or it is taken.
    current: Option<Ready>,
    /// The delivery when `current` was made ready.
    polled_delivery: Delivery,
    /// One more than the largest payload [`Receiver::whole_data_frame`] takes.
    fast_path_below: u64,
    /// The room the last [`Session::input_buffer`] offered in the message buffer instead
    /// of the receive buffer (see [`Receiver::direct_read`]); 0 when it offered the latter.
    direct_offered: usize,
    /// Bytes read into the message buffer's room and not decoded yet: they come before
    /// anything in the receive buffer.
    direct_pending: usize,
}

/// The sending half of a session's state: the output buffer, keys and the close state.
#[derive(Debug)]
struct Transmitter<K> {
    role: Role,
    keys: K,
    state: State,
    output: Vec<u8>,
    sent: usize,
    /// The kind of a fragmented message being sent with `send_frame`, and its UTF-8 so far.
    sending: Option<MessageKind>,
    sending_utf8: Utf8Validator,
    /// Where the extension encodes an outgoing message; kept for the next one.
    encoded: Vec<u8>,
}

/// A [`Session`]'s receive buffer, lent by [`Session::lend_input`] to be read into without
/// borrowing the session, and given back with [`Session::restore_input`].
///
/// While a frame too large for the receive buffer is arriving, the loan is the buffer the
/// message is assembled in instead, with room for the rest of the frame: its payload is then
/// read where it ends up, not copied there from the receive buffer.
#[derive(Debug)]
pub struct InputLoan {
    input: Vec<u8>,
    start: usize,
    end: usize,
    /// The end of the room.
    limit: usize,
    /// `input` is the message buffer (see [`Receiver::direct_read`]).
    direct: bool,
}

impl InputLoan {
    /// Free space to read received bytes into; never empty.
    pub fn room(&mut self) -> &mut [u8] {
        &mut self.input[self.end..self.limit]
    }
}

/// A data frame the session waits for whole (see `Receiver::awaited_frame`).
struct Awaited {
    kind: MessageKind,
    /// The length of its header.
    head: usize,
    /// Bytes of it still to come.
    missing: usize,
}

/// A completed item located in the session's buffers, before it is borrowed as an [`Event`].
#[derive(Debug)]
enum Ready {
    Data(Assembled, Range<usize>),
    Ping(Range<usize>),
    Pong(Range<usize>),
    /// The whole close payload (validated by the decoder).
    Close(Range<usize>),
}

impl<K: MaskKeySource> Session<K> {
    /// A client session: every frame it sends is masked with a key from `keys`.
    pub fn client(config: Config, keys: K) -> Self {
        Self::new(Role::Client, config, keys)
    }

    fn new(role: Role, config: Config, keys: K) -> Self {
        let decoder =
            Decoder::new(role, config.limits).accept_masked_frames(config.accept_masked_frames);
        let assembler = MessageAssembler::new(
            config.delivery,
            !config.skip_utf8_validation,
            config.limits.max_message_size,
        )
        .max_fragments(config.limits.max_fragments);
        Self {
            rx: Receiver {
                decoder,
                assembler,
                config,
                input: vec![0; Receiver::initial_size(&config)],
                start: 0,
                end: 0,
                offered: 0,
                last_read: 0,
                small_reads: 0,
                loans: 0,
                awaited_utf8: Utf8Validator::new(),
                awaited_checked: 0,
                eof: false,
                close_received: false,
                current: None,
                polled_delivery: config.delivery,
                fast_path_below: Receiver::fast_path_below(role, &config),
                direct_offered: 0,
                direct_pending: 0,
            },
            tx: Transmitter {
                role,
                keys,
                state: State::Open,
                output: Vec::new(),
                sent: 0,
                sending: None,
                sending_utf8: Utf8Validator::new(),
                encoded: Vec::new(),
            },
            extension: None,
        }
    }

    /// Uses a negotiated extension from now on (permessage-deflate from `ws-deflate`): its RSV
    /// bits are accepted on the first frame of data messages, inbound messages that carry them
    /// are decoded as they arrive, and outgoing whole messages are offered to it. Set it
    /// right after the handshake, before any data.
    pub fn set_extension(&mut self, extension: Box<dyn Extension + Send>) {
        self.rx.decoder.set_allowed_rsv_bits(extension.rsv_bits());
        self.extension = Some(extension);
    }

    /// The negotiated extension, if one was set.
    #[must_use]
    pub fn extension(&self) -> Option<&(dyn Extension + Send)> {
        self.extension.as_deref()
    }

    /// This endpoint's role.
    #[must_use]
    pub const fn role(&self) -> Role {
        self.tx.role
    }

    /// The closing-handshake state.
    #[must_use]
    pub const fn state(&self) -> State {
        self.tx.state
    }

    /// The settings the session was made with.
    #[must_use]
    pub const fn config(&self) -> &Config {
        &self.rx.config
    }

    /// `true` once the WebSocket connection is closed (both close frames exchanged, or the
    /// connection failed): after flushing the pending output, a server should close the TCP
    /// connection now and a client should expect the server to close it (§7.1.1).
    #[must_use]
    pub const fn close_expected(&self) -> bool {
        matches!(self.tx.state, State::Closed)
    }

    // ---- input -------------------------------------------------------------------------

    /// Free space to read received bytes into; report how many were read with
    /// [`commit_input`](Self::commit_input). Compacts the buffer first when needed, so the
    /// slice is never empty. While a frame too large for the receive buffer is arriving,
    /// the space is in the buffer its message is assembled in, and at most the rest of the
    /// frame: its payload is read where it ends up instead of being copied there.
    pub fn input_buffer(&mut self) -> &mut [u8] {
        let finished = self.input_finished();
        let rx = &mut self.rx;
        rx.current = None;
        rx.direct_offered = 0;
        if !finished {
            if let Some(n) = rx.direct_read() {
                rx.direct_offered = n;
                return rx.assembler.room(n);
            }
        }
        rx.adapt_size();
        let needed = rx.awaited_frame().map_or(1, |frame| frame.missing);
        rx.make_room(needed);
        rx.offered = rx.input.len() - rx.end;
        &mut rx.input[rx.end..]
    }

    /// Marks `n` bytes at the start of [`input_buffer`](Self::input_buffer) as received.
    /// Counts beyond that buffer are capped at its length.
    pub fn commit_input(&mut self, n: usize) {
        let rx = &mut self.rx;
        rx.current = None;
        if rx.direct_offered > 0 {
            rx.direct_pending = n.min(rx.direct_offered);
            rx.direct_offered = 0;
        } else {
            let n = n.min(rx.input.len() - rx.end);
            rx.end += n;
            rx.last_read = n;
        }
        self.discard_input_if_finished();
    }

    /// Takes the receive buffer out of the session, so that bytes can be read into
    /// [`InputLoan::room`] while the session is not borrowed: a reader thread that must not
    /// lock other threads out of the session (to send, for example) during a blocking read.
    /// Give it back with [`restore_input`](Self::restore_input), also after a failed read
    /// (with 0). The buffer keeps its adaptive size and its unconsumed bytes; no copy is made.
    ///
    /// While a buffer is lent nothing is decoded (`next_event` answers `Ok(None)`), since
    /// its bytes come first. Bytes given to the session in the meantime (with
    /// [`receive_data`](Self::receive_data), for example) are kept and decoded after the
    /// loan's bytes once it is back. Lend one buffer at a time: with several out, bytes are
    /// in stream order only if the loans come back in the reverse order of lending.
    pub fn lend_input(&mut self) -> InputLoan {
        self.input_buffer();
        let rx = &mut self.rx;
        rx.loans = rx.loans.saturating_add(1);
        if rx.direct_offered > 0 {
            let (input, room) = rx.assembler.lend_room(rx.direct_offered);
            rx.direct_offered = 0;
            return InputLoan {
                input,
                start: 0,
                end: room.start,
                limit: room.end,
                direct: true,
            };
        }
        let input = core::mem::take(&mut rx.input);
        let loan = InputLoan {
            start: rx.start,
            end: rx.end,
            limit: input.len(),
            direct: false,
            input,
        };
        rx.start = 0;
        rx.end = 0;
        loan
    }

    /// Returns a buffer taken with [`lend_input`](Self::lend_input), with `n` bytes read into
    /// the start of its [`room`](InputLoan::room) (capped at the room's length), as
    /// [`commit_input`](Self::commit_input) does.
    pub fn restore_input(&mut self, loan: InputLoan, n: usize) {
        let rx = &mut self.rx;
        rx.current = None;
        rx.loans = rx.loans.saturating_sub(1);
        if loan.direct {
            // Bytes fed in the meantime stayed in the receive buffer, after these.
            rx.assembler.restore_buffer(loan.input);
            rx.direct_offered = loan.limit - loan.end;
            self.commit_input(n);
            return;
        }
        let fed = core::mem::replace(&mut rx.input, loan.input);
        let fed_bytes = rx.start..rx.end;
        rx.start = loan.start;
        rx.end = loan.end;
        self.commit_input(n);
        if !fed_bytes.is_empty() {
            self.receive_data(&fed[fed_bytes]);
        }
    }

    /// Copies received bytes into the session. [`input_buffer`](Self::input_buffer) avoids the
    /// copy. The buffer grows to hold `data` if it must, so pass pieces of a sensible size.
    pub fn receive_data(&mut self, data: &[u8]) {
        self.rx.current = None;
        if self.input_finished() {
            return;
        }
        self.rx.make_room(data.len());
        self.rx.input[self.rx.end..self.rx.end + data.len()].copy_from_slice(data);
        self.rx.end += data.len();
    }

    /// After the peer's close frame, or once the connection is over, input means nothing
    /// (§5.5.1) and is dropped, so a peer that keeps sending cannot make the buffer grow.
    fn input_finished(&self) -> bool {
        self.rx.close_received || self.tx.state == State::Closed
    }

    fn discard_input_if_finished(&mut self) {
        if self.input_finished() {
            self.rx.start = 0;
            self.rx.end = 0;
            self.rx.direct_pending = 0;
        }
    }

    /// The transport ended. Events for the bytes already received are still delivered; after
    /// them, `next_event` reports [`Error::UnexpectedEof`] if the peer's close frame never came.
    pub fn receive_eof(&mut self) {
        self.rx.eof = true;
    }

    /// The next event from the bytes received so far, or `Ok(None)` when more bytes are needed
    /// (or the connection is over).
    ///
    /// Pings are answered and the close handshake is advanced before the event is returned; an
    /// `Err` is a protocol error by the peer, after which the session is closed and its close
    /// frame queued. Write out [`pending_output`](Self::pending_output) afterwards either way.
    ///
    /// The same as [`poll_event`](Self::poll_event) followed by [`event`](Self::event).
    pub fn next_event(&mut self) -> Result<Option<Event<'_>>, Error> {
        if self.poll_event()? {
            Ok(self.event())
        } else {
            Ok(None)
        }
    }

    /// Makes the next event ready, as [`next_event`](Self::next_event) does, and says
    /// whether there is one; [`event`](Self::event) then borrows it, as often as wanted,
    /// until input is added. For a caller that decides in a loop whether to hand the event
    /// out (a borrow returned from inside a loop that also feeds input is what the borrow
    /// checker cannot follow).
    ///
    /// # Errors
    /// As [`next_event`](Self::next_event).
    #[inline(always)]
    pub fn poll_event(&mut self) -> Result<bool, Error> {
        self.rx.current = None;
        self.rx.polled_delivery = self.rx.config.delivery;
        // The common case inline: a whole binary frame, or text that needs no check.
        if !self.input_finished() && self.rx.loans == 0 {
            if let Some(ready) = self.rx.whole_data_frame() {
                if !matches!(&ready, Ready::Data(item, _) if item.needs_utf8_check) {
                    self.rx.current = Some(ready);
                    return Ok(true);
                }
                return self.make_ready(ready);
            }
        }
        self.poll_decoded()
    }

    /// [`poll_event`](Self::poll_event) past its inline fast path: runs the decoder.
    #[inline(never)]
    fn poll_decoded(&mut self) -> Result<bool, Error> {
        let ready = match self.advance() {
            Ok(Some(ready)) => ready,
            Ok(None) => return Ok(false),
            Err(error) => return Err(self.fail_on(error)),
        };
        self.make_ready(ready)
    }

    /// Checks a text message that came in one chunk (one assembled from several was
    /// checked piece by piece as it arrived) and makes `ready` the current event.
    #[inline(never)]
    fn make_ready(&mut self, ready: Ready) -> Result<bool, Error> {
        if let Ready::Data(item, range) = &ready {
            if item.needs_utf8_check && self.rx.delivers_text(item) {
                if let Err(error) = self.rx.check_text(item, range.clone()) {
                    return Err(self.tx.fail(&error));
                }
            }
        }
        self.rx.current = Some(ready);
        Ok(true)
    }

    /// The event [`poll_event`](Self::poll_event) made ready, or `None` when there is none
    /// (nothing was polled, input was added since, or its payload was taken).
    #[must_use]
    #[inline]
    pub fn event(&self) -> Option<Event<'_>> {
        self.rx.event_of(self.rx.current.as_ref()?)
    }

    /// Whether the event [`poll_event`](Self::poll_event) made ready is a data event
    /// ([`Event::Text`], [`Event::Binary`], [`Event::UnvalidatedText`] or
    /// [`Event::Fragment`]): what [`event`](Self::event) would say, without building it.
    #[must_use]
    #[inline]
    pub fn has_data_event(&self) -> bool {
        matches!(self.rx.current, Some(Ready::Data(..)))
    }

    /// Switches between whole messages and per-frame [`Event::Fragment`]s (Python's raw
    /// `recv_frame` reads frames from a connection that otherwise delivers messages). Switch
    /// between messages: in the middle of one, the rest of it arrives the new way.
    /// An event already made ready by [`poll_event`](Self::poll_event) keeps the delivery
    /// it was made with.
    pub fn set_delivery(&mut self, delivery: Delivery) {
        self.rx.config.delivery = delivery;
        self.rx.assembler.set_delivery(delivery);
    }

    /// Turns the automatic answer to pings on or off (see [`Config::auto_pong`]).
    pub fn set_auto_pong(&mut self, on: bool) {
        self.rx.config.auto_pong = on;
    }

    /// The payload of the data event [`next_event`](Self::next_event) just returned, as an
    /// owned buffer: a message that arrived in several chunks was already assembled in a
    /// buffer of its own, which is handed over instead of copied (a 1 MiB message is then
    /// copied once, not twice); a single-chunk payload is copied. Call it right after
    /// `next_event` and before feeding more input; any other time it returns an empty
    /// buffer. The event is gone afterwards.
    pub fn take_message(&mut self) -> Vec<u8> {
        match self.rx.current.take() {
            Some(Ready::Data(item, _)) if item.source == Source::Buffered => {
                self.rx.assembler.take_buffered()
            }
            Some(Ready::Data(_, range)) => self.rx.input[range].to_vec(),
            _ => Vec::new(),
        }
    }

    /// The text of the [`Event::Text`] [`next_event`](Self::next_event) just returned, as
    /// an owned `String`: as [`take_message`](Self::take_message), a message assembled from
    /// several chunks is handed over without copying (and without validating it again). Call
    /// it right after that event and before feeding more input; any other time, or after
    /// any other event, it returns an empty string. The event is gone afterwards.
    pub fn take_text(&mut self) -> String {
        match self.rx.current.take() {
            Some(Ready::Data(item, range)) if self.rx.delivers_text(&item) => {
                // Valid UTF-8: checked by `poll_event` or as it arrived.
                if item.source == Source::Buffered {
                    validated::string(self.rx.assembler.take_buffered())
                } else {
                    String::from(validated::str(&self.rx.input[range]))
                }
            }
            other => {
                self.rx.current = other;
                String::new()
            }
        }
    }

    /// Runs the decoder until something is ready for the application.
    fn advance(&mut self) -> Result<Option<Ready>, Error> {
        loop {
            if self.input_finished() || self.rx.loans > 0 {
                return Ok(None);
            }
            let rx = &mut self.rx;
            if rx.direct_pending > 0 {
                // Payload read straight into the message buffer: decoded (unmasked) in place.
                let n = core::mem::take(&mut rx.direct_pending);
                if let Some(chunk) = rx.decoder.decode(rx.assembler.room(n))? {
                    if let Some(item) = rx.assembler.push_placed(&chunk)? {
                        return Ok(Some(Ready::Data(item, 0..0)));
                    }
                }
                continue;
            }
            if let Some(ready) = self.rx.whole_data_frame() {
                return Ok(Some(ready));
            }
            if let Some(frame) = self.rx.awaited_frame() {
                self.rx.check_awaited_text(&frame)?;
                return Ok(None);
            }
            let rx = &mut self.rx;
            if rx.awaited_checked != 0 {
                // The waiting text frame goes to the decoder after all (the input ended, or
                // the delivery changed): the assembler checks it again from its start.
                rx.awaited_checked = 0;
                rx.awaited_utf8.reset();
            }
            let base = rx.start;
            let Some(chunk) = rx.decoder.decode(&mut rx.input[base..rx.end])? else {
                if rx.eof {
                    return Err(Error::UnexpectedEof);
                }
                return Ok(None);
            };
            rx.start += chunk.consumed;
            let range = base + chunk.payload.start..base + chunk.payload.end;
            match chunk.header.opcode {
                OpCode::Ping => {
                    if rx.config.auto_pong && self.tx.can_send() {
                        self.tx
                            .write_frame(true, OpCode::Pong, &rx.input[range.clone()])?;
                    }
                    return Ok(Some(Ready::Ping(range)));
                }
                OpCode::Pong => return Ok(Some(Ready::Pong(range))),
                OpCode::Close => {
                    let (code, _) = parse_close_payload(&rx.input[range.clone()])?;
                    rx.close_received = true;
                    self.tx.close_received(code, rx.config.auto_close_reply)?;
                    return Ok(Some(Ready::Close(range)));
                }
                _ => {
                    let data = &rx.input[range.clone()];
                    let extension = self
                        .extension
                        .as_deref_mut()
                        .map(|e| e as &mut (dyn Extension + Send));
                    if let Some(item) = rx.assembler.push_with(&chunk, data, extension)? {
                        return Ok(Some(Ready::Data(item, range)));
                    }
                }
            }
        }
    }

    /// Fails the connection for a peer error (queues the close frame), or passes a local one.
    fn fail_on(&mut self, error: Error) -> Error {
        if error.is_protocol_error() {
            self.tx.fail(&error)
        } else {
            error
        }
    }

    // ---- output ------------------------------------------------------------------------

    /// Bytes waiting to be written to the transport, in order.
    #[must_use]
    pub fn pending_output(&self) -> &[u8] {
        &self.tx.output[self.tx.sent..]
    }

    /// Marks the first `n` bytes of [`pending_output`](Self::pending_output) as written.
    pub fn consume_output(&mut self, n: usize) {
        let tx = &mut self.tx;
        tx.sent = (tx.sent + n).min(tx.output.len());
        if tx.sent == tx.output.len() {
            tx.output.clear();
            tx.sent = 0;
        }
    }

    /// Moves all of [`pending_output`](Self::pending_output) to the end of `into`, as if it
    /// had been written and consumed: for a writer that must let go of the session before it
    /// writes. When `into` is empty the buffers are swapped, so nothing is copied and both
    /// keep their capacity.
    pub fn take_output(&mut self, into: &mut Vec<u8>) {
        let tx = &mut self.tx;
        if into.is_empty() && tx.sent == 0 {
            core::mem::swap(&mut tx.output, into);
        } else {
            into.extend_from_slice(&tx.output[tx.sent..]);
            tx.output.clear();
        }
        tx.sent = 0;
    }

    /// Queues a text message as one frame (encoded by the extension, if one is set and takes
    /// it).
    pub fn send_text(&mut self, text: &str) -> Result<(), Error> {
        let extension = self
            .extension
            .as_deref_mut()
            .map(|e| e as &mut (dyn Extension + Send));
        self.tx
            .send_message(OpCode::Text, text.as_bytes(), extension)
    }

    /// Queues a binary message as one frame (encoded by the extension, if one is set and takes
    /// it).
    pub fn send_binary(&mut self, data: &[u8]) -> Result<(), Error> {
        let extension = self
            .extension
            .as_deref_mut()
            .map(|e| e as &mut (dyn Extension + Send));
        self.tx.send_message(OpCode::Binary, data, extension)
    }

    /// Queues one data frame of a message fragmented by hand: `Text` or `Binary` starts a
    /// message, `Continuation` continues it, `fin` ends it. Text fragments are checked to be
    /// valid UTF-8 so far (a code point may be split between fragments). Control frames go
    /// through [`send_ping`](Self::send_ping), [`send_pong`](Self::send_pong) and
    /// [`send_close`](Self::send_close); other opcodes are refused.
    pub fn send_frame(&mut self, opcode: OpCode, fin: bool, payload: &[u8]) -> Result<(), Error> {
        self.tx.send_fragment(opcode, fin, payload)
    }

    /// Queues a ping (payload at most 125 bytes).
    pub fn send_ping(&mut self, payload: &[u8]) -> Result<(), Error> {
        self.tx.send_control(OpCode::Ping, payload)
    }

    /// Queues a pong (payload at most 125 bytes); an unsolicited pong is a heartbeat (§5.5.3).
    pub fn send_pong(&mut self, payload: &[u8]) -> Result<(), Error> {
        self.tx.send_control(OpCode::Pong, payload)
    }

    /// Starts (or, in [`State::RemoteClosing`], completes) the closing handshake. `None` sends
    /// a close frame without a status. The code must be valid on the wire and the reason at
    /// most 123 bytes.
    pub fn send_close(&mut self, code: Option<CloseCode>, reason: &str) -> Result<(), Error> {
        check_outgoing_close(code, reason)?;
        match self.tx.state {
            State::Open => self.tx.state = State::LocalClosing,
            State::RemoteClosing => self.tx.state = State::Closed,
            State::LocalClosing | State::Closed => return Err(Error::Closed),
        }
        self.tx.write_close(code, reason)
    }

    /// Fails the connection (§7.1.7): queues a close frame with `code` and `reason` unless one
    /// was already sent, and closes the session without waiting for the peer. Calling it on a
    /// closed session does nothing.
    pub fn fail(&mut self, code: CloseCode, reason: &str) -> Result<(), Error> {
        check_outgoing_close(Some(code), reason)?;
        if self.tx.can_send() {
            self.tx.write_close(Some(code), reason)?;
        }
        self.tx.state = State::Closed;
        Ok(())
    }

    /// Marks the connection closed without a close frame: the transport is being torn down
    /// (an abort, Python's `shutdown`). Nothing is queued; later sends fail with
    /// [`Error::Closed`].
    pub fn abandon(&mut self) {
        self.tx.state = State::Closed;
    }
}

impl Session<NoMask> {
    /// A server session: it sends unmasked frames and requires masked ones.
    #[must_use]
    pub fn server(config: Config) -> Self {
        Self::new(Role::Server, config, NoMask)
    }
}

impl Receiver {
    /// The event for `ready`. Data, the hot path, is built inline; control frames out of
    /// line (building every event in one function made 16-byte receives 1.8× slower).
    #[inline]
    fn event_of(&self, ready: &Ready) -> Option<Event<'_>> {
        match ready {
            Ready::Data(item, range) => {
                let data = self.data(item, range.clone());
                Some(match (self.polled_delivery, item.kind) {
                    (Delivery::Messages, MessageKind::Binary) => Event::Binary(data),
                    (Delivery::Messages, MessageKind::Text)
                        if !self.config.skip_utf8_validation =>
                    {
                        // Valid UTF-8: checked by `poll_event` or as it arrived.
                        Event::Text(validated::str(data))
                    }
                    (Delivery::Messages, MessageKind::Text) => Event::UnvalidatedText(data),
                    (Delivery::Fragments, _) => Event::Fragment {
                        opcode: item.opcode,
                        data,
                        fin: item.fin,
                    },
                })
            }
            control => self.control_event(control),
        }
    }

    /// [`event_of`](Self::event_of) for control frames.
    #[inline(never)]
    fn control_event(&self, ready: &Ready) -> Option<Event<'_>> {
        Some(match ready {
            Ready::Ping(range) => Event::Ping(&self.input[range.clone()]),
            Ready::Pong(range) => Event::Pong(&self.input[range.clone()]),
            // Checked when it was decoded; a failure cannot reach here.
            Ready::Close(range) => match parse_close_payload(&self.input[range.clone()]) {
                Ok((code, reason)) => Event::Close { code, reason },
                Err(_) => return None,
            },
            Ready::Data(..) => return self.event_of(ready),
        })
    }

    /// Whether `item`, polled with `polled_delivery`, is handed out as [`Event::Text`]
    /// (validated text).
    fn delivers_text(&self, item: &Assembled) -> bool {
        item.kind == MessageKind::Text
            && self.polled_delivery == Delivery::Messages
            && !self.config.skip_utf8_validation
    }

    /// The payload of a data item.
    #[inline]
    fn data(&self, item: &Assembled, range: Range<usize>) -> &[u8] {
        match item.source {
            Source::Chunk => &self.input[range],
            Source::Buffered => self.assembler.buffered(),
        }
    }

    /// The frame at the front of the input, when it is one the fast path takes (client role):
    /// a text or binary message in one unmasked frame (FIN set, no RSV bits, any length
    /// form), within both size limits, with no frame or fragmented message in progress and
    /// whole messages delivered. Its kind, header length and payload length; its payload
    /// may not all be there yet. Anything else, and every error, is left to the decoder and
    /// the assembler: this only ever answers `None` for it.
    #[inline(always)]
    fn front_frame(&self) -> Option<(MessageKind, usize, usize)> {
        let buf = &self.input[self.start..self.end];
        let kind = match *buf.first()? {
            0x81 => MessageKind::Text,
            0x82 => MessageKind::Binary,
            _ => return None,
        };
        let (head, len) = match *buf.get(1)? {
            short @ 0..=125 => (2, u64::from(short)),
            126 => (
                4,
                u64::from(u16::from_be_bytes([*buf.get(2)?, *buf.get(3)?])),
            ),
            127 => {
                let len = u64::from_be_bytes(buf.get(2..10)?.try_into().ok()?);
                if len >> 63 != 0 {
                    // A length with its top bit set is the decoder's error to report.
                    return None;
                }
                (10, len)
            }
            _ => return None,
        };
        if len >= self.fast_path_below
            || self.decoder.in_frame()
            || self.decoder.in_message()
            || self.config.delivery != Delivery::Messages
        {
            return None;
        }
        Some((kind, head, usize::try_from(len).ok()?))
    }

    /// The fast path: the [front frame](Self::front_frame) when it is all there, handed out
    /// without the decoder's and the assembler's state machines (what they would check for
    /// it, the size limits and the fragment count, `front_frame` checked). The UTF-8 of text
    /// is checked by `poll_event`, as for any single-chunk message.
    #[inline(always)]
    fn whole_data_frame(&mut self) -> Option<Ready> {
        let (kind, head, len) = self.front_frame()?;
        if self.end - self.start - head < len {
            return None;
        }
        let payload = self.start + head..self.start + head + len;
        self.start = payload.end;
        let (opcode, needs_utf8_check) = match kind {
            MessageKind::Text => (OpCode::Text, !self.config.skip_utf8_validation),
            MessageKind::Binary => (OpCode::Binary, false),
        };
        Some(Ready::Data(
            Assembled {
                kind,
                opcode,
                fin: true,
                source: Source::Chunk,
                needs_utf8_check,
            },
            payload,
        ))
    }

    /// The [front frame](Self::front_frame) when its payload is not all there yet and the
    /// whole frame fits in the buffer. The
    /// session waits for them instead of streaming the first part into the assembler, so
    /// the fast path takes the frame without a copy. The UTF-8 of a waiting text frame is
    /// checked as it arrives ([`check_awaited_text`](Self::check_awaited_text)), so invalid
    /// text fails at once. At the end of the input nothing waits: the decoder reports it.
    fn awaited_frame(&self) -> Option<Awaited> {
        if self.eof {
            return None;
        }
        let (kind, head, len) = self.front_frame()?;
        let missing = (head + len).checked_sub(self.end - self.start)?;
        (missing > 0 && head + len <= self.input.len()).then_some(Awaited {
            kind,
            head,
            missing,
        })
    }

    /// For an [awaited](Self::awaited_frame) text frame: checks the UTF-8 of the payload
    /// bytes that arrived since the last look, carrying an incomplete code point over, so
    /// that invalid text fails as soon as it arrives, with the offset the assembler would
    /// have named.
    fn check_awaited_text(&mut self, frame: &Awaited) -> Result<(), Error> {
        if frame.kind != MessageKind::Text || self.config.skip_utf8_validation {
            return Ok(());
        }
        let payload = &self.input[self.start + frame.head..self.end];
        self.awaited_utf8.feed(&payload[self.awaited_checked..])?;
        self.awaited_checked = payload.len();
        Ok(())
    }

    /// Checks the UTF-8 of a whole text message made ready with `needs_utf8_check`: the
    /// part not yet checked while its frame was [awaited](Self::awaited_frame), or all of it.
    fn check_text(&mut self, item: &Assembled, range: Range<usize>) -> Result<(), Error> {
        if self.awaited_checked == 0 {
            let data = self.data(item, range);
            return match simdutf8::basic::from_utf8(data) {
                Ok(_) => Ok(()),
                Err(_) => Err(utf8_error(data)),
            };
        }
        // The frame waited whole in the buffer (`Source::Chunk`): its start is checked.
        let rest = &self.input[range.start + self.awaited_checked..range.end];
        let result = self
            .awaited_utf8
            .feed(rest)
            .and_then(|()| self.awaited_utf8.finish());
        self.awaited_checked = 0;
        self.awaited_utf8.reset();
        result
    }

    /// One more than the largest payload the fast path takes: what both size limits allow;
    /// zero (no fast path) for a server, which must see masked frames, when the fragment
    /// limit is zero (the assembler then refuses every message), and when the configuration
    /// turns it off.
    fn fast_path_below(role: Role, config: &Config) -> u64 {
        let limits = &config.limits;
        if role == Role::Server || limits.max_fragments == 0 || !config.receive_fast_path {
            return 0;
        }
        limits
            .max_frame_size
            .min(limits.max_message_size)
            .saturating_add(1)
    }

    /// How many bytes the next read goes straight into the message buffer, if it does:
    /// when a data frame too large to wait whole in the receive buffer is being copied into
    /// the message buffer chunk by chunk, at least [`DIRECT_READ_MIN`] of it (or the receive
    /// buffer's size) is still to come, and nothing waits in the receive buffer, the rest of
    /// its payload is read where it would be copied to. At most the rest of the frame, so no
    /// byte of what follows is read there, and at most as much as the message already holds
    /// (or `DIRECT_READ_MIN`), so the memory grows with the data that comes, not with the
    /// length a header claims.
    fn direct_read(&self) -> Option<usize> {
        if self.start != self.end
            || self.loans > 0
            || self.direct_pending > 0
            || !self.assembler.buffers_frame()
        {
            return None;
        }
        let remaining = self.decoder.frame_remaining();
        if remaining == 0 || remaining < DIRECT_READ_MIN.min(self.input.len()) as u64 {
            return None;
        }
        let most = self.assembler.buffered().len().max(DIRECT_READ_MIN);
        Some(usize::try_from(remaining).map_or(most, |rest| rest.min(most)))
    }

    /// The receive buffer's first size.
    fn initial_size(config: &Config) -> usize {
        INITIAL_READ_BUFFER.min(config.read_buffer_size).max(256)
    }

    /// Grows the buffer after a read that filled the room offered, shrinks it back once it
    /// is empty after a run of small reads (see [`Config::read_buffer_size`]), and then also
    /// frees the message buffer if no message is in progress.
    fn adapt_size(&mut self) {
        let len = self.input.len();
        let most = self.config.read_buffer_size.max(256);
        if self.offered > 0 && self.last_read == self.offered && len < most {
            // Grow in place: live bytes stay where they are.
            self.input.resize((len * 2).min(most), 0);
        } else if self.offered > 0 && self.last_read < len / 8 {
            self.small_reads = self.small_reads.saturating_add(1);
            if self.start == self.end && self.small_reads >= SMALL_READS_BEFORE_SHRINK {
                if len > Self::initial_size(&self.config) {
                    self.start = 0;
                    self.end = 0;
                    self.input = vec![0; Self::initial_size(&self.config)];
                }
                // The message buffer kept from a large message goes too.
                self.assembler.release_buffer();
            }
        } else {
            self.small_reads = 0;
        }
        self.offered = 0;
    }

    /// Makes room for at least `needed` bytes after `end`. Unconsumed bytes move to the front
    /// when `needed` does not fit or when less than a quarter of the buffer is free, so a read
    /// gets most of the buffer rather than the sliver left at its end. What moves is at most
    /// a header, a control frame or the arrived part of an [awaited](Self::awaited_frame)
    /// data frame: other data payloads are streamed out as they come. The buffer grows
    /// only when `needed` still does not fit.
    fn make_room(&mut self, needed: usize) {
        let needed = needed.max(1);
        if self.start == self.end {
            // Everything was consumed: start over at the front, nothing to move.
            self.start = 0;
            self.end = 0;
        }
        let free = self.input.len() - self.end;
        if self.start > 0 && (free < needed || free < self.input.len() / 4) {
            self.input.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        if self.input.len() - self.end < needed {
            let grown = (self.end + needed).max(self.input.len() * 2);
            self.input.resize(grown, 0);
        }
    }
}

impl<K: MaskKeySource> Transmitter<K> {
    /// Data and pongs may still be sent: our close frame has not gone out.
    const fn can_send(&self) -> bool {
        matches!(self.state, State::Open | State::RemoteClosing)
    }

    fn send_message(
        &mut self,
        opcode: OpCode,
        payload: &[u8],
        extension: Option<&mut (dyn Extension + Send)>,
    ) -> Result<(), Error> {
        if !self.can_send() {
            return Err(Error::Closed);
        }
        if self.sending.is_some() {
            return Err(Error::MessageInProgress);
        }
        if let Some(extension) = extension {
            if let Some(result) = self.send_encoded(opcode, payload, extension) {
                return result;
            }
        }
        self.write_frame(true, opcode, payload)
    }

    /// The extension's part of [`send_message`](Self::send_message), out of line so that a
    /// connection without one pays nothing for it; `None` when the extension passed.
    #[inline(never)]
    fn send_encoded(
        &mut self,
        opcode: OpCode,
        payload: &[u8],
        extension: &mut (dyn Extension + Send),
    ) -> Option<Result<(), Error>> {
        let mut encoded = core::mem::take(&mut self.encoded);
        let result = extension
            .encode(payload, &mut encoded)
            .map(|rsv| self.write_frame_rsv(true, opcode, rsv, &encoded));
        self.encoded = encoded;
        result
    }

    fn send_fragment(&mut self, opcode: OpCode, fin: bool, payload: &[u8]) -> Result<(), Error> {
        if !self.can_send() {
            return Err(Error::Closed);
        }
        let kind = match (opcode, self.sending) {
            (OpCode::Text | OpCode::Binary, Some(_)) => return Err(Error::MessageInProgress),
            (OpCode::Text, None) => MessageKind::Text,
            (OpCode::Binary, None) => MessageKind::Binary,
            (OpCode::Continuation, Some(kind)) => kind,
            (OpCode::Continuation, None) => return Err(Error::NoMessageInProgress),
            (other, _) => return Err(Error::NotADataOpcode(other)),
        };
        if kind == MessageKind::Text {
            // Check on a copy so that a refused fragment leaves the message state untouched.
            let mut utf8 = if opcode == OpCode::Text {
                Utf8Validator::new()
            } else {
                self.sending_utf8.clone()
            };
            utf8.feed(payload).map_err(|_| Error::InvalidOutgoingUtf8)?;
            if fin {
                utf8.finish().map_err(|_| Error::InvalidOutgoingUtf8)?;
            }
            self.sending_utf8 = utf8;
        }
        self.write_frame(fin, opcode, payload)?;
        self.sending = if fin { None } else { Some(kind) };
        Ok(())
    }

    fn send_control(&mut self, opcode: OpCode, payload: &[u8]) -> Result<(), Error> {
        if !self.can_send() {
            return Err(Error::Closed);
        }
        if payload.len() > MAX_CONTROL_PAYLOAD {
            return Err(Error::ControlPayloadTooLong(payload.len()));
        }
        self.write_frame(true, opcode, payload)
    }

    /// The peer's close frame arrived: answer it or wait, per `auto_reply`.
    fn close_received(&mut self, code: CloseCode, auto_reply: bool) -> Result<(), Error> {
        match self.state {
            State::Open if auto_reply => {
                self.state = State::Closed;
                // Echo the peer's code (§5.5.1); a close without a status gets one without.
                let echo = (code != CloseCode::NO_STATUS).then_some(code);
                self.write_close(echo, "")
            }
            State::Open => {
                self.state = State::RemoteClosing;
                Ok(())
            }
            _ => {
                self.state = State::Closed;
                Ok(())
            }
        }
    }

    /// Fails the connection for a peer's protocol error: a close frame with the error's code
    /// and its message as the reason, unless our close frame already went out.
    fn fail(&mut self, error: &Error) -> Error {
        if let Some(code) = error.close_code().filter(|code| code.is_valid()) {
            if self.can_send() {
                let mut reason = ReasonBuf::new();
                // `ReasonBuf` truncates instead of failing.
                let _ = write!(reason, "{error}");
                // Only encoding limits could fail here, and a close frame is far below them.
                let _ = self.write_close(Some(code), reason.as_str());
            }
        }
        self.state = State::Closed;
        *error
    }

    fn write_close(&mut self, code: Option<CloseCode>, reason: &str) -> Result<(), Error> {
        let mut payload = [0u8; MAX_CONTROL_PAYLOAD];
        let len = match code {
            Some(code) => {
                payload[..2].copy_from_slice(&code.as_u16().to_be_bytes());
                payload[2..2 + reason.len()].copy_from_slice(reason.as_bytes());
                2 + reason.len()
            }
            None => 0,
        };
        self.write_frame(true, OpCode::Close, &payload[..len])
    }

    /// Appends one frame to the output: header, mask key and masked payload together, so a
    /// small message is one write.
    fn write_frame(&mut self, fin: bool, opcode: OpCode, payload: &[u8]) -> Result<(), Error> {
        self.write_frame_rsv(fin, opcode, 0, payload)
    }

    /// [`write_frame`](Self::write_frame) with RSV bits (an extension's).
    fn write_frame_rsv(
        &mut self,
        fin: bool,
        opcode: OpCode,
        rsv: u8,
        payload: &[u8],
    ) -> Result<(), Error> {
        let mask = match self.role {
            Role::Client => Some(self.keys.next_key()),
            Role::Server => None,
        };
        let header = FrameHeader {
            rsv1: rsv & 4 != 0,
            rsv2: rsv & 2 != 0,
            rsv3: rsv & 1 != 0,
            ..FrameHeader::new(fin, opcode, mask, payload.len() as u64)
        };
        encode_frame(&mut self.output, header, payload)
    }
}

/// Appends a whole frame to `out`: the header (with `header.payload_len` set to
/// `payload.len()`), the mask key, and the payload masked with it when `header.mask` is set.
///
/// ```
/// use ws_frame::{encode_frame, FrameHeader, OpCode};
/// let mut out = Vec::new();
/// let header = FrameHeader::new(true, OpCode::Text, Some([0x37, 0xfa, 0x21, 0x3d]), 0);
/// encode_frame(&mut out, header, b"Hello")?;
/// assert_eq!(out, [0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58]);
/// # Ok::<(), ws_frame::Error>(())
/// ```
pub fn encode_frame(out: &mut Vec<u8>, header: FrameHeader, payload: &[u8]) -> Result<(), Error> {
    let header = FrameHeader {
        payload_len: payload.len() as u64,
        ..header
    };
    let mut head = [0u8; MAX_HEADER_LEN];
    let n = header.encode(&mut head)?;
    out.reserve(n + payload.len());
    out.extend_from_slice(&head[..n]);
    match header.mask {
        Some(key) => extend_masked(out, payload, key),
        None => out.extend_from_slice(payload),
    }
    Ok(())
}

/// A close reason being formatted: at most 123 bytes, cut on a character boundary.
struct ReasonBuf {
    bytes: [u8; MAX_CLOSE_REASON],
    len: usize,
}

impl ReasonBuf {
    const fn new() -> Self {
        Self {
            bytes: [0; MAX_CLOSE_REASON],
            len: 0,
        }
    }

    fn as_str(&self) -> &str {
        // Only whole `&str` pieces are ever copied in, so this cannot fail.
        core::str::from_utf8(&self.bytes[..self.len]).unwrap_or("")
    }
}

impl core::fmt::Write for ReasonBuf {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        let room = MAX_CLOSE_REASON - self.len;
        let mut take = s.len().min(room);
        while !s.is_char_boundary(take) {
            take -= 1;
        }
        self.bytes[self.len..self.len + take].copy_from_slice(&s.as_bytes()[..take]);
        self.len += take;
        Ok(())
    }
}
