//! The crate's one error type, and the close code each protocol error maps to.

use core::fmt;

use crate::close::{CloseCode, MAX_CLOSE_REASON};
use crate::opcode::OpCode;

/// Everything that can go wrong in this crate.
///
/// Errors caused by the peer (a frame that breaks RFC 6455, or a limit it exceeded) know the
/// close code the connection must be failed with: [`Error::close_code`]. Errors caused by a
/// call of this endpoint (sending a 200-byte ping, sending after close) return `None` there and
/// leave the connection as it was.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// A frame used an opcode RFC 6455 reserves (`0x3`–`0x7`, `0xB`–`0xF`).
    ReservedOpcode(u8),
    /// RSV bits were set that no negotiated extension defines. The value is the three bits
    /// `rsv1 rsv2 rsv3` as a number 1–7.
    ReservedBits(u8),
    /// A control frame (close, ping, pong) had its FIN bit clear (§5.5).
    FragmentedControlFrame(OpCode),
    /// A control frame's payload was over 125 bytes (§5.5).
    ControlFrameTooLong(u64),
    /// A 64-bit payload length had its most significant bit set (§5.2).
    PayloadLengthOverflow(u64),
    /// A client received a masked frame (§5.1) and was not told to accept them.
    MaskedFrameFromServer,
    /// A server received an unmasked frame (§5.1).
    UnmaskedFrameFromClient,
    /// A continuation frame arrived with no fragmented message in progress (§5.4).
    UnexpectedContinuation,
    /// A new text or binary frame arrived while a fragmented message was still in progress
    /// (§5.4); the value is the opcode that arrived.
    ExpectedContinuation(OpCode),
    /// A close frame had a 1-byte payload (§5.5.1).
    InvalidClosePayload,
    /// A close code that may not appear on the wire (§7.4): received from the peer, or given to
    /// a send call.
    InvalidCloseCode(u16),
    /// A close frame's reason was not valid UTF-8 (§5.5.1).
    InvalidCloseReason,
    /// A text message was not valid UTF-8 (§8.1). `offset` counts bytes from the start of the
    /// message to the first byte that cannot be part of valid UTF-8.
    InvalidUtf8 {
        /// Offset of the first invalid byte within the message.
        offset: u64,
    },
    /// A text message ended in the middle of a UTF-8 sequence (§8.1).
    TruncatedUtf8 {
        /// Message length at which the incomplete sequence was cut off.
        offset: u64,
    },
    /// A frame's payload length exceeded the frame size limit.
    FrameTooLarge {
        /// The length the frame header declared.
        size: u64,
        /// The configured `max_frame_size`.
        limit: u64,
    },
    /// A message grew past the message size limit.
    MessageTooLarge {
        /// The message size reached (at least; the rest was not read).
        size: u64,
        /// The configured `max_message_size`.
        limit: u64,
    },
    /// A message came in more frames than the fragment limit allows (a message that never
    /// ends); the connection is failed with 1008 (policy violation): the size may be fine,
    /// the shape is not.
    TooManyFragments {
        /// Frames received for the message so far.
        count: u64,
        /// The configured `max_fragments`.
        limit: u64,
    },
    /// A negotiated extension could not decode a message (corrupt compressed data): the
    /// connection is failed with 1007.
    InvalidExtensionData,
    /// The transport ended before the closing handshake completed (reported as 1006).
    UnexpectedEof,
    /// A close reason given to a send call was over 123 bytes.
    CloseReasonTooLong(usize),
    /// A close reason was given without a close code, which the close frame cannot carry.
    CloseReasonWithoutCode,
    /// A payload length given to the encoder does not fit in 63 bits.
    PayloadTooLong(u64),
    /// The encoder was given [`OpCode::Reserved`] with a value above `0xF`.
    InvalidOpcode(u8),
    /// `send_frame` got a continuation frame but no fragmented message is being sent.
    NoMessageInProgress,
    /// `send_frame`, `send_text` or `send_binary` started a message while a fragmented one is
    /// still being sent.
    MessageInProgress,
    /// A text fragment given to `send_frame` was not valid UTF-8 so far.
    InvalidOutgoingUtf8,
    /// `send_frame` got a control or reserved opcode; it sends data frames only.
    NotADataOpcode(OpCode),
    /// A ping or pong payload given to a send call was over 125 bytes.
    ControlPayloadTooLong(usize),
    /// The session's close frame was already sent (or the connection failed): no more frames
    /// can be sent.
    Closed,
}

