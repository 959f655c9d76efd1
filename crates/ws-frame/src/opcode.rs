//! Frame opcodes (RFC 6455 §5.2, §11.8).

use core::fmt;

/// The 4-bit opcode of a frame.
///
/// The six opcodes RFC 6455 defines have their own variants; the ten reserved values are kept in
/// [`OpCode::Reserved`] so that the header codec can report them faithfully and a
/// [`Decoder`](crate::Decoder) can reject them with the right error.
///
/// ```
/// use ws_frame::OpCode;
/// assert_eq!(OpCode::from_bits(0x1), OpCode::Text);
/// assert_eq!(OpCode::Ping.bits(), 0x9);
/// assert!(OpCode::Close.is_control());
/// assert_eq!(OpCode::from_bits(0x3), OpCode::Reserved(0x3));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OpCode {
    /// `0x0`: continuation of a fragmented message.
    Continuation,
    /// `0x1`: the first (or only) frame of a UTF-8 text message.
    Text,
    /// `0x2`: the first (or only) frame of a binary message.
    Binary,
    /// `0x8`: connection close.
    Close,
    /// `0x9`: ping.
    Ping,
    /// `0xA`: pong.
    Pong,
    /// A reserved opcode: `0x3`–`0x7` (data) or `0xB`–`0xF` (control). Values above `0xF` are
    /// not opcodes and cannot be encoded.
    Reserved(u8),
}

impl OpCode {
    /// The opcode for the low four bits of `bits` (the high four bits are ignored).
    #[must_use]
    pub const fn from_bits(bits: u8) -> Self {
        match bits & 0x0F {
            0x0 => Self::Continuation,
            0x1 => Self::Text,
            0x2 => Self::Binary,
            0x8 => Self::Close,
            0x9 => Self::Ping,
            0xA => Self::Pong,
            other => Self::Reserved(other),
        }
    }

    /// The 4-bit wire value. For `Reserved(n)` this is `n` unchanged, which may be out of range;
    /// encoders check it.
    #[must_use]
    pub const fn bits(self) -> u8 {
        match self {
            Self::Continuation => 0x0,
            Self::Text => 0x1,
            Self::Binary => 0x2,
            Self::Close => 0x8,
            Self::Ping => 0x9,
            Self::Pong => 0xA,
            Self::Reserved(n) => n,
        }
    }

    /// Control opcodes have the high bit of the 4-bit value set (RFC 6455 §5.5).
    #[must_use]
    pub const fn is_control(self) -> bool {
        self.bits() & 0x08 != 0
    }

    /// `true` for [`OpCode::Reserved`].
    #[must_use]
    pub const fn is_reserved(self) -> bool {
        matches!(self, Self::Reserved(_))
    }

    /// The lowercase name Python's `ABNF.OPCODE_MAP` uses (`cont`, `text`, `binary`, `close`,
    /// `ping`, `pong`), or `reserved`.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Continuation => "cont",
            Self::Text => "text",
            Self::Binary => "binary",
            Self::Close => "close",
            Self::Ping => "ping",
            Self::Pong => "pong",
            Self::Reserved(_) => "reserved",
        }
    }
}

impl fmt::Display for OpCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Reserved(n) => write!(f, "reserved opcode {n:#x}"),
            other => f.write_str(other.name()),
        }
    }
}
