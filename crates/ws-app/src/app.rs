//! `WebSocketApp`: the builder and the loop.

use std::sync::Arc;
use std::time::{Duration, Instant};

use ws_client::{
    AbortHandle, CloseFrame, Config, Error, Message, OpCode, Receiver, Sender, Stream, WebSocket,
};

use crate::AppHandle;
use crate::handle::{Closing, Shared};
use crate::handler::{Callbacks, Handler};
use crate::reconnect::{Reconnect, unit_random};

/// Headers computed before each connect (Python's callable `header=`).
type HeaderFn = Box<dyn FnMut() -> Vec<(String, String)> + Send>;

/// Keepalive pings (Python's `ping_interval`, `ping_timeout`, `ping_payload`).
#[derive(Clone, Debug, Default)]
struct Keepalive {
    interval: Option<Duration>,
    timeout: Option<Duration>,
    payload: Vec<u8>,
}

/// A long-lived WebSocket connection driven by callbacks (Python's `WebSocketApp`), with
/// keepalive pings, reconnection and a handle to send or close from any thread. Built with
/// [`WebSocketApp::builder`]; see the crate documentation for the order of the callbacks.
pub struct WebSocketApp {
    url: String,
    config: Config,
    header: Option<HeaderFn>,
    stream: Option<Stream>,
    handler: Box<dyn Handler>,
    keepalive: Keepalive,
    reconnect: Reconnect,
    shared: Arc<Shared>,
}

impl std::fmt::Debug for WebSocketApp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebSocketApp")
            .field("url", &ws_client_url(&self.url))
            .field("keepalive", &self.keepalive)
            .field("reconnect", &self.reconnect)
            .finish_non_exhaustive()
    }
}

/// The URL as it may be shown: without its password.
fn ws_client_url(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => {
            let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
            match rest[..end].rsplit_once('@') {
                Some((_, host)) => format!("{scheme}://***@{host}{}", &rest[end..]),
                None => url.to_string(),
            }
        }
        None => url.to_string(),
    }
}

/// Builds a [`WebSocketApp`]: the URL, a [`Config`], the callbacks (closures, or one
/// [`Handler`]), keepalive and reconnection. Invalid combinations are errors from
/// [`build`](Self::build).
pub struct WebSocketAppBuilder {
    url: String,
    config: Config,
    header: Option<HeaderFn>,
    stream: Option<Stream>,
    callbacks: Callbacks,
    closures: bool,
    handler: Option<Box<dyn Handler>>,
    keepalive: Keepalive,
    reconnect: Reconnect,
}

impl std::fmt::Debug for WebSocketAppBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebSocketAppBuilder")
            .field("url", &ws_client_url(&self.url))
            .field("keepalive", &self.keepalive)
            .field("reconnect", &self.reconnect)
            .finish_non_exhaustive()
    }
}

impl WebSocketApp {
    /// A builder for an app connecting to `url` with the default [`Config`].
    #[must_use]
    pub fn builder(url: &str) -> WebSocketAppBuilder {
        WebSocketAppBuilder {
            url: url.to_string(),
            config: Config::default(),
            header: None,
            stream: None,
            callbacks: Callbacks::default(),
            closures: false,
            handler: None,
            keepalive: Keepalive::default(),
            reconnect: Reconnect::Never,
        }
    }

    /// A handle to send, ping and close from any thread, before or while the app runs.
    #[must_use]
    pub fn handle(&self) -> AppHandle {
        AppHandle::new(Arc::clone(&self.shared))
    }
}

