//! A blocking WebSocket echo server built only from `ws-handshake` (the upgrade), `ws-frame`
//! (the frames) and `ws-deflate` (compression): the loop a server author can start from. One
//! thread per connection, limits on the request head and on frames and messages, a
//! subprotocol chosen from a list, permessage-deflate when offered, and the rules of a
//! correct server loop (see `serve`). `cargo xtask autobahn`
//! runs Autobahn|Testsuite's fuzzing client against it.
//!
//! ```sh
//! cargo run --release -p ws-deflate --example server -- [--port 9001] \
//!     [--max-message-size BYTES] [--protocols chat,superchat] [--connections N]
//! ```
//!
//! It listens on 127.0.0.1 and echoes text and binary messages. `--connections N` serves N
//! connections, then exits when they are done.

use std::error::Error;
use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::Arc;

use ws_deflate::DeflateConfig;
use ws_frame::{Config, Event, Limits, Session};
use ws_handshake::{HttpLimits, parse_request, reject_response};

/// What the command line chose.
#[derive(Clone, Debug)]
struct Options {
    port: u16,
    limits: Limits,
    /// Subprotocols this server speaks, in its order of preference.
    protocols: Vec<String>,
    connections: Option<usize>,
}

fn options() -> Result<Options, String> {
    let mut options = Options {
        port: 9001,
        // Autobahn's 9.* cases send 16 MiB messages.
        limits: Limits::default()
            .max_frame_size(32 << 20)
            .max_message_size(64 << 20),
        protocols: Vec::new(),
        connections: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args.next().ok_or(format!("{flag} needs a value"))?;
        let number = || {
            value
                .parse::<u64>()
                .map_err(|_| format!("{flag}: {value:?} is not a number"))
        };
        match flag.as_str() {
            "--port" => options.port = u16::try_from(number()?).map_err(|e| e.to_string())?,
            "--max-message-size" => options.limits = options.limits.max_message_size(number()?),
            "--protocols" => options.protocols = value.split(',').map(str::to_string).collect(),
            "--connections" => {
                options.connections = Some(usize::try_from(number()?).map_err(|e| e.to_string())?)
            }
            other => return Err(format!("unknown option {other}")),
        }
    }
    Ok(options)
}

fn main() -> Result<(), Box<dyn Error>> {
    let options = Arc::new(options()?);
    let listener = TcpListener::bind(("127.0.0.1", options.port))?;
    println!("listening on ws://{}/", listener.local_addr()?);
    let mut threads = Vec::new();
    for (n, tcp) in listener.incoming().enumerate() {
        let shared = Arc::clone(&options);
        let tcp = tcp?;
        threads.push(std::thread::spawn(move || {
            if let Err(e) = serve(tcp, &shared) {
                eprintln!("connection ended: {e}");
            }
        }));
        if options.connections == Some(n + 1) {
            break;
        }
    }
    for thread in threads {
        let _ = thread.join();
    }
    Ok(())
}

/// Serves one connection. The rules of the loop:
///
/// 1. The upgrade: read until the request head is complete (`parse_request` bounds it with
///    `HttpLimits`); answer a bad request with `reject_response` and close. Bytes after the
///    head are the first frames: they go into the session.
/// 2. After every batch of events, write everything the session queued: the echoes, the
///    pongs and close answers it made by itself.
/// 3. On an error from `next_event`, the session has already queued a close frame with the
///    error's code (1002, 1007, 1008, 1009) after anything queued before: write all of it,
///    then close. Returning at the error without writing drops the echo of a valid message
///    that came in the same read, and the close frame.
/// 4. When `close_expected()` turns true, the closing handshake is done: the server closes
///    the TCP connection first (RFC 6455 §7.1.1).
fn serve(mut tcp: TcpStream, options: &Options) -> Result<(), Box<dyn Error>> {
    tcp.set_nodelay(true)?;
    let limits = HttpLimits::default();
    let mut head = Vec::new();
    let mut chunk = vec![0; 64 * 1024];
    let (request, used) = loop {
        match parse_request(&head, &limits) {
            Ok(Some(done)) => break done,
            Ok(None) => {}
            Err(e) => {
                tcp.write_all(&reject_response(&e))?;
                return Err(e.into());
            }
        }
        let n = tcp.read(&mut chunk)?;
        if n == 0 {
            return Ok(());
        }
        head.extend_from_slice(&chunk[..n]);
    };
    // The first of our protocols the client offered, if any.
    let protocol = options
        .protocols
        .iter()
        .find(|p| request.subprotocols.contains(p))
        .map(String::as_str);
    let mut session = Session::server(Config::default().limits(options.limits));
    // permessage-deflate when the client offers it (ws-deflate picks the first offer it can
    // take and answers it).
    let answer = match DeflateConfig::default().accept_offers(&request.extensions) {
        Some((answer, extension)) => {
            session.set_extension(Box::new(extension));
            Some(answer)
        }
        None => None,
    };
    tcp.write_all(&request.accept(protocol, answer.as_deref())?)?;

    session.receive_data(&head[used..]);
    loop {
        let failed = loop {
            match session.next_event() {
                Ok(Some(Event::Text(text))) => {
                    // The event borrows the session: copy out, then queue the echo.
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
        let out = session.pending_output();
        if !out.is_empty() {
            tcp.write_all(out)?;
            let n = out.len();
            session.consume_output(n);
        }
        if let Some(error) = failed {
            let _ = tcp.shutdown(Shutdown::Both);
            return Err(error.into());
        }
        if session.close_expected() {
            tcp.shutdown(Shutdown::Both)?;
            return Ok(());
        }
        let buf = session.input_buffer();
        match tcp.read(buf)? {
            0 => session.receive_eof(),
            n => session.commit_input(n),
        }
    }
}
