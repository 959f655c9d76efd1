//! Offering subprotocols (Python's `subprotocols=["STOMP", "mqtt"]`); the echo server picks
//! the first.
//!
//! ```sh
//! cargo run -p ws-app --example subprotocols [-- ws://host:port/path]
//! ```

use ws_app::WebSocketApp;
use ws_client::Config;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let server = ws_client::echo::EchoServer::start()?;
    let url = std::env::args().nth(1).unwrap_or_else(|| server.url());
    WebSocketApp::builder(&url)
        .config(Config::builder().subprotocols(["STOMP", "mqtt"]).build()?)
        .on_open(|app| {
            println!("opened");
            let _ = app.send_text("CONNECT");
        })
        .on_message(|app, message| {
            println!("received {message:?}");
            app.close();
        })
        .build()?
        .run_forever()?;
    Ok(())
}
