//! The frame decoder: RFC 6455 rules on top of the header codec, streaming payloads in place.

use core::ops::Range;

use crate::close::parse_close_payload;
use crate::error::Error;
use crate::header::{FrameHeader, MAX_CONTROL_PAYLOAD, Status};
use crate::mask::apply_mask;
use crate::opcode::OpCode;

/// Which end of the connection this endpoint is (RFC 6455 §5.1: clients mask, servers do not).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    /// Masks every frame it sends; expects unmasked frames.
    Client,
    /// Sends unmasked frames; requires masked frames.
    Server,
}

/// Size limits enforced on received data. A peer that exceeds one gets close code 1009.
///
/// ```
/// use ws_frame::Limits;
/// let limits = Limits::default().max_frame_size(1 << 20);
/// assert_eq!(limits.max_frame_size, 1 << 20);
/// assert_eq!(limits.max_message_size, 64 << 20);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// The largest frame payload accepted, checked against the header before the payload is
    /// read. Default 16 MiB.
    pub max_frame_size: u64,
    /// The largest message accepted when messages are assembled whole, checked as each frame
    /// header arrives. Default 64 MiB.
    pub max_message_size: u64,
    /// The most frames one message may come in when messages are assembled whole. Bounds a
    /// message that never ends: a peer streaming empty continuation frames would otherwise
    /// keep a receiver busy forever without growing it. Default 1,048,576 (a 64 MiB message
    /// in 64-byte fragments fits).
    pub max_fragments: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_frame_size: 16 << 20,
            max_message_size: 64 << 20,
            max_fragments: 1 << 20,
        }
    }
}

impl Limits {
    /// No limits at all: any frame up to 2^63 − 1 bytes, any message, any number of
    /// fragments. Only for trusted peers: a hostile peer can then make the receiver allocate
    /// without bound (buffers still grow only as data arrives, never by what a header
    /// announces).
    #[must_use]
    pub const fn unlimited() -> Self {
        Self {
            max_frame_size: u64::MAX,
            max_message_size: u64::MAX,
            max_fragments: u64::MAX,
        }
    }

    /// Sets [`Limits::max_frame_size`].
    #[must_use]
    pub const fn max_frame_size(mut self, bytes: u64) -> Self {
        self.max_frame_size = bytes;
        self
    }

    /// Sets [`Limits::max_message_size`].
    #[must_use]
    pub const fn max_message_size(mut self, bytes: u64) -> Self {
        self.max_message_size = bytes;
        self
    }

    /// Sets [`Limits::max_fragments`].
    #[must_use]
    pub const fn max_fragments(mut self, frames: u64) -> Self {
        self.max_fragments = frames;
        self
    }
}

/// A piece of a frame produced by [`Decoder::decode`]: the frame's header and the bytes of its
/// payload that were in the buffer, unmasked in place.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FrameChunk {
    /// The header of the frame this chunk belongs to.
    pub header: FrameHeader,
    /// Where the unmasked payload bytes are in the buffer given to `decode`.
    pub payload: Range<usize>,
    /// Offset of the first byte of this chunk within the frame's payload.
    pub offset: u64,
    /// Bytes of the buffer consumed (header, if any, plus payload); drop them before the next
    /// call.
    pub consumed: usize,
    /// The header was parsed in this call: this is the frame's first chunk.
    pub is_first: bool,
    /// The frame's payload ends with this chunk.
    pub is_last: bool,
}

impl FrameChunk {
    /// The chunk's payload within `buf`, the buffer that was given to [`Decoder::decode`].
    #[must_use]
    pub fn data<'a>(&self, buf: &'a [u8]) -> &'a [u8] {
        &buf[self.payload.clone()]
    }
}

