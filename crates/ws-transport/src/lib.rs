//! # ws-transport: from a `ws://` / `wss://` URL to a connected byte stream
//!
//! The only crate of the workspace that opens sockets. It turns a WebSocket URL and options
//! into a connected, possibly proxied, possibly TLS-wrapped [`Stream`], with every connection
//! option of Python's websocket-client (`_url.py`, `_socket.py`, `_http.py`,
//! `_ssl_compat.py`).
//!
//! ```text
//!  WsUrl ──► ProxyConfig::select ──► no proxy ─► DNS ─► TCP (each address, its share, options)
//!   │         (explicit / env,        │                         │
//!   │          no_proxy rules)        └► proxy ─► TCP to proxy ─┤ HTTP CONNECT | SOCKS4/4a/5/5h
//!   │                                                           ▼
//!   └──── wss:// ─────────────────────────────────────► TLS (rustls, ring) ─► Stream
//!                                                         (also over a Unix socket or a
//!                                                          caller's stream)
//! ```
//!
//! In scope: URL parsing ([`WsUrl`]); resolution of every address and a connect attempt per
//! address, all within one connect deadline (each attempt with its share of it), errors
//! listing each; `TCP_NODELAY`, TCP keepalive (30 s / 10 s / 3 by default) and raw socket
//! options ([`SocketOptions`]); Unix sockets; a
//! pre-connected stream of the caller's ([`Stream::from_custom`], [`connect_over`]); TLS with
//! our own [`TlsConfig`] (platform roots, CA files and directories,
//! `WEBSOCKET_CLIENT_CA_BUNDLE`, client certificates, SNI override, `SSLKEYLOGFILE`, and the
//! weakening options behind [`TlsConfig::dangerous`]); HTTP `CONNECT` (with ws-handshake's
//! codec) and SOCKS4/4a/5/5h (the [`socks`] codec, written here) with authentication;
//! proxies from the environment with `no_proxy` ([`ProxyConfig`], [`NoProxy`]); splitting a
//! stream into a reading and a cloneable writing half, with TLS too ([`Stream::split`]).
//!
//! Out of scope: the WebSocket handshake and frames (`ws-handshake`, `ws-frame`, driven by
//! `ws-client`), TLS to the proxy itself (`https://` proxies), asynchronous I/O.
//!
//! Log output (the `log` facade, target `ws_transport`): `debug` for each address tried, the
//! proxy used and the TLS version; credentials never appear.
//!
//! Cargo features: `tls` (default; without it `wss://` is refused and no rustls is compiled),
//! `native-roots` (default; the platform's roots), `webpki-roots` (Mozilla's roots compiled
//! in), `ring` (default) or `aws-lc-rs` (the crypto provider).
//!
//! # Example
//!
//! A loopback server, and the client reaching it by URL:
//!
//! ```
//! use std::io::{Read, Write};
//! use ws_transport::{connect, TransportConfig, WsUrl, ProxyConfig};
//!
//! let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
//! let port = listener.local_addr()?.port();
//! let server = std::thread::spawn(move || -> std::io::Result<()> {
//!     let (mut peer, _) = listener.accept()?;
//!     let mut buf = [0; 5];
//!     peer.read_exact(&mut buf)?;
//!     peer.write_all(&buf)
//! });
//!
//! let url = WsUrl::parse(&format!("ws://127.0.0.1:{port}/echo"))?;
//! let config = TransportConfig::default().proxy(ProxyConfig::Direct);
//! let mut stream = connect(&url, &config)?;
//! stream.write_all(b"hello")?;
//! let mut echo = [0; 5];
//! stream.read_exact(&mut echo)?;
//! assert_eq!(&echo, b"hello");
//! server.join().unwrap()?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![cfg_attr(docsrs, feature(doc_cfg))]

mod connect;
mod deadline;
mod error;
mod options;
mod proxy;
pub mod socks;
mod stream;
#[cfg(unix)]
mod sys;
#[cfg(feature = "tls")]
mod tls;
mod url;

pub use connect::{TransportConfig, connect, connect_over, connect_tcp};
pub use error::{CertificateProblem, Error, ProxyError, TlsError};
pub use options::{Keepalive, OptionValue, RawOption, SocketOptions};
pub use proxy::{NoProxy, Proxy, ProxyConfig, ProxyKind, ProxyStream};
pub use stream::{ReadHalf, ReadWrite, SendError, ShutdownHandle, Stream, WriteHalf};
#[cfg(feature = "tls")]
pub use tls::{CA_BUNDLE_ENV, DangerousTlsConfig, TlsConfig, crypto_provider};
pub use url::{UrlError, WsUrl};
