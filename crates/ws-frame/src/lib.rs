//! # ws-frame: the RFC 6455 WebSocket frame codec, with no I/O
//!
//! The bottom layer of websocket-client for Rust: everything about WebSocket frames that does
//! not need a socket, a clock or a random number generator. A server can reuse it as its codec,
//! another protocol crate can embed it, and fuzzers drive every parser here directly.
//!
//! ```text
//!  received bytes ──► Decoder ──► FrameChunk ──► MessageAssembler ──► message / fragment
//!                      │  header codec, RFC rules,      │  joins fragments, UTF-8 as it
//!                      │  unmask in place, size limit   │  arrives, message size limit
//!                      └────────────── Session ─────────┴──► Event (borrowed)
//!  bytes to send  ◄── encode_frame ◄── send_text / ping / close / fail (pongs, close echo)
//! ```
//!
//! In scope:
//! - [`FrameHeader`]: incremental decode ([`Status::Complete`] / [`Status::Partial`], never an
//!   error for "not enough bytes") and minimal encoding.
//! - [`OpCode`]; [`CloseCode`], a `u16` newtype with every registered code and the validity
//!   rule of §7.4; [`parse_close_payload`].
//! - [`apply_mask`]: word-at-a-time masking, resumable at any payload offset.
//! - [`Utf8Validator`]: incremental, fail-fast UTF-8 on top of `simdutf8`.
//! - [`Decoder`] with [`Limits`] and a [`Role`]: every per-frame rule of RFC 6455.
//! - With the `alloc` feature (default): [`MessageAssembler`] and [`Session`], the sans-I/O
//!   connection that answers pings, runs the closing handshake and fails the connection with
//!   the right close code (1002, 1007, 1009) on bad input. Received bytes go in three ways:
//!   copied ([`Session::receive_data`]), read straight into its buffer
//!   ([`Session::input_buffer`] + [`Session::commit_input`]), or read into its buffer while
//!   the session is free for other threads ([`Session::lend_input`] +
//!   [`Session::restore_input`], what ws-client's split reader does).
//! - The [`Extension`] hook through which a negotiated extension (permessage-deflate, in
//!   `ws-deflate`) transforms message payloads.
//!
//! Out of scope: sockets, TLS, the HTTP upgrade (see `ws-handshake`), mask key generation (the
//! caller supplies a [`MaskKeySource`]), timers, and compression itself (`ws-deflate`).
//!
//! A whole blocking server built from this crate, `ws-handshake` and `ws-deflate`, with the rules of a
//! correct server loop (write what the session queued after every batch of events, and on
//! an error write it all, the close frame included, before closing), is `ws-deflate`'s
//! `server` example (`cargo run -p ws-deflate --example server`); Autobahn|Testsuite's
//! fuzzing client gates it in CI.
//!
//! Without `alloc` (`default-features = false`) the header codec, masking, close codes, the
//! UTF-8 validator and the [`Decoder`] still build and work.
//!
//! # Example
//!
//! A client session talking to a server session through memory, byte for byte:
//!
//! ```
//! use ws_frame::{CloseCode, Config, Event, Session, State};
//!
//! let mut client = Session::client(Config::default(), || [0x37, 0xfa, 0x21, 0x3d]);
//! let mut server = Session::server(Config::default());
//!
//! client.send_text("Hello")?;
//! // RFC 6455 §5.7: a single-frame masked text message.
//! assert_eq!(client.pending_output(), [0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58]);
//! server.receive_data(client.pending_output());
//! client.consume_output(11);
//! assert_eq!(server.next_event()?, Some(Event::Text("Hello")));
//!
//! // The server closes; the client echoes the code and both end up closed.
//! server.send_close(Some(CloseCode::NORMAL), "done")?;
//! client.receive_data(server.pending_output());
//! assert_eq!(client.next_event()?, Some(Event::Close { code: CloseCode::NORMAL, reason: "done" }));
//! assert_eq!(client.state(), State::Closed);
//! assert_eq!(client.pending_output(), [0x88, 0x82, 0x37, 0xfa, 0x21, 0x3d, 0x34, 0x12]);
//! # Ok::<(), ws_frame::Error>(())
//! ```
#![no_std]
// All `unsafe` is fenced in the `fenced` module (see its SAFETY arguments).
#![deny(unsafe_code)]

#[cfg(feature = "alloc")]
extern crate alloc;

mod close;
mod decoder;
mod error;
#[cfg(feature = "alloc")]
mod extension;
#[cfg(feature = "alloc")]
mod fenced;
mod header;
mod mask;
#[cfg(feature = "alloc")]
mod message;
mod opcode;
#[cfg(feature = "alloc")]
mod session;
mod utf8;

pub use close::{CloseCode, MAX_CLOSE_REASON, parse_close_payload};
pub use decoder::{Decoder, FrameChunk, Limits, Role};
pub use error::Error;
#[cfg(feature = "alloc")]
pub use extension::{Extension, ExtensionError};
pub use header::{FrameHeader, MAX_CONTROL_PAYLOAD, MAX_HEADER_LEN, Status};
pub use mask::{apply_mask, apply_mask_bytes};
#[cfg(feature = "alloc")]
pub use message::{Assembled, Delivery, MessageAssembler, MessageKind, Source};
pub use opcode::OpCode;
#[cfg(feature = "alloc")]
pub use session::{
    Config, Event, INITIAL_READ_BUFFER, InputLoan, MaskKeySource, NoMask, Session, State,
    encode_frame,
};
pub use utf8::Utf8Validator;
