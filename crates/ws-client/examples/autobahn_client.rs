//! The standard Autobahn|Testsuite fuzzing-server client: read the case count, run every
//! case echoing each text and binary message back unchanged, then ask for the reports.
//!
//! ```sh
//! cargo run --release -p ws-client --example autobahn_client
//! ```
//!
//! `AUTOBAHN_URL` names the server (default `ws://127.0.0.1:9001`), `AUTOBAHN_AGENT` the agent
//! (default `ws-client`). `cargo xtask autobahn` starts the server and runs this.

use ws_client::{Config, DeflateConfig, Error, Limits, Message};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let base = std::env::var("AUTOBAHN_URL").unwrap_or_else(|_| "ws://127.0.0.1:9001".into());
    let agent = std::env::var("AUTOBAHN_AGENT").unwrap_or_else(|_| "ws-client".into());
    // Case 9.* sends messages up to 16 MiB (and frames of that size).
    let config = Config::builder()
        .limits(
            Limits::default()
                .max_frame_size(32 << 20)
                .max_message_size(64 << 20),
        )
        .proxy(ws_client::ProxyConfig::Direct)
        // Cases 12.* and 13.* are permessage-deflate.
        .compression(DeflateConfig::default())
        .build()?;

    let mut ws = config.connect(&format!("{base}/getCaseCount"))?;
    let count: u32 = match ws.recv()? {
        Message::Text(text) => text.trim().parse()?,
        other => return Err(format!("unexpected case count message: {other:?}").into()),
    };
    drop(ws);
    println!("{count} cases");

    for case in 1..=count {
        let url = format!("{base}/runCase?case={case}&agent={agent}");
        if let Err(e) = run_case(&config, &url) {
            println!("case {case}: {e}");
        }
    }

    let mut ws = config.connect(&format!("{base}/updateReports?agent={agent}"))?;
    while ws.recv().is_ok() {}
    println!("reports updated for agent {agent}");
    Ok(())
}

fn run_case(config: &Config, url: &str) -> Result<(), Error> {
    let mut ws = config.connect(url)?;
    loop {
        match ws.recv()? {
            Message::Text(text) => ws.send_text(&text)?,
            Message::Binary(data) => ws.send_binary(&data)?,
            Message::Close(_) => return Ok(()),
            _ => {}
        }
    }
}
