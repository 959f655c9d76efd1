//! Message assembly: data frames in, whole messages (or fragments) out (RFC 6455 §5.4).

use alloc::vec::Vec;
use core::ops::Range;

use crate::decoder::FrameChunk;
use crate::error::Error;
use crate::extension::{Extension, ExtensionError};
use crate::opcode::OpCode;
use crate::utf8::Utf8Validator;

/// The type of a data message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MessageKind {
    /// UTF-8 text (opcode `0x1`).
    Text,
    /// Binary data (opcode `0x2`).
    Binary,
}

impl MessageKind {
    /// The opcode of a message's first frame.
    #[must_use]
    pub const fn opcode(self) -> OpCode {
        match self {
            Self::Text => OpCode::Text,
            Self::Binary => OpCode::Binary,
        }
    }
}

/// How data is handed to the application.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Delivery {
    /// Whole messages, fragments joined (Python's default). `max_message_size` applies.
    #[default]
    Messages,
    /// Each data frame as soon as it is complete, as Python's `fire_cont_frame=True` does:
    /// the first with the message's opcode, the rest as continuations. Memory per frame is
    /// bounded by `max_frame_size`; the message as a whole is not buffered and has no limit.
    Fragments,
}

/// Where the bytes of an [`Assembled`] item are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// In the chunk just pushed: the whole message or frame came in one chunk and was never
    /// copied.
    Chunk,
    /// In [`MessageAssembler::buffered`].
    Buffered,
}

/// A message or fragment that [`MessageAssembler::push`] completed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Assembled {
    /// The message type.
    pub kind: MessageKind,
    /// The opcode of the frame as sent (`Continuation` for later fragments).
    pub opcode: OpCode,
    /// `true` when this ends the message (always in [`Delivery::Messages`]).
    pub fin: bool,
    /// Where the payload is.
    pub source: Source,
    /// `true` when the payload's UTF-8 has not been checked as a whole yet: a single-chunk
    /// text message, which the caller validates once while turning it into `&str`, or the
    /// rest of a text message whose first fragments were handed out before the delivery
    /// changed. Never set for binary messages or when validation is off; when `false` for
    /// a whole text message, its bytes are valid UTF-8.
    pub needs_utf8_check: bool,
}

/// Joins the data frames of a connection into messages, validating text as it arrives.
///
/// Feed it every data-frame chunk from a [`Decoder`](crate::Decoder), in order; control frames
/// do not go through it, so they can be handled as they arrive in the middle of a fragmented
/// message. Text is validated incrementally, so invalid UTF-8 fails the message at the first
/// bad byte even while a frame is still arriving; a message that ends inside a UTF-8 sequence
/// fails too.
#[derive(Clone, Debug)]
pub struct MessageAssembler {
    delivery: Delivery,
    validate_utf8: bool,
    max_message_size: u64,
    max_fragments: u64,
    buf: MessageBuf,
    /// Set after a `Buffered` item was handed out: clear `buf` on the next push.
    delivered: bool,
    kind: Option<MessageKind>,
    size: u64,
    /// Frames of the message in progress.
    fragments: u64,
    /// The message in progress is encoded by the extension (its first frame had its bits).
    encoded: bool,
    /// Part of the message in progress was already handed out as a fragment (the delivery
    /// changed in the middle of it): what is buffered is not the whole message.
    handed_out: bool,
    utf8: Utf8Validator,
}

/// The most a message's first frame may make the assembler reserve up front, whatever length
/// it announces: beyond this the buffer grows with the data that actually arrives, so a
/// header claiming a terabyte costs nothing until the terabyte comes.
const RESERVE_CAP: u64 = 1 << 20;

impl MessageAssembler {
    /// An assembler delivering as `delivery` says, checking UTF-8 unless `validate_utf8` is
    /// `false` (Python's `skip_utf8_validation`), with the given message size limit.
    #[must_use]
    pub const fn new(delivery: Delivery, validate_utf8: bool, max_message_size: u64) -> Self {
        Self {
            delivery,
            validate_utf8,
            max_message_size,
            max_fragments: u64::MAX,
            buf: MessageBuf::new(),
            delivered: false,
            kind: None,
            size: 0,
            fragments: 0,
            encoded: false,
            handed_out: false,
            utf8: Utf8Validator::new(),
        }
    }