/// Decodes frames from a byte buffer and enforces RFC 6455 on them.
///
/// Feed it the unconsumed received bytes with [`decode`](Self::decode); it returns at most one
/// [`FrameChunk`] per call and says how many bytes it consumed. A data frame's payload is
/// handed out as it arrives, in as many chunks as the transport delivers it, so a 16 MiB frame
/// never has to be buffered whole and its content can be checked before it ends. A control
/// frame (at most 125 bytes) is only returned whole. When the whole frame is in the buffer it
/// comes as one chunk (`is_first && is_last`) — the zero-copy fast path.
///
/// Checked here: reserved opcodes, RSV bits without an extension, fragmented or oversized
/// control frames, masking by role, continuation sequencing (§5.4), the frame size limit, and
/// close payloads (length, code, UTF-8 reason). The UTF-8 of text messages and the message
/// size are checked by the [`MessageAssembler`](crate::MessageAssembler).
///
/// After an error the connection must be failed: do not feed the decoder again.
///
/// ```
/// use ws_frame::{Decoder, Limits, OpCode, Role};
/// // RFC 6455 §5.7: a masked "Hello" as a server receives it.
/// let mut buf = [0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58];
/// let mut decoder = Decoder::new(Role::Server, Limits::default());
/// let chunk = decoder.decode(&mut buf)?.expect("a whole frame");
/// assert_eq!(chunk.header.opcode, OpCode::Text);
/// assert!(chunk.is_first && chunk.is_last);
/// assert_eq!(chunk.data(&buf), b"Hello");
/// assert_eq!(chunk.consumed, 11);
/// # Ok::<(), ws_frame::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct Decoder {
    role: Role,
    max_frame_size: u64,
    accept_masked: bool,
    allowed_rsv: u8,
    /// The data frame whose payload is still arriving, and how much of it has come.
    frame: Option<(FrameHeader, u64)>,
    /// The opcode of the fragmented message in progress, if any.
    message: Option<OpCode>,
}

impl Decoder {
    /// A decoder for `role` that enforces `limits.max_frame_size`.
    #[must_use]
    pub const fn new(role: Role, limits: Limits) -> Self {
        Self {
            role,
            max_frame_size: limits.max_frame_size,
            accept_masked: false,
            allowed_rsv: 0,
            frame: None,
            message: None,
        }
    }

    /// For the client role: accept masked frames from the server and unmask them, as Python's
    /// websocket-client does, instead of failing with [`Error::MaskedFrameFromServer`]
    /// (RFC 6455 §5.1 says to fail). Default `false`. No effect for the server role.
    #[must_use]
    pub const fn accept_masked_frames(mut self, accept: bool) -> Self {
        self.accept_masked = accept;
        self
    }

    /// RSV bits that a negotiated extension defines (`4` = RSV1, `2` = RSV2, `1` = RSV3),
    /// allowed on the first frame of a text or binary message; any other RSV bit, and any on
    /// a control or continuation frame, is a protocol error. Default `0`.
    #[must_use]
    pub const fn allow_rsv_bits(mut self, bits: u8) -> Self {
        self.allowed_rsv = bits & 0b111;
        self
    }

    /// Sets [`allow_rsv_bits`](Self::allow_rsv_bits) on a decoder in use.
    pub fn set_allowed_rsv_bits(&mut self, bits: u8) {
        self.allowed_rsv = bits & 0b111;
    }

    /// The role this decoder checks masking for.
    #[must_use]
    pub const fn role(&self) -> Role {
        self.role
    }

    /// `true` while a fragmented message has started and its final frame has not.
    #[must_use]
    pub const fn in_message(&self) -> bool {
        self.message.is_some()
    }

    /// `true` while a frame's payload is partly received.
    #[must_use]
    pub const fn in_frame(&self) -> bool {
        self.frame.is_some()
    }

    /// Payload bytes of the frame in progress still to come (0 between frames): every byte
    /// given to [`decode`](Self::decode) up to that many is payload.
    #[cfg(feature = "alloc")]
    pub(crate) fn frame_remaining(&self) -> u64 {
        self.frame
            .map_or(0, |(header, received)| header.payload_len - received)
    }

