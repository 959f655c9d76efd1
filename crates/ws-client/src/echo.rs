//! A small blocking echo server on loopback, built from `ws-handshake`'s server side and a
//! server-role `ws-frame` session: for examples, tests and benchmarks that need a peer with
//! no setup. It echoes text and binary messages, answers pings, accepts the client's first
//! subprotocol and permessage-deflate when offered, and answers the close handshake. One
//! thread per connection; not a production server.

use std::io::{self, Read, Write};
use std::net::TcpListener;
#[cfg(unix)]
use std::os::unix::net::UnixListener;
#[cfg(unix)]
use std::path::Path;

use ws_frame::{Event, Session};
use ws_handshake::{HttpLimits, parse_request, reject_response};

/// A running echo server; it stops accepting when the process ends.
///
/// ```
/// let server = ws_client::echo::EchoServer::start()?;
/// let mut ws = ws_client::connect(&server.url())?;
/// ws.send_text("hi")?;
/// assert_eq!(ws.recv()?.as_text(), Some("hi"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct EchoServer {
    port: u16,
}

impl EchoServer {
    /// Binds `127.0.0.1` on a free port and serves every connection in its own thread.
    ///
    /// # Errors
    /// When no loopback port can be bound.
    pub fn start() -> io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let port = listener.local_addr()?.port();
        std::thread::spawn(move || {
            for tcp in listener.incoming().flatten() {
                let _ = tcp.set_nodelay(true);
                std::thread::spawn(move || log_failure(serve(tcp)));
            }
        });
        Ok(Self { port })
    }

    /// Serves on a Unix socket at `path` (which must not exist yet).
    ///
    /// # Errors
    /// When the socket cannot be bound.
    #[cfg(unix)]
    pub fn start_unix(path: &Path) -> io::Result<()> {
        let listener = UnixListener::bind(path)?;
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                std::thread::spawn(move || log_failure(serve(stream)));
            }
        });
        Ok(())
    }

    /// The port.
    #[must_use]
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `ws://127.0.0.1:PORT/`.
    #[must_use]
    pub fn url(&self) -> String {
        format!("ws://127.0.0.1:{}/", self.port)
    }
}

fn log_failure(result: Result<(), Box<dyn std::error::Error + Send + Sync>>) {
    if let Err(e) = result {
        log::debug!("echo server connection ended: {e}");
    }
}

/// Runs the server side of one connection until it closes.
///
/// # Errors
/// A bad upgrade request (answered with 400/426), a protocol error or an I/O error.
pub fn serve<S: Read + Write>(
    mut stream: S,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let limits = HttpLimits::default();
    let mut buf = Vec::new();
    let mut chunk = vec![0; 64 * 1024];
    let (request, used) = loop {
        match parse_request(&buf, &limits) {
            Ok(Some(done)) => break done,
            Ok(None) => {}
            Err(e) => {
                stream.write_all(&reject_response(&e))?;
                return Err(e.into());
            }
        }
        let n = stream.read(&mut chunk)?;
        if n == 0 {
            return Ok(());
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let protocol = request.subprotocols.first().map(String::as_str);
    let mut session = Session::server(ws_frame::Config::default());
    // permessage-deflate when the client offers it.
    #[cfg(feature = "deflate")]
    let answer = match ws_deflate::DeflateConfig::default().accept_offers(&request.extensions) {
        Some((answer, extension)) => {
            session.set_extension(Box::new(extension));
            Some(answer)
        }
        None => None,
    };
    #[cfg(not(feature = "deflate"))]
    let answer: Option<String> = None;
    stream.write_all(&request.accept(protocol, answer.as_deref())?)?;
    session.receive_data(&buf[used..]);
    loop {
        // Each message is copied out of the session (its borrow ends before the send).
        let failed = loop {
            match session.next_event() {
                Ok(Some(Event::Text(text))) => {
                    let text = text.to_owned();
                    session.send_text(&text)?;
                }
                Ok(Some(Event::Binary(_))) => {
                    let data = session.take_message();
                    session.send_binary(&data)?;
                }
                Ok(Some(_)) => {}
                Ok(None) => break None,
                Err(e) => break Some(e),
            }
        };
        // Everything queued goes out, a failure included: the echoes of what came before
        // the bad frame, then the close frame with the error's code.
        let out = session.pending_output();
        if !out.is_empty() {
            stream.write_all(out)?;
            let n = out.len();
            session.consume_output(n);
        }
        if let Some(error) = failed {
            return Err(error.into());
        }
        if session.close_expected() {
            return Ok(());
        }
        let n = stream.read(&mut chunk)?;
        if n == 0 {
            return Ok(());
        }
        session.receive_data(&chunk[..n]);
    }
}