    /// Limits how many frames one message may come in, in [`Delivery::Messages`]; more is
    /// [`Error::TooManyFragments`]. Default: no limit.
    #[must_use]
    pub const fn max_fragments(mut self, frames: u64) -> Self {
        self.max_fragments = frames;
        self
    }

    /// The payload of the last item returned with [`Source::Buffered`].
    #[must_use]
    pub fn buffered(&self) -> &[u8] {
        self.buf.message()
    }

    /// Switches between whole messages and per-frame items. Between messages this is always
    /// clean; in the middle of a message, the frames already handed out stay handed out and
    /// the rest arrives the new way.
    pub fn set_delivery(&mut self, delivery: Delivery) {
        self.delivery = delivery;
    }

    /// Hands over the payload of the last [`Source::Buffered`] item instead of copying it;
    /// the assembler starts a fresh buffer for the next message.
    pub fn take_buffered(&mut self) -> Vec<u8> {
        self.buf.take()
    }

    /// Takes in one data-frame chunk (`data` is its unmasked payload) and returns the message
    /// or fragment it completes, if any.
    #[inline]
    pub fn push(&mut self, chunk: &FrameChunk, data: &[u8]) -> Result<Option<Assembled>, Error> {
        self.push_with(chunk, data, None)
    }

    /// As [`push`](Self::push), with the negotiated [`Extension`]: a message whose first frame
    /// carries the extension's RSV bits is decoded chunk by chunk as it arrives, and the
    /// decoded bytes are what the UTF-8 check and the message size limit see (a compressed
    /// message that would inflate past `max_message_size` stops there, with 1009, before the
    /// excess is allocated). Such messages are always handed out as [`Source::Buffered`].
    #[inline]
    pub fn push_with(
        &mut self,
        chunk: &FrameChunk,
        data: &[u8],
        extension: Option<&mut (dyn Extension + Send)>,
    ) -> Result<Option<Assembled>, Error> {
        if self.delivered {
            self.buf.filled = 0;
            self.delivered = false;
        }
        let header = &chunk.header;
        if chunk.is_first {
            self.start_frame(header.opcode, header.payload_len)?;
            if header.opcode != OpCode::Continuation {
                self.encoded = extension.is_some() && header.rsv_bits() != 0;
            }
        }
        if self.encoded {
            if let Some(extension) = extension {
                return self.push_encoded(chunk, data, extension);
            }
        }
        let kind = self.kind.ok_or(Error::UnexpectedContinuation)?;
        let ends_message = chunk.is_last && header.fin;
        if chunk.is_first
            && chunk.is_last
            && self.buf.filled == 0
            && self.item_done(chunk.is_last, ends_message)
        {
            // The whole item in one chunk: handed out where it is, never copied. A whole
            // message is validated once by the caller's `&str` conversion.
            let check_text = kind == MessageKind::Text && self.validate_utf8;
            let deferred = check_text && ends_message && self.delivery == Delivery::Messages;
            if check_text && !deferred {
                check_utf8(&mut self.utf8, data, ends_message)?;
            }
            let (_, rest_only) = self.end_chunk(kind, chunk.is_last, ends_message);
            return Ok(Some(Assembled {
                kind,
                opcode: header.opcode,
                fin: header.fin,
                source: Source::Chunk,
                needs_utf8_check: deferred || rest_only,
            }));
        }
        if chunk.is_first && self.buf.filled == 0 {
            // One allocation for a message whose first frame announces its size, up to a
            // cap: the header's word is not worth more memory than that.
            let announced = header.payload_len.min(RESERVE_CAP);
            self.buf.reserve(usize::try_from(announced).unwrap_or(0));
        }
        self.buf.place(data);
        self.take_placed(chunk, kind, data.len())
    }

    /// Whether the chunks of the frame in progress are copied into the message buffer (a
    /// whole message is delivered and no extension decodes it), so that they may be read
    /// straight into it: see [`room`](Self::room).
    pub(crate) fn buffers_frame(&self) -> bool {
        self.kind.is_some() && !self.encoded && self.delivery == Delivery::Messages
    }

    /// Room for `n` payload bytes right after the message so far, to read the frame in
    /// progress into without a copy ([`buffers_frame`](Self::buffers_frame) must hold),
    /// lent out with the buffer so that it can be read into while the assembler is not
    /// borrowed: the buffer and where the room is in it. Give the buffer back with
    /// [`restore_buffer`](Self::restore_buffer) and what was read with
    /// [`push_placed`](Self::push_placed); the rest of the room is not part of the message.
    /// The room is zeroed only where no earlier message has been, so a connection that
    /// keeps receiving large messages writes no zeros.
    pub(crate) fn lend_room(&mut self, n: usize) -> (Vec<u8>, Range<usize>) {
        self.buf.room(n);
        let room = self.buf.filled..self.buf.filled + n;
        (core::mem::take(&mut self.buf.bytes), room)
    }

