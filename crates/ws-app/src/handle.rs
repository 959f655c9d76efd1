//! The handle: what other threads (and callbacks) use to send, ping and close, and the state
//! it shares with the loop.

use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::ThreadId;
use std::time::{Duration, Instant};

use ws_client::{AbortHandle, CloseCode, Error, Message, Sender};

/// A close asked for with [`AppHandle::close_with`].
#[derive(Clone, Debug)]
pub(crate) struct Closing {
    pub(crate) code: CloseCode,
    pub(crate) reason: String,
    /// When the loop gives up waiting for the peer's close frame.
    pub(crate) deadline: Instant,
}

#[derive(Default)]
struct State {
    /// The sending half of the open connection.
    sender: Option<Sender>,
    abort: Option<AbortHandle>,
    closing: Option<Closing>,
    running: bool,
    loop_thread: Option<ThreadId>,
    last_ping: Option<Instant>,
    last_pong: Option<Instant>,
}

/// What the app's handles and its loop share. One lock, held only for bookkeeping: never
/// across a send, a read or a callback.
pub(crate) struct Shared {
    state: Mutex<State>,
    changed: Condvar,
    close_timeout: Duration,
}

/// Sends, pings and closes for a [`WebSocketApp`](crate::WebSocketApp) from any thread, and
/// from inside its callbacks (Python's `ws.send` / `ws.close` on the app). `Clone + Send +
/// Sync`; obtained with [`WebSocketApp::handle`](crate::WebSocketApp::handle) before or while
/// the app runs.
///
/// Between connections (while reconnecting) there is nothing to send on: sends fail with
/// [`Error::ConnectionClosed`] saying so, and nothing is queued or dropped silently.
#[derive(Clone)]
pub struct AppHandle {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for AppHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = self.shared.lock();
        f.debug_struct("AppHandle")
            .field("connected", &state.sender.is_some())
            .field("closing", &state.closing.is_some())
            .field("running", &state.running)
            .finish()
    }
}

impl Shared {
    pub(crate) fn new(close_timeout: Duration) -> Arc<Self> {
        Arc::new(Self {
            state: Mutex::new(State::default()),
            changed: Condvar::new(),
            close_timeout,
        })
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The loop starts: the returned guard marks it finished when dropped, panics included.
    pub(crate) fn start(self: &Arc<Self>) -> Running {
        let mut state = self.lock();
        state.running = true;
        state.loop_thread = Some(std::thread::current().id());
        Running(Arc::clone(self))
    }

    /// A connection opened. Returns the close to send on it right away, when one was asked
    /// for while there was no connection (the check and the hand-over are one step, so the
    /// close frame goes out exactly once: from here or from the handle).
    pub(crate) fn connected(&self, sender: Sender, abort: AbortHandle) -> Option<Closing> {
        let mut state = self.lock();
        state.sender = Some(sender);
        state.abort = Some(abort);
        state.last_ping = None;
        state.last_pong = None;
        state.closing.clone()
    }

    /// The connection ended: sends fail from now on.
    pub(crate) fn disconnected(&self) {
        let mut state = self.lock();
        state.sender = None;
        state.abort = None;
    }

    /// The close asked for, if any.
    pub(crate) fn closing(&self) -> Option<Closing> {
        self.lock().closing.clone()
    }

    /// Waits `delay` (a reconnect's); `true` when a close cut it short.
    pub(crate) fn wait_unless_closed(&self, delay: Duration) -> bool {
        let until = Instant::now() + delay;
        let mut state = self.lock();
        loop {
            if state.closing.is_some() {
                return true;
            }
            let Some(left) = until.checked_duration_since(Instant::now()) else {
                return false;
            };
            state = self
                .changed
                .wait_timeout(state, left)
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .0;
        }
    }

    pub(crate) fn pinged(&self, at: Instant) {
        self.lock().last_ping = Some(at);
    }

    pub(crate) fn ponged(&self, at: Instant) {
        self.lock().last_pong = Some(at);
    }
}

/// Marks the loop finished when dropped (also when a callback panics), waking handles that
/// wait in [`AppHandle::close`].
pub(crate) struct Running(Arc<Shared>);

impl Drop for Running {
    fn drop(&mut self) {
        let mut state = self.0.lock();
        state.running = false;
        state.sender = None;
        state.abort = None;
        self.0.changed.notify_all();
    }
}

impl AppHandle {
    pub(crate) fn new(shared: Arc<Shared>) -> Self {
        Self { shared }
    }

