//! # ws-app: `WebSocketApp`, the long-lived callback loop
//!
//! Python's `websocket.WebSocketApp` and `run_forever`, the way its users wanted them:
//! callbacks for every event, keepalive pings with a pong deadline, reconnection with a fixed
//! delay or exponential backoff with jitter, and an [`AppHandle`] that sends or closes from
//! any thread (or from inside a callback) and takes effect at once. It is built on
//! `ws-client`: every connection option is a [`ws_client::Config`], cookies set by one
//! handshake go back on the reconnect through its cookie jar.
//!
//! The order of the callbacks, for each connection:
//!
//! ```text
//!  run_forever ─► connect ──failed──► on_error ─────────────────────────┐
//!                    │                                                  │
//!                 opened ─► on_open (first) / on_reconnect (later)      │
//!                    │                                                  │
//!                    ├─► on_ping (pong already sent) · on_pong          │
//!                    ├─► on_data ─► on_message / on_cont_message        │
//!                    │                                                  │
//!                 ended ── failed (lost, missing pong, protocol) ─► on_error ─┐
//!                    │                                                        │
//!                    └──────────────► on_close(peer's frame or None) ◄────────┘
//!                                          │
//!       close through the handle ─► run_forever returns Ok(())     (never a reconnect)
//!       otherwise ─► the reconnect policy: wait, connect again ─► on_reconnect, ...
//!                    or return: Ok(()) after a clean server close, Err(last failure)
//! ```
//!
//! `on_close` fires exactly once per connection that opened; `on_error` once per failure,
//! before `on_close`, and never for a clean close by either side. Callbacks run one at a time
//! on the thread that called [`WebSocketApp::run_forever`]; keepalive pings go out from that
//! thread too, so no ping ever follows the close frame. A panic in a callback is not caught:
//! it unwinds out of `run_forever` (handles then report that the app is not running).
//!
//! Python's `dispatcher=` (rel, asyncio) is answered the Rust way: run each app on a thread
//! of its own and keep its handle (the `many_apps` example).
//!
//! # Example
//!
//! ```
//! use ws_app::WebSocketApp;
//! use ws_client::Message;
//!
//! let server = ws_client::echo::EchoServer::start()?;
//! let app = WebSocketApp::builder(&server.url())
//!     .on_open(|app| app.send_text("Hello").expect("connected"))
//!     .on_message(|app, message| {
//!         assert_eq!(message, Message::Text("Hello".into()));
//!         app.close();
//!     })
//!     .on_close(|_, frame| println!("closed: {frame:?}"))
//!     .build()?;
//! app.run_forever()?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod app;
mod handle;
mod handler;
mod reconnect;

pub use app::{WebSocketApp, WebSocketAppBuilder};
pub use handle::AppHandle;
pub use handler::Handler;
pub use reconnect::{Backoff, Reconnect};