    /// Frees the message buffer when no message is in progress: the connection has gone
    /// quiet, and a buffer kept from a large message would hold its memory until the next
    /// one.
    pub(crate) fn release_buffer(&mut self) {
        if self.kind.is_none() {
            self.buf = MessageBuf::new();
            self.delivered = false;
        }
    }

    /// Gives back the buffer [`lend_room`](Self::lend_room) took.
    pub(crate) fn restore_buffer(&mut self, bytes: Vec<u8>) {
        self.buf.bytes = bytes;
    }

    /// The room [`lend_room`](Self::lend_room) offers, borrowed in place.
    pub(crate) fn room(&mut self, n: usize) -> &mut [u8] {
        self.buf.room(n)
    }

    /// Takes in a chunk of the frame in progress whose payload, unmasked, was read into the
    /// start of [`room`](Self::room): the same as [`push`](Self::push) with those bytes.
    pub(crate) fn push_placed(&mut self, chunk: &FrameChunk) -> Result<Option<Assembled>, Error> {
        let kind = self.kind.ok_or(Error::UnexpectedContinuation)?;
        self.take_placed(chunk, kind, chunk.payload.len())
    }

    /// Makes the `n` bytes placed after the message of `kind` (read, copied or decoded there
    /// from a chunk that is not its item's only one) part of it: checks their UTF-8 as it
    /// arrives and hands out the item they complete.
    fn take_placed(
        &mut self,
        chunk: &FrameChunk,
        kind: MessageKind,
        n: usize,
    ) -> Result<Option<Assembled>, Error> {
        let header = &chunk.header;
        let ends_message = chunk.is_last && header.fin;
        if kind == MessageKind::Text && self.validate_utf8 {
            check_utf8(&mut self.utf8, self.buf.placed(n), ends_message)?;
        }
        self.buf.filled += n;
        let (item_done, rest_only) = self.end_chunk(kind, chunk.is_last, ends_message);
        if !item_done {
            return Ok(None);
        }
        self.delivered = true;
        Ok(Some(Assembled {
            kind,
            opcode: header.opcode,
            fin: header.fin,
            source: Source::Buffered,
            needs_utf8_check: rest_only,
        }))
    }

    /// [`push_with`](Self::push_with) for a message the extension encoded.
    fn push_encoded(
        &mut self,
        chunk: &FrameChunk,
        data: &[u8],
        extension: &mut (dyn Extension + Send),
    ) -> Result<Option<Assembled>, Error> {
        let kind = self.kind.ok_or(Error::UnexpectedContinuation)?;
        let header = &chunk.header;
        let ends_message = chunk.is_last && header.fin;
        let limit = usize::try_from(self.max_message_size).unwrap_or(usize::MAX);
        let n = self
            .buf
            .place_with(|buf| extension.decode(data, ends_message, buf, limit))
            .map_err(|e| match e {
                ExtensionError::InvalidData => Error::InvalidExtensionData,
                ExtensionError::TooLarge => Error::MessageTooLarge {
                    size: self.max_message_size.saturating_add(1),
                    limit: self.max_message_size,
                },
            })?;
        self.take_placed(chunk, kind, n)
    }

    /// Whether a chunk completes what is delivered: the message, or with per-frame delivery
    /// the frame.
    const fn item_done(&self, last_chunk: bool, ends_message: bool) -> bool {
        match self.delivery {
            Delivery::Messages => ends_message,
            Delivery::Fragments => last_chunk,
        }
    }

    /// Bookkeeping after a chunk: whether it completes what is delivered (the message, or
    /// with per-frame delivery the frame), and whether that item is text whose start was
    /// already handed out as fragments (the delivery changed in the middle of the message),
    /// so that the caller checks its UTF-8 as a whole again.
    fn end_chunk(
        &mut self,
        kind: MessageKind,
        last_chunk: bool,
        ends_message: bool,
    ) -> (bool, bool) {
        let item_done = self.item_done(last_chunk, ends_message);
        let rest_only = kind == MessageKind::Text && self.validate_utf8 && self.handed_out;
        if ends_message {
            self.kind = None;
            self.encoded = false;
            self.handed_out = false;
        } else if item_done {
            self.handed_out = true;
        }
        (item_done, rest_only)
    }