    /// Decodes the next chunk from the start of `buf`, unmasking its payload in place.
    ///
    /// Returns `Ok(None)` when `buf` holds nothing new to hand out (an incomplete header, an
    /// incomplete control frame, or no payload bytes); nothing was consumed then, so call again
    /// with more bytes appended. Otherwise drop `chunk.consumed` bytes from the front of the
    /// buffer before the next call. A chunk may have an empty payload: a header with no
    /// payload bytes yet, or an empty frame.
    #[inline]
    pub fn decode(&mut self, buf: &mut [u8]) -> Result<Option<FrameChunk>, Error> {
        let (header, received, start, is_first) = match self.frame {
            Some((header, received)) => {
                if buf.is_empty() {
                    return Ok(None);
                }
                (header, received, 0, false)
            }
            None => {
                let Status::Complete((header, len)) = FrameHeader::decode(buf)? else {
                    return Ok(None);
                };
                self.check(&header)?;
                if header.opcode.is_control() && ((buf.len() - len) as u64) < header.payload_len {
                    return Ok(None);
                }
                self.start_frame(&header)?;
                (header, 0, len, true)
            }
        };
        let available = buf.len() - start;
        let remaining = header.payload_len - received;
        // `remaining` may exceed usize on 32-bit targets; `available` never does.
        let take = if remaining < available as u64 {
            remaining as usize
        } else {
            available
        };
        let payload = start..start + take;
        if let Some(key) = header.mask {
            // Only the key phase (offset mod 4) matters.
            apply_mask(&mut buf[payload.clone()], key, (received & 3) as usize);
        }
        let is_last = take as u64 == remaining;
        self.frame = if is_last {
            None
        } else {
            Some((header, received + take as u64))
        };
        if is_last && header.opcode == OpCode::Close {
            parse_close_payload(&buf[payload.clone()])?;
        }
        Ok(Some(FrameChunk {
            header,
            payload: payload.clone(),
            offset: received,
            consumed: payload.end,
            is_first,
            is_last,
        }))
    }

    /// The per-frame rules that need no state (§5.2, §5.5, §5.1) and the size limit.
    fn check(&self, h: &FrameHeader) -> Result<(), Error> {
        if let OpCode::Reserved(op) = h.opcode {
            return Err(Error::ReservedOpcode(op));
        }
        // An extension's bits are allowed on a data message's first frame only: never on
        // control or continuation frames (RFC 7692 §6.1).
        let allowed = match h.opcode {
            OpCode::Text | OpCode::Binary => self.allowed_rsv,
            _ => 0,
        };
        let rsv = h.rsv_bits() & !allowed;
        if rsv != 0 {
            return Err(Error::ReservedBits(rsv));
        }
        if h.opcode.is_control() {
            if !h.fin {
                return Err(Error::FragmentedControlFrame(h.opcode));
            }
            if h.payload_len > MAX_CONTROL_PAYLOAD as u64 {
                return Err(Error::ControlFrameTooLong(h.payload_len));
            }
            if h.opcode == OpCode::Close && h.payload_len == 1 {
                return Err(Error::InvalidClosePayload);
            }
        }
        match (self.role, h.mask.is_some()) {
            (Role::Client, true) if !self.accept_masked => {
                return Err(Error::MaskedFrameFromServer);
            }
            (Role::Server, false) => return Err(Error::UnmaskedFrameFromClient),
            _ => {}
        }
        if h.payload_len > self.max_frame_size {
            return Err(Error::FrameTooLarge {
                size: h.payload_len,
                limit: self.max_frame_size,
            });
        }
        Ok(())
    }

    /// Fragmentation rules (§5.4): tracks the message in progress.
    fn start_frame(&mut self, h: &FrameHeader) -> Result<(), Error> {
        match (h.opcode, self.message) {
            (OpCode::Continuation, None) => Err(Error::UnexpectedContinuation),
            (OpCode::Continuation, Some(_)) => {
                if h.fin {
                    self.message = None;
                }
                Ok(())
            }
            (op @ (OpCode::Text | OpCode::Binary), Some(_)) => Err(Error::ExpectedContinuation(op)),
            (op @ (OpCode::Text | OpCode::Binary), None) => {
                if !h.fin {
                    self.message = Some(op);
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }
}
