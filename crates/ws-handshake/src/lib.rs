//! # ws-handshake: the WebSocket opening handshake, with no I/O
//!
//! RFC 6455 §4 as bytes in and bytes out, for clients, servers and proxies: it builds request
//! bytes and parses response bytes and never touches a socket, a clock or an RNG (the 16-byte
//! key nonce comes from the caller). `ws-client` drives it over a real connection; a server or
//! another protocol crate can use it on its own.
//!
//! ```text
//!  client                                  server
//!  ClientRequest::encode ───── GET ──────► parse_request ─► UpgradeRequest
//!                                                             │ accept() / reject_response()
//!  parse_response ◄──────── 101 / 3xx / 4xx ─────────────────┘
//!   └► Outcome::{Accepted, Redirect, BadStatus}
//!
//!  proxy tunnel:  connect_request ──► CONNECT ──► parse_connect_response (2xx opens the tunnel)
//! ```
//!
//! In scope: the client request with every option of Python's websocket-client (`Host`,
//! `Origin` or none, subprotocols, extension offers, cookie, Basic auth from URL user-info,
//! custom headers that replace built-ins instead of duplicating them, CR/LF/NUL refused);
//! incremental response parsing with limits, validation of a 101 (`Upgrade`, `Connection`,
//! `Sec-WebSocket-Accept`, subprotocol and extensions), redirects with `Location` resolved, the
//! status, headers and body of any other response; the proxy `CONNECT` codec; the server's
//! request validation and its 101 / 400 / 426 responses.
//!
//! Out of scope: sockets and TLS (`ws-transport`), following redirects and cookie jars
//! (`ws-client`), extension semantics (permessage-deflate later).
//!
//! A complete blocking server (this crate's upgrade, `ws-frame`'s session, `ws-deflate`'s
//! compression, one thread per connection, limits, subprotocol choice) is `ws-deflate`'s
//! `server` example:
//! `cargo run -p ws-deflate --example server -- --port 9001`. Its loop's rules are written
//! on its `serve` function; Autobahn|Testsuite's fuzzing client runs against it in CI.
//!
//! # Example
//!
//! A full handshake between the client and server halves of this crate:
//!
//! ```
//! use ws_handshake::{parse_request, parse_response, ClientRequest, HttpLimits, Outcome};
//!
//! let limits = HttpLimits::default();
//! let request = ClientRequest::new("localhost", 9001, false, "/echo", [7; 16]).subprotocols(["chat"]);
//! let bytes = request.encode()?;
//!
//! let (upgrade, _) = parse_request(&bytes, &limits)?.expect("a whole request");
//! assert_eq!(upgrade.path, "/echo");
//! let reply = upgrade.accept(Some("chat"), None)?;
//!
//! let (outcome, used) = parse_response(&reply, &request, &limits)?.expect("a whole response");
//! let Outcome::Accepted(accepted) = outcome else { panic!("not accepted") };
//! assert_eq!(accepted.subprotocol.as_deref(), Some("chat"));
//! assert_eq!(used, reply.len());
//! # Ok::<(), ws_handshake::Error>(())
//! ```
#![forbid(unsafe_code)]

mod error;
mod headers;
mod proxy;
mod request;
mod response;
mod server;

pub use error::Error;
pub use headers::{HttpLimits, accept_key, basic_credentials, encode_key, percent_decode};
pub use proxy::{connect_request, parse_connect_response};
pub use request::{ClientRequest, Origin};
pub use response::{Accepted, BadStatus, Extension, Outcome, parse_response, resolve_location};
pub use server::{UpgradeRequest, parse_request, reject_response};
