//! Close status codes (RFC 6455 §7.4) and the close frame payload (§5.5.1).

use core::fmt;

use crate::error::Error;

/// A close status code: a `u16` newtype with a constant for every registered code.
///
/// A newtype rather than a closed enum, because applications may use any code in 3000–4999
/// and the registry grows (RFC 6455 §7.4.2, §11.7).
///
/// ```
/// use ws_frame::CloseCode;
/// assert_eq!(CloseCode::NORMAL.as_u16(), 1000);
/// assert!(CloseCode::from(4000).is_valid());
/// assert!(!CloseCode::NO_STATUS.is_valid()); // 1005 must never be on the wire
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CloseCode(pub u16);

impl CloseCode {
    /// 1000: normal closure; the purpose of the connection has been fulfilled.
    pub const NORMAL: Self = Self(1000);
    /// 1001: the endpoint is going away (server shutdown, page navigation).
    pub const GOING_AWAY: Self = Self(1001);
    /// 1002: the peer violated the protocol.
    pub const PROTOCOL_ERROR: Self = Self(1002);
    /// 1003: the endpoint received a type of data it cannot accept.
    pub const UNSUPPORTED_DATA: Self = Self(1003);
    /// 1005: reserved; stands for "the close frame had no status code". Never sent.
    pub const NO_STATUS: Self = Self(1005);
    /// 1006: reserved; stands for "the connection closed without a close frame". Never sent.
    pub const ABNORMAL: Self = Self(1006);
    /// 1007: a message's data was inconsistent with its type (invalid UTF-8 in a text message).
    pub const INVALID_PAYLOAD: Self = Self(1007);
    /// 1008: a message violated the endpoint's policy.
    pub const POLICY_VIOLATION: Self = Self(1008);
    /// 1009: a message was too big to process.
    pub const MESSAGE_TOO_BIG: Self = Self(1009);
    /// 1010: the client expected the server to negotiate an extension it did not.
    pub const MANDATORY_EXTENSION: Self = Self(1010);
    /// 1011: the server met an unexpected condition.
    pub const INTERNAL_ERROR: Self = Self(1011);
    /// 1012: the service is restarting.
    pub const SERVICE_RESTART: Self = Self(1012);
    /// 1013: try again later (temporary overload).
    pub const TRY_AGAIN_LATER: Self = Self(1013);
    /// 1014: a gateway or proxy received an invalid response from upstream.
    pub const BAD_GATEWAY: Self = Self(1014);
    /// 1015: reserved; stands for "the TLS handshake failed". Never sent.
    pub const TLS_HANDSHAKE: Self = Self(1015);

    /// The numeric value.
    #[must_use]
    pub const fn as_u16(self) -> u16 {
        self.0
    }

    /// Whether this code may appear in a close frame on the wire (RFC 6455 §7.4): 1000–1003,
    /// 1007–1014 or 3000–4999. Every other value received is a protocol error, and sending one
    /// is refused. (1004–1006 and 1015 are reserved; 0–999, 1016–2999 and 5000+ are unassigned.)
    #[must_use]
    pub const fn is_valid(self) -> bool {
        matches!(self.0, 1000..=1003 | 1007..=1014 | 3000..=4999)
    }

    /// The registered name of the code (`"normal closure"`, ...), `"application"` for 3000–4999
    /// without a name here, or `"unknown"`.
    #[must_use]
    pub const fn description(self) -> &'static str {
        match self.0 {
            1000 => "normal closure",
            1001 => "going away",
            1002 => "protocol error",
            1003 => "unsupported data",
            1005 => "no status received",
            1006 => "abnormal closure",
            1007 => "invalid frame payload data",
            1008 => "policy violation",
            1009 => "message too big",
            1010 => "mandatory extension",
            1011 => "internal error",
            1012 => "service restart",
            1013 => "try again later",
            1014 => "bad gateway",
            1015 => "TLS handshake failure",
            3000..=4999 => "application",
            _ => "unknown",
        }
    }
}

impl From<u16> for CloseCode {
    fn from(code: u16) -> Self {
        Self(code)
    }
}

impl From<CloseCode> for u16 {
    fn from(code: CloseCode) -> Self {
        code.0
    }
}

impl fmt::Display for CloseCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.0, self.description())
    }
}

/// The largest close reason that fits a control frame: 125 bytes minus the 2-byte code.
pub const MAX_CLOSE_REASON: usize = 123;

/// Parses and validates a received close frame payload (RFC 6455 §5.5.1, §7.4).
///
/// An empty payload means "no status": it returns [`CloseCode::NO_STATUS`] and an empty reason.
/// A 1-byte payload, a code that [`CloseCode::is_valid`] refuses, and a reason that is not
/// UTF-8 are errors. The payload must already be unmasked.
///
/// ```
/// use ws_frame::{parse_close_payload, CloseCode, Error};
/// assert_eq!(parse_close_payload(b"\x03\xe8bye"), Ok((CloseCode::NORMAL, "bye")));
/// assert_eq!(parse_close_payload(b""), Ok((CloseCode::NO_STATUS, "")));
/// assert_eq!(parse_close_payload(b"\x03\xed"), Err(Error::InvalidCloseCode(1005)));
/// ```
pub fn parse_close_payload(payload: &[u8]) -> Result<(CloseCode, &str), Error> {
    match payload {
        [] => Ok((CloseCode::NO_STATUS, "")),
        [_] => Err(Error::InvalidClosePayload),
        [hi, lo, reason @ ..] => {
            let code = CloseCode(u16::from_be_bytes([*hi, *lo]));
            if !code.is_valid() {
                return Err(Error::InvalidCloseCode(code.0));
            }
            let reason =
                simdutf8::basic::from_utf8(reason).map_err(|_| Error::InvalidCloseReason)?;
            Ok((code, reason))
        }
    }
}

/// Checks a close code and reason this endpoint is about to send: the code must be valid on the
/// wire and the reason at most [`MAX_CLOSE_REASON`] bytes. A reason without a code cannot be
/// expressed (§5.5.1), so a non-empty reason needs a code.
#[cfg(feature = "alloc")]
pub(crate) fn check_outgoing_close(code: Option<CloseCode>, reason: &str) -> Result<(), Error> {
    match code {
        Some(code) if !code.is_valid() => Err(Error::InvalidCloseCode(code.0)),
        _ if reason.len() > MAX_CLOSE_REASON => Err(Error::CloseReasonTooLong(reason.len())),
        None if !reason.is_empty() => Err(Error::CloseReasonWithoutCode),
        _ => Ok(()),
    }
}
