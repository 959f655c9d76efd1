//! Messages as the application sees them.

use ws_frame::{CloseCode, Event, OpCode};

/// A received or sent WebSocket message (or frame, for control frames and fragments).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Message {
    /// A text message, valid UTF-8.
    Text(String),
    /// A binary message.
    Binary(Vec<u8>),
    /// A text message whose UTF-8 was not checked (`skip_utf8_validation`).
    UnvalidatedText(Vec<u8>),
    /// One data frame, with `fire_cont_frame`.
    Fragment {
        /// `Text` or `Binary` for a message's first frame, `Continuation` after.
        opcode: OpCode,
        /// The frame's payload.
        data: Vec<u8>,
        /// `true` for the message's last frame.
        fin: bool,
    },
    /// A ping (already answered when received).
    Ping(Vec<u8>),
    /// A pong.
    Pong(Vec<u8>),
    /// A close frame: code and reason; `None` for a frame without a status, received or to
    /// send.
    Close(Option<CloseFrame>),
}

/// The status of a close frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CloseFrame {
    /// The status code. (A close frame without one is `Message::Close(None)`.)
    pub code: CloseCode,
    /// The reason, possibly empty.
    pub reason: String,
}

impl Message {
    /// `true` for pings, pongs and close frames.
    #[must_use]
    pub fn is_control(&self) -> bool {
        matches!(self, Self::Ping(_) | Self::Pong(_) | Self::Close(_))
    }

    /// The payload bytes (a close frame's reason).
    #[must_use]
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            Self::Text(s) => s.as_bytes(),
            Self::Binary(b) | Self::UnvalidatedText(b) | Self::Ping(b) | Self::Pong(b) => b,
            Self::Fragment { data, .. } => data,
            Self::Close(c) => c.as_ref().map_or(&[], |c| c.reason.as_bytes()),
        }
    }

    /// The text of a text message.
    #[must_use]
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Self::Text(s) => Some(s),
            _ => None,
        }
    }

    /// The opcode this message travels with.
    #[must_use]
    pub fn opcode(&self) -> OpCode {
        match self {
            Self::Text(_) | Self::UnvalidatedText(_) => OpCode::Text,
            Self::Binary(_) => OpCode::Binary,
            Self::Fragment { opcode, .. } => *opcode,
            Self::Ping(_) => OpCode::Ping,
            Self::Pong(_) => OpCode::Pong,
            Self::Close(_) => OpCode::Close,
        }
    }

    pub(crate) fn from_event(event: Event<'_>) -> Self {
        match event {
            Event::Text(s) => Self::Text(s.to_owned()),
            Event::Binary(b) => Self::Binary(b.to_vec()),
            Event::UnvalidatedText(b) => Self::UnvalidatedText(b.to_vec()),
            Event::Fragment { opcode, data, fin } => Self::Fragment {
                opcode,
                data: data.to_vec(),
                fin,
            },
            Event::Ping(p) => Self::Ping(p.to_vec()),
            Event::Pong(p) => Self::Pong(p.to_vec()),
            // A close frame without a status is reported as none, never as 1005: no bytes
            // are invented (`recv_data` gives an empty payload, as Python does).
            Event::Close { code, .. } if code == CloseCode::NO_STATUS => Self::Close(None),
            Event::Close { code, reason } => Self::Close(Some(CloseFrame {
                code,
                reason: reason.to_owned(),
            })),
        }
    }
}

impl From<String> for Message {
    fn from(s: String) -> Self {
        Self::Text(s)
    }
}

impl From<&str> for Message {
    fn from(s: &str) -> Self {
        Self::Text(s.to_owned())
    }
}

impl From<Vec<u8>> for Message {
    fn from(b: Vec<u8>) -> Self {
        Self::Binary(b)
    }
}

impl From<&[u8]> for Message {
    fn from(b: &[u8]) -> Self {
        Self::Binary(b.to_vec())
    }
}
