//! No `Origin` header (Python's `suppress_origin=True`), for servers that refuse a browser
//! origin.
//!
//! ```sh
//! cargo run -p ws-app --example suppress_origin [-- ws://host:port/path]
//! ```

use ws_app::WebSocketApp;
use ws_client::Config;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let server = ws_client::echo::EchoServer::start()?;
    let url = std::env::args().nth(1).unwrap_or_else(|| server.url());
    WebSocketApp::builder(&url)
        .config(Config::builder().suppress_origin().build()?)
        .on_open(|app| {
            let _ = app.send_text("no origin");
        })
        .on_message(|app, message| {
            println!("received {message:?}");
            app.close();
        })
        .build()?
        .run_forever()?;
    Ok(())
}
