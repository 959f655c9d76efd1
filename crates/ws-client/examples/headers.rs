//! Custom headers, cookie, origin and subprotocols (Python's `header=`, `cookie=`, `origin=`,
//! `subprotocols=`), with the trace of the handshake printed by a tiny logger (Python's
//! `enableTrace(True)`): credentials in it are redacted.
//!
//! ```sh
//! cargo run -p ws-client --example headers [-- ws://host:port/path]
//! ```

use log::{LevelFilter, Log, Metadata, Record};

struct Stderr;

impl Log for Stderr {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn log(&self, record: &Record<'_>) {
        eprintln!("[{}] {}", record.level(), record.args());
    }
    fn flush(&self) {}
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    log::set_logger(&Stderr).map_err(|e| e.to_string())?;
    log::set_max_level(LevelFilter::Trace);
    let server = ws_client::echo::EchoServer::start()?;
    let url = std::env::args().nth(1).unwrap_or_else(|| server.url());
    let mut ws = ws_client::Config::builder()
        .header("Authorization", "Bearer not-in-the-log")
        .header_line("X-Client: ws-client-example")
        .cookie("session=also-not-in-the-log")
        .origin("https://example.org")
        .subprotocols(["chat", "superchat"])
        .build()?
        .connect(&url)?;
    println!("subprotocol chosen: {:?}", ws.subprotocol());
    ws.send_text("with headers")?;
    println!("received {:?}", ws.recv()?);
    ws.close(ws_client::CloseCode::NORMAL, "")?;
    Ok(())
}
