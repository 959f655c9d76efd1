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
        self.as_message_ref().is_control()
    }

    /// The payload bytes (a close frame's reason).
    #[must_use]
    pub fn as_bytes(&self) -> &[u8] {
        self.as_message_ref().as_bytes()
    }

    /// The text of a text message.
    #[must_use]
    pub fn as_text(&self) -> Option<&str> {
        self.as_message_ref().as_text()
    }

    /// The opcode this message travels with.
    #[must_use]
    pub fn opcode(&self) -> OpCode {
        self.as_message_ref().opcode()
    }

    /// The message, borrowed.
    #[must_use]
    pub fn as_message_ref(&self) -> MessageRef<'_> {
        match self {
            Self::Text(s) => MessageRef::Text(s),
            Self::Binary(b) => MessageRef::Binary(b),
            Self::UnvalidatedText(b) => MessageRef::UnvalidatedText(b),
            Self::Fragment { opcode, data, fin } => MessageRef::Fragment {
                opcode: *opcode,
                data,
                fin: *fin,
            },
            Self::Ping(p) => MessageRef::Ping(p),
            Self::Pong(p) => MessageRef::Pong(p),
            Self::Close(c) => MessageRef::Close(c.as_ref().map(|c| CloseRef {
                code: c.code,
                reason: &c.reason,
            })),
        }
    }

    pub(crate) fn from_event(event: Event<'_>) -> Self {
        MessageRef::from_event(event).to_message()
    }
}

/// A received message lent from the connection's receive buffer, as
/// [`WebSocket::recv_ref`](crate::WebSocket::recv_ref) hands it out: nothing is allocated or
/// copied. It borrows the connection until it is dropped;
/// [`to_message`](Self::to_message) makes an owned [`Message`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MessageRef<'a> {
    /// A text message, valid UTF-8.
    Text(&'a str),
    /// A binary message.
    Binary(&'a [u8]),
    /// A text message whose UTF-8 was not checked (`skip_utf8_validation`).
    UnvalidatedText(&'a [u8]),
    /// One data frame, with `fire_cont_frame`.
    Fragment {
        /// `Text` or `Binary` for a message's first frame, `Continuation` after.
        opcode: OpCode,
        /// The frame's payload.
        data: &'a [u8],
        /// `true` for the message's last frame.
        fin: bool,
    },
    /// A ping (already answered when received).
    Ping(&'a [u8]),
    /// A pong.
    Pong(&'a [u8]),
    /// A close frame: code and reason; `None` for a frame without a status.
    Close(Option<CloseRef<'a>>),
}

/// The status of a close frame, borrowed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CloseRef<'a> {
    /// The status code.
    pub code: CloseCode,
    /// The reason, possibly empty.
    pub reason: &'a str,
}

impl<'a> MessageRef<'a> {
    /// `true` for pings, pongs and close frames.
    #[must_use]
    pub fn is_control(&self) -> bool {
        matches!(self, Self::Ping(_) | Self::Pong(_) | Self::Close(_))
    }

    /// The payload bytes (a close frame's reason).
    #[must_use]
    pub fn as_bytes(&self) -> &'a [u8] {
        match *self {
            Self::Text(s) => s.as_bytes(),
            Self::Binary(b) | Self::UnvalidatedText(b) | Self::Ping(b) | Self::Pong(b) => b,
            Self::Fragment { data, .. } => data,
            Self::Close(c) => c.map_or(&[], |c| c.reason.as_bytes()),
        }
    }

    /// The text of a text message.
    #[must_use]
    pub fn as_text(&self) -> Option<&'a str> {
        match *self {
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

    /// An owned copy.
    #[must_use]
    pub fn to_message(&self) -> Message {
        match *self {
            Self::Text(s) => Message::Text(s.to_owned()),
            Self::Binary(b) => Message::Binary(b.to_vec()),
            Self::UnvalidatedText(b) => Message::UnvalidatedText(b.to_vec()),
            Self::Fragment { opcode, data, fin } => Message::Fragment {
                opcode,
                data: data.to_vec(),
                fin,
            },
            Self::Ping(p) => Message::Ping(p.to_vec()),
            Self::Pong(p) => Message::Pong(p.to_vec()),
            Self::Close(c) => Message::Close(c.map(|c| CloseFrame {
                code: c.code,
                reason: c.reason.to_owned(),
            })),
        }
    }

    pub(crate) fn from_event(event: Event<'a>) -> Self {
        match event {
            Event::Text(s) => Self::Text(s),
            Event::Binary(b) => Self::Binary(b),
            Event::UnvalidatedText(b) => Self::UnvalidatedText(b),
            Event::Fragment { opcode, data, fin } => Self::Fragment { opcode, data, fin },
            Event::Ping(p) => Self::Ping(p),
            Event::Pong(p) => Self::Pong(p),
            // A close frame without a status is reported as none, never as 1005: no bytes
            // are invented (`recv_data` gives an empty payload, as Python does).
            Event::Close { code, .. } if code == CloseCode::NO_STATUS => Self::Close(None),
            Event::Close { code, reason } => Self::Close(Some(CloseRef { code, reason })),
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
