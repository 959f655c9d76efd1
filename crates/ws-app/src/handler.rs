//! The callbacks: a [`Handler`] trait with no-op defaults, and [`Callbacks`], the closures of
//! the builder, which is one implementation of it.

use ws_client::{CloseFrame, Error, Message, OpCode};

use crate::AppHandle;

/// What an app does on each event; every method has a no-op default, so a handler implements
/// only what it needs. The builder's closures ([`WebSocketAppBuilder::on_message`](crate::WebSocketAppBuilder::on_message)
/// and friends) are one implementation of this trait; implement it yourself for state that
/// lives across callbacks.
///
/// Each method gets the app's [`AppHandle`] to send or close from inside. Callbacks run on the
/// thread that called `run_forever`, one at a time; a panic in one is not caught and ends
/// `run_forever` by unwinding (the connection is closed as the app is dropped).
///
/// ```
/// use ws_app::{AppHandle, Handler};
/// use ws_client::Message;
///
/// struct Counter(usize);
///
/// impl Handler for Counter {
///     fn on_message(&mut self, app: &AppHandle, message: Message) {
///         self.0 += 1;
///         if self.0 == 10 {
///             app.close();
///         }
///     }
/// }
/// ```
#[allow(unused_variables)]
pub trait Handler: Send {
    /// The first connection is open (Python's `on_open`).
    fn on_open(&mut self, app: &AppHandle) {}

    /// A connection opened again after an automatic reconnect; by default, as
    /// [`on_open`](Self::on_open) (Python calls `on_open` when there is no `on_reconnect`).
    fn on_reconnect(&mut self, app: &AppHandle) {
        self.on_open(app);
    }

    /// A whole text or binary message; with per-fragment delivery, the first frame of a
    /// message that came in several (as [`Message::Fragment`]).
    fn on_message(&mut self, app: &AppHandle, message: Message) {}

    /// Called before [`on_message`](Self::on_message) and
    /// [`on_cont_message`](Self::on_cont_message) with the payload, the message's opcode
    /// (`Text` or `Binary`, never `Continuation`) and whether this ends the message.
    fn on_data(&mut self, app: &AppHandle, data: &[u8], opcode: OpCode, fin: bool) {}

    /// Each later frame of a fragmented message, when [`wants_fragments`](Self::wants_fragments)
    /// is `true` (Python's `on_cont_message`).
    fn on_cont_message(&mut self, app: &AppHandle, data: &[u8], fin: bool) {}

    /// A ping, after the automatic pong went out.
    fn on_ping(&mut self, app: &AppHandle, payload: &[u8]) {}

    /// A pong.
    fn on_pong(&mut self, app: &AppHandle, payload: &[u8]) {}

    /// A failure: a connect or handshake that failed, a lost connection, a missing pong, a
    /// protocol error. Called once per failure, before [`on_close`](Self::on_close); never
    /// for a clean close by either side.
    fn on_error(&mut self, app: &AppHandle, error: &Error) {}

    /// A connection that opened has ended: the peer's close frame (code and reason), or
    /// `None` when it ended without one. Called exactly once per connection that opened.
    fn on_close(&mut self, app: &AppHandle, frame: Option<CloseFrame>) {}

    /// `true` to receive each frame of a fragmented message as it arrives (Python sets
    /// `fire_cont_frame` when `on_cont_message` is given). Default `false`.
    fn wants_fragments(&self) -> bool {
        false
    }
}

type OnApp = Box<dyn FnMut(&AppHandle) + Send>;
type OnMessage = Box<dyn FnMut(&AppHandle, Message) + Send>;
type OnData = Box<dyn FnMut(&AppHandle, &[u8], OpCode, bool) + Send>;
type OnCont = Box<dyn FnMut(&AppHandle, &[u8], bool) + Send>;
type OnBytes = Box<dyn FnMut(&AppHandle, &[u8]) + Send>;
type OnError = Box<dyn FnMut(&AppHandle, &Error) + Send>;
type OnClose = Box<dyn FnMut(&AppHandle, Option<CloseFrame>) + Send>;

/// The builder's closures as a [`Handler`]: each one unset does nothing.
#[derive(Default)]
pub(crate) struct Callbacks {
    pub(crate) on_open: Option<OnApp>,
    pub(crate) on_reconnect: Option<OnApp>,
    pub(crate) on_message: Option<OnMessage>,
    pub(crate) on_data: Option<OnData>,
    pub(crate) on_cont_message: Option<OnCont>,
    pub(crate) on_ping: Option<OnBytes>,
    pub(crate) on_pong: Option<OnBytes>,
    pub(crate) on_error: Option<OnError>,
    pub(crate) on_close: Option<OnClose>,
}

impl Handler for Callbacks {
    fn on_open(&mut self, app: &AppHandle) {
        if let Some(f) = &mut self.on_open {
            f(app);
        }
    }

    fn on_reconnect(&mut self, app: &AppHandle) {
        match &mut self.on_reconnect {
            Some(f) => f(app),
            None => self.on_open(app),
        }
    }

    fn on_message(&mut self, app: &AppHandle, message: Message) {
        if let Some(f) = &mut self.on_message {
            f(app, message);
        }
    }

    fn on_data(&mut self, app: &AppHandle, data: &[u8], opcode: OpCode, fin: bool) {
        if let Some(f) = &mut self.on_data {
            f(app, data, opcode, fin);
        }
    }

    fn on_cont_message(&mut self, app: &AppHandle, data: &[u8], fin: bool) {
        if let Some(f) = &mut self.on_cont_message {
            f(app, data, fin);
        }
    }

    fn on_ping(&mut self, app: &AppHandle, payload: &[u8]) {
        if let Some(f) = &mut self.on_ping {
            f(app, payload);
        }
    }

    fn on_pong(&mut self, app: &AppHandle, payload: &[u8]) {
        if let Some(f) = &mut self.on_pong {
            f(app, payload);
        }
    }

    fn on_error(&mut self, app: &AppHandle, error: &Error) {
        if let Some(f) = &mut self.on_error {
            f(app, error);
        }
    }

    fn on_close(&mut self, app: &AppHandle, frame: Option<CloseFrame>) {
        if let Some(f) = &mut self.on_close {
            f(app, frame);
        }
    }

    fn wants_fragments(&self) -> bool {
        self.on_cont_message.is_some()
    }
}