macro_rules! callback {
    ($(#[$doc:meta])* $name:ident($($arg:ty),*)) => {
        $(#[$doc])*
        #[must_use]
        pub fn $name(mut self, f: impl FnMut(&AppHandle $(, $arg)*) + Send + 'static) -> Self {
            self.callbacks.$name = Some(Box::new(f));
            self.closures = true;
            self
        }
    };
}

impl WebSocketAppBuilder {
    /// Every connection option of `ws_client` (Python's `WebSocketApp(...)` and
    /// `run_forever(...)` options: headers, cookie, subprotocols, mask key, TLS, socket
    /// options, proxies and `no_proxy`, host, origin, `suppress_origin`,
    /// `skip_utf8_validation`, limits, timeouts). Its `close_timeout` is the app's too.
    /// Default [`Config::default`].
    #[must_use]
    pub fn config(mut self, config: Config) -> Self {
        self.config = config;
        self
    }

    /// Headers computed before each connect and reconnect, added to the configuration's
    /// (Python's callable `header=`, used for rotating tokens).
    #[must_use]
    pub fn header_fn(mut self, f: impl FnMut() -> Vec<(String, String)> + Send + 'static) -> Self {
        self.header = Some(Box::new(f));
        self
    }

    /// Runs the first connection over a stream the caller connected (Python's `socket=`);
    /// reconnects dial the URL.
    #[must_use]
    pub fn stream(mut self, stream: Stream) -> Self {
        self.stream = Some(stream);
        self
    }

    /// Uses `handler` for every callback, instead of closures.
    #[must_use]
    pub fn handler(mut self, handler: impl Handler + 'static) -> Self {
        self.handler = Some(Box::new(handler));
        self
    }

    callback!(
        /// The first connection is open.
        on_open()
    );
    callback!(
        /// A connection opened after an automatic reconnect (`on_open` is called when this
        /// is not set, as in Python).
        on_reconnect()
    );
    callback!(
        /// A whole text or binary message (the first frame of a fragmented one with
        /// `on_cont_message`).
        on_message(Message)
    );
    callback!(
        /// Before `on_message` / `on_cont_message`: payload, the message's opcode, final.
        on_data(&[u8], OpCode, bool)
    );
    callback!(
        /// Each later frame of a fragmented message; setting it turns on per-frame
        /// delivery (Python's `fire_cont_frame`).
        on_cont_message(&[u8], bool)
    );
    callback!(
        /// A ping, after the automatic pong went out.
        on_ping(&[u8])
    );
    callback!(
        /// A pong.
        on_pong(&[u8])
    );
    callback!(
        /// A failure, once each, before `on_close`; never for a clean close.
        on_error(&Error)
    );
    callback!(
        /// A connection that opened has ended: the peer's close frame, or `None`.
        on_close(Option<CloseFrame>)
    );

    /// Sends a ping this often, the first one interval after the connection opens (Python's
    /// `ping_interval`; Python sends the first after two). Default: none.
    #[must_use]
    pub fn ping_interval(mut self, interval: Duration) -> Self {
        self.keepalive.interval = Some(interval);
        self
    }

    /// Fails the connection when a ping gets no pong within this long (Python's
    /// `ping_timeout`): `on_error` with a timeout, `on_close`, then the reconnect policy.
    /// Needs a `ping_interval` longer than it. Default: none.
    #[must_use]
    pub fn ping_timeout(mut self, timeout: Duration) -> Self {
        self.keepalive.timeout = Some(timeout);
        self
    }

    /// The keepalive pings' payload, at most 125 bytes (Python's `ping_payload`). Default
    /// empty.
    #[must_use]
    pub fn ping_payload(mut self, payload: impl Into<Vec<u8>>) -> Self {
        self.keepalive.payload = payload.into();
        self
    }

    /// What to do when a connection ends or cannot be opened. Default [`Reconnect::Never`].
    #[must_use]
    pub fn reconnect(mut self, policy: Reconnect) -> Self {
        self.reconnect = policy;
        self
    }

    /// Checks the options and returns the app.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] naming each problem: a `ping_timeout` without a
    /// `ping_interval` or not shorter than it (Python: "Ensure ping_interval >
    /// ping_timeout"), a zero interval or timeout, a ping payload over 125 bytes, both
    /// closures and a `Handler`.
    pub fn build(self) -> Result<WebSocketApp, Error> {
        let mut problems = Vec::new();
        let Keepalive {
            interval,
            timeout,
            payload,
        } = &self.keepalive;
        match (interval, timeout) {
            (None, Some(_)) => problems.push("ping_timeout needs a ping_interval".to_string()),
            (Some(i), Some(t)) if t >= i => problems.push(format!(
                "ping_timeout ({t:?}) must be shorter than ping_interval ({i:?})"
            )),
            _ => {}
        }
        if interval.is_some_and(|i| i.is_zero()) || timeout.is_some_and(|t| t.is_zero()) {
            problems.push("ping_interval and ping_timeout must be positive".to_string());
        }
        if payload.len() > 125 {
            problems.push(format!(
                "ping_payload too long: {} > 125 bytes",
                payload.len()
            ));
        }
        if self.closures && self.handler.is_some() {
            problems.push("give callbacks as closures or as one Handler, not both".to_string());
        }
        if !problems.is_empty() {
            return Err(Error::InvalidConfig(problems.join("; ")));
        }
        let handler: Box<dyn Handler> = match self.handler {
            Some(handler) => handler,
            None => Box::new(self.callbacks),
        };
        let config = if handler.wants_fragments() {
            self.config.to_builder().fire_cont_frame(true).build()?
        } else {
            self.config
        };
        Ok(WebSocketApp {
            shared: Shared::new(config.close_timeout()),
            url: self.url,
            config,
            header: self.header,
            stream: self.stream,
            handler,
            keepalive: self.keepalive,
            reconnect: self.reconnect,
        })
    }
}

/// How one connection ended.
enum Ended {
    /// A close asked for through the handle: `run_forever` returns `Ok(())`.
    Closed,
    /// The server closed cleanly.
    ServerClosed,
    /// It failed.
    Failed(Error),
}

/// The read timeout that makes the receiver return for the next scheduled event. Re-arming
/// costs a system call, so it is done only when the armed wait would overshoot (or undershoot)
/// the next event by more than an eighth of the wait.
struct Alarm {
    /// The read timeout set, when one is.
    armed: Option<Duration>,
    blocking: bool,
}

impl Alarm {
    fn set(&mut self, rx: &mut Receiver, wake: Option<Instant>, now: Instant) {
        let Some(wake) = wake else {
            if !self.blocking {
                let _ = rx.set_timeout(None);
                self.blocking = true;
                self.armed = None;
            }
            return;
        };
        let wait = wake
            .saturating_duration_since(now)
            .max(Duration::from_millis(1));
        let slack = (wait / 8).clamp(Duration::from_millis(1), Duration::from_secs(1));
        // A read starting now may block for the armed timeout: good enough if that ends
        // within the slack of the event.
        let fine = self.armed.is_some_and(|armed| {
            let ends = now + armed;
            ends <= wake + slack && ends + slack >= wake
        });
        if !fine {
            let _ = rx.set_timeout(Some(wait));
            self.armed = Some(wait);
            self.blocking = false;
        }
    }
}

impl WebSocketApp {
    /// Runs the app on this thread until it is closed through its handle, or until a
    /// connection ends and the reconnect policy says not to go on (Python's `run_forever`).
    ///
    /// # Errors
    /// The last failure, when the connection failed (or could not be opened) and no
    /// reconnect follows; `Ok(())` after a close through the handle or a clean close by the
    /// server without reconnect.
    pub fn run_forever(mut self) -> Result<(), Error> {
        let handle = self.handle();
        let _running = self.shared.start();
        let mut attempt: u32 = 0;
        let mut first = true;
        loop {
            if self.shared.closing().is_some() {
                return Ok(());
            }
            let ended = match self.connect() {
                Err(error) => {
                    log::debug!("connecting to {} failed: {error}", ws_client_url(&self.url));
                    self.handler.on_error(&handle, &error);
                    Ended::Failed(error)
                }
                Ok(ws) => {
                    let opened = Instant::now();
                    let ended = self.serve(&handle, ws, first);
                    first = false;
                    if self.reconnect.resets_after(opened.elapsed()) {
                        attempt = 0;
                    }
                    ended
                }
            };
            let error = match ended {
                Ended::Closed => return Ok(()),
                Ended::ServerClosed => None,
                Ended::Failed(error) => Some(error),
            };
            let Some(delay) = self.reconnect.delay(attempt, unit_random()) else {
                return error.map_or(Ok(()), Err);
            };
            attempt = attempt.saturating_add(1);
            log::info!(
                "reconnecting to {} in {delay:?} (attempt {attempt})",
                ws_client_url(&self.url)
            );
            if self.shared.wait_unless_closed(delay) {
                return Ok(());
            }
        }
    }

    /// Opens a connection with this connect's headers.
    fn connect(&mut self) -> Result<WebSocket, Error> {
        let config = match &mut self.header {
            Some(headers) => {
                let mut builder = self.config.to_builder();
                for (name, value) in headers() {
                    builder = builder.header(&name, &value);
                }
                builder.build()?
            }
            None => self.config.clone(),
        };
        match self.stream.take() {
            Some(stream) => config.connect_over(&self.url, stream),
            None => config.connect(&self.url),
        }
    }

    /// Runs one open connection until it ends, calling the handler; `on_close` exactly once.
    fn serve(&mut self, handle: &AppHandle, ws: WebSocket, first: bool) -> Ended {
        let (mut rx, tx) = ws.split();
        let abort = tx.abort_handle();
        if let Some(closing) = self.shared.connected(tx.clone(), abort.clone()) {
            send_close(&tx, &closing);
        }
        if first {
            self.handler.on_open(handle);
        } else {
            self.handler.on_reconnect(handle);
        }
        let ended = self.receive(handle, &mut rx, &tx, &abort);
        self.shared.disconnected();
        let (frame, ended) = match ended {
            Received::Close(frame) if self.shared.closing().is_some() => (frame, Ended::Closed),
            Received::Close(frame) => (frame, Ended::ServerClosed),
            Received::Gone(_) if self.shared.closing().is_some() => (None, Ended::Closed),
            Received::Gone(error) => {
                self.handler.on_error(handle, &error);
                (None, Ended::Failed(error))
            }
        };
        self.handler.on_close(handle, frame);
        ended
    }

    /// The receive loop of one connection, with the keepalive and close deadlines.
    fn receive(
        &mut self,
        handle: &AppHandle,
        rx: &mut Receiver,
        tx: &Sender,
        abort: &AbortHandle,
    ) -> Received {
        let opened = Instant::now();
        let interval = self.keepalive.interval;
        let mut next_ping = interval.map(|i| opened + i);
        let mut unanswered: Option<Instant> = None;
        let mut message_opcode = OpCode::Binary;
        let mut alarm = Alarm {
            armed: None,
            blocking: false,
        };
        loop {
            let now = Instant::now();
            let close_deadline = self.shared.closing().map(|c| c.deadline);
            if close_deadline.is_some_and(|d| now >= d) {
                // The peer did not answer the close in time.
                abort.abort();
                return Received::Gone(closed_error("the peer did not answer the close in time"));
            }
            if let (Some(sent), Some(limit)) = (unanswered, self.keepalive.timeout) {
                if now >= sent + limit {
                    abort.abort();
                    return Received::Gone(Error::Timeout {
                        operation: format!("waiting for a pong: none came within {limit:?}"),
                    });
                }
            }
            if let (Some(due), Some(interval), None) = (next_ping, interval, close_deadline) {
                if now >= due {
                    // From this thread only: a ping can never follow the close frame, which
                    // the session refuses to send anything after.
                    if tx.ping(&self.keepalive.payload).is_ok() {
                        self.shared.pinged(now);
                        unanswered.get_or_insert(now);
                    }
                    next_ping = Some((due + interval).max(now));
                }
            }
            let pong_due = unanswered.zip(self.keepalive.timeout).map(|(s, t)| s + t);
            let wake = [next_ping, pong_due, close_deadline]
                .into_iter()
                .flatten()
                .min();
            alarm.set(rx, wake, now);
            let message = match rx.recv_data_frame(true) {
                Ok(message) => message,
                // A read that waited for the next scheduled event.
                Err(Error::Timeout { .. }) => continue,
                Err(error) => return Received::Gone(error),
            };
            match message {
                Message::Ping(payload) => self.handler.on_ping(handle, &payload),
                Message::Pong(payload) => {
                    unanswered = None;
                    self.shared.ponged(Instant::now());
                    self.handler.on_pong(handle, &payload);
                }
                Message::Close(frame) => return Received::Close(frame),
                Message::Fragment { opcode, data, fin } => {
                    if opcode == OpCode::Continuation {
                        self.handler.on_data(handle, &data, message_opcode, fin);
                        self.handler.on_cont_message(handle, &data, fin);
                    } else {
                        message_opcode = opcode;
                        self.handler.on_data(handle, &data, opcode, fin);
                        // A message in one frame is a whole message; the first frame of a
                        // longer one is handed over as the fragment it is.
                        let message = match (fin, opcode) {
                            (true, OpCode::Text) => match String::from_utf8(data) {
                                Ok(text) => Message::Text(text),
                                Err(e) => Message::UnvalidatedText(e.into_bytes()),
                            },
                            (true, _) => Message::Binary(data),
                            (false, _) => Message::Fragment { opcode, data, fin },
                        };
                        self.handler.on_message(handle, message);
                    }
                }
                data => {
                    let opcode = data.opcode();
                    self.handler.on_data(handle, data.as_bytes(), opcode, true);
                    self.handler.on_message(handle, data);
                }
            }
        }
    }
}

/// How a connection's receive loop ended.
enum Received {
    /// The peer's close frame (or `None` for one without a status).
    Close(Option<CloseFrame>),
    /// The connection failed or was cut.
    Gone(Error),
}

fn closed_error(reason: &'static str) -> Error {
    Error::ConnectionClosed {
        reason: reason.into(),
        source: None,
    }
}

/// Sends the close frame asked for, within the time left before its deadline.
fn send_close(tx: &Sender, closing: &Closing) {
    let left = closing.deadline.saturating_duration_since(Instant::now());
    let _ = tx.send_close_within(closing.code, &closing.reason, left);
}