    /// Bookkeeping at a frame header: a new message or a continuation, and the size limit.
    fn start_frame(&mut self, opcode: OpCode, payload_len: u64) -> Result<(), Error> {
        match opcode {
            OpCode::Text | OpCode::Binary if self.kind.is_some() => {
                return Err(Error::ExpectedContinuation(opcode));
            }
            OpCode::Text | OpCode::Binary => {
                let kind = if opcode == OpCode::Text {
                    MessageKind::Text
                } else {
                    MessageKind::Binary
                };
                self.kind = Some(kind);
                self.size = 0;
                self.fragments = 0;
                self.handed_out = false;
                self.utf8.reset();
            }
            OpCode::Continuation if self.kind.is_none() => {
                return Err(Error::UnexpectedContinuation);
            }
            OpCode::Continuation => {}
            other => return Err(Error::InvalidOpcode(other.bits())),
        }
        self.size = self.size.saturating_add(payload_len);
        self.fragments += 1;
        if self.delivery == Delivery::Messages {
            if self.size > self.max_message_size {
                return Err(Error::MessageTooLarge {
                    size: self.size,
                    limit: self.max_message_size,
                });
            }
            if self.fragments > self.max_fragments {
                return Err(Error::TooManyFragments {
                    count: self.fragments,
                    limit: self.max_fragments,
                });
            }
        }
        Ok(())
    }
}

/// The assembler's message buffer: `bytes[..filled]` is the message so far. Bytes after it
/// are room kept from earlier messages, already initialized, so that reading a frame straight
/// into the buffer ([`MessageAssembler::room`]) does not write zeros over it first.
#[derive(Clone, Debug)]
struct MessageBuf {
    bytes: Vec<u8>,
    filled: usize,
}

impl MessageBuf {
    /// No message and no memory.
    const fn new() -> Self {
        Self {
            bytes: Vec::new(),
            filled: 0,
        }
    }

    fn message(&self) -> &[u8] {
        // `bytes` is empty while lent out by `lend_room`.
        &self.bytes[..self.filled.min(self.bytes.len())]
    }

    /// Makes sure `more` bytes after the message fit without reallocating.
    fn reserve(&mut self, more: usize) {
        let needed = self.filled.saturating_add(more);
        if needed > self.bytes.capacity() {
            self.bytes.reserve(needed - self.bytes.len());
        }
    }

    /// `n` bytes of room after the message.
    fn room(&mut self, n: usize) -> &mut [u8] {
        let end = self.filled + n;
        if self.bytes.len() < end {
            self.bytes.resize(end, 0);
        }
        &mut self.bytes[self.filled..end]
    }

    /// Writes `data` right after the message, without making it part of it; writing only
    /// once where the buffer was never initialized.
    fn place(&mut self, data: &[u8]) {
        let initialized = (self.bytes.len() - self.filled).min(data.len());
        let (over, beyond) = data.split_at(initialized);
        self.bytes[self.filled..self.filled + initialized].copy_from_slice(over);
        // Non-empty only when `over` reached the end of `bytes`.
        self.bytes.extend_from_slice(beyond);
    }

    /// The `n` bytes after the message: what was placed or read there.
    fn placed(&self, n: usize) -> &[u8] {
        &self.bytes[self.filled..self.filled + n]
    }

    /// Places what `f` appends to the buffer, given as a `Vec` holding exactly the message
    /// (as [`place`](Self::place) does), for code that appends to a `Vec`; how many bytes
    /// it placed, or its error.
    fn place_with<E>(&mut self, f: impl FnOnce(&mut Vec<u8>) -> Result<(), E>) -> Result<usize, E> {
        self.bytes.truncate(self.filled);
        f(&mut self.bytes)?;
        Ok(self.bytes.len() - self.filled)
    }

    /// Hands the message over; the buffer starts afresh.
    fn take(&mut self) -> Vec<u8> {
        self.bytes.truncate(self.filled);
        self.filled = 0;
        core::mem::take(&mut self.bytes)
    }
}

/// Feeds a text chunk to the message's UTF-8 check, and ends the check with the message.
fn check_utf8(utf8: &mut Utf8Validator, data: &[u8], ends_message: bool) -> Result<(), Error> {
    utf8.feed(data)?;
    if ends_message {
        utf8.finish()?;
    }
    Ok(())
}
