//! The project's main example: a client talking to an echo server it starts itself on
//! loopback. No network, no setup:
//!
//! ```sh
//! cargo run --release --example quickstart
//! ```
//!
//! The server is `ws_client::echo::EchoServer`, built from `ws-handshake`'s server side and a
//! server-role `ws-frame` session.

use ws_client::echo::EchoServer;
use ws_client::{CloseCode, Message};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let server = EchoServer::start()?;
    println!("echo server listening on {}", server.url());

    let mut ws = ws_client::connect(&server.url())?;
    println!("connected: handshake status {}", ws.handshake_status());

    ws.send_text("Hello, Server")?;
    match ws.recv()? {
        Message::Text(text) => println!("received: {text}"),
        other => return Err(format!("unexpected reply: {other:?}").into()),
    }

    let answer = ws.close(CloseCode::NORMAL, "done")?;
    match answer {
        Some(frame) => println!(
            "closed: code {} ({})",
            frame.code.0,
            frame.code.description()
        ),
        None => println!("closed: the server did not answer the close frame"),
    }
    Ok(())
}
