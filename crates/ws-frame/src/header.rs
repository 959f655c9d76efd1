//! The frame header: encoding and incremental decoding (RFC 6455 §5.2).

use crate::error::Error;
use crate::opcode::OpCode;

/// The outcome of an incremental parse: a complete value, or "feed me more bytes".
///
/// Running out of input is never an error: feed the same bytes again with more appended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status<T> {
    /// Parsing finished with this value.
    Complete(T),
    /// The input ends before the value does; nothing was consumed.
    Partial,
}

impl<T> Status<T> {
    /// The complete value, or `None` for `Partial`.
    pub fn complete(self) -> Option<T> {
        match self {
            Self::Complete(value) => Some(value),
            Self::Partial => None,
        }
    }
}

/// The longest header: 2 bytes, an 8-byte extended length and a 4-byte mask key.
pub const MAX_HEADER_LEN: usize = 14;

/// The largest payload of a control frame (§5.5).
pub const MAX_CONTROL_PAYLOAD: usize = 125;

/// A frame header as it is on the wire, before any protocol rule is applied.
///
/// [`FrameHeader::decode`] accepts any syntactically valid header (reserved opcodes and RSV bits
/// included) so that tools can see exactly what came; a [`Decoder`](crate::Decoder) applies the
/// rules of RFC 6455 on top.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FrameHeader {
    /// FIN: this is the final fragment of a message.
    pub fin: bool,
    /// RSV1 (used by permessage-deflate when negotiated).
    pub rsv1: bool,
    /// RSV2.
    pub rsv2: bool,
    /// RSV3.
    pub rsv3: bool,
    /// The opcode.
    pub opcode: OpCode,
    /// The masking key, present when the MASK bit is set.
    pub mask: Option<[u8; 4]>,
    /// The payload length.
    pub payload_len: u64,
}

impl FrameHeader {
    /// A header with the RSV bits clear.
    #[must_use]
    pub const fn new(fin: bool, opcode: OpCode, mask: Option<[u8; 4]>, payload_len: u64) -> Self {
        Self {
            fin,
            rsv1: false,
            rsv2: false,
            rsv3: false,
            opcode,
            mask,
            payload_len,
        }
    }

    /// The RSV bits as a number: `rsv1` is 4, `rsv2` is 2, `rsv3` is 1.
    #[must_use]
    pub const fn rsv_bits(&self) -> u8 {
        (self.rsv1 as u8) << 2 | (self.rsv2 as u8) << 1 | self.rsv3 as u8
    }

    /// How many bytes [`FrameHeader::encode`] writes: 2–14.
    #[must_use]
    pub const fn encoded_len(&self) -> usize {
        let len_bytes = match self.payload_len {
            0..=125 => 0,
            126..=0xFFFF => 2,
            _ => 8,
        };
        2 + len_bytes + if self.mask.is_some() { 4 } else { 0 }
    }

    /// Writes the header into `out` with the minimal length encoding (§5.2) and returns the
    /// number of bytes written.
    ///
    /// Fails for a payload length of 2^63 or more and a reserved opcode above `0xF`. The output
    /// is a `[u8; MAX_HEADER_LEN]` so that every header fits; the first
    /// [`FrameHeader::encoded_len`] bytes are written.
    ///
    /// ```
    /// use ws_frame::{FrameHeader, OpCode, MAX_HEADER_LEN};
    /// // RFC 6455 §5.7: a single-frame masked text message "Hello".
    /// let header = FrameHeader::new(true, OpCode::Text, Some([0x37, 0xfa, 0x21, 0x3d]), 5);
    /// let mut out = [0u8; MAX_HEADER_LEN];
    /// let n = header.encode(&mut out).unwrap();
    /// assert_eq!(&out[..n], &[0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d]);
    /// ```
    pub fn encode(&self, out: &mut [u8; MAX_HEADER_LEN]) -> Result<usize, Error> {
        let opcode = self.opcode.bits();
        if opcode > 0x0F {
            return Err(Error::InvalidOpcode(opcode));
        }
        if self.payload_len >> 63 != 0 {
            return Err(Error::PayloadTooLong(self.payload_len));
        }
        out[0] = (self.fin as u8) << 7 | self.rsv_bits() << 4 | opcode;
        let mask_bit = if self.mask.is_some() { 0x80 } else { 0 };
        let mut n = 2;
        match self.payload_len {
            len @ 0..=125 => out[1] = mask_bit | len as u8,
            len @ 126..=0xFFFF => {
                out[1] = mask_bit | 126;
                out[2..4].copy_from_slice(&(len as u16).to_be_bytes());
                n = 4;
            }
            len => {
                out[1] = mask_bit | 127;
                out[2..10].copy_from_slice(&len.to_be_bytes());
                n = 10;
            }
        }
        if let Some(key) = self.mask {
            out[n..n + 4].copy_from_slice(&key);
            n += 4;
        }
        Ok(n)
    }

    /// Parses a header from the start of `buf`.
    ///
    /// Returns `Complete((header, consumed))`, or `Partial` when `buf` ends inside the header.
    /// The only error is a 64-bit length with its most significant bit set (§5.2). A length
    /// that was not minimally encoded is accepted, as most peers do.
    ///
    /// ```
    /// use ws_frame::{FrameHeader, OpCode, Status};
    /// // RFC 6455 §5.7: an unmasked ping with "Hello".
    /// let Status::Complete((header, n)) = FrameHeader::decode(&[0x89, 0x05, b'H'])? else {
    ///     unreachable!()
    /// };
    /// assert_eq!((header.opcode, header.payload_len, n), (OpCode::Ping, 5, 2));
    /// assert_eq!(FrameHeader::decode(&[0x89])?, Status::Partial);
    /// # Ok::<(), ws_frame::Error>(())
    /// ```
    #[inline]
    pub fn decode(buf: &[u8]) -> Result<Status<(Self, usize)>, Error> {
        let (b0, b1) = match buf {
            [b0, b1, ..] => (*b0, *b1),
            _ => return Ok(Status::Partial),
        };
        let masked = b1 & 0x80 != 0;
        let (payload_len, len_end) = match b1 & 0x7F {
            126 => match buf.get(2..4) {
                Some(bytes) => (u64::from(u16::from_be_bytes([bytes[0], bytes[1]])), 4),
                None => return Ok(Status::Partial),
            },
            127 => match buf.get(2..10) {
                Some(bytes) => {
                    let mut be = [0u8; 8];
                    be.copy_from_slice(bytes);
                    let len = u64::from_be_bytes(be);
                    if len >> 63 != 0 {
                        return Err(Error::PayloadLengthOverflow(len));
                    }
                    (len, 10)
                }
                None => return Ok(Status::Partial),
            },
            len => (u64::from(len), 2),
        };
        let (mask, end) = if masked {
            match buf.get(len_end..len_end + 4) {
                Some(key) => (Some([key[0], key[1], key[2], key[3]]), len_end + 4),
                None => return Ok(Status::Partial),
            }
        } else {
            (None, len_end)
        };
        let header = Self {
            fin: b0 & 0x80 != 0,
            rsv1: b0 & 0x40 != 0,
            rsv2: b0 & 0x20 != 0,
            rsv3: b0 & 0x10 != 0,
            opcode: OpCode::from_bits(b0),
            mask,
            payload_len,
        };
        Ok(Status::Complete((header, end)))
    }
}
