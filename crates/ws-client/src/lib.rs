//! # ws-client: the blocking WebSocket client
//!
//! Python's `websocket.create_connection` / `WebSocket`, done the Rust way: one call connects
//! (DNS, proxy, TLS, the upgrade, redirects), then `send` / `recv` / `close`. Pings are
//! answered and the peer's close is echoed for you; `split()` gives a receiving half and a
//! cloneable sending half for full duplex across threads, with TLS too.
//!
//! ```text
//!  ws_client::connect(url) ─► ws-transport (TCP/Unix/proxy/TLS) ─► ws-handshake (101, redirects)
//!                                                                     │
//!  WebSocket { ws-frame Session } ◄───────────────────────────────────┘
//!     send_text / send_binary / ping / close        recv → Message
//!     split() → (Receiver, Sender: Clone + Send + Sync)
//! ```
//!
//! In scope: everything Python's `create_connection(url, **options)` accepts ([`Config`]),
//! redirects (301/302/303/307/308, `redirect_limit` 3, no `wss` → `ws` downgrade, credentials
//! dropped on a host change), sending and receiving messages and frames, the close handshake
//! with a timeout, abort from another thread, errors that map one-to-one onto Python's
//! exceptions ([`Error`]), tracing like `enableTrace` through `log` with credentials
//! redacted, permessage-deflate (feature `deflate`). Every timeout is a deadline for the
//! whole operation: opening a connection (bounded by [`DEFAULT_OPEN_TIMEOUT`] when nothing
//! is set), the upgrade, each receive call, each send, the close. Out of scope: callbacks and
//! reconnection (`ws-app`).
//!
//! # Cargo features
//!
//! | feature | what it gives |
//! |---|---|
//! | `tls` (default) | `wss://` with rustls; without it `wss://` is refused and no TLS code is compiled; with it but neither provider feature, the process-wide rustls provider the application installed |
//! | `native-roots` (default) | trust the platform's certificate store |
//! | `webpki-roots` | trust Mozilla's roots compiled in (static binaries, containers without a CA store) |
//! | `ring` (default) | the `ring` crypto provider |
//! | `aws-lc-rs` | the `aws-lc-rs` crypto provider (used when `ring` is off) |
//! | `deflate` (default) | permessage-deflate, turned on per connection with `Config::builder().compression(..)` |
//!
//! # Example
//!
//! The crate's loopback [`echo::EchoServer`] (built from `ws-handshake`'s server side and a
//! server-role `ws-frame` session) and the client talking to it:
//!
//! ```
//! use ws_client::{CloseCode, Message};
//!
//! let server = ws_client::echo::EchoServer::start()?;
//! let mut ws = ws_client::connect(&server.url())?;
//! ws.send_text("Hello, Server")?;
//! assert_eq!(ws.recv()?, Message::Text("Hello, Server".into()));
//! ws.close(CloseCode::NORMAL, "bye")?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![cfg_attr(docsrs, feature(doc_cfg))]

mod config;
mod cookies;
pub mod echo;
mod error;
mod keys;
mod message;
mod socket;
mod trace;

pub use config::{Config, ConfigBuilder, DEFAULT_OPEN_TIMEOUT};
pub use cookies::{Cookie, CookieJar};
pub use error::{Error, ErrorKind};
pub use message::{CloseFrame, CloseRef, Message, MessageRef};
pub use socket::{AbortHandle, Messages, Receiver, Sender, WebSocket, connect};

pub use ws_frame::{CloseCode, Limits, OpCode, State};

/// This crate's version, for user agents and logs.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
#[cfg(feature = "deflate")]
pub use ws_deflate::{DeflateConfig, Negotiated};
/// The codec's error, inside [`Error::Protocol`].
pub use ws_frame::Error as ProtocolError;
pub use ws_handshake::{BadStatus, Error as HandshakeError};
#[cfg(feature = "tls")]
pub use ws_transport::TlsConfig;
pub use ws_transport::{
    CertificateProblem, Error as TransportError, Keepalive, NoProxy, OptionValue, Proxy,
    ProxyConfig, ProxyError, ProxyKind, SocketOptions, Stream, TlsError,
};