impl Error {
    /// The close code to fail the connection with when the peer caused this error (1002
    /// protocol error, 1007 invalid payload, 1009 too big, 1006 for a vanished transport, which
    /// is reported, never sent), or `None` for errors in this endpoint's own calls.
    #[must_use]
    pub const fn close_code(&self) -> Option<CloseCode> {
        Some(match self {
            Self::ReservedOpcode(_)
            | Self::ReservedBits(_)
            | Self::FragmentedControlFrame(_)
            | Self::ControlFrameTooLong(_)
            | Self::PayloadLengthOverflow(_)
            | Self::MaskedFrameFromServer
            | Self::UnmaskedFrameFromClient
            | Self::UnexpectedContinuation
            | Self::ExpectedContinuation(_)
            | Self::InvalidClosePayload
            | Self::InvalidCloseCode(_) => CloseCode::PROTOCOL_ERROR,
            Self::InvalidCloseReason
            | Self::InvalidUtf8 { .. }
            | Self::TruncatedUtf8 { .. }
            | Self::InvalidExtensionData => CloseCode::INVALID_PAYLOAD,
            Self::FrameTooLarge { .. } | Self::MessageTooLarge { .. } => CloseCode::MESSAGE_TOO_BIG,
            Self::TooManyFragments { .. } => CloseCode::POLICY_VIOLATION,
            Self::UnexpectedEof => CloseCode::ABNORMAL,
            Self::CloseReasonTooLong(_)
            | Self::CloseReasonWithoutCode
            | Self::PayloadTooLong(_)
            | Self::InvalidOpcode(_)
            | Self::NoMessageInProgress
            | Self::MessageInProgress
            | Self::InvalidOutgoingUtf8
            | Self::NotADataOpcode(_)
            | Self::ControlPayloadTooLong(_)
            | Self::Closed => return None,
        })
    }

    /// `true` when the peer caused this error and the connection must be failed.
    #[must_use]
    pub const fn is_protocol_error(&self) -> bool {
        self.close_code().is_some()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ReservedOpcode(op) => write!(f, "reserved opcode {op:#x}"),
            Self::ReservedBits(bits) => write!(
                f,
                "reserved bits set without a negotiated extension: rsv1={} rsv2={} rsv3={}",
                bits >> 2 & 1,
                bits >> 1 & 1,
                bits & 1
            ),
            Self::FragmentedControlFrame(op) => {
                write!(f, "fragmented control frame: {op} with fin=0")
            }
            Self::ControlFrameTooLong(len) => write!(f, "control frame too long: {len} > 125"),
            Self::PayloadLengthOverflow(len) => {
                write!(
                    f,
                    "payload length has its most significant bit set: {len:#x}"
                )
            }
            Self::MaskedFrameFromServer => f.write_str("masked frame from the server"),
            Self::UnmaskedFrameFromClient => f.write_str("unmasked frame from the client"),
            Self::UnexpectedContinuation => {
                f.write_str("continuation frame without a message in progress")
            }
            Self::ExpectedContinuation(op) => {
                write!(
                    f,
                    "{op} frame inside a fragmented message, expected a continuation"
                )
            }
            Self::InvalidClosePayload => f.write_str("close frame with a 1-byte payload"),
            Self::InvalidCloseCode(code) => write!(f, "invalid close code {code}"),
            Self::InvalidCloseReason => f.write_str("close reason is not valid UTF-8"),
            Self::InvalidUtf8 { offset } => {
                write!(f, "invalid UTF-8 in text message at byte {offset}")
            }
            Self::TruncatedUtf8 { offset } => {
                write!(
                    f,
                    "text message ends inside a UTF-8 sequence at byte {offset}"
                )
            }
            Self::FrameTooLarge { size, limit } => write!(f, "frame too large: {size} > {limit}"),
            Self::MessageTooLarge { size, limit } => {
                write!(f, "message too long: {size} > {limit}")
            }
            Self::TooManyFragments { count, limit } => {
                write!(f, "message in too many fragments: {count} > {limit}")
            }
            Self::InvalidExtensionData => {
                f.write_str("a negotiated extension could not decode the message (corrupt data)")
            }
            Self::UnexpectedEof => {
                f.write_str("connection closed without a close frame (abnormal closure)")
            }
            Self::CloseReasonTooLong(len) => {
                write!(f, "close reason too long: {len} > {MAX_CLOSE_REASON} bytes")
            }
            Self::CloseReasonWithoutCode => f.write_str("a close reason needs a close code"),
            Self::PayloadTooLong(len) => write!(f, "payload too long to encode: {len} >= 2^63"),
            Self::InvalidOpcode(op) => write!(f, "invalid opcode {op:#x}: not a 4-bit value"),
            Self::NoMessageInProgress => {
                f.write_str("continuation frame sent without a message in progress")
            }
            Self::MessageInProgress => {
                f.write_str("a fragmented message is still being sent; finish it first")
            }
            Self::InvalidOutgoingUtf8 => f.write_str("text frame to send is not valid UTF-8"),
            Self::NotADataOpcode(op) => {
                write!(
                    f,
                    "send_frame sends text, binary or continuation frames, not {op}"
                )
            }
            Self::ControlPayloadTooLong(len) => {
                write!(f, "control frame payload too long: {len} > 125")
            }
            Self::Closed => f.write_str("connection closed: the close frame was already sent"),
        }
    }
}

impl core::error::Error for Error {}