    /// The open connection's sender, or why there is none.
    fn sender(&self) -> Result<Sender, Error> {
        let state = self.shared.lock();
        if state.closing.is_some() {
            return Err(ws_client_closed("the app is closing"));
        }
        state.sender.clone().ok_or_else(|| {
            ws_client_closed(if state.running {
                "not connected: the app is between connections (connecting or waiting to reconnect)"
            } else {
                "not connected: the app is not running"
            })
        })
    }

    /// Sends a message of any kind (Python's `app.send`).
    ///
    /// # Errors
    /// [`Error::ConnectionClosed`] when there is no open connection (before `run_forever`,
    /// while reconnecting, after a close); otherwise as `ws_client::Sender::send`.
    pub fn send(&self, message: impl Into<Message>) -> Result<(), Error> {
        self.sender()?.send(message)
    }

    /// Sends a text message (Python's `app.send_text`).
    ///
    /// # Errors
    /// As [`send`](Self::send).
    pub fn send_text(&self, text: &str) -> Result<(), Error> {
        self.sender()?.send_text(text)
    }

    /// Sends a binary message (Python's `app.send_bytes`).
    ///
    /// # Errors
    /// As [`send`](Self::send).
    pub fn send_binary(&self, data: &[u8]) -> Result<(), Error> {
        self.sender()?.send_binary(data)
    }

    /// Sends a ping.
    ///
    /// # Errors
    /// As [`send`](Self::send).
    pub fn ping(&self, payload: &[u8]) -> Result<(), Error> {
        self.sender()?.ping(payload)
    }

    /// Closes with 1000 (normal closure); see [`close_with`](Self::close_with).
    pub fn close(&self) {
        self.close_with(CloseCode::NORMAL, "");
    }

    /// Closes the app for good: sends a close frame with `code` and `reason`, lets the loop
    /// wait up to the close timeout for the peer's answer, call `on_close` and return `Ok(())`
    /// from `run_forever`; no reconnect follows. A wait for a reconnect is cut short.
    ///
    /// From another thread this returns when `run_forever` has finished, at most a little
    /// after the close timeout (the socket is shut down when the peer does not answer in
    /// time). From inside a callback it returns at once and the loop finishes the close.
    /// Before `run_forever`, it makes `run_forever` return at once. Calling it again does
    /// nothing more.
    pub fn close_with(&self, code: CloseCode, reason: &str) {
        let deadline = Instant::now() + self.shared.close_timeout;
        let (sender, first, on_loop) = {
            let mut state = self.shared.lock();
            let first = state.closing.is_none();
            if first {
                state.closing = Some(Closing {
                    code,
                    reason: reason.to_string(),
                    deadline,
                });
            }
            let on_loop = state.loop_thread == Some(std::thread::current().id());
            (state.sender.clone(), first, on_loop)
        };
        self.shared.changed.notify_all();
        if let (Some(sender), true) = (sender, first) {
            // Bounded: a peer that does not read cannot hold the close past its deadline.
            let _ = sender.send_close_within(code, reason, self.shared.close_timeout);
        }
        if on_loop {
            return;
        }
        self.wait_for_loop(deadline);
    }

    /// Waits for the loop to finish; at the deadline, shuts the socket down so it does.
    fn wait_for_loop(&self, deadline: Instant) {
        let grace = Duration::from_secs(1);
        let mut state = self.shared.lock();
        let mut aborted = false;
        while state.running {
            let now = Instant::now();
            if now >= deadline && !aborted {
                if let Some(abort) = &state.abort {
                    abort.abort();
                }
                aborted = true;
            }
            let until = if aborted { deadline + grace } else { deadline };
            let Some(left) = until.checked_duration_since(now) else {
                // A loop busy connecting ends on its own once the connect returns.
                return;
            };
            state = self
                .shared
                .changed
                .wait_timeout(state, left)
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .0;
        }
    }

    /// `true` while a connection is open (Python's `app.ready()`).
    #[must_use]
    pub fn is_connected(&self) -> bool {
        self.shared.lock().sender.is_some()
    }

    /// `true` once a close was asked for.
    #[must_use]
    pub fn is_closing(&self) -> bool {
        self.shared.lock().closing.is_some()
    }

    /// When the last keepalive ping went out on the current connection (Python's
    /// `last_ping_tm`).
    #[must_use]
    pub fn last_ping(&self) -> Option<Instant> {
        self.shared.lock().last_ping
    }

    /// When the last pong came on the current connection (Python's `last_pong_tm`).
    #[must_use]
    pub fn last_pong(&self) -> Option<Instant> {
        self.shared.lock().last_pong
    }
}

/// `Error::ConnectionClosed` with `reason`.
fn ws_client_closed(reason: &'static str) -> Error {
    Error::ConnectionClosed {
        reason: reason.into(),
        source: None,
    }
}
