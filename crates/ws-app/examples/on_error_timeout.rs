//! A timeout reported to `on_error` (Python's `websocket.setdefaulttimeout(5)` with an
//! `on_error` callback). Without a URL it connects to a local server that never answers the
//! upgrade, so the handshake times out after a second.
//!
//! ```sh
//! cargo run -p ws-app --example on_error_timeout [-- ws://host:port/path]
//! ```

use std::time::Duration;

use ws_app::WebSocketApp;
use ws_client::Config;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let silent = std::net::TcpListener::bind("127.0.0.1:0")?;
    let default = format!("ws://{}/", silent.local_addr()?);
    let url = std::env::args().nth(1).unwrap_or(default);
    let result = WebSocketApp::builder(&url)
        .config(
            Config::builder()
                .timeout(Some(Duration::from_secs(1)))
                .build()?,
        )
        .on_error(|_, error| println!("on_error: {error} (timeout: {})", error.is_timeout()))
        .on_close(|_, frame| println!("on_close: {frame:?}"))
        .build()?
        .run_forever();
    println!("run_forever returned {result:?}");
    Ok(())
}
